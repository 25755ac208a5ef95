package fm

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
)

// Batched paths on tensors. A batch is x [n, d], its data points x1 [n, d]
// and one time per row t [n, 1]. The path's coefficients μ_t(x₁), μ′_t(x₁),
// σ_t(x₁), σ′_t(x₁) depend only on (t, x₁), which are data, so they are
// evaluated in float64 and enter the graph as constants; they are combined
// with x by autograd ops, so the results are differentiable in x (and in
// whatever x was computed from), never in t or x₁.

// coeffs evaluates the path's coefficients row by row, in x1's arena (if it
// has one: autograd.Arena).
func coeffs(op string, p Path, t, x1 *autograd.Tensor) (mu, dmu, sigma, dsigma *autograd.Tensor) {
	n, d := x1.Rows, x1.Cols
	if t.Rows != n || t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "fm." + op, Shapes: [][2]int{t.Shape(), x1.Shape()}, Reason: fmt.Sprintf("t must be [%d,1]", n)})
	}
	a := x1.Arena()
	mu, dmu = a.Zeros(n, d), a.Zeros(n, d)
	sigma, dsigma = a.Zeros(n, 1), a.Zeros(n, 1)
	for i := 0; i < n; i++ {
		m, dm := p.Mean(t.Data[i], x1.Row(i))
		copy(mu.Row(i), m)
		copy(dmu.Row(i), dm)
		sigma.Data[i], dsigma.Data[i] = p.Std(t.Data[i], x1.Row(i))
	}
	return mu, dmu, sigma, dsigma
}

func mustSameShape(op string, a, b *autograd.Tensor) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(&autograd.MisuseError{Op: "fm." + op, Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "shapes differ"})
	}
}

// FlowBatch returns ψ_t(x) = σ_t(x₁)·x + μ_t(x₁) row by row (see Flow):
// x₀ [n, d] of noise becomes x_t ~ p_t(·|x₁). Differentiable in x.
// Tested by TestFlowBatch_MatchesFlow.
func FlowBatch(p Path, t, x, x1 *autograd.Tensor) *autograd.Tensor {
	mustSameShape("FlowBatch", x, x1)
	mu, _, sigma, _ := coeffs("FlowBatch", p, t, x1)
	return autograd.Add(autograd.MulCol(x, sigma), mu)
}

// CondFieldBatch returns the conditional field of Theorem 3 row by row (see
// CondField):
//
//	u_t(x|x₁) = σ′_t/σ_t · (x − μ_t) + μ′_t.
//
// Differentiable in x. Tested by TestCondFieldBatch_MatchesCondField.
func CondFieldBatch(p Path, t, x, x1 *autograd.Tensor) *autograd.Tensor {
	mustSameShape("CondFieldBatch", x, x1)
	mu, dmu, sigma, dsigma := coeffs("CondFieldBatch", p, t, x1)
	ratio := sigma.Arena().Zeros(sigma.Rows, 1)
	for i := range ratio.Data {
		ratio.Data[i] = dsigma.Data[i] / sigma.Data[i]
	}
	return autograd.Add(autograd.MulCol(autograd.Sub(x, mu), ratio), dmu)
}
