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
//
// The same index for the layers underneath (their tests live beside the code):
//
//	Result                                   | Source                                  | Code                                   | Test
//	-----------------------------------------|-----------------------------------------|----------------------------------------|------------------------------------------
//	Reverse mode: backward of every op       | Griewank & Walther 2008                 | autograd ops (backward under forward)  | autograd: TestGrad/<Op>, TestBackward_Diamond
//	Central differences, derived tolerance   | Richardson extrapolation                | autograd.GradCheck                     | autograd: TestGradCheck_WrongBackwardFails
//	Gradients of gradients (create_graph)    | Paszke et al. 2017                      | autograd.GradGraph                     | autograd: TestGradGraph_SecondOrder, TestGradGraph_ThirdOrder
//	Fused MLP backward = autograd's          | Higham 2002 §3 (error bound)            | autograd/fused, nn.TrainStep           | nn: TestTrainStep_MatchesAutograd, fm: TestTrain_FusedMatchesAutograd
//	Adam (bias-corrected moments)            | Kingma & Ba 2015; PyTorch               | nn.Adam                                | nn: TestAdam_HandComputedTwoSteps
//	Change of variables, 1-D and affine case | seed §1                                 | cnf.TransformedLogDensity1D            | cnf: TestChangeOfVariables_Affine1D, TestChangeOfVariables_Histogram
//	log p(x) = log π(z) − Σ log|det ∂fᵢ|     | seed §2; Rezende & Mohamed 2015; Dinh et al. 2016 | cnf.Flow, Planar, Radial, Coupling | cnf: TestLayers_LogDet, TestLayers_Inverse, TestFlow_TrainMoons
//	Runge–Kutta orders 1, 2, 2, 4; Dopri5    | seed §3; Hairer, Nørsett & Wanner       | cnf.Integrate                          | cnf: TestIntegrate_ConvergenceOrder, TestDopri5_MeetsTolerance, TestIntegrate_NFE
//	Instantaneous change of variables        | seed §3–4; Chen et al. 2018 Thm 1       | cnf.LogLikelihood                      | cnf: TestLogLikelihood_LinearField, TestLogLikelihood_GaussianCondOT, TestLogLikelihood_IntegratesToOne
//	  d log p/dt = −div v                    |                                         |                                        |
//	Forward-mode divergence = exact trace    | Griewank & Walther 2008                 | cnf.FastDivergence, autograd/fused     | cnf: TestFastDivergence_MatchesExact
//	Hutchinson: E[εᵀJε] = tr J, Var ∝ 1/K    | Hutchinson 1989; Grathwohl et al. 2018  | cnf.HutchinsonDivergence               | cnf: TestHutchinson_Unbiased, TestHutchinson_VarianceShrinksAsOneOverK
//	Continuity equation ∂ₜp + div(p v) = 0   | seed §4                                 | cnf.ContinuityResidual                 | cnf: TestContinuityResidual_GaussianPath
//	Maximum-likelihood CNF training          | Chen et al. 2018; Grathwohl et al. 2018 | cnf.MaxLikelihoodLoss                  | cnf: TestMaxLikelihood_Gradient, TestMaxLikelihood_NLLDecreases
//	Differential entropies of the toy sets   | REFERENCE; FFJORD toy data              | data.Entropy                           | data: TestEntropy_KnownValues
//	Exact W2 (assignment), MMD, sliced W2    | Peyré & Cuturi 2019; Gretton et al. 2012 | metrics                               | metrics: TestAssign_BruteForce, TestMMD2_SameAndDifferent
//
// Tutorials that walk through these results step by step, each with a test
// of what it prints, are indexed in tutorials/README.md.
package tests
