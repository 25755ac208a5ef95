package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// bridgeNoHalf is BrownianBridge(σ) with a slip: γ′ = σ(1 − 2t)/√(t(1 − t)),
// without the ½.
func bridgeNoHalf(sigma float64) fm.Interpolant {
	b := fm.BrownianBridge(sigma)
	g := b.Gamma
	b.Gamma = func(t float64) (float64, float64) { v, d := g(t); return v, 2 * d }
	return b
}

// interpolantWorst returns the worst |target − central difference of I_t|/tol
// over rows and t ∈ {0.1, …, 0.9}, h = 1e-5, tol = |fd(h) − fd(2h)| +
// 8u·|I|/h.
func interpolantWorst(in fm.Interpolant, x0, x1, z *autograd.Tensor) float64 {
	n := x0.Rows
	worst := 0.0
	at := func(t float64) *autograd.Tensor { return autograd.Full(n, 1, t) }
	for _, t := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		xt, target := in.Sample(at(t), x0, x1, z)
		fd := func(h float64) []float64 {
			p, _ := in.Sample(at(t+h), x0, x1, z)
			m, _ := in.Sample(at(t-h), x0, x1, z)
			out := make([]float64, len(p.Data))
			for k := range out {
				out[k] = (p.Data[k] - m.Data[k]) / (2 * h)
			}
			return out
		}
		f1, f2 := fd(1e-5), fd(2e-5)
		for k := range f1 {
			tol := math.Abs(f1[k]-f2[k]) + 8*eps*math.Abs(xt.Data[k])/1e-5 + 4*eps*math.Abs(target.Data[k])
			worst = max(worst, math.Abs(f1[k]-target.Data[k])/tol)
		}
	}
	return worst
}

// TestInterpolant_TargetIsDerivative: the target İ_t of Sample is the time
// derivative of I_t for fixed (x₀, x₁, z), by central differences, for the
// Brownian bridge of SB-CFM and for γ ≡ 0 on CondOT, Cosine and VP.
// Negative control: the bridge with γ′ missing its ½.
func TestInterpolant_TargetIsDerivative(t *testing.T) {
	rng := fm.NewRand(73)
	x0, x1, z := autograd.Normal(8, 2, 0, 1, rng), autograd.Normal(8, 2, 1, 0.5, rng), autograd.Normal(8, 2, 0, 1, rng)
	for name, in := range map[string]fm.Interpolant{
		"bridge σ=0.5": fm.BrownianBridge(0.5),
		"CondOT":       {Sched: fm.CondOT{}},
		"Cosine":       {Sched: fm.Cosine{}},
		"VP":           {Sched: fm.VP{}},
	} {
		w := interpolantWorst(in, x0, x1, z)
		assert.LessOrEqual(t, w, 1.0, "%s: worst |İ − fd|/tol = %.3g", name, w)
	}
	assert.Greater(t, interpolantWorst(bridgeNoHalf(0.5), x0, x1, z), 1.0, "negative control: γ′ without ½")
}

// TestInterpolant_SpecialCases: with γ ≡ 0 the interpolant loss is CFMLoss
// on the same path, CondOT and VP (Albergo et al. 2023 §2: the
// affine paths are interpolants without latent noise), to rounding (64u
// times the loss); the bridge with σ = 0 is CondOT with σ_min = 0. Negative
// control: the bridge with σ = 0.5 differs.
func TestInterpolant_SpecialCases(t *testing.T) {
	rng := fm.NewRand(79)
	n := 64
	x0, x1, z := autograd.Normal(n, 2, 0, 1, rng), autograd.Normal(n, 2, 1, 0.5, rng), autograd.Normal(n, 2, 0, 1, rng)
	tt := autograd.Uniform(n, 1, 0.05, 0.95, rng)
	for _, p := range []fm.AffinePath{fm.CondOT{}, fm.VP{}} {
		want := fm.CFMLoss(predictor, p, tt, x0, x1).Item()
		got := fm.InterpolantLoss(predictor, fm.Interpolant{Sched: p}, tt, x0, x1, z).Item()
		assert.InDelta(t, want, got, 64*eps*want, "%T", p)
	}
	want := fm.CFMLoss(predictor, fm.CondOT{}, tt, x0, x1).Item()
	assert.InDelta(t, want, fm.InterpolantLoss(predictor, fm.BrownianBridge(0), tt, x0, x1, z).Item(), 64*eps*want, "bridge σ = 0")
	assert.Greater(t, math.Abs(want-fm.InterpolantLoss(predictor, fm.BrownianBridge(0.5), tt, x0, x1, z).Item()), 1e-3*want, "negative control")
}
