// Package tests re-verifies the mathematics of Flow Matching numerically:
// `go test ./tests -run Theorem -v` checks Theorems 1–3 of Lipman et al.
// 2022 (arXiv:2210.02747) on the code of package fm. Time runs from noise
// (t = 0) to data (t = 1) throughout.
//
// Every tolerance is derived in the test that uses it: central differences
// carry a Richardson estimate of their truncation error plus a rounding
// term; Monte Carlo checks allow k standard errors computed from the same
// samples, with k = Φ⁻¹(1 − α/2m) (or the Student t quantile) for a
// family-wise false-alarm rate α = 10⁻³ over the m checks of a test. Every
// check of a formula runs a negative control (a flipped sign, a dropped
// weight, the wrong time direction, a non-divergence-free perturbation)
// and asserts that the check then fails.
//
// # Math index
//
//	Result                                   | Source                                  | Code                                   | Test
//	-----------------------------------------|-----------------------------------------|----------------------------------------|------------------------------------------
//	Gaussian conditional path, flow map      | seed §8; Lipman eqs. 10–11              | fm.Path, fm.Flow, fm.FlowBatch         | TestTheorem3_FlowPushesNoise
//	  ψ_t(x) = σ_t(x₁)x + μ_t(x₁)            |                                         |                                        |
//	Boundary conditions μ₀=0, σ₀=1, μ₁=x₁,   | seed §8, §9; Lipman §4                  | fm.CondOT, fm.VE, fm.VP, fm.FuncPath   | TestTheorem3_Boundaries
//	  σ₁=σ_min (VE: σ₀=σ_max; VP: α(1)=e^−5.025)|                                      |                                        |
//	Theorem 3: u_t = σ′/σ(x − μ) + μ′        | seed §8; Lipman Thm 3, eq. 15           | fm.CondField, fm.CondFieldBatch        | TestTheorem3_FlowDerivative
//	  generates ψ_t, incl. x₁-dependent σ    |                                         |                                        |
//	CondOT field (x₁ − (1−σ_min)x)/(1 − (1−σ_min)t) | seed §9.2; Lipman eq. 21         | fm.CondOT.Field                        | TestTheorem3_ClosedFormsMatchGeneric
//	VE field −σ′(1−t)/σ(1−t)·(x − x₁)        | seed §9.1; Lipman eq. 17; Song et al.   | fm.VE.Field                            | TestTheorem3_ClosedFormsMatchGeneric, TestTheorem3_FlowDerivative (wrong direction)
//	VP field α′(1−t)/(1−α²)·(αx − x₁)        | seed §9.1; Lipman eq. 19; Song et al.   | fm.VP.Field                            | TestTheorem3_ClosedFormsMatchGeneric, TestTheorem3_FlowDerivative (wrong direction)
//	Conditional log-density                  | seed §8                                 | fm.CondLogProb                         | fm: TestCondLogProb_MatchesGonum
//	Marginal path and field, empirical q,    | seed §5 (weight corrected); Lipman      | fm.EmpiricalMarginal                   | TestTheorem1_ContinuityEmpirical
//	  wᵢ ∝ qᵢ p_t(x|x₁ⁱ) in log space        |   eqs. 6, 8                             |                                        |   fm: TestEmpiricalMarginal_PosteriorFarFromData
//	Theorem 1: marginal field generates      | seed §4–5; Lipman Thm 1                 | fm.MixtureMarginal, cnf.ContinuityResidual | TestTheorem1_ContinuityMixture
//	  the marginal path (mixture q)          |                                         |                                        |
//	Mixture marginal N(a mₖ, σ² + a²sₖ²) and | derived in fm/marginal.go               | fm.MixtureMarginal                     | TestTheorem1_ContinuityMixture,
//	  field v′ₖ/2vₖ(x − a mₖ) + a′mₖ          |                                         |                                        |   fm: TestMixtureMarginal_PointMassLimit
//	Non-uniqueness: R(x − μ), R antisymmetric| seed §4 (continuity equation)           | (test only)                            | TestTheorem1_DivergenceFreePerturbation
//	L_FM, L_CFM                              | seed §6–7; Lipman eqs. 5, 9             | fm.FMLoss, fm.CFMLoss                  | TestTheorem2_LossesDifferByConstant
//	Theorem 2: L_CFM − L_FM = const,         | seed §7; Lipman Thm 2                   | fm.CFMLoss, fm.FMLoss, fm.CFMFloor     | TestTheorem2_LossesDifferByConstant,
//	  ∇L_CFM = ∇L_FM                         |                                         |                                        |   TestTheorem2_GradientsEqual
//	Irreducible floor E‖u(x|x₁) − u(x)‖²     | Lipman, proof of Thm 2                  | fm.CFMFloor                            | TestTheorem2_LossesDifferByConstant, fm: TestTrain_ApproachesFloor
//	Straight CondOT trajectories             | seed §9.2; Lipman §4.1                  | fm.CondOT                              | fm: TestCondOT_FieldConstantAlongTrajectory
//	Exact minibatch OT (assignment)          | Tong et al. arXiv:2302.00482            | fm.ExactOT, fm.Assignment              | fm: TestAssignment_MatchesBruteForce, TestCoupling_OTLowersPathEnergy
//	Entropic OT (log-domain Sinkhorn)        | Tong et al.; Cuturi 2013                | fm.SinkhornOT, fm.Sinkhorn             | fm: TestSinkhorn_Marginals, TestSinkhorn_NearExactOT
//	Reflow, straightness                     | seed comments; Liu et al. arXiv:2209.03003 | fm.Reflow, fm.MeasurePaths          | fm: TestReflow_Straightens, TestMeasurePaths_StraightField
package tests
