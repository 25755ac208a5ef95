package fm

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

/*
Parametrizations of an affine Gaussian path (Lipman et al. 2024, The Flow
Matching Guide and Code, arXiv:2412.06264, §4.8; Song et al. 2021,
arXiv:2011.13456, for the score).

With x_t = α_t x₁ + σ_t x₀, x₀ ~ N(0, I), a model may predict any of

	velocity  u_t(x)       = E[α′_t x₁ + σ′_t x₀ | x_t = x]
	data      x̂₁(t, x)     = E[x₁ | x_t = x]
	noise     x̂₀(t, x)     = E[x₀ | x_t = x]          (the "ε-prediction")
	score     s_t(x)       = ∇log p_t(x)

and each is determined by any other, because x = E[x_t | x_t = x] gives the
constraint α_t x̂₁ + σ_t x̂₀ = x, and Tweedie's formula gives

	x̂₀ = −σ_t s_t(x),   x̂₁ = (x + σ_t² s_t(x))/α_t.

Write each prediction as y = c₁ x̂₁ + c₀ x̂₀ (its row): velocity (α′, σ′),
data (1, 0), noise (0, 1), score (0, −1/σ). Given x and y_P, the pair
(x̂₁, x̂₀) solves [c₁ c₀; α σ]·(x̂₁, x̂₀) = (y, x); with D = c₁σ − c₀α,

	x̂₁ = (σ y − c₀ x)/D,  x̂₀ = (c₁ x − α y)/D,

and y_Q = d₁ x̂₁ + d₀ x̂₀ = cx·x + cy·y_P with

	cy = (d₁σ − d₀α)/D,  cx = (d₀c₁ − d₁c₀)/D          (ConvertCoeffs).

D = 0 is a genuine loss of information: at α_t = 0 (t = 0 for CondOT) the
noise and the score say nothing about x₁; at σ_t = 0 the data prediction
says nothing about x₀.

Velocity from score (the identity classifier-free guidance rests on):
substituting Tweedie into u = α′ x̂₁ + σ′ x̂₀,

	u_t(x) = a_t·x + b_t·∇log p_t(x),  a_t = α′/α,  b_t = α′σ²/α − σσ′      (VelocityScore).

Losses. For one pair (x₀, x₁) the conditional targets are x₁, x₀,
u = α′x₁ + σ′x₀ and s = −x₀/σ. Any prediction error satisfies
α(x̂₁ − x₁) + σ(x̂₀ − x₀) = 0 (both pairs reproduce x_t), so with
Δ = α′σ − ασ′ the velocity error is

	v − u = (Δ/σ)(x̂₁ − x₁) = −(Δ/α)(x̂₀ − x₀) = (Δσ/α)(ŝ − s),

and the CFM loss ‖v − u‖² equals λ_P‖y − y_P‖² with

	λ_velocity = 1,  λ_data = Δ²/σ²,  λ_noise = Δ²/α²,  λ_score = Δ²σ²/α²      (LossWeight).

The unweighted ε-loss ‖x̂₀ − x₀‖² of DDPM (Ho et al. 2020, arXiv:2006.11239)
is thus the CFM loss weighted by α²/Δ²; the unweighted x₁-loss, by σ²/Δ².
*/

// Param names what a model predicts on an affine Gaussian path (see the
// derivation at the top of param.go).
type Param int

const (
	ParamVelocity Param = iota // u_t(x), the field of the ODE (flow matching)
	ParamData                  // x̂₁ = E[x₁ | x_t = x]
	ParamNoise                 // x̂₀ = E[x₀ | x_t = x], the ε-prediction
	ParamScore                 // ∇log p_t(x)
)

var paramNames = [...]string{"velocity", "data", "noise", "score"}

// String returns velocity, data, noise or score.
func (q Param) String() string {
	if q < 0 || int(q) >= len(paramNames) {
		return fmt.Sprintf("Param(%d)", int(q))
	}
	return paramNames[q]
}

// ParseParam returns the Param named s (velocity, data, noise or score).
func ParseParam(s string) (Param, error) {
	for i, n := range paramNames {
		if s == n {
			return Param(i), nil
		}
	}
	return 0, fmt.Errorf("fm.ParseParam: unknown parametrization %q; want velocity, data, noise or score", s)
}

// row returns (c₁, c₀) with y_q = c₁ x̂₁ + c₀ x̂₀.
func (q Param) row(op string, a, da, s, ds float64) (c1, c0 float64) {
	switch q {
	case ParamVelocity:
		return da, ds
	case ParamData:
		return 1, 0
	case ParamNoise:
		return 0, 1
	case ParamScore:
		return 0, -1 / s
	}
	panic(autograd.Misuse(op, "unknown Param %d; want ParamVelocity, ParamData, ParamNoise or ParamScore", int(q)))
}

// ConvertCoeffs returns cx, cy with y_to = cx·x + cy·y_from at time t on the
// affine path p (Lipman et al. 2024, arXiv:2412.06264, §4.8; derivation at
// the top of param.go): with rows (c₁, c₀) for from and (d₁, d₀) for to and
// D = c₁σ_t − c₀α_t,
//
//	cy = (d₁σ_t − d₀α_t)/D,  cx = (d₀c₁ − d₁c₀)/D.
//
// Where D = 0 the conversion does not exist (from noise or score at α_t = 0,
// from data at σ_t = 0) and ConvertCoeffs panics with a
// *autograd.MisuseError. Where σ′_t = −∞ (VP and LinearVP at t = 1) the
// velocity converts to and from the score only, by VelocityScore and
// ScoreFromVelocity (TestConvert_VPDataEnd). Round trips and the
// identities at both ends of time: TestConvert_RoundTrip, TestConvert_Ends,
// TestConvert_MatchesMixture.
func ConvertCoeffs(p AffinePath, t float64, from, to Param) (cx, cy float64) {
	cx, cy, ok := convertCoeffs(p, t, from, to)
	if !ok {
		a, _, s, _ := p.Schedule(t)
		panic(autograd.Misuse("fm.ConvertCoeffs", "a %v prediction does not determine a %v prediction at t = %v (α_t = %v, σ_t = %v)", from, to, t, a, s))
	}
	return cx, cy
}

// convertCoeffs is ConvertCoeffs with ok = false where D = 0 instead of a
// panic.
func convertCoeffs(p AffinePath, t float64, from, to Param) (cx, cy float64, ok bool) {
	a, da, s, ds := p.Schedule(t)
	c1, c0 := from.row("fm.ConvertCoeffs", a, da, s, ds)
	d1, d0 := to.row("fm.ConvertCoeffs", a, da, s, ds)
	if from == to {
		return 0, 1, true
	}
	D := c1*s - c0*a
	if D == 0 || math.IsNaN(D) {
		return 0, 0, false
	}
	cx, cy = (d0*c1-d1*c0)/D, (d1*s-d0*a)/D
	if finite := !math.IsNaN(cx+cy) && !math.IsInf(cx+cy, 0); !finite {
		// σ′ = −∞ (VP, LinearVP at t = 1): the score and the velocity are
		// still each other's through σσ′.
		switch {
		case from == ParamScore && to == ParamVelocity:
			cx, cy = VelocityScore(p, t)
		case from == ParamVelocity && to == ParamScore:
			cy, cx = ScoreFromVelocity(p, t)
		}
	}
	return cx, cy, true
}

// Convert returns the to-prediction cx·x + cy·y from the from-prediction y
// at (t, x) (ConvertCoeffs). Tested by TestConvert_RoundTrip.
func Convert(p AffinePath, t float64, from, to Param, x, y []float64) []float64 {
	mustSameLen("Convert", x, y)
	cx, cy := ConvertCoeffs(p, t, from, to)
	out := make([]float64, len(x))
	for j := range x {
		out[j] = cx*x[j] + cy*y[j]
	}
	return out
}

// AsVelocity turns a model y(t, x) that predicts param on the affine path p
// into the velocity field v(t, x) = cx_t·x + cy_t·y(t, x) (ConvertCoeffs,
// row by row), differentiable in x through y, for sampling by any ODE
// solver. Tested by TestAsVelocity_MatchesConvert.
func AsVelocity(y Velocity, p AffinePath, param Param) Velocity {
	if y == nil || p == nil {
		panic(autograd.Misuse("fm.AsVelocity", "want a model and an AffinePath; got y nil: %v, p = %v", y == nil, p))
	}
	if param == ParamVelocity {
		return y
	}
	return func(t, x *autograd.Tensor) *autograd.Tensor {
		cx, cy := autograd.Zeros(t.Rows, 1), autograd.Zeros(t.Rows, 1)
		for i, ti := range t.Data {
			cx.Data[i], cy.Data[i] = ConvertCoeffs(p, ti, param, ParamVelocity)
		}
		return autograd.Add(autograd.MulCol(x, cx), autograd.MulCol(y(t, x), cy))
	}
}

// VelocityScore returns a_t and b_t of the velocity–score identity for an
// affine Gaussian path (Lipman et al. 2024, arXiv:2412.06264, §4.8; from
// Tweedie's formula, derivation at the top of param.go):
//
//	u_t(x) = a_t·x + b_t·∇log p_t(x),  a_t = α′_t/α_t,  b_t = α′_t σ_t²/α_t − σ_t σ′_t,
//
// with σσ′ from SigmaDSigma, so it is finite at σ_t = 0 (VP, LinearVP at
// t = 1). It holds for the marginal field of any data distribution, and per
// class for conditional ones. a and b are infinite where α_t = 0. Checked
// against the exact mixture field and score by TestVelocityScore_Mixture
// (negative control: b without the −σσ′ term).
func VelocityScore(p AffinePath, t float64) (a, b float64) {
	al, dal, s, _ := p.Schedule(t)
	return dal / al, dal*s*s/al - p.SigmaDSigma(t)
}

// ScoreFromVelocity returns c, e with ∇log p_t(x) = c·u_t(x) + e·x, the
// velocity–score identity solved for the score (VelocityScore multiplied
// through by α_t so that it stays finite at α_t = 0):
//
//	∇log p_t(x) = (α_t u_t(x) − α′_t x)/(α′_t σ_t² − α_t σ_t σ′_t).
//
// The denominator is 0 where σ_t = 0 and the score of data without noise
// does not exist. Tested by TestVelocityScore_Mixture.
func ScoreFromVelocity(p AffinePath, t float64) (c, e float64) {
	al, dal, s, _ := p.Schedule(t)
	den := dal*s*s - al*p.SigmaDSigma(t)
	return al / den, -dal / den
}

// LossWeight returns λ_P(t) with ‖v − u‖² = λ_P(t)·‖y − y_P‖² for a
// prediction y in parametrization param and its conditional target y_P
// (ParamTarget), on the affine path p (derivation at the top of param.go):
// with Δ = α′σ − ασ′,
//
//	λ_velocity = 1,  λ_data = Δ²/σ²,  λ_noise = Δ²/α²,  λ_score = Δ²σ²/α².
//
// Weighting each parametrization's squared error by λ_P makes it the CFM
// loss (Lipman et al. 2022, arXiv:2210.02747, eq. 9); weight 1 gives the
// "simple" losses of diffusion models instead. Tested by
// TestParamLoss_EqualsCFM (negative control: λ_noise with σ² for α²).
func LossWeight(p AffinePath, t float64, param Param) float64 {
	a, da, s, ds := p.Schedule(t)
	D := da*s - a*ds
	switch param {
	case ParamVelocity:
		return 1
	case ParamData:
		return D * D / (s * s)
	case ParamNoise:
		return D * D / (a * a)
	case ParamScore:
		return D * D * s * s / (a * a)
	}
	panic(autograd.Misuse("fm.LossWeight", "unknown Param %d", int(param)))
}

// ParamTarget returns the conditional regression target of param for the
// pair (x₀, x₁) at time t [n, 1] on the affine path p, row by row:
//
//	velocity α′_t x₁ + σ′_t x₀,  data x₁,  noise x₀,  score −x₀/σ_t,
//
// the last being ∇log p_t(x_t|x₁) (Vincent 2011, denoising score
// matching). A constant tensor. Tested by TestParamLoss_EqualsCFM.
func ParamTarget(p AffinePath, param Param, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	mustSameShape("ParamTarget", x0, x1)
	if t.Rows != x0.Rows || t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "fm.ParamTarget", Shapes: [][2]int{t.Shape(), x0.Shape()}, Reason: fmt.Sprintf("t must be [%d,1]", x0.Rows)})
	}
	out := x1.Arena().Zeros(x0.Rows, x0.Cols) // in x₁'s arena, if it has one
	for i, ti := range t.Data {
		a, da, s, ds := p.Schedule(ti)
		c1, c0 := param.row("fm.ParamTarget", a, da, s, ds)
		r, r0, r1 := out.Row(i), x0.Row(i), x1.Row(i)
		for j := range r {
			r[j] = c1*r1[j] + c0*r0[j]
		}
	}
	return out
}

// ParamLoss returns the conditional loss of a model y that predicts param
// on the affine path p, on one batch (t [n, 1], x0 and x1 [n, d]):
//
//	L = (1/n) Σᵢ w(tᵢ)·‖y(tᵢ, x_tᵢ) − y_P(tᵢ)‖²,  x_t = α_t x₁ + σ_t x₀,
//
// with the target y_P of ParamTarget and w = LossWeight(p, ·, param) when
// weight is nil, which makes it equal to CFMLoss of AsVelocity(y) (Lipman
// et al. 2022, eq. 9); pass weight = func(float64) float64 { return 1 } for
// the unweighted ("simple") loss. Differentiable in the model's parameters.
// Tested by TestParamLoss_EqualsCFM.
func ParamLoss(y Velocity, p AffinePath, param Param, t, x0, x1 *autograd.Tensor, weight func(t float64) float64) *autograd.Tensor {
	xt := FlowBatch(p, t, x0, x1)
	target := ParamTarget(p, param, t, x0, x1)
	w := t.Arena().Zeros(t.Rows, 1) // in t's arena, if it has one
	for i, ti := range t.Data {
		if weight == nil {
			w.Data[i] = LossWeight(p, ti, param)
		} else {
			w.Data[i] = weight(ti)
		}
	}
	return autograd.Mean(autograd.MulCol(autograd.SumCols(autograd.Square(autograd.Sub(y(t, xt), target))), w))
}

// Score returns the exact score ∇log p_t(x) of the mixture's marginal path
// (derivation at the top of marginal.go):
//
//	∇log p_t(x) = −Σₖ rₖ(x)·(x − a_t mₖ)/vₖ,  vₖ = σ_t² + a_t² sₖ².
//
// Checked against a central difference of LogProb by TestMixtureMarginal_Score.
func (m MixtureMarginal) Score(t float64, x []float64) []float64 {
	return m.mixMean(t, x, func(k int, a, s, v, r float64) (cx, cm float64) { return -r / v, 0 })
}

// DataMean returns E[x₁ | x_t = x] for the mixture, computed per component
// by the Gaussian conditional mean (not by Tweedie's formula, which
// TestTweedie_Mixture checks it against):
//
//	E[x₁ | x_t = x] = Σₖ rₖ(x)·(mₖ + (a_t sₖ²/vₖ)(x − a_t mₖ)).
func (m MixtureMarginal) DataMean(t float64, x []float64) []float64 {
	return m.mixMean(t, x, func(k int, a, s, v, r float64) (cx, cm float64) {
		sk := m.Data.Stds[k]
		return r * a * sk * sk / v, r
	})
}

// NoiseMean returns E[x₀ | x_t = x] for the mixture, per component:
//
//	E[x₀ | x_t = x] = Σₖ rₖ(x)·(σ_t/vₖ)(x − a_t mₖ).
//
// Tested by TestTweedie_Mixture.
func (m MixtureMarginal) NoiseMean(t float64, x []float64) []float64 {
	return m.mixMean(t, x, func(k int, a, s, v, r float64) (cx, cm float64) { return r * s / v, 0 })
}

// mixMean returns Σₖ rₖ(x)·(cxₖ·(x − a mₖ) + cmₖ·mₖ) with (cxₖ, cmₖ) = f(k,
// a_t, σ_t, vₖ, rₖ) already multiplied by rₖ.
func (m MixtureMarginal) mixMean(t float64, x []float64, f func(k int, a, s, v, r float64) (cx, cm float64)) []float64 {
	a, _, s, _ := m.Path.Schedule(t)
	lj, _ := m.components(t, x)
	z := stats.LogSumExp(lj)
	out := make([]float64, len(x))
	for k, mk := range m.Data.Means {
		sk := m.Data.Stds[k]
		cx, cm := f(k, a, s, s*s+a*a*sk*sk, math.Exp(lj[k]-z))
		for j := range out {
			out[j] += cx*(x[j]-a*mk[j]) + cm*mk[j]
		}
	}
	return out
}
