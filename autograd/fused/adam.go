package fused

import "github.com/flowmatch/flowmatch/autograd/internal/kernels"

// AdamParams holds the scalars of one AdamStep, formed once per step from
// the learning rate η, the decay rates β₁ and β₂, ε, an optional L2 penalty
// λ and the step number k.
type AdamParams struct {
	C1       float64 // 1 − β₁
	Beta2    float64 // β₂
	C2       float64 // 1 − β₂
	StepSize float64 // η / (1 − β₁ᵏ)
	BC2Sqrt  float64 // √(1 − β₂ᵏ)
	Eps      float64 // ε
	L2       float64 // λ of an L2 penalty added to the gradient, or 0 for none
}

// AdamStep applies one step of torch.optim.Adam to param, given its gradient
// grad and the moment estimates m and v, which it updates, in PyTorch's
// operation order:
//
//	for j := range param {
//		g := grad[j]
//		if p.L2 != 0 {
//			g += float64(p.L2 * param[j])
//		}
//		m[j] += float64(p.C1 * (g - m[j]))                  // exp_avg.lerp_(g, 1−β₁)
//		v[j] = float64(p.Beta2*v[j]) + float64(float64(p.C2*g)*g)
//		param[j] -= float64(p.StepSize*m[j]) / (math.Sqrt(v[j])/p.BC2Sqrt + p.Eps)
//	}
//
// (the float64 conversions round each product before the sum, so no
// compiler may fuse them into an FMA). It runs a vector kernel with the
// same IEEE operations in the same order, bit-identical to the loop
// (kernels' TestAdamStep_BitIdentical), and splits long slices across
// SetThreads goroutines, which changes no bit. grad, m and v must be as
// long as param. It does not allocate.
func AdamStep(param, grad, m, v []float64, p *AdamParams) {
	kernels.AdamStep(param, grad, m, v, (*kernels.AdamParams)(p))
}
