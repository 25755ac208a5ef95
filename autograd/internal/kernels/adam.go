package kernels

import "math"

// AdamParams holds the scalars of one AdamStep, formed once per step from
// the hyperparameters η, β₁, β₂, ε, λ and the step number k.
type AdamParams struct {
	C1       float64 // 1 − β₁
	Beta2    float64 // β₂
	C2       float64 // 1 − β₂
	StepSize float64 // η / (1 − β₁ᵏ)
	BC2Sqrt  float64 // √(1 − β₂ᵏ)
	Eps      float64 // ε
	L2       float64 // λ of an L2 penalty added to the gradient, or 0 for none
}

// AdamStep applies one step of torch.optim.Adam (Kingma & Ba 2015,
// arXiv:1412.6980, in PyTorch's operation order) to param, given its
// gradient grad and the moment estimates m and v, which it updates:
//
//	for j := range param {
//		g := grad[j]
//		if p.L2 != 0 {
//			g += float64(p.L2 * param[j])
//		}
//		m[j] += float64(p.C1 * (g - m[j]))
//		v[j] = float64(p.Beta2*v[j]) + float64(float64(p.C2*g)*g)
//		param[j] -= float64(p.StepSize*m[j]) / (math.Sqrt(v[j])/p.BC2Sqrt + p.Eps)
//	}
//
// The float64 conversions round every product before it is added, so that
// no compiler fuses a product and a sum into one FMA (Go may, on amd64 with
// GOAMD64=v3): every operation rounds once, in this order. The assembly
// kernel performs the same IEEE operations (sqrt and division are correctly
// rounded in SIMD too), so its results are bit-identical to the loop's
// (TestAdamStep_BitIdentical). grad, m and v must be as long as param.
//
// With Threads() > 1, long slices are split into ranges computed
// concurrently; element-wise, that changes no bit.
func AdamStep(param, grad, m, v []float64, p *AdamParams) {
	n := len(param)
	grad, m, v = grad[:n], m[:n], v[:n]
	if n >= parallelMinAdam && Threads() > 1 {
		j := ewJob{op: opAdam, dst: param, a: grad, b: m, c: v, adam: *p}
		if runParallel(&j, n, 8) {
			return
		}
	}
	adamKernel(param, grad, m, v, p)
}

func adamStepRef(param, grad, m, v []float64, p *AdamParams) {
	grad, m, v = grad[:len(param)], m[:len(param)], v[:len(param)]
	for j := range param {
		g := grad[j]
		if p.L2 != 0 {
			g += float64(p.L2 * param[j])
		}
		m[j] += float64(p.C1 * (g - m[j]))
		v[j] = float64(p.Beta2*v[j]) + float64(float64(p.C2*g)*g)
		param[j] -= float64(p.StepSize*m[j]) / (math.Sqrt(v[j])/p.BC2Sqrt + p.Eps)
	}
}
