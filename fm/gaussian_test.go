package fm_test

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
)

// schedulers returns every affine path, old and new.
func schedulers() []struct {
	name string
	p    fm.AffinePath
} {
	return []struct {
		name string
		p    fm.AffinePath
	}{
		{"CondOT", fm.CondOT{SigmaMin: 0.01}},
		{"CondOT0", fm.CondOT{}},
		{"Polynomial2", fm.Polynomial{N: 2}},
		{"Polynomial3", fm.Polynomial{N: 3}},
		{"Cosine", fm.Cosine{}},
		{"LinearVP", fm.LinearVP{}},
		{"VP", fm.VP{}},
		{"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 5}},
	}
}

// twoBumps is a 2-D mixture with unequal widths and weights.
func twoBumps() *fm.Mixture {
	return &fm.Mixture{Means: [][]float64{{-1, 0.5}, {1.5, -1}, {0.3, 1.2}}, Stds: []float64{0.4, 0.7, 0.25}, Weights: []float64{1, 2, 1.5}}
}

// cosineNoHalfPi is Cosine with a slip: α′ = cos(πt/2), without the π/2.
type cosineNoHalfPi struct{ fm.Cosine }

func (c cosineNoHalfPi) Schedule(t float64) (a, da, s, ds float64) {
	a, da, s, ds = c.Cosine.Schedule(t)
	return a, da * 2 / math.Pi, s, ds
}

// derivativeWorst returns the worst ratio |closed form − central difference|/tol
// over α′, σ′ and ρ′ at interior times, with h = 1e-4 and
// tol = |fd(h) − fd(2h)| (bounding the O(h²) truncation at h) + 8u·|f|/h
// (rounding of f) + 4u·|f′|.
func derivativeWorst(p fm.AffinePath) float64 {
	worst := 0.0
	for _, t := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		for k := 0; k < 3; k++ {
			f := func(t float64) float64 {
				a, _, s, _ := p.Schedule(t)
				switch k {
				case 0:
					return a
				case 1:
					return s
				}
				return a / s
			}
			_, da, _, ds := p.Schedule(t)
			_, drho := fm.SNR(p, t)
			want := []float64{da, ds, drho}[k]
			fd := func(h float64) float64 { return (f(t+h) - f(t-h)) / (2 * h) }
			h := 1e-4
			tol := math.Abs(fd(h)-fd(2*h)) + 8*eps*math.Abs(f(t))/h + 4*eps*math.Abs(want)
			worst = max(worst, math.Abs(fd(h)-want)/tol)
		}
	}
	return worst
}

// TestScheduler_Derivatives: α′_t, σ′_t (Schedule) and ρ′_t (SNR) of every
// scheduler agree with central differences (tolerance in derivativeWorst);
// SigmaDSigma is σ_t·σ′_t; the ends are α₀ = 0, σ₀ = 1, α₁ = 1, σ₁ = 0 for
// the schedulers that reach them. Negative control: Cosine without the π/2
// in α′ fails.
func TestScheduler_Derivatives(t *testing.T) {
	for _, s := range schedulers() {
		w := derivativeWorst(s.p)
		assert.LessOrEqual(t, w, 1.0, "%s: worst |closed − fd|/tol = %.3g", s.name, w)
		for _, tt := range []float64{0.2, 0.6, 0.95} {
			_, _, sg, dsg := s.p.Schedule(tt)
			assert.InDelta(t, sg*dsg, s.p.SigmaDSigma(tt), 4*eps*math.Abs(sg*dsg), "%s t=%v: SigmaDSigma", s.name, tt)
		}
	}
	assert.Greater(t, derivativeWorst(cosineNoHalfPi{}), 1.0, "negative control: α′ without π/2 must fail")
	for _, p := range []fm.AffinePath{fm.CondOT{}, fm.Polynomial{N: 2}, fm.Cosine{}, fm.LinearVP{}} {
		a0, _, s0, _ := p.Schedule(0)
		a1, _, s1, _ := p.Schedule(1)
		assert.Equal(t, []float64{0, 1}, []float64{a0, s0}, "%T at t = 0", p)
		assert.InDelta(t, 1, a1, eps, "%T: α₁", p)
		assert.InDelta(t, 0, s1, eps, "%T: σ₁", p)
	}
	assert.Equal(t, -1.0, fm.LinearVP{}.SigmaDSigma(1), "LinearVP: σσ′ finite at t = 1")
	assert.Panics(t, func() { fm.Polynomial{}.Schedule(0.5) }, "Polynomial with N = 0")
}

// TestScheduler_Continuity: each new scheduler's exact mixture marginal
// (MixtureMarginal) satisfies the continuity equation ∂p + ∇·(p u) = 0
// (Lipman et al. 2022, Theorem 1), checked by cnf.ContinuityResidual with
// the tolerance from the h/2h difference of the residual; negative control:
// the field with the x-term's sign flipped.
func TestScheduler_Continuity(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(3)
	for _, p := range []fm.AffinePath{fm.Polynomial{N: 2}, fm.Cosine{}, fm.LinearVP{}} {
		m := fm.MixtureMarginal{Path: p, Data: q}
		bad := func(t float64, x []float64) []float64 {
			u := m.Field(t, x)
			a, _ := fm.VelocityScore(p, t)
			for j := range u {
				u[j] -= 2 * a * x[j]
			}
			return u
		}
		for _, tt := range []float64{0.25, 0.5, 0.8} {
			x := []float64{rng.NormFloat64(), rng.NormFloat64()}
			r1, sc := cnf.ContinuityResidual(m.LogProb, m.Field, tt, x, 1e-3)
			r2, _ := cnf.ContinuityResidual(m.LogProb, m.Field, tt, x, 2e-3)
			tol := math.Abs(r2-r1) + 1e-9*sc
			assert.LessOrEqual(t, math.Abs(r1), tol, "%T t=%v: residual %.3g (tol %.3g, terms %.3g)", p, tt, r1, tol, sc)
			rb, _ := cnf.ContinuityResidual(m.LogProb, bad, tt, x, 1e-3)
			assert.Greater(t, math.Abs(rb), 100*tol, "%T t=%v: negative control", p, tt)
		}
	}
}

// maxAbs returns maxⱼ |vⱼ| over all vectors, at least 1.
func maxAbs(vs ...[]float64) float64 {
	m := 1.0
	for _, v := range vs {
		for _, x := range v {
			m = max(m, math.Abs(x))
		}
	}
	return m
}

func diffMax(a, b []float64) float64 {
	m := 0.0
	for j := range a {
		m = max(m, math.Abs(a[j]-b[j]))
	}
	return m
}

// TestMixtureMarginal_Score: Score is the gradient of LogProb, checked by
// central differences (h = 1e-4; tolerance |fd(h) − fd(2h)| + rounding
// 8u·|log p|/h). Negative control: the score with σ_t² in place of
// vₖ = σ_t² + a_t² sₖ² fails.
func TestMixtureMarginal_Score(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(5)
	for _, s := range schedulers() {
		m := fm.MixtureMarginal{Path: s.p, Data: q}
		for _, tt := range []float64{0.1, 0.5, 0.9} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			got := m.Score(tt, x)
			a, _, sg, _ := s.p.Schedule(tt)
			r := m.Posterior(tt, x)
			wrong := make([]float64, 2)
			for k, mk := range q.Means {
				for j := range wrong {
					wrong[j] -= r[k] * (x[j] - a*mk[j]) / (sg * sg)
				}
			}
			for j := range x {
				fd := func(h float64) float64 {
					y := slices.Clone(x)
					y[j] += h
					lp := m.LogProb(tt, y)
					y[j] -= 2 * h
					return (lp - m.LogProb(tt, y)) / (2 * h)
				}
				h := 1e-4
				tol := math.Abs(fd(h)-fd(2*h)) + 8*eps*math.Abs(m.LogProb(tt, x))/h
				assert.InDelta(t, fd(h), got[j], tol, "%s t=%v j=%d", s.name, tt, j)
				assert.Greater(t, math.Abs(fd(h)-wrong[j]), tol, "%s t=%v j=%d: negative control", s.name, tt, j)
			}
		}
	}
}

// TestTweedie_Mixture: for the exact mixture marginal, the per-component
// conditional means DataMean and NoiseMean satisfy Tweedie's formulas
// E[x₁|x] = (x + σ²∇log p)/α and E[x₀|x] = −σ∇log p, the constraint
// α·E[x₁|x] + σ·E[x₀|x] = x, and the field is u = α′E[x₁|x] + σ′E[x₀|x].
// The tolerance is rounding, 64u times the largest term (a few dozen
// operations on each). Negative control: Tweedie with σ for σ².
func TestTweedie_Mixture(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(7)
	for _, s := range schedulers() {
		m := fm.MixtureMarginal{Path: s.p, Data: q}
		for _, tt := range []float64{0.05, 0.3, 0.6, 0.95} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			a, da, sg, ds := s.p.Schedule(tt)
			sc, x1, x0, u := m.Score(tt, x), m.DataMean(tt, x), m.NoiseMean(tt, x), m.Field(tt, x)
			tw1, tw0, cons, uf, wrong := make([]float64, 2), make([]float64, 2), make([]float64, 2), make([]float64, 2), make([]float64, 2)
			for j := range x {
				tw1[j] = (x[j] + sg*sg*sc[j]) / a
				tw0[j] = -sg * sc[j]
				cons[j] = a*x1[j] + sg*x0[j]
				uf[j] = da*x1[j] + ds*x0[j]
				wrong[j] = (x[j] + sg*sc[j]) / a
			}
			tol := 64 * eps * maxAbs(x, tw1, tw0, x1, u, uf, sc) * max(1, 1/a, sg*sg/a)
			assert.LessOrEqual(t, diffMax(tw1, x1), tol, "%s t=%v: E[x₁|x]", s.name, tt)
			assert.LessOrEqual(t, diffMax(tw0, x0), tol, "%s t=%v: E[x₀|x]", s.name, tt)
			assert.LessOrEqual(t, diffMax(cons, x), tol, "%s t=%v: constraint", s.name, tt)
			assert.LessOrEqual(t, diffMax(uf, u), tol*max(1, math.Abs(da), math.Abs(ds)), "%s t=%v: u = α′x̂₁ + σ′x̂₀", s.name, tt)
			if math.Abs(sg-1) > 0.01 {
				assert.Greater(t, diffMax(wrong, x1), 100*tol, "%s t=%v: negative control", s.name, tt)
			}
		}
	}
}

// TestVelocityScore_Mixture: u_t(x) = a_t x + b_t ∇log p_t(x) with
// VelocityScore's a, b, for the exact mixture field and score, at interior
// times and at t = 1 (where VP and LinearVP have σ′ = −∞ but σσ′ finite);
// ScoreFromVelocity inverts it (also at t = 0, where α = 0 for most
// schedulers, except Polynomial(n > 1), whose u₀ = 0). Tolerance: rounding,
// 64u·(|u| + |a x| + |b s|). Negative control: b_t without −σσ′, where that
// term matters.
func TestVelocityScore_Mixture(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(11)
	for _, s := range schedulers() {
		m := fm.MixtureMarginal{Path: s.p, Data: q}
		for _, tt := range []float64{0.05, 0.3, 0.6, 0.95, 1} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			a, b := fm.VelocityScore(s.p, tt)
			sc, u := m.Score(tt, x), m.Field(tt, x)
			got, wrong := make([]float64, 2), make([]float64, 2)
			_, _, sg, _ := s.p.Schedule(tt)
			al, dal, _, _ := s.p.Schedule(tt)
			for j := range x {
				got[j] = a*x[j] + b*sc[j]
				wrong[j] = a*x[j] + dal*sg*sg/al*sc[j]
			}
			scale := maxAbs(u) + math.Abs(a)*maxAbs(x) + math.Abs(b)*maxAbs(sc)
			tol := 64 * eps * scale
			assert.LessOrEqual(t, diffMax(got, u), tol, "%s t=%v: u = a x + b s", s.name, tt)
			if math.Abs(s.p.SigmaDSigma(tt))*maxAbs(sc) > 1e-3 {
				assert.Greater(t, diffMax(wrong, u), 100*tol, "%s t=%v: negative control", s.name, tt)
			}
		}
		for _, tt := range []float64{0, 0.3, 0.9} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			if _, ok := s.p.(fm.Polynomial); ok && tt == 0 {
				continue // α₀ = α′₀ = 0: u₀ = 0 carries no score
			}
			c, e := fm.ScoreFromVelocity(s.p, tt)
			u, sc := m.Field(tt, x), m.Score(tt, x)
			got := []float64{c*u[0] + e*x[0], c*u[1] + e*x[1]}
			tol := 64 * eps * (maxAbs(sc) + math.Abs(c)*maxAbs(u) + math.Abs(e)*maxAbs(x))
			assert.LessOrEqual(t, diffMax(got, sc), tol, "%s t=%v: ScoreFromVelocity", s.name, tt)
		}
	}
}

var params = []fm.Param{fm.ParamVelocity, fm.ParamData, fm.ParamNoise, fm.ParamScore}

// TestConvert_RoundTrip: P → Q → P returns the prediction for every pair,
// scheduler and time in [0.05, 0.95], within the rounding of the two affine
// maps, 16u·(|cx₂||x| + |cy₂|(|cx₁||x| + |cy₁||y|)) (ConvertCoeffs' cx, cy
// there and back; 1/α_t makes it large for Polynomial(3) at t = 0.05, where
// α = 1.25e-4). The worst relative error is logged (about 1e-12 or below).
func TestConvert_RoundTrip(t *testing.T) {
	rng := fm.NewRand(13)
	worst := 0.0
	defer func() { t.Logf("worst relative round-trip error %.3g", worst) }()
	for _, s := range schedulers() {
		for _, tt := range []float64{0.05, 0.3, 0.6, 0.95} {
			x := []float64{rng.NormFloat64(), rng.NormFloat64()}
			for _, from := range params {
				y := []float64{rng.NormFloat64(), rng.NormFloat64()}
				for _, to := range params {
					back := fm.Convert(s.p, tt, to, from, x, fm.Convert(s.p, tt, from, to, x, y))
					cx1, cy1 := fm.ConvertCoeffs(s.p, tt, from, to)
					cx2, cy2 := fm.ConvertCoeffs(s.p, tt, to, from)
					nx, ny := maxAbs(x), maxAbs(y)
					tol := 16 * eps * (math.Abs(cx2)*nx + math.Abs(cy2)*(math.Abs(cx1)*nx+math.Abs(cy1)*ny))
					rel := diffMax(back, y) / ny
					worst = max(worst, rel)
					assert.LessOrEqual(t, diffMax(back, y), tol, "%s t=%v %v→%v→%v", s.name, tt, from, to, from)
				}
			}
		}
	}
}

// TestConvert_MatchesMixture: from the exact mixture's velocity, Convert
// gives its DataMean, NoiseMean and Score, and every one gives every other;
// tolerance: the predictions' own rounding (64u, as in TestTweedie_Mixture)
// carried through the affine map, 64u·(|cx||x| + |cy||y_from| + |y_to|).
// Negative control: the
// noise prediction taken as −σ²·score fails where σ ≠ 1.
func TestConvert_MatchesMixture(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(17)
	for _, s := range schedulers() {
		m := fm.MixtureMarginal{Path: s.p, Data: q}
		for _, tt := range []float64{0.05, 0.3, 0.6, 0.95} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			pred := map[fm.Param][]float64{fm.ParamVelocity: m.Field(tt, x), fm.ParamData: m.DataMean(tt, x), fm.ParamNoise: m.NoiseMean(tt, x), fm.ParamScore: m.Score(tt, x)}
			scale := maxAbs(x, pred[fm.ParamVelocity], pred[fm.ParamData], pred[fm.ParamNoise], pred[fm.ParamScore])
			for _, from := range params {
				for _, to := range params {
					got := fm.Convert(s.p, tt, from, to, x, pred[from])
					cx, cy := fm.ConvertCoeffs(s.p, tt, from, to)
					tol := 64 * eps * (math.Abs(cx)*maxAbs(x) + math.Abs(cy)*maxAbs(pred[from]) + maxAbs(pred[to]))
					assert.LessOrEqual(t, diffMax(got, pred[to]), tol, "%s t=%v %v→%v", s.name, tt, from, to)
				}
			}
			_, _, sg, _ := s.p.Schedule(tt)
			if math.Abs(sg-1) > 0.01 {
				wrong := []float64{-sg * sg * pred[fm.ParamScore][0], -sg * sg * pred[fm.ParamScore][1]}
				assert.Greater(t, diffMax(wrong, pred[fm.ParamNoise]), 1e-6*scale, "%s t=%v: negative control", s.name, tt)
			}
		}
	}
}

// TestConvert_Ends: the identities at both ends of time. At t = 0 (α₀ = 0,
// σ₀ = 1) the noise prediction is x itself, the score is −x, and the data
// prediction from the velocity is the data mean E[x₁] = Σₖ πₖmₖ whatever x;
// the noise and the score do not determine x₁ there (misuse). At t = 1
// (σ₁ = 0) the data prediction is x and the velocity is α′₁x (x₀ is
// independent of x₁ = x, so E[x₀|x₁] = 0); the data prediction does not
// determine the noise there. Polynomial(n > 1) has α′₀ = 0, so nothing
// determines x₁ at its t = 0 (a panic, checked). Tolerance: rounding, 16u
// times the scale.
func TestConvert_Ends(t *testing.T) {
	q := twoBumps()
	mean := []float64{0, 0}
	w := []float64{1.0 / 4.5, 2 / 4.5, 1.5 / 4.5}
	for k, mk := range q.Means {
		for j := range mean {
			mean[j] += w[k] * mk[j]
		}
	}
	x := []float64{0.7, -1.3}
	// Polynomial(n > 1) is left out at t = 0: there α′₀ = 0 too, u₀ = 0, and
	// no prediction determines x₁.
	for _, p := range []fm.AffinePath{fm.CondOT{}, fm.Polynomial{N: 1}, fm.Cosine{}, fm.LinearVP{}} {
		m := fm.MixtureMarginal{Path: p, Data: q}
		u0 := m.Field(0, x)
		tol := 16 * eps * maxAbs(x, u0, mean)
		assert.LessOrEqual(t, diffMax(fm.Convert(p, 0, fm.ParamVelocity, fm.ParamData, x, u0), mean), tol, "%T t=0: x̂₁ = E[x₁]", p)
		assert.LessOrEqual(t, diffMax(fm.Convert(p, 0, fm.ParamVelocity, fm.ParamNoise, x, u0), x), tol, "%T t=0: x̂₀ = x", p)
		assert.LessOrEqual(t, diffMax(m.Score(0, x), []float64{-x[0], -x[1]}), tol, "%T t=0: s = −x", p)
		assert.Panics(t, func() { fm.ConvertCoeffs(p, 0, fm.ParamNoise, fm.ParamData) }, "%T t=0: noise → data", p)
		assert.Panics(t, func() { fm.ConvertCoeffs(p, 0, fm.ParamScore, fm.ParamData) }, "%T t=0: score → data", p)
	}
	assert.Panics(t, func() { fm.ConvertCoeffs(fm.Polynomial{N: 2}, 0, fm.ParamVelocity, fm.ParamData) }, "Polynomial(2) t=0: velocity → data")
	for _, p := range []fm.AffinePath{fm.CondOT{}, fm.Polynomial{N: 2}} {
		m := fm.MixtureMarginal{Path: p, Data: q}
		u1 := m.Field(1, x)
		_, da, _, _ := p.Schedule(1)
		tol := 16 * eps * maxAbs(x, u1)
		assert.LessOrEqual(t, diffMax(u1, []float64{da * x[0], da * x[1]}), tol, "%T t=1: u = α′x", p)
		assert.LessOrEqual(t, diffMax(fm.Convert(p, 1, fm.ParamVelocity, fm.ParamData, x, u1), x), tol, "%T t=1: x̂₁ = x", p)
		assert.LessOrEqual(t, diffMax(fm.Convert(p, 1, fm.ParamVelocity, fm.ParamNoise, x, u1), []float64{0, 0}), tol, "%T t=1: x̂₀ = 0", p)
		assert.Panics(t, func() { fm.ConvertCoeffs(p, 1, fm.ParamData, fm.ParamNoise) }, "%T t=1: data → noise", p)
	}
}

// predictor is a fixed smooth "model" y(t, x) = tanh(x·W) + t, standing in
// for a network in any parametrization.
func predictor(t, x *autograd.Tensor) *autograd.Tensor {
	w := autograd.FromRows([][]float64{{0.8, -0.3}, {0.5, 1.1}})
	return autograd.Add(autograd.Tanh(autograd.MatMul(x, w)), autograd.MulCol(autograd.Full(x.Rows, x.Cols, 1), t))
}

// TestParamLoss_EqualsCFM: with the weights λ_P of LossWeight, the loss of a
// model in each parametrization equals CFMLoss of the same model converted
// to a velocity (AsVelocity), to rounding (relative 1e-12); the exact
// identity ‖v − u‖² = λ_P‖y − y_P‖² holds row by row. Negative control:
// λ_noise with σ² in place of α².
func TestParamLoss_EqualsCFM(t *testing.T) {
	rng := fm.NewRand(19)
	n := 64
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 1, 0.5, rng)
	tt := autograd.Uniform(n, 1, 0.05, 0.95, rng)
	for _, s := range schedulers() {
		for _, q := range params {
			got := fm.ParamLoss(predictor, s.p, q, tt, x0, x1, nil).Data[0]
			want := fm.CFMLoss(fm.AsVelocity(predictor, s.p, q), s.p, tt, x0, x1).Data[0]
			assert.InDelta(t, want, got, 1e-12*want, "%s %v: got %v want %v", s.name, q, got, want)
		}
		wrongW := func(t float64) float64 {
			a, da, sg, ds := s.p.Schedule(t)
			D := da*sg - a*ds
			return D * D / (sg * sg)
		}
		got := fm.ParamLoss(predictor, s.p, fm.ParamNoise, tt, x0, x1, wrongW).Data[0]
		want := fm.CFMLoss(fm.AsVelocity(predictor, s.p, fm.ParamNoise), s.p, tt, x0, x1).Data[0]
		assert.Greater(t, math.Abs(got-want), 1e-6*want, "%s: negative control", s.name)
	}
}

// TestAsVelocity_MatchesConvert: AsVelocity's rows are Convert's.
func TestAsVelocity_MatchesConvert(t *testing.T) {
	rng := fm.NewRand(23)
	x := autograd.Normal(5, 2, 0, 1, rng)
	tt := autograd.Uniform(5, 1, 0.1, 0.9, rng)
	y := predictor(tt, x)
	for _, q := range params {
		v := fm.AsVelocity(predictor, fm.Cosine{}, q)(tt, x)
		for i := 0; i < 5; i++ {
			want := fm.Convert(fm.Cosine{}, tt.Data[i], q, fm.ParamVelocity, x.Row(i), y.Row(i))
			assert.LessOrEqual(t, diffMax(v.Row(i), want), 4*eps*maxAbs(want), "%v row %d", q, i)
		}
	}
}

// TestScheduleChange_MixtureFields (Lipman et al. 2024, §4.8): the exact
// mixture field under From, transformed by ScheduleChange, equals the exact
// mixture field under To, and the densities agree, p^To_r(x) =
// p^From_{t_r}(x/s_r)/s_r^d. t_r is exact to an ulp, so the tolerance is
// rounding: 1e3·u times the terms (bisection's last-bit error times the
// field's t-derivative, O(10), plus the mixture's own rounding). Negative
// control: without the (s′/s)·x term.
func TestScheduleChange_MixtureFields(t *testing.T) {
	q := twoBumps()
	rng := fm.NewRand(29)
	pairs := [][2]fm.AffinePath{
		{fm.CondOT{}, fm.Cosine{}},
		{fm.Cosine{}, fm.Polynomial{N: 2}},
		{fm.LinearVP{}, fm.CondOT{}},
		{fm.Polynomial{N: 3}, fm.LinearVP{}},
		{fm.VP{}, fm.Cosine{}},
	}
	for _, pr := range pairs {
		c := fm.ScheduleChange{From: pr[0], To: pr[1]}
		mA, mB := fm.MixtureMarginal{Path: pr[0], Data: q}, fm.MixtureMarginal{Path: pr[1], Data: q}
		f := c.Field(mA.Field)
		for _, r := range []float64{0.2, 0.4, 0.6, 0.8} {
			x := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			got, want := f(r, x), mB.Field(r, x)
			tr, s, dt, ds := c.Map(r)
			tol := 1e3 * eps * maxAbs(want, got, x) * max(1, s*dt, math.Abs(ds/s))
			assert.LessOrEqual(t, diffMax(got, want), tol, "%T→%T r=%v: got %v want %v (tol %.3g)", pr[0], pr[1], r, got, want, tol)
			lpA := mA.LogProb(tr, []float64{x[0] / s, x[1] / s}) - 2*math.Log(s)
			assert.InDelta(t, mB.LogProb(r, x), lpA, 1e3*eps*max(1, math.Abs(lpA)), "%T→%T r=%v: densities", pr[0], pr[1], r)
			noTerm := make([]float64, 2)
			for j := range x {
				noTerm[j] = got[j] - ds/s*x[j]
			}
			if math.Abs(ds/s)*maxAbs(x) > 1e-3 {
				assert.Greater(t, diffMax(noTerm, want), 100*tol, "%T→%T r=%v: negative control", pr[0], pr[1], r)
			}
		}
	}
	assert.Panics(t, func() { fm.ScheduleChange{From: fm.VP{}, To: fm.CondOT{}}.Map(0.001) }, "VP's SNR never reaches CondOT's at r ≈ 0")
}

// TestScheduleChange_Velocity: the tensor form (for trained models) gives
// Field's rows.
func TestScheduleChange_Velocity(t *testing.T) {
	q := twoBumps()
	mA := fm.MixtureMarginal{Path: fm.CondOT{}, Data: q}
	c := fm.ScheduleChange{From: fm.CondOT{}, To: fm.Cosine{}}
	v := c.Velocity(func(t, x *autograd.Tensor) *autograd.Tensor { return fm.MarginalFieldBatch(mA, t, x) })
	rng := fm.NewRand(31)
	x := autograd.Normal(6, 2, 0, 1, rng)
	r := autograd.Uniform(6, 1, 0.05, 0.95, rng)
	out := v(r, x)
	f := c.Field(mA.Field)
	for i := 0; i < 6; i++ {
		want := f(r.Data[i], x.Row(i))
		assert.LessOrEqual(t, diffMax(out.Row(i), want), 8*eps*maxAbs(want, x.Row(i)), "row %d", i)
	}
}

// mixtureVelocity is the exact marginal field as a Velocity.
func mixtureVelocity(m fm.MixtureMarginal) fm.Velocity {
	return func(t, x *autograd.Tensor) *autograd.Tensor { return fm.MarginalFieldBatch(m, t, x) }
}

// TestSampleSDE_ZeroIsODE: g = 0 (nil, or a function returning 0) is
// Euler's method on the ODE: equal to cnf.Integrate with Euler on the same
// grid to rounding (16u times the state).
func TestSampleSDE_ZeroIsODE(t *testing.T) {
	m := fm.MixtureMarginal{Path: fm.Cosine{}, Data: twoBumps()}
	v := mixtureVelocity(m)
	x0 := autograd.Normal(20, 2, 0, 1, fm.NewRand(37))
	want, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.Euler, Steps: 50})
	require.NoError(t, err)
	for _, g := range []func(float64) float64{nil, func(float64) float64 { return 0 }} {
		got, err := fm.SampleSDE(v, m.Path, g, x0, 50, fm.NewRand(1))
		require.NoError(t, err)
		assert.LessOrEqual(t, diffMax(got.Data, want.Data), 16*eps*maxAbs(want.Data), "g = 0")
	}
}

// w2sq1D returns W₂² between two equal-size samples on the line: the mean
// squared difference of the sorted samples (the optimal coupling in 1-D).
func w2sq1D(a, b []float64) float64 {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s / float64(len(a))
}

// TestSampleSDE_ReachesData: with the exact mixture field (and so, by
// ScoreFromVelocity, the exact score), Euler–Maruyama from N(0, 1) reaches
// p₁ = q for g = 0, 0.5, 1, 2 and g_t = σ_t: W₂² between n samples and n
// fresh draws of q lies within the floor, the distribution of W₂² between
// two independent n-samples of q, estimated from R replicates:
// mean + 4 sd. 400 steps keep the weak O(h) bias below that (a 200-step run
// must pass too), and E[x], E[x²] lie within 4 standard errors of q's
// (momentsMatch), the sharper check. Negative controls at g = 1: the score
// term with the wrong sign (drift u − (g²/2)∇log p, the forward SDE's), and
// without the ½ (u + g²∇log p), each fail one of the two.
func TestSampleSDE_ReachesData(t *testing.T) {
	q := &fm.Mixture{Means: [][]float64{{-2}, {1.5}}, Stds: []float64{0.5, 0.3}, Weights: []float64{1, 2}}
	p := fm.CondOT{}
	m := fm.MixtureMarginal{Path: p, Data: q}
	v := mixtureVelocity(m)
	n, R := 1000, 30
	rng := fm.NewRand(41)
	floor := make([]float64, R)
	for i := range floor {
		floor[i] = w2sq1D(q.Sample(n, rng).Data, q.Sample(n, rng).Data)
	}
	mean, sd := 0.0, 0.0
	for _, f := range floor {
		mean += f / float64(R)
	}
	for _, f := range floor {
		sd += (f - mean) * (f - mean) / float64(R-1)
	}
	sd = math.Sqrt(sd)
	bound := mean + 4*sd
	t.Logf("floor W₂² = %.4g ± %.2g (sd over %d replicates), bound %.4g", mean, sd, R, bound)
	gs := []struct {
		name string
		g    func(float64) float64
	}{
		{"g=0", nil},
		{"g=0.5", func(float64) float64 { return 0.5 }},
		{"g=1", func(float64) float64 { return 1 }},
		{"g=2", func(float64) float64 { return 2 }},
		{"g=σ_t", func(t float64) float64 { _, _, s, _ := p.Schedule(t); return s }},
	}
	for _, gg := range gs {
		name, g := gg.name, gg.g
		for _, steps := range []int{200, 400} {
			x, err := fm.SampleSDE(v, p, g, fm.SampleSource(p, n, 1, rng), steps, rng)
			require.NoError(t, err)
			w := w2sq1D(x.Data, q.Sample(n, rng).Data)
			t.Logf("%s, %d steps: W₂² = %.4g", name, steps, w)
			assert.LessOrEqual(t, w, bound, "%s, %d steps: W₂² = %.4g above the floor bound %.4g", name, steps, w, bound)
			assert.True(t, momentsMatch(x.Data, q), "%s, %d steps: E[x], E[x²] beyond 4 SE", name, steps)
		}
	}
	// Negative controls at g = 1: v − s makes the drift u − (g²/2)s (the
	// forward SDE's sign); v + s/2 makes it u + g²s (the ½ missing).
	shifted := func(c float64) fm.Velocity {
		return func(tt, x *autograd.Tensor) *autograd.Tensor {
			u := v(tt, x)
			out := autograd.Zeros(x.Rows, x.Cols)
			for i := 0; i < x.Rows; i++ {
				s := m.Score(tt.Data[i], x.Row(i))
				for j := range s {
					out.Row(i)[j] = u.Row(i)[j] + c*s[j]
				}
			}
			return out
		}
	}
	for _, nc := range []struct {
		name string
		c    float64
	}{{"forward-SDE sign", -1}, {"missing ½", 0.5}} {
		name, c := nc.name, nc.c
		x, err := fm.SampleSDE(shifted(c), p, gs[2].g, fm.SampleSource(p, n, 1, rng), 400, rng)
		require.NoError(t, err)
		w := w2sq1D(x.Data, q.Sample(n, rng).Data)
		mOK := momentsMatch(x.Data, q)
		t.Logf("negative control (%s): W₂² = %.4g, moments within 4 SE: %v", name, w, mOK)
		assert.True(t, w > bound || !mOK, "negative control %s", name)
	}
}

// momentsMatch reports whether the sample mean and mean square of xs lie
// within 4 standard errors (sample sd/√n of x and of x²) of q's exact
// E[x] = Σπₖmₖ and E[x²] = Σπₖ(mₖ² + sₖ²), 1-D.
func momentsMatch(xs []float64, q *fm.Mixture) bool {
	lw := q.LogWeights()
	m1, m2 := 0.0, 0.0
	for k, mk := range q.Means {
		w := math.Exp(lw[k])
		m1 += w * mk[0]
		m2 += w * (mk[0]*mk[0] + q.Stds[k]*q.Stds[k])
	}
	n := float64(len(xs))
	ok := true
	for pow, want := range map[int]float64{1: m1, 2: m2} {
		mean, ss := 0.0, 0.0
		for _, x := range xs {
			mean += math.Pow(x, float64(pow)) / n
		}
		for _, x := range xs {
			d := math.Pow(x, float64(pow)) - mean
			ss += d * d / (n - 1)
		}
		ok = ok && math.Abs(mean-want) <= 4*math.Sqrt(ss/n)
	}
	return ok
}

// TestPathMetadata_Schedulers: the new schedulers round-trip through
// PathMetadata and PathFromMetadata to the bit; a non-positive exponent is
// an error naming the key.
func TestPathMetadata_Schedulers(t *testing.T) {
	for _, p := range []fm.Path{fm.Polynomial{N: 2.5}, fm.Cosine{}, fm.LinearVP{}} {
		meta, err := fm.PathMetadata(p)
		require.NoError(t, err, "%T", p)
		back, err := fm.PathFromMetadata(meta)
		require.NoError(t, err, "%T", p)
		assert.Equal(t, p, back)
	}
	_, err := fm.PathFromMetadata(map[string]string{fm.MetaPath: "polynomial", fm.MetaExponent: "0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fm.MetaExponent)
	_, err = fm.PathMetadata(fm.Polynomial{N: -1})
	assert.Error(t, err)
}

// TestScheduleChange_Ends: at r = 0 (α = 0) and r = 1 (σ = 0, or 6e-17 for
// Cosine) Map stays finite (s from the larger of α and σ, t′ through the
// log-SNR) and the transformed mixture field equals the field under To;
// tolerance as in TestScheduleChange_MixtureFields.
func TestScheduleChange_Ends(t *testing.T) {
	q := twoBumps()
	x := []float64{0.4, -0.9}
	for _, pr := range [][2]fm.AffinePath{{fm.CondOT{}, fm.Cosine{}}, {fm.Cosine{}, fm.CondOT{}}, {fm.CondOT{}, fm.Polynomial{N: 2}}} {
		c := fm.ScheduleChange{From: pr[0], To: pr[1]}
		mA, mB := fm.MixtureMarginal{Path: pr[0], Data: q}, fm.MixtureMarginal{Path: pr[1], Data: q}
		for _, r := range []float64{0, 1} {
			tr, s, dt, ds := c.Map(r)
			for _, v := range []float64{tr, s, dt, ds} {
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%T→%T r=%v: Map = %v %v %v %v", pr[0], pr[1], r, tr, s, dt, ds)
			}
			got, want := c.Field(mA.Field)(r, x), mB.Field(r, x)
			tol := 1e3 * eps * maxAbs(want, got, x) * max(1, s*dt, math.Abs(ds/s))
			assert.LessOrEqual(t, diffMax(got, want), tol, "%T→%T r=%v: got %v want %v", pr[0], pr[1], r, got, want)
		}
	}
}

// TestConvert_VPDataEnd: at t = 1, where VP and LinearVP have σ′ = −∞,
// ConvertCoeffs still turns the exact mixture score into its velocity and
// back (through σσ′), as a sampler that evaluates at t = 1 (RK4) needs;
// tolerance as in TestVelocityScore_Mixture.
func TestConvert_VPDataEnd(t *testing.T) {
	q := twoBumps()
	x := []float64{0.4, -0.9}
	for _, p := range []fm.AffinePath{fm.VP{}, fm.LinearVP{}} {
		m := fm.MixtureMarginal{Path: p, Data: q}
		u, sc := m.Field(1, x), m.Score(1, x)
		gotU := fm.Convert(p, 1, fm.ParamScore, fm.ParamVelocity, x, sc)
		gotS := fm.Convert(p, 1, fm.ParamVelocity, fm.ParamScore, x, u)
		a, b := fm.VelocityScore(p, 1)
		tol := 64 * eps * (maxAbs(u) + math.Abs(a)*maxAbs(x) + math.Abs(b)*maxAbs(sc))
		assert.LessOrEqual(t, diffMax(gotU, u), tol, "%T: score → velocity", p)
		c, e := fm.ScoreFromVelocity(p, 1)
		tolS := 64 * eps * (maxAbs(sc) + math.Abs(c)*maxAbs(u) + math.Abs(e)*maxAbs(x))
		assert.LessOrEqual(t, diffMax(gotS, sc), tolS, "%T: velocity → score", p)
	}
}
