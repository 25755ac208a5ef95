package tests

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/fm"
)

// Theorem 3 of Lipman et al. 2022 (arXiv:2210.02747, §4): for the Gaussian
// path p_t(x|x₁) = N(μ_t(x₁), σ_t(x₁)² I) (eq. 10) with flow map
// ψ_t(x) = σ_t x + μ_t (eq. 11), the field (eq. 15)
//
//	u_t(x|x₁) = σ′_t/σ_t·(x − μ_t) + μ′_t
//
// satisfies d/dt ψ_t(x) = u_t(ψ_t(x)|x₁) (eq. 13). The closed forms are
// eqs. 17 (VE), 19 (VP) and 21 (CondOT) of §4.1.

// xDepPath is a Gaussian path whose σ depends on x₁ and whose mean is not
// linear in t:
//
//	μ_t(x₁) = sin(πt/2)·x₁,  σ_t(x₁) = 1 − (1 − s(x₁))·t,  s(x₁) = 0.05 + 0.1·tanh(‖x₁‖²),
//
// so μ₀ = 0, σ₀ = 1, μ₁ = x₁ and σ₁ = s(x₁).
func xDepPath() fm.FuncPath {
	return fm.FuncPath{
		MeanFunc: func(t float64, x1 []float64) (mu, dmu []float64) {
			mu, dmu = make([]float64, len(x1)), make([]float64, len(x1))
			for j, v := range x1 {
				mu[j] = math.Sin(math.Pi*t/2) * v
				dmu[j] = math.Pi / 2 * math.Cos(math.Pi*t/2) * v
			}
			return mu, dmu
		},
		StdFunc: func(t float64, x1 []float64) (sigma, dsigma float64) {
			s := xDepSigmaMin(x1)
			return 1 - (1-s)*t, -(1 - s)
		},
	}
}

func xDepSigmaMin(x1 []float64) float64 {
	r2 := 0.0
	for _, v := range x1 {
		r2 += v * v
	}
	return 0.05 + 0.1*math.Tanh(r2)
}

type namedPath struct {
	name string
	p    fm.Path
}

func allPaths() []namedPath {
	return []namedPath{
		{"CondOT", fm.CondOT{SigmaMin: 0.01}},
		{"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 5}},
		{"VP", fm.VP{}},
		{"Polynomial2", fm.Polynomial{N: 2}},
		{"Cosine", fm.Cosine{}},
		{"LinearVP", fm.LinearVP{}},
		{"FuncPath_xDependentSigma", xDepPath()},
	}
}

// maxAbsDiff returns maxⱼ |aⱼ − bⱼ|.
func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for j := range a {
		m = max(m, math.Abs(a[j]-b[j]))
	}
	return m
}

func randVec(d int, scale float64, rng *rand.Rand) []float64 {
	v := make([]float64, d)
	for j := range v {
		v[j] = scale * rng.NormFloat64()
	}
	return v
}

// kFamily returns the number of standard errors k such that m two-sided
// checks of normal statistics all pass with probability ≥ 1 − α when the
// formula is right (Bonferroni): k = Φ⁻¹(1 − α/(2m)).
func kFamily(alpha float64, m int) float64 {
	return distuv.UnitNormal.Quantile(1 - alpha/(2*float64(m)))
}

// flowDerivativeWorst returns max over random (x, x₁, t) and coordinates of
// |D − u|/tol, where D is the central difference of t ↦ ψ_t(x) and u the
// candidate field at ψ_t(x): ≤ 1 means the field passes.
func flowDerivativeWorst(p fm.Path, field func(t float64, x, x1 []float64) []float64, seed uint64) (worst float64, msg string) {
	rng := newRNG(seed)
	const h = 1e-3
	for trial := 0; trial < 50; trial++ {
		x, x1 := randVec(3, 1, rng), randVec(3, 1.5, rng)
		t := 0.05 + 0.9*rng.Float64()
		d, tol := timeDerivative(func(s float64) []float64 { return fm.Flow(p, s, x, x1) }, t, h)
		u := field(t, fm.Flow(p, t, x, x1), x1)
		for j := range d {
			if r := math.Abs(d[j]-u[j]) / tol[j]; r > worst {
				worst = r
				msg = fmt.Sprintf("t=%.3f coord %d: got u=%.12g want dψ/dt=%.12g (tol %.3g)", t, j, u[j], d[j], tol[j])
			}
		}
	}
	return worst, msg
}

func TestTheorem3_FlowDerivative(t *testing.T) {
	for _, np := range allPaths() {
		t.Run(np.name, func(t *testing.T) {
			p := np.p
			worst, msg := flowDerivativeWorst(p, func(s float64, x, x1 []float64) []float64 { return fm.CondField(p, s, x, x1) }, 1)
			t.Logf("Theorem 3 (%s): dψ_t(x)/dt = u_t(ψ_t(x)|x₁) at 50 random (x, x₁, t): worst |D − u|/tol = %.3f ≤ 1, at %s", np.name, worst, msg)
			assert.LessOrEqual(t, worst, 1.0, "generic field: %s", msg)

			// Negative control: the sign of the σ′/σ term flipped.
			flipped := func(s float64, x, x1 []float64) []float64 {
				mu, dmu := p.Mean(s, x1)
				sg, dsg := p.Std(s, x1)
				u := make([]float64, len(x))
				for j := range x {
					u[j] = -dsg/sg*(x[j]-mu[j]) + dmu[j]
				}
				return u
			}
			worst, _ = flowDerivativeWorst(p, flipped, 1)
			t.Logf("negative control (σ′/σ term flipped): worst |D − u|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "a flipped sign in the conditional field must fail the check")
		})
	}
	// Negative controls: the VE and VP fields in the wrong time direction,
	// the diffusion's time s = t used in place of s = 1 − t. For VE that is
	// u = σ′(t)/σ(t)·(x − x₁), the field of σ_t = σ(t) (no chain-rule sign);
	// for the geometric σ, σ′/σ = ln(σ_max/σ_min) is constant, so only the
	// sign tells the directions apart. For VP it is the closed form at 1 − t.
	ve := fm.VE{SigmaMin: 0.01, SigmaMax: 5}
	veWrong := func(s float64, x, x1 []float64) []float64 {
		sg, dsg := ve.Sigma(s)
		u := make([]float64, len(x))
		for j := range x {
			u[j] = dsg / sg * (x[j] - x1[j])
		}
		return u
	}
	worst, _ := flowDerivativeWorst(ve, veWrong, 2)
	t.Logf("negative control (VE field with s = t instead of 1 − t): worst |D − u|/tol = %.3g, must be > 1", worst)
	assert.Greater(t, worst, 1.0, "VE field in the wrong time direction must fail")
	vp := fm.VP{}
	vpWrong := func(s float64, x, x1 []float64) []float64 { return vp.Field(1-s, x, x1) }
	worst, _ = flowDerivativeWorst(vp, vpWrong, 2)
	t.Logf("negative control (VP field at 1 − t): worst |D − u|/tol = %.3g, must be > 1", worst)
	assert.Greater(t, worst, 1.0, "VP field in the wrong time direction must fail")
}

type closedForm interface {
	fm.Path
	Field(t float64, x, x1 []float64) []float64
}

func TestTheorem3_ClosedFormsMatchGeneric(t *testing.T) {
	check := func(p fm.Path, field func(t float64, x, x1 []float64) []float64, seed uint64) (worst float64, msg string) {
		rng := newRNG(seed)
		for trial := 0; trial < 100; trial++ {
			x, x1 := randVec(3, 2, rng), randVec(3, 2, rng)
			s := 0.01 + 0.98*rng.Float64()
			got, want := field(s, x, x1), fm.CondField(p, s, x, x1)
			mu, dmu := p.Mean(s, x1)
			sg, dsg := p.Std(s, x1)
			for j := range got {
				// Rounding of a few flops on terms of this size.
				tol := 64 * eps * (math.Abs(dsg/sg)*(math.Abs(x[j])+math.Abs(mu[j])+math.Abs(x1[j])) + math.Abs(dmu[j]) + math.Abs(want[j]))
				if r := math.Abs(got[j]-want[j]) / tol; r > worst {
					worst, msg = r, fmt.Sprintf("t=%.3f: got %.17g want %.17g (tol %.3g)", s, got[j], want[j], tol)
				}
			}
		}
		return worst, msg
	}
	for _, np := range allPaths() {
		cf, ok := np.p.(closedForm)
		if !ok {
			continue // FuncPath has only the generic field
		}
		t.Run(np.name, func(t *testing.T) {
			worst, msg := check(cf, cf.Field, 3)
			if msg == "" {
				msg = "none: equal to the last bit in every trial"
			}
			t.Logf("Theorem 3 (%s): closed-form field = σ′/σ·(x − μ) + μ′ at 100 random (x, x₁, t), to rounding: worst |Δ|/tol = %.3f ≤ 1, at %s", np.name, worst, msg)
			assert.LessOrEqual(t, worst, 1.0, msg)
			// Negative control: a flipped sign in the closed form.
			neg := func(s float64, x, x1 []float64) []float64 {
				u := cf.Field(s, x, x1)
				for j := range u {
					u[j] = -u[j]
				}
				return u
			}
			worst, _ = check(cf, neg, 3)
			t.Logf("negative control (closed form negated): worst |Δ|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "a flipped closed form must not match")
		})
	}
}

func TestTheorem3_FlowPushesNoise(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	times := []float64{0.1, 0.5, 0.9}
	const d = 3
	paths := allPaths()
	// Checks per path and time: d means and one pooled variance.
	k := kFamily(1e-3, len(paths)*len(times)*(d+1))

	// pushCheck pushes n draws of N(0, I) through flow and returns the
	// largest |statistic − expected|/SE over the means and the variance.
	pushCheck := func(p fm.Path, s float64, x1 []float64, flow func(x []float64) []float64, rng *rand.Rand) (worst float64, msg string) {
		mu, _ := p.Mean(s, x1)
		sg, _ := p.Std(s, x1)
		cols := make([][]float64, d)
		dev2 := make([]float64, 0, n*d)
		for i := 0; i < n; i++ {
			y := flow(randVec(d, 1, rng))
			for j := range y {
				cols[j] = append(cols[j], y[j])
			}
		}
		for j := range cols {
			m, se := meanSE(cols[j])
			if r := math.Abs(m-mu[j]) / se; r > worst {
				worst, msg = r, fmt.Sprintf("mean[%d]: got %.6g want %.6g (SE %.3g)", j, m, mu[j], se)
			}
			for _, v := range cols[j] {
				dev2 = append(dev2, (v-mu[j])*(v-mu[j]))
			}
		}
		// (y − μ)² has mean σ² when y ~ N(μ, σ²); compare with its SE.
		v, se := meanSE(dev2)
		if r := math.Abs(v-sg*sg) / se; r > worst {
			worst, msg = r, fmt.Sprintf("variance: got %.6g want %.6g (SE %.3g)", v, sg*sg, se)
		}
		return worst, msg
	}
	for pi, np := range paths {
		t.Run(np.name, func(t *testing.T) {
			p := np.p
			rng := newRNG(10 + uint64(pi))
			x1 := randVec(d, 1.5, rng)
			var negT, negGap float64
			for _, s := range times {
				worst, msg := pushCheck(p, s, x1, func(x []float64) []float64 { return fm.Flow(p, s, x, x1) }, rng)
				t.Logf("Theorem 3 (%s), t = %v: ψ_t(x₀), x₀ ~ N(0, I), has mean μ_t and variance σ_t² (n = %d): worst |statistic − expected|/SE = %.2f ≤ k = %.2f, at %s",
					np.name, s, n, worst, k, msg)
				assert.LessOrEqual(t, worst, k, "t=%v: %s (k=%.2f)", s, msg, k)
				if sg, _ := p.Std(s, x1); math.Abs(sg-sg*sg) > negGap {
					negT, negGap = s, math.Abs(sg-sg*sg)
				}
			}
			// Negative control: ψ with σ_t² in place of σ_t, at the time
			// where the two differ most.
			wrong := func(x []float64) []float64 {
				mu, _ := p.Mean(negT, x1)
				sg, _ := p.Std(negT, x1)
				y := make([]float64, len(x))
				for j := range x {
					y[j] = sg*sg*x[j] + mu[j]
				}
				return y
			}
			worst, _ := pushCheck(p, negT, x1, wrong, rng)
			t.Logf("negative control (σ_t² in place of σ_t at t = %v): worst |statistic − expected|/SE = %.1f, must be > k = %.2f", negT, worst, k)
			assert.Greater(t, worst, k, "a wrong flow map must be detected")
		})
	}
}

func TestTheorem3_Boundaries(t *testing.T) {
	rng := newRNG(4)
	x1 := randVec(3, 1.5, rng)
	zero := make([]float64, 3)
	scaled := func(c float64) []float64 {
		v := make([]float64, 3)
		for j := range v {
			v[j] = c * x1[j]
		}
		return v
	}
	alpha1 := math.Exp(-5.025) // α at the noise end of the default VP path
	cases := []struct {
		name               string
		p                  fm.Path
		mu0, mu1           []float64
		sigma0, sigma1, s0 float64 // σ at t = 0, σ at t = 1, SourceStd
	}{
		{"CondOT", fm.CondOT{SigmaMin: 0.01}, zero, x1, 1, 0.01, 1},
		{"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 5}, x1, x1, 5, 0.01, 5},
		{"VP", fm.VP{}, scaled(alpha1), x1, math.Sqrt(1 - alpha1*alpha1), 0, 1},
		{"FuncPath_xDependentSigma", xDepPath(), zero, x1, 1, xDepSigmaMin(x1), 1},
	}
	// A few flops, each correctly rounded (exp and log within an ulp, the
	// VE exponent ln(σ_max/σ_min) ≈ 6.2 amplifying its error): 16ε relative.
	near := func(t *testing.T, got, want float64, what string) {
		tol := 16 * eps * (1 + math.Abs(want))
		assert.InDelta(t, want, got, tol, "%s: got %.17g want %.17g (tol %.3g)", what, got, want, tol)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m0, _ := c.p.Mean(0, x1)
			m1, _ := c.p.Mean(1, x1)
			s0, _ := c.p.Std(0, x1)
			s1, _ := c.p.Std(1, x1)
			for j := range x1 {
				near(t, m0[j], c.mu0[j], "μ₀")
				near(t, m1[j], c.mu1[j], "μ₁")
			}
			near(t, s0, c.sigma0, "σ₀")
			near(t, s1, c.sigma1, "σ₁")
			near(t, c.p.SourceStd(), c.s0, "source std")
			t.Logf("boundaries (%s): σ₀ = %.17g (want %.17g), σ₁ = %.17g (want %.17g), |μ₁ − x₁|∞ = %.2g; tolerance 16ε(1 + |want|)",
				c.name, s0, c.sigma0, s1, c.sigma1, maxAbsDiff(m1, c.mu1))
		})
	}
	// VP: α at the noise end is small but not zero.
	a, _, _, _ := fm.VP{}.Schedule(0)
	require.InDelta(t, 0.00657, a, 0.000005)
	require.Greater(t, a, 0.0)
}
