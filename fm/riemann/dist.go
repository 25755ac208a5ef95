package riemann

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Distribution is a data set on a manifold with an exact log-density
// (with respect to the Riemannian volume: area on S², dθ₁dθ₂ on T²) and
// its differential entropy H = −∫ p log p dvol, the floor of any model's
// negative log-likelihood: KL(p‖model) = NLL − H.
type Distribution interface {
	Name() string
	Manifold() Manifold
	Sample(n int, rng *rand.Rand) *autograd.Tensor
	LogDensity(x []float64) float64
	// Entropy returns H in nats: closed form, or a quadrature whose error
	// the implementation states.
	Entropy() float64
}

// logSinh returns ln sinh κ for κ > 0 without overflow:
// κ + ln(1 − e^{−2κ}) − ln 2.
func logSinh(k float64) float64 { return k + math.Log1p(-math.Exp(-2*k)) - math.Ln2 }

// VMFLogDensity returns the log-density of the von Mises–Fisher law on
// S^d, d = len(mu) − 1, with mean direction mu (unit) and concentration
// κ > 0 at x (vmf.go; Mardia & Jupp 2000, §9.3.2):
//
//	ln f(x) = ln C_{d+1}(κ) + κ μ·x,
//
// with ln C = VMFLogNormalizer in log space (memoized by d and κ), so
// κ = 1000 is fine; on S² f(x) = κ/(4π sinh κ)·exp(κ μ·x). Tested by
// TestVMF_NormalizedAndEntropy (quadrature over S²) and
// TestVMF_NormalizerSd.
func VMFLogDensity(mu []float64, kappa float64, x []float64) float64 {
	type key struct {
		d int
		k float64
	}
	k := key{len(mu) - 1, kappa}
	lc, ok := vmfCache.Load(k)
	if !ok {
		lc = VMFLogNormalizer(k.d, kappa)
		vmfCache.Store(k, lc)
	}
	return lc.(float64) + kappa*dot(mu, x)
}

// vmfCache memoizes VMFLogNormalizer for VMFLogDensity: a mixture evaluates
// the same few κ at every point.
var vmfCache sync.Map

// VMFEntropy returns the entropy of the von Mises–Fisher law on S²:
//
//	H = ln(4π sinh κ/κ) − κ(coth κ − 1/κ)
//	  = ln 4π + ln sinh κ − ln κ − κ·coth κ + 1,
//
// with ln sinh κ in log space; H → ln 4π as κ → 0. κ = 10: 0.5353,
// κ = 50: −1.0741. It is VMFEntropyD(2, κ) in closed form. Tested by
// TestVMF_NormalizedAndEntropy and TestVMF_NormalizerSd.
func VMFEntropy(kappa float64) float64 {
	return math.Log(4*math.Pi) + logSinh(kappa) - math.Log(kappa) - kappa/math.Tanh(kappa) + 1
}

// SampleVMF draws one point of the von Mises–Fisher law on S^d, d =
// len(mu) − 1. On S² w = μ·x has density ∝ e^{κw} on [−1, 1] and is drawn
// exactly by its inverse CDF,
//
//	w = 1 + ln(u + (1 − u)e^{−2κ})/κ,  u ~ U(0, 1),
//
// with a uniform direction in the plane orthogonal to μ; on S^d, d ≠ 2, by
// Wood's (1994) rejection sampler (sampleVMFWood). Tested by
// TestVMF_SampleMean (S²: E[μ·x] = coth κ − 1/κ) and TestVMF_SampleMeanSd
// (S³, S⁵: E[μ·x] = A_p(κ), E[(μ·x)²] = 1 − d·A_p(κ)/κ).
func SampleVMF(mu []float64, kappa float64, rng *rand.Rand) []float64 {
	if len(mu) != 3 {
		return sampleVMFWood(mu, kappa, rng)
	}
	u := rng.Float64()
	w := 1 + math.Log(u+(1-u)*math.Exp(-2*kappa))/kappa
	e1, e2 := orthoBasis(mu)
	phi := 2 * math.Pi * rng.Float64()
	r := math.Sqrt(math.Max(0, 1-w*w))
	x := make([]float64, 3)
	for i := range x {
		x[i] = w*mu[i] + r*(math.Cos(phi)*e1[i]+math.Sin(phi)*e2[i])
	}
	return Sphere{D: 2}.Retract(x)
}

// orthoBasis returns two unit vectors orthogonal to the unit μ and to each other.
func orthoBasis(mu []float64) (e1, e2 []float64) {
	a := []float64{1, 0, 0}
	if math.Abs(mu[0]) > 0.9 {
		a = []float64{0, 1, 0}
	}
	e1 = Sphere{D: 2}.Retract(Sphere{D: 2}.Proj(mu, a))
	e2 = []float64{mu[1]*e1[2] - mu[2]*e1[1], mu[2]*e1[0] - mu[0]*e1[2], mu[0]*e1[1] - mu[1]*e1[0]}
	return e1, e2
}

// VMFMixture is Σ_k w_k·vMF(μ_k, κ_k) on S^d, d = len(μ_k) − 1.
type VMFMixture struct {
	Label   string
	Weights []float64   // w_k > 0, normalized on use
	Mus     [][]float64 // unit mean directions
	Kappas  []float64
}

// Name returns the label.
func (m VMFMixture) Name() string { return m.Label }

// Manifold returns S^d.
func (m VMFMixture) Manifold() Manifold { return Sphere{D: len(m.Mus[0]) - 1} }

func (m VMFMixture) logWeights() []float64 {
	s := 0.0
	for _, w := range m.Weights {
		s += w
	}
	lw := make([]float64, len(m.Weights))
	for k, w := range m.Weights {
		lw[k] = math.Log(w / s)
	}
	return lw
}

// LogDensity returns ln Σ_k w_k f_k(x) (stats.LogSumExp of VMFLogDensity).
func (m VMFMixture) LogDensity(x []float64) float64 {
	lw := m.logWeights()
	for k := range lw {
		lw[k] += VMFLogDensity(m.Mus[k], m.Kappas[k], x)
	}
	return stats.LogSumExp(lw)
}

// Sample draws a component by weight, then SampleVMF.
func (m VMFMixture) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil || n < 0 {
		panic(autograd.Misuse("riemann.VMFMixture.Sample", "want n ≥ 0 (got %d) and a *rand.Rand", n))
	}
	cat := stats.NewCategorical(m.Weights)
	x := autograd.Zeros(n, len(m.Mus[0]))
	for i := 0; i < n; i++ {
		k := cat.Draw(rng)
		copy(x.Row(i), SampleVMF(m.Mus[k], m.Kappas[k], rng))
	}
	return x
}

// Entropy returns VMFEntropyD for one component and otherwise, on S², the
// quadrature SphereQuadrature(−p ln p, 400): Gauss–Legendre in z, the
// trapezoid rule in φ, both spectrally convergent for this smooth
// integrand (TestVMF_NormalizedAndEntropy: nodes 200 and 400 agree to 1e-9
// for the registered sphere-vmf).
func (m VMFMixture) Entropy() float64 {
	if len(m.Weights) == 1 {
		return VMFEntropyD(len(m.Mus[0])-1, m.Kappas[0])
	}
	if len(m.Mus[0]) != 3 {
		panic(autograd.Misuse("riemann.VMFMixture.Entropy", "a mixture's entropy is computed on S² only, got S^%d", len(m.Mus[0])-1))
	}
	return -SphereQuadrature(func(x []float64) float64 {
		lp := m.LogDensity(x)
		return math.Exp(lp) * lp
	}, 400)
}

// SphereQuadrature returns ∫_{S²} g dA by Gauss–Legendre in z = cos(polar
// angle) with nz nodes times the trapezoid rule in the azimuth φ with 2·nz
// nodes (dA = dz dφ). Exact for polynomials of degree < 2·nz in z and
// trigonometric ones of degree < 2·nz in φ.
func SphereQuadrature(g func(x []float64) float64, nz int) float64 {
	zs, ws := gaussLegendre(nz)
	nphi := 2 * nz
	s := 0.0
	for a, z := range zs {
		r := math.Sqrt(1 - z*z)
		for b := 0; b < nphi; b++ {
			phi := 2 * math.Pi * float64(b) / float64(nphi)
			s += ws[a] * g([]float64{r * math.Cos(phi), r * math.Sin(phi), z})
		}
	}
	return s * 2 * math.Pi / float64(nphi)
}

// gaussLegendre returns the nodes and weights of the n-point Gauss–Legendre
// rule on [−1, 1] (Newton on P_n from Chebyshev starting points).
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for it := 0; it < 100; it++ {
			p0, p1 := 1.0, z
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
			}
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) < 1e-16 {
				break
			}
		}
		x[i], w[i] = z, 2/((1-z*z)*dp*dp)
	}
	return x, w
}

// logI0Ratio returns ln I₀(κ) and A(κ) = I₁(κ)/I₀(κ) by logBesselI,
// memoized by κ: a mixture evaluates the same few κ at every point.
func logI0Ratio(k float64) (logI0, a float64) {
	if v, ok := besselCache.Load(k); ok {
		p := v.([2]float64)
		return p[0], p[1]
	}
	logI0 = logBesselI(0, k)
	a = math.Exp(logBesselI(1, k) - logI0)
	besselCache.Store(k, [2]float64{logI0, a})
	return logI0, a
}

var besselCache sync.Map

// VonMisesLogDensity returns ln f(θ) for the von Mises law on the circle:
//
//	f(θ) = exp(κ cos(θ − μ))/(2π I₀(κ)).
//
// Tested by TestVonMises_NormalizedAndEntropy.
func VonMisesLogDensity(mu, kappa, theta float64) float64 {
	l0, _ := logI0Ratio(kappa)
	return kappa*math.Cos(theta-mu) - math.Log(2*math.Pi) - l0
}

// VonMisesEntropy returns H = ln(2π I₀(κ)) − κ·I₁(κ)/I₀(κ); κ = 2: 1.2663,
// κ = 4: 0.8088, κ = 10: 0.2949. Tested by TestVonMises_NormalizedAndEntropy.
func VonMisesEntropy(kappa float64) float64 {
	l0, a := logI0Ratio(kappa)
	return math.Log(2*math.Pi) + l0 - kappa*a
}

// SampleVonMises draws θ ∈ [0, 2π) from the von Mises law by Best &
// Fisher's (1979) wrapped-Cauchy rejection sampler. Tested by
// TestVonMises_SampleMean (E cos(θ − μ) = I₁(κ)/I₀(κ)).
func SampleVonMises(mu, kappa float64, rng *rand.Rand) float64 {
	tau := 1 + math.Sqrt(1+4*kappa*kappa)
	rho := (tau - math.Sqrt(2*tau)) / (2 * kappa)
	r := (1 + rho*rho) / (2 * rho)
	for {
		u1, u2, u3 := rng.Float64(), rng.Float64(), rng.Float64()
		z := math.Cos(math.Pi * u1)
		f := (1 + r*z) / (r + z)
		c := kappa * (r - f)
		if c*(2-c)-u2 > 0 || math.Log(c/u2)+1-c >= 0 {
			th := math.Acos(math.Max(-1, math.Min(1, f)))
			if u3 < 0.5 {
				th = -th
			}
			return Wrap(mu + th)
		}
	}
}

// VonMisesMixture is Σ_k w_k Π_j vM(θ_j; μ_kj, κ_kj) on T^D.
type VonMisesMixture struct {
	Label   string
	Weights []float64
	Mus     [][]float64 // [k][j]
	Kappas  [][]float64
}

// Name returns the label.
func (m VonMisesMixture) Name() string { return m.Label }

// Manifold returns T^D.
func (m VonMisesMixture) Manifold() Manifold { return Torus{D: len(m.Mus[0])} }

// LogDensity returns ln Σ_k w_k Π_j f(θ_j; μ_kj, κ_kj).
func (m VonMisesMixture) LogDensity(x []float64) float64 {
	s := 0.0
	for _, w := range m.Weights {
		s += w
	}
	lw := make([]float64, len(m.Weights))
	for k, w := range m.Weights {
		lw[k] = math.Log(w / s)
		for j, mu := range m.Mus[k] {
			lw[k] += VonMisesLogDensity(mu, m.Kappas[k][j], x[j])
		}
	}
	return stats.LogSumExp(lw)
}

// Sample draws a component by weight, then independent angles.
func (m VonMisesMixture) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil || n < 0 {
		panic(autograd.Misuse("riemann.VonMisesMixture.Sample", "want n ≥ 0 (got %d) and a *rand.Rand", n))
	}
	cat := stats.NewCategorical(m.Weights)
	d := len(m.Mus[0])
	x := autograd.Zeros(n, d)
	for i := 0; i < n; i++ {
		k := cat.Draw(rng)
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = SampleVonMises(m.Mus[k][j], m.Kappas[k][j], rng)
		}
	}
	return x
}

// Entropy returns Σ_j VonMisesEntropy(κ_j) for one component and otherwise,
// on T², the trapezoid rule with 256² nodes on −p ln p, which converges
// geometrically for a smooth periodic integrand
// (TestVonMises_NormalizedAndEntropy: 128² and 256² agree to 1e-10).
func (m VonMisesMixture) Entropy() float64 {
	if len(m.Weights) == 1 {
		h := 0.0
		for _, k := range m.Kappas[0] {
			h += VonMisesEntropy(k)
		}
		return h
	}
	if len(m.Mus[0]) != 2 {
		panic(autograd.Misuse("riemann.VonMisesMixture.Entropy", "a mixture's entropy is computed on T² only, got T^%d", len(m.Mus[0])))
	}
	return -TorusQuadrature(func(x []float64) float64 {
		lp := m.LogDensity(x)
		return math.Exp(lp) * lp
	}, 256)
}

// TorusQuadrature returns ∫_{T²} g dθ₁dθ₂ by the trapezoid rule with n²
// nodes, exact for trigonometric polynomials of degree < n per angle.
func TorusQuadrature(g func(x []float64) float64, n int) float64 {
	s := 0.0
	h := 2 * math.Pi / float64(n)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			s += g([]float64{float64(a) * h, float64(b) * h})
		}
	}
	return s * h * h
}

// TorusCheckerboard is the uniform law on the black squares of a 4×4
// checkerboard on T² (squares of side π/2, black where i + j is even):
// density 1/(2π²) on half the torus, so H = ln 2π² = 2.9826 exactly.
type TorusCheckerboard struct{}

// Name returns "torus-checkerboard".
func (TorusCheckerboard) Name() string { return "torus-checkerboard" }

// Manifold returns T².
func (TorusCheckerboard) Manifold() Manifold { return Torus{D: 2} }

// LogDensity returns −ln 2π² on a black square, −Inf elsewhere.
func (TorusCheckerboard) LogDensity(x []float64) float64 {
	i := int(math.Floor(Wrap(x[0]) / (math.Pi / 2)))
	j := int(math.Floor(Wrap(x[1]) / (math.Pi / 2)))
	if (i+j)%2 != 0 {
		return math.Inf(-1)
	}
	return -math.Log(2 * math.Pi * math.Pi)
}

// Sample draws a black square uniformly, then a uniform point in it.
func (TorusCheckerboard) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil || n < 0 {
		panic(autograd.Misuse("riemann.TorusCheckerboard.Sample", "want n ≥ 0 (got %d) and a *rand.Rand", n))
	}
	x := autograd.Zeros(n, 2)
	for r := 0; r < n; r++ {
		c := rng.IntN(8)
		i := c / 2
		j := 2*(c%2) + i%2 // i + j even
		x.Data[2*r] = (float64(i) + rng.Float64()) * math.Pi / 2
		x.Data[2*r+1] = (float64(j) + rng.Float64()) * math.Pi / 2
	}
	return x
}

// Entropy returns ln 2π².
func (TorusCheckerboard) Entropy() float64 { return math.Log(2 * math.Pi * math.Pi) }

// datasets are the built-in manifold data sets.
var datasets = map[string]func() Distribution{
	// Four vMF components (κ = 12, 20, 20, 30) at unequal weights, spread
	// over both hemispheres.
	"sphere-vmf": func() Distribution {
		return VMFMixture{Label: "sphere-vmf", Weights: []float64{0.3, 0.25, 0.25, 0.2},
			Mus: [][]float64{
				{0, 0, 1},
				Sphere{D: 2}.Retract([]float64{1, 0, -0.3}),
				Sphere{D: 2}.Retract([]float64{-0.5, 0.85, -0.3}),
				Sphere{D: 2}.Retract([]float64{-0.5, -0.85, -0.3}),
			},
			Kappas: []float64{12, 20, 20, 30}}
	},
	// Three products of von Mises laws, like the modes of a Ramachandran plot.
	"torus-vonmises": func() Distribution {
		return VonMisesMixture{Label: "torus-vonmises", Weights: []float64{0.5, 0.3, 0.2},
			Mus:    [][]float64{{4.2, 2.5}, {4.2, 5.5}, {1.0, 0.8}},
			Kappas: [][]float64{{6, 4}, {8, 8}, {5, 10}}}
	},
	"torus-checkerboard": func() Distribution { return TorusCheckerboard{} },
}

// DatasetNames returns the names of the built-in manifold data sets, sorted.
func DatasetNames() []string {
	names := make([]string, 0, len(datasets))
	for k := range datasets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Dataset returns the built-in manifold data set called name, or an error
// listing the valid names.
func Dataset(name string) (Distribution, error) {
	mk, ok := datasets[name]
	if !ok {
		return nil, fmt.Errorf("riemann: unknown dataset %q (valid: %s)", name, strings.Join(DatasetNames(), ", "))
	}
	return mk(), nil
}
