package fm

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
An exponential integrator for the ODE of an affine Gaussian path, in
data-prediction form (Lu et al. 2022, DPM-Solver, arXiv:2206.00927; its
data-prediction multistep variant, DPM-Solver++(2M), Lu et al. 2022,
arXiv:2211.01095, §4, Algorithm 2).

Write λ_t = log(α_t/σ_t) (the log-SNR, increasing in t) and x̂₁(t, x) the
data prediction. The ODE dx/dt = u_t(x) = α′x̂₁ + σ′x̂₀ with
x̂₀ = (x − αx̂₁)/σ is linear in x apart from x̂₁:

	dx/dt = (σ′/σ)·x + σ_t·λ′_t·e^{λ_t}·x̂₁,

since α′ − ασ′/σ = σλ′e^λ. Variation of constants from s to t:

	x_t = (σ_t/σ_s)·x_s + σ_t ∫_{λ_s}^{λ_t} e^{λ} x̂₁ dλ.

With x̂₁ frozen at its value D at s the integral is σ_t(e^{λ_t} − e^{λ_s})D
= α_t(1 − e^{−h})D, h = λ_t − λ_s: the first-order step (DDIM's). Linear
in λ through the previous prediction, D = (1 + 1/(2r))·D_i − (1/(2r))·D_{i−1}
with r = h_{i−1}/h_i, gives the second-order multistep step (2M), one field
evaluation a step. e^{−h} = α_s σ_t/(σ_s α_t) is computed without λ, so the
first step from α = 0 (λ = −∞, e^{−h} = 0, r = ∞ next) and a last step to
σ = 0 (λ = +∞) are their limits; the last step to σ = 0 is taken at first
order (x_1 = α_1 D), as DPM-Solver++ does.
*/

// SampleExpInt integrates the ODE dx/dt = v(t, x) of the affine path p from
// t = 0 to 1 in steps equal steps, one evaluation of v a step (NFE =
// steps), by the exponential integrator in data-prediction form (Lu et al.
// 2022, arXiv:2206.00927 and arXiv:2211.01095; derivation at the top of
// expint.go): with D = x̂₁(t_i, x_i) from v by ConvertCoeffs,
//
//	order 1:  x_{i+1} = (σ_{i+1}/σ_i)·x_i + α_{i+1}(1 − e^{−h_i})·D_i
//	order 2:  the same with (1 + 1/(2r))·D_i − (1/(2r))·D_{i−1}, r = h_{i−1}/h_i,
//
// h_i = λ_{i+1} − λ_i. x0 [n, d] is not changed. The velocity must
// determine the data prediction at t = 0 (α′₀ ≠ 0 where α₀ = 0; not
// Polynomial(n > 1)). Its order is checked on the exact mixture field by
// TestSampleExpInt_Order (order 1 is the negative control), and the
// NFE–W₂² comparison with Euler, Heun, RK4 and Dopri5 is
// TestSampleExpInt_NFE.
func SampleExpInt(v Velocity, p AffinePath, x0 *autograd.Tensor, steps, order int) (*autograd.Tensor, error) {
	if v == nil || p == nil || x0 == nil || steps < 1 || (order != 1 && order != 2) {
		panic(autograd.Misuse("fm.SampleExpInt", "want a Velocity, an AffinePath, x0, steps ≥ 1 and order 1 or 2; got v nil: %v, p = %v, x0 nil: %v, steps = %d, order = %d",
			v == nil, p, x0 == nil, steps, order))
	}
	n, d := x0.Rows, x0.Cols
	x := x0.Clone().NoGraph()
	tt := autograd.Zeros(n, 1).NoGraph()
	var prev []float64 // D_{i−1}
	hPrev := math.NaN()
	for i := 0; i < steps; i++ {
		s, t := float64(i)/float64(steps), float64(i+1)/float64(steps)
		as, _, ss, _ := p.Schedule(s)
		at, _, st, _ := p.Schedule(t)
		for r := range tt.Data {
			tt.Data[r] = s
		}
		u := v(tt, x)
		cx, cy := ConvertCoeffs(p, s, ParamVelocity, ParamData)
		D := make([]float64, n*d)
		for k := range D {
			D[k] = cx*x.Data[k] + cy*u.Data[k]
		}
		emh := as * st / (ss * at) // e^{−h}
		h := math.Log(at/st) - math.Log(as/ss)
		c2 := 0.0 // weight of D_i − D_{i−1}
		if order == 2 && prev != nil && st > 1e-8*at {
			c2 = 1 / (2 * (hPrev / h))
		}
		ratio := st / ss
		for k := range D {
			dk := D[k]
			if c2 != 0 {
				dk += c2 * (D[k] - prev[k])
			}
			x.Data[k] = ratio*x.Data[k] + at*(1-emh)*dk
			if math.IsNaN(x.Data[k]) || math.IsInf(x.Data[k], 0) {
				return nil, fmt.Errorf("fm.SampleExpInt: row %d, column %d is %v after step %d of %d (t = %v)", k/d, k%d, x.Data[k], i+1, steps, t)
			}
		}
		prev, hPrev = D, h
	}
	return x, nil
}
