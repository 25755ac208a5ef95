package riemann

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
)

// Base is the law p₀ of x₀ at t = 0, the start of the flow: Train draws
// x₀ from it and LogLikelihoodFrom adds its log-density, with respect to
// the Riemannian volume, to the change of variables. String is the spec
// ParseBase reads back ("uniform", "wrapped-normal:0.5"), which a
// checkpoint records under MetaBase.
type Base interface {
	Sample(n int, rng *rand.Rand) *autograd.Tensor
	LogDensity(x []float64) float64
	String() string
}

// Uniform is the uniform law on M: density 1/vol(M), the base of Chen &
// Lipman 2023 (arXiv:2302.03660, §3.4) on compact manifolds.
type Uniform struct{ M Manifold }

// Sample returns M.Uniform(n, rng).
func (u Uniform) Sample(n int, rng *rand.Rand) *autograd.Tensor { return u.M.Uniform(n, rng) }

// LogDensity returns −ln vol(M) at every point.
func (u Uniform) LogDensity([]float64) float64 { return -u.M.LogVolume() }

// String returns "uniform".
func (u Uniform) String() string { return "uniform" }

// WrappedNormal is the wrapped normal law on the flat torus T^D: θ = (μ +
// σz) mod 2π with z ~ N(0, I_D), whose density with respect to dθ is the
// lattice sum of the normal density over the 2π-translates,
//
//	p(θ) = Π_j (2πσ²)^{−½} Σ_{k∈ℤ} exp(−(δ_j + 2πk)²/(2σ²)),  δ_j = w(θ_j − μ_j) ∈ [−π, π]
//
// (Mardia & Jupp 2000, "Directional Statistics", §3.5.7). LogDensity keeps
// |k| ≤ K, with K = Terms(σ) the smallest K ≥ 1 whose relative truncation
// error per angle, derived in TruncationBound, is below 10⁻¹⁷. Tested by
// TestWrappedNormal_IntegratesToOne (trapezoid quadrature, with its own
// error bound) and TestWrappedNormal_SamplesMatchDensity (χ² on a grid).
//
// On the sphere there is no such base here: the push-forward of a tangent
// normal N(0, σ²I) at μ by Exp_μ has, at geodesic distance θ from μ, the
// density (2πσ²)^{−d/2} Σ_r e^{−r²/(2σ²)} (r/sin θ)^{d−1} over the radii
// r ≡ ±θ (mod 2π), which is infinite at the antipode −μ (Exp_μ maps the
// whole tangent sphere ‖v‖ = π onto it, sin θ → 0) and, through the
// r = 2πk shells, at μ itself: an integrable but unbounded log p₀ that the
// likelihood would evaluate wherever a trajectory ends near −μ.
type WrappedNormal struct {
	Mu    []float64 // the mode, one angle per coordinate
	Sigma float64   // σ > 0 of the unwrapped normal
}

// NewWrappedNormal returns the wrapped normal on T^d with mode μ = (π, …, π),
// the centre of the square [0, 2π)^d, and scale σ ∈ (0, 100].
func NewWrappedNormal(d int, sigma float64) WrappedNormal {
	if d < 1 || !(sigma > 0 && sigma <= 100) {
		panic(autograd.Misuse("riemann.NewWrappedNormal", "want d ≥ 1 (got %d) and σ in (0, 100] (got %v)", d, sigma))
	}
	mu := make([]float64, d)
	for i := range mu {
		mu[i] = math.Pi
	}
	return WrappedNormal{Mu: mu, Sigma: sigma}
}

// TruncationBound returns a bound ε on the relative error of the lattice
// sum of one angle truncated to |k| ≤ K, for every δ ∈ [−π, π]:
//
//	tail/S ≤ 2 Σ_{k>K} e^{−((2k−1)² − 1)π²/(2σ²)} ≤ 2e^{−2K(K+1)π²/σ²}/(1 − e^{−4(K+1)π²/σ²}),
//
// because |δ + 2πk| ≥ (2|k| − 1)π for |k| ≥ 1, the kept sum S is at least
// its k = 0 term e^{−δ²/(2σ²)} ≥ e^{−π²/(2σ²)}, and the terms of the tail
// fall by a factor at most e^{−4(K+1)π²/σ²} from one k to the next. The
// truncated density is below the exact one by a factor in [1/(1+ε), 1].
func TruncationBound(sigma float64, k int) float64 {
	s2 := sigma * sigma
	kk := float64(k)
	r := math.Exp(-4 * (kk + 1) * math.Pi * math.Pi / s2)
	return 2 * math.Exp(-2*kk*(kk+1)*math.Pi*math.Pi/s2) / (1 - r)
}

// Terms returns K, the smallest K ≥ 1 with TruncationBound(σ, K) ≤ 10⁻¹⁷.
func Terms(sigma float64) int {
	k := 1
	for TruncationBound(sigma, k) > 1e-17 {
		k++
	}
	return k
}

// Sample returns n points (μ + σz) mod 2π.
func (w WrappedNormal) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil || n < 0 {
		panic(autograd.Misuse("riemann.WrappedNormal.Sample", "want n ≥ 0 (got %d) and a *rand.Rand", n))
	}
	d := len(w.Mu)
	x := autograd.Zeros(n, d)
	for i := range x.Data {
		x.Data[i] = Wrap(w.Mu[i%d] + w.Sigma*rng.NormFloat64())
	}
	return x
}

// LogDensity returns ln p(θ), the lattice sum truncated to |k| ≤ Terms(σ)
// and summed in log space around its largest term (k = 0), so that small σ
// does not underflow. θ may be any lift: δ is reduced to [−π, π].
func (w WrappedNormal) LogDensity(x []float64) float64 {
	mustLen("riemann.WrappedNormal.LogDensity", len(w.Mu), x)
	s2 := w.Sigma * w.Sigma
	kmax := Terms(w.Sigma)
	lp := 0.0
	for j, mu := range w.Mu {
		d := wrapSym(x[j] - mu)
		e0 := d * d / (2 * s2)
		s := 1.0
		for k := 1; k <= kmax; k++ {
			a, b := d+2*math.Pi*float64(k), d-2*math.Pi*float64(k)
			s += math.Exp(e0-a*a/(2*s2)) + math.Exp(e0-b*b/(2*s2))
		}
		lp += -e0 + math.Log(s) - 0.5*math.Log(2*math.Pi*s2)
	}
	return lp
}

// String returns "wrapped-normal:σ".
func (w WrappedNormal) String() string {
	return "wrapped-normal:" + strconv.FormatFloat(w.Sigma, 'g', -1, 64)
}

// ParseBase returns the base law named by spec on m: "uniform" (or "")
// for Uniform{m}, "wrapped-normal:σ" for NewWrappedNormal on the torus. A
// spec that does not parse, a σ outside (0, 100] and a wrapped normal on
// the sphere (see WrappedNormal) are errors saying what to give instead.
func ParseBase(m Manifold, spec string) (Base, error) {
	if spec == "" || spec == "uniform" {
		return Uniform{M: m}, nil
	}
	v, ok := strings.CutPrefix(spec, "wrapped-normal:")
	if !ok {
		return nil, fmt.Errorf("base %q: want uniform or wrapped-normal:σ (e.g. wrapped-normal:0.5)", spec)
	}
	if _, ok := m.(Torus); !ok {
		return nil, fmt.Errorf("base %q: the wrapped normal is a base on the torus only (on the sphere the push-forward of a tangent normal by Exp has infinite density at the antipode); use uniform", spec)
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || !(s > 0 && s <= 100) {
		return nil, fmt.Errorf("base %q: σ = %q, want a number in (0, 100], e.g. wrapped-normal:0.5", spec, v)
	}
	return NewWrappedNormal(m.Dim(), s), nil
}
