package fm

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// SBCFM returns the coupling and the path of Schrödinger-bridge conditional
// flow matching with noise σ (Tong et al. 2023, arXiv:2307.03672, §3.3 and
// Algorithm 3; also arXiv:2302.00482, §4): pairs (x₀, x₁) drawn from the
// entropic OT plan of a minibatch,
//
//	π_ε = argmin_π ⟨C, π⟩ − ε H(π),  Cᵢⱼ = ‖x₀ᵢ − x₁ⱼ‖²,  ε = 2σ² (absolute),
//
// (SinkhornOT with Reg 2σ² and Absolute), and the Brownian bridge between
// them, p_t(x | x₀, x₁) = N(t x₁ + (1 − t) x₀, σ² t(1 − t) I)
// (BrownianBridge(σ); train by InterpolantLoss on t inside (0, 1)). The pair
// is the static Schrödinger bridge from N(0, I) to the data for the
// reference Brownian motion σW, whose time marginals the bridge then
// interpolates. σ = 0 gives ExactOT and the CondOT path with σ_min = 0
// (OT-CFM); σ → ∞ tends to the independent coupling. The coupling's Tol
// and MaxIter are SinkhornOT's defaults; at small σ Sinkhorn needs its
// Newton steps (raise MaxIter if Pair reports ErrNotConverged).
// TestSBCFM_PlanLimits (the plan tends to the OT assignment as σ → 0,
// within ε ln n of its cost, and to the independent plan as σ → ∞, within
// |ln n²πᵢⱼ| ≤ 2(max C − min C)/ε) and TestSBCFM_BridgeMarginals.
func SBCFM(sigma float64) (Coupling, Interpolant) {
	if !(sigma >= 0) || math.IsInf(sigma, 0) {
		panic(autograd.Misuse("fm.SBCFM", "σ = %v; want finite and ≥ 0", sigma))
	}
	if sigma == 0 {
		return ExactOT{}, BrownianBridge(0)
	}
	return SinkhornOT{Reg: 2 * sigma * sigma, Absolute: true}, BrownianBridge(sigma)
}
