package fm

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// Interpolant is a stochastic interpolant (Albergo, Boffi &
// Vanden-Eijnden 2023, arXiv:2303.08797, §2, with a Gaussian latent z):
//
//	I_t = α_t·x₁ + σ_t·x₀ + γ_t·z,  z ~ N(0, I) independent of (x₀, x₁),
//
// with (α_t, σ_t) from the affine path Sched and γ₀ = γ₁ = 0 from Gamma
// (nil: γ ≡ 0). Its velocity target is the time derivative
//
//	İ_t = α′_t x₁ + σ′_t x₀ + γ′_t z,
//
// whose conditional expectation given I_t = x generates the law of I_t
// (their §2), so regressing a model on İ_t (InterpolantLoss) is flow
// matching with the pair (x₀, x₁) drawn from any coupling. With γ ≡ 0 and
// x₀ ~ N(0, I) independent of x₁ it is CFM on the affine path Sched
// (TestInterpolant_SpecialCases: CondOT and VP); BrownianBridge is the
// Schrödinger-bridge path of SB-CFM.
type Interpolant struct {
	Sched AffinePath
	Gamma func(t float64) (g, dg float64) // γ_t and γ′_t; nil means 0
}

// BrownianBridge returns the Brownian-bridge interpolant of SB-CFM (Tong et
// al. 2023, arXiv:2307.03672, §3, the Schrödinger-bridge conditional path
// p_t(x|x₀, x₁) = N(t x₁ + (1 − t) x₀, σ² t(1 − t) I)):
//
//	α_t = t,  σ_t = 1 − t,  γ_t = σ√(t(1 − t)),  γ′_t = σ(1 − 2t)/(2√(t(1 − t))),
//
// whose target İ = x₁ − x₀ + γ′_t z equals their conditional field
// (1 − 2t)/(2t(1 − t))·(x − μ_t) + (x₁ − x₀) at x = I_t. Paired by the
// entropic OT plan with ε = 2σ² (absolute, on squared distances) it is
// SB-CFM; paired independently, a noisy CFM. γ′ is infinite at t = 0 and 1:
// train on t inside (0, 1). Tested by TestInterpolant_TargetIsDerivative
// (negative control: γ′ without the ½).
func BrownianBridge(sigma float64) Interpolant {
	if !(sigma >= 0) || math.IsInf(sigma, 0) {
		panic(autograd.Misuse("fm.BrownianBridge", "σ = %v; want finite and ≥ 0", sigma))
	}
	return Interpolant{Sched: CondOT{}, Gamma: func(t float64) (float64, float64) {
		r := math.Sqrt(t * (1 - t))
		return sigma * r, sigma * (1 - 2*t) / (2 * r)
	}}
}

func (in Interpolant) gamma(t float64) (g, dg float64) {
	if in.Gamma == nil {
		return 0, 0
	}
	return in.Gamma(t)
}

// Sample returns I_t = α_t x₁ + σ_t x₀ + γ_t z and its target İ_t =
// α′_t x₁ + σ′_t x₀ + γ′_t z row by row (t [n, 1]; x0, x1, z [n, d]), as
// constant tensors. Tested by TestInterpolant_TargetIsDerivative.
func (in Interpolant) Sample(t, x0, x1, z *autograd.Tensor) (xt, target *autograd.Tensor) {
	mustSameShape("Interpolant.Sample", x0, x1)
	mustSameShape("Interpolant.Sample", x0, z)
	if in.Sched == nil || t.Rows != x0.Rows || t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "fm.Interpolant.Sample", Shapes: [][2]int{t.Shape(), x0.Shape()}, Reason: "want a Sched and t [n, 1]"})
	}
	xt, target = autograd.Zeros(x0.Rows, x0.Cols), autograd.Zeros(x0.Rows, x0.Cols)
	for i, ti := range t.Data {
		a, da, s, ds := in.Sched.Schedule(ti)
		g, dg := in.gamma(ti)
		r0, r1, rz, rx, rt := x0.Row(i), x1.Row(i), z.Row(i), xt.Row(i), target.Row(i)
		for j := range rx {
			rx[j] = a*r1[j] + s*r0[j] + g*rz[j]
			rt[j] = da*r1[j] + ds*r0[j]
			if dg != 0 {
				rt[j] += dg * rz[j]
			}
		}
	}
	return xt, target
}

// InterpolantLoss returns the batch mean ‖v(t, I_t) − İ_t‖² (Albergo et al.
// 2023, arXiv:2303.08797, §2, the velocity loss; Tong et
// al. 2023, arXiv:2307.03672, §3, SB-CFM's regression), differentiable in the
// model's parameters. Equal to CFMLoss when γ ≡ 0
// (TestInterpolant_SpecialCases).
func InterpolantLoss(v Velocity, in Interpolant, t, x0, x1, z *autograd.Tensor) *autograd.Tensor {
	xt, target := in.Sample(t, x0, x1, z)
	return SquaredError(v(t, xt), target)
}
