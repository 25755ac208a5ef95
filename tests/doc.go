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
// One row per result: where it is stated (Lipman = Lipman et al. 2022,
// arXiv:2210.02747, by section and equation), the code that implements it and
// the tests that check it. A "pkg:" prefix names the package whose tests hold
// the names after it; names without one are in this package.
// TestCitedTestsExist checks that every test named here exists.
//
//	Result                                    | Source                            | Code                                 | Test
//	------------------------------------------|-----------------------------------|--------------------------------------|---------------------------------------------
//	Gaussian conditional path and flow map    | Lipman §4, eqs. 10–11             | fm.Path, fm.Flow, fm.FlowBatch       | TestTheorem3_FlowPushesNoise
//	  ψ_t(x) = σ_t(x₁)x + μ_t(x₁)             |                                   |                                      |
//	Boundary conditions μ₀ = 0, σ₀ = 1,       | Lipman §4 (after eq. 10), §4.1    | fm.CondOT, fm.VE, fm.VP, fm.FuncPath | TestTheorem3_Boundaries
//	  μ₁ = x₁, σ₁ = σ_min (VE: σ₀ = σ_max;    |                                   |                                      |
//	  VP: α(1) = e^−5.025)                    |                                   |                                      |
//	Theorem 3: u_t = σ′/σ·(x − μ) + μ′        | Lipman §4, Thm 3, eq. 15          | fm.CondField, fm.CondFieldBatch      | TestTheorem3_FlowDerivative
//	  generates ψ_t, incl. x₁-dependent σ     |                                   |                                      |
//	CondOT field                              | Lipman §4.1, eqs. 20–21           | fm.CondOT.Field                      | TestTheorem3_ClosedFormsMatchGeneric
//	  (x₁ − (1 − σ_min)x)/(1 − (1 − σ_min)t)  |                                   |                                      |
//	VE field −σ′(1−t)/σ(1−t)·(x − x₁)         | Lipman §4.1, eqs. 16–17;          | fm.VE.Field                          | TestTheorem3_ClosedFormsMatchGeneric,
//	                                          | Song et al. 2021 arXiv:2011.13456 |                                      | TestTheorem3_FlowDerivative (wrong direction)
//	VP field α′(1−t)/(1 − α²)·(αx − x₁)       | Lipman §4.1, eqs. 18–19;          | fm.VP.Field                          | TestTheorem3_ClosedFormsMatchGeneric,
//	                                          | Song et al. 2021 arXiv:2011.13456 |                                      | TestTheorem3_FlowDerivative (wrong direction)
//	Conditional log-density                   | Lipman §4, eq. 10                 | fm.CondLogProb                       | fm: TestCondLogProb_MatchesGonum
//	  log N(x; μ_t(x₁), σ_t(x₁)² I)           |                                   |                                      |
//	Marginal path and field, empirical q,     | Lipman §3, eqs. 6, 8 (weight      | fm.EmpiricalMarginal                 | TestTheorem1_ContinuityEmpirical,
//	  wᵢ ∝ qᵢ p_t(x|x₁ⁱ) in log space         | p_t(x|x₁)q(x₁)/p_t(x); a common   |                                      | fm: TestEmpiricalMarginal_PosteriorFarFromData
//	                                          | slip drops q(x₁))                 |                                      |
//	Theorem 1: the marginal field generates   | Lipman §3.1, Thm 1; continuity    | fm.MixtureMarginal,                  | TestTheorem1_ContinuityMixture
//	  the marginal path (mixture q)           | equation: Lipman §2, Villani 2009 | cnf.ContinuityResidual               |
//	Mixture marginal N(a mₖ, σ² + a²sₖ²) and  | Lipman eqs. 6, 8 with Gaussian q  | fm.MixtureMarginal                   | TestTheorem1_ContinuityMixture,
//	  field v′ₖ/2vₖ·(x − a mₖ) + a′mₖ, finite | (derived in fm/marginal.go)       |                                      | fm: TestMixtureMarginal_PointMassLimit,
//	  at t = 1 for VP (written with σσ′)      |                                   |                                      | TestMixtureMarginal_VPFieldAtDataEnd
//	Non-uniqueness: u + R(x − μ) with R       | continuity equation: Lipman §2;   | cnf.ContinuityResidual               | TestTheorem1_DivergenceFreePerturbation
//	  antisymmetric generates the same p_t    | Villani 2009                      |                                      |
//	L_FM and L_CFM                            | Lipman §3, eq. 5; §3.2, eq. 9     | fm.FMLoss, fm.CFMLoss                | TestTheorem2_LossesDifferByConstant
//	Theorem 2: L_CFM − L_FM = const,          | Lipman §3.2, Thm 2                | fm.CFMLoss, fm.FMLoss, fm.CFMFloor   | TestTheorem2_LossesDifferByConstant,
//	  ∇L_CFM = ∇L_FM                          |                                   |                                      | TestTheorem2_GradientsEqual
//	Irreducible floor E‖u(x|x₁) − u(x)‖²      | Lipman, proof of Thm 2 (App. A)   | fm.CFMFloor                          | TestTheorem2_LossesDifferByConstant,
//	                                          |                                   |                                      | fm: TestTrain_ApproachesFloor
//	Straight CondOT trajectories              | Lipman §4.1, eq. 22               | fm.CondOT                            | fm: TestCondOT_FieldConstantAlongTrajectory
//	Exact minibatch OT (assignment)           | Tong et al. 2023 arXiv:2302.00482 | fm.ExactOT, fm.Assignment            | fm: TestAssignment_MatchesBruteForce,
//	                                          |                                   |                                      | TestCoupling_OTLowersPathEnergy
//	Entropic OT (log-domain Sinkhorn);        | Tong et al. 2023; Cuturi 2013     | fm.SinkhornOT, fm.Sinkhorn           | fm: TestSinkhorn_Marginals,
//	  an error when it has not converged      | arXiv:1306.0895                   |                                      | TestSinkhorn_NearExactOT,
//	                                          |                                   |                                      | TestSinkhorn_NotConverged
//	Reflow, straightness                      | Liu et al. 2022 arXiv:2209.03003  | fm.Reflow, fm.MeasurePaths           | fm: TestReflow_Straightens,
//	                                          |                                   |                                      | TestMeasurePaths_StraightField
//	Schedulers (α_t, σ_t): polynomial,        | Lipman et al. 2024                | fm.Polynomial, fm.Cosine,            | fm: TestScheduler_Derivatives,
//	  cosine, linear-VP; α′, σ′, ρ′ in        | arXiv:2412.06264 §4.8             | fm.LinearVP, fm.SNR                  | TestScheduler_Continuity
//	  closed form                             |                                   |                                      |
//	Tweedie: E[x₁|x] = (x + σ²∇log p)/α,      | Lipman et al. 2024 §4.8           | fm.MixtureMarginal.Score, DataMean,  | fm: TestTweedie_Mixture,
//	  E[x₀|x] = −σ∇log p                      |                                   | NoiseMean                            | TestMixtureMarginal_Score
//	Velocity–score identity u = a x + b∇log p | Lipman et al. 2024 §4.8           | fm.VelocityScore,                    | fm: TestVelocityScore_Mixture
//	  a = α′/α, b = α′σ²/α − σσ′              |                                   | fm.ScoreFromVelocity                 |
//	Velocity ↔ x₁ ↔ ε ↔ score conversions;    | Lipman et al. 2024 §4.8           | fm.ConvertCoeffs, fm.Convert,        | fm: TestConvert_RoundTrip,
//	  loss weights λ_P (derived in            |                                   | fm.AsVelocity, fm.LossWeight,        | TestConvert_MatchesMixture, TestConvert_Ends,
//	  fm/param.go)                            |                                   | fm.ParamLoss                         | TestParamLoss_EqualsCFM
//	Scale–time transformation between         | Lipman et al. 2024 §4.8           | fm.ScheduleChange                    | fm: TestScheduleChange_MixtureFields
//	  schedules (equal marginals)             |                                   |                                      |
//	SDE family u + (g²/2)∇log p, any g,       | Song et al. 2021 arXiv:2011.13456 | fm.SampleSDE                         | fm: TestSampleSDE_ReachesData,
//	  Euler–Maruyama; g = 0 is the ODE        | §4.3                              |                                      | TestSampleSDE_ZeroIsODE
//	Exponential integrator, data prediction   | Lu et al. 2022 arXiv:2206.00927,  | fm.SampleExpInt                      | fm: TestSampleExpInt_Order,
//	  (orders 1 and 2)                        | arXiv:2211.01095                  |                                      | TestSampleExpInt_NFE
//	Parametrized training; DSM (λ = σ²)       | Vincent 2011; Song et al. 2021    | fm.TrainParam, fm.DSMWeight          | fm: TestTrainParam_DSMvsFM
//	Stochastic interpolants; Brownian bridge  | Albergo et al. 2023               | fm.Interpolant, fm.BrownianBridge,   | fm: TestInterpolant_TargetIsDerivative,
//	  of SB-CFM; affine paths as γ = 0 cases  | arXiv:2303.08797; Tong et al.     | fm.InterpolantLoss                   | TestInterpolant_SpecialCases
//	                                          | 2023 arXiv:2307.03672             |                                      |
//	SB-CFM: entropic plan π_{2σ²} (absolute ε | Tong et al. 2023 arXiv:2307.03672 | fm.SBCFM, fm.SinkhornOT.Absolute,    | fm: TestSBCFM_PlanLimits,
//	  on ‖x₀ − x₁‖²) + Brownian bridge; σ → 0 | §3.3, Alg. 3                      | fm.SinkhornOT.Plan                   | TestSBCFM_BridgeMarginals
//	  OT-CFM, σ → ∞ independent               |                                   |                                      |
//	Where a prediction converts to the        | Lipman et al. 2024 §4.8           | fm.ParamTimes, fm.ParamFromMetadata, | fm: TestParamTimes,
//	  velocity; -param checkpoints            |                                   | fm.MetaParam                         | TestParamFromMetadata; cmd/flowmatch:
//	                                          |                                   |                                      | TestTrain_Param
//	Labelled Gaussian mixture: per-class path | Lipman §3.1, Thm 1 on one class's | fm.LabelledMixture (Class,           | TestLabelledMixture_FieldIsLinearInScore,
//	  and field, u_t(x) = Σ p_t(c|x)u_t(x|c); | components (derived in            | Marginal, ClassPosterior,            | TestLabelledMixture_ScoreIsGradLogProb,
//	  u_t(x|c) = a x + b∇log p_t(x|c)         | fm/condmixture.go); Efron 2011    | BayesPosterior, Sample)              | TestLabelledMixture_FieldAveragesClasses
//	Guidance of exact fields = guided score:  | Ho & Salimans 2022                | fm.Guided, fm.CondVelocity,          | TestGuided_ExactFieldIsGuidedScore,
//	  (1 − w)u + w u(·|c) = a x + b[w∇log     | arXiv:2207.12598; Zheng et al.    | fm.LabelledMixture.CondVelocity      | TestGuided_Endpoints,
//	  p(x|c) + (1 − w)∇log p]; flows end at   | 2023 arXiv:2311.13443             |                                      | TestGuided_ClassHistogram,
//	  q(·|c) (w = 1) and q (w = 0)            |                                   |                                      | TestGuided_TrainedModelTracksExact
//	Conditional change of variables along     | Chen et al. 2018 arXiv:1806.07366 | cnf.LogLikelihood,                   | TestCondLogLikelihood_ExactField
//	  u_t(x|c) gives log q(x|c); with the     | Thm 1; Lipman §3.1, Thm 1 per     | fm.LabelledMixture.CondVelocity      |
//	  null field, Bayes' p(c|x)               | class                             |                                      |
//	Posterior estimation: KL = E[−log q(θ|x)] | Dax et al. 2023 arXiv:2305.17161; | examples/posterior: nll, measure,    | posterior: TestKL_ExactPosteriorIsZero,
//	  − E[H(p(θ|x))]; linear-Gaussian         | Bishop 2006 §2.3.3                | linearGaussian, banana, grid         | TestKL_WrongGaussianIsClosedForm,
//	  posterior in closed form, banana on     |                                   |                                      | TestGrid_LinearGaussian,
//	  a grid                                  |                                   |                                      | TestLinearGaussian_PosteriorMoments,
//	                                          |                                   |                                      | TestLinearGaussian_TrainedKL
//
// The same index for the layers underneath (their tests live beside the code):
//
//	Result                                 | Source                                | Code                               | Test
//	---------------------------------------|---------------------------------------|------------------------------------|---------------------------------------------
//	Reverse mode: backward of every op     | Griewank & Walther 2008               | autograd ops (backward under       | autograd: TestGrad/<Op>, TestBackward_Diamond
//	                                       |                                       | forward)                           |
//	Integer powers: every derivative of aᵖ | d/da aᵖ = p·aᵖ⁻¹, and 0 for p = 0     | autograd.Pow                       | autograd: TestPow_IntegerDerivativesAtZero
//	  finite at a = 0                      |                                       |                                    |
//	Central differences, derived tolerance | Richardson extrapolation              | autograd.GradCheck                 | autograd: TestGradCheck_WrongBackwardFails
//	Gradients of gradients (create_graph)  | Paszke et al. 2017                    | autograd.GradGraph                 | autograd: TestGradGraph_SecondOrder,
//	                                       |                                       |                                    | TestGradGraph_ThirdOrder
//	Fused MLP backward = autograd's        | Higham 2002 §3 (error bound)          | autograd/fused, nn.TrainStep       | nn: TestTrainStep_MatchesAutograd,
//	                                       |                                       |                                    | fm: TestTrain_FusedMatchesAutograd
//	Adam (bias-corrected moments)          | Kingma & Ba 2015 arXiv:1412.6980      | nn.Adam                            | nn: TestAdam_HandComputedTwoSteps
//	Label embedding = first-layer rows:    | Ho & Salimans 2022                    | nn.LabelContext,                   | nn: TestLabelContext_IsEmbedding
//	  one-hot (y or ∅)·W_c = E[y]          | arXiv:2207.12598                      | nn.NewLabelVelocityMLP             |
//	Conditional fused step and evaluator   | Higham 2002 §3 (error bound)          | nn.TrainStep.LossGradCond,         | nn: TestTrainStep_MatchesAutogradCond,
//	  = autograd on ForwardCond(t, x, c)   |                                       | nn.Evaluator.EvalCond, EvalDivCond | TestEvaluator_EqualsForwardCond,
//	                                       |                                       |                                    | TestEvaluator_DivCond
//	Guided field (1 − w)v(∅) + w·v(c) in   | Ho & Salimans 2022; Zheng et al.      | nn.Evaluator.EvalGuided            | fm: TestEvaluator_GuidedEqualsGuided
//	  one stacked pass = fm.Guided         | 2023 arXiv:2311.13443                 |                                    |
//	Label dropout: each row → ∅ w.p. p     | Ho & Salimans 2022, Algorithm 1       | fm.DropContext, fm.TrainConfig     | fm: TestDropContext_Rate,
//	                                       |                                       |                                    | TestTrain_Conditional
//	Change of variables, 1-D and affine    | Papamakarios et al. 2021              | cnf.TransformedLogDensity1D        | cnf: TestChangeOfVariables_Affine1D,
//	                                       | arXiv:1912.02762 §2                   |                                    | TestChangeOfVariables_Histogram
//	log p(x) = log π(z) − Σ log|det ∂fᵢ|   | Papamakarios et al. 2021 §2;          | cnf.Flow, Planar, Radial, Coupling | cnf: TestLayers_LogDet, TestLayers_Inverse,
//	                                       | Rezende & Mohamed 2015                |                                    | TestFlow_TrainMoons
//	                                       | arXiv:1505.05770; Dinh et al. 2016    |                                    |
//	Runge–Kutta orders 1, 2, 2, 4; Dopri5  | Hairer, Nørsett & Wanner 1993         | cnf.Integrate                      | cnf: TestIntegrate_ConvergenceOrder,
//	                                       |                                       |                                    | TestDopri5_MeetsTolerance, TestIntegrate_NFE
//	Instantaneous change of variables      | Chen et al. 2018 arXiv:1806.07366,    | cnf.LogLikelihood                  | cnf: TestLogLikelihood_LinearField,
//	  d log p/dt = −div v, over any        | Thm 1                                 |                                    | TestLogLikelihood_GaussianCondOT,
//	  interval t₁ → t₀                     |                                       |                                    | TestLogLikelihood_IntegratesToOne,
//	                                       |                                       |                                    | TestLogLikelihood_Interval
//	Forward-mode divergence = exact trace  | Griewank & Walther 2008               | cnf.FastDivergence, autograd/fused | cnf: TestFastDivergence_MatchesExact
//	Hutchinson: E[εᵀJε] = tr J, Var ∝ 1/K  | Hutchinson 1989; Grathwohl et al.     | cnf.HutchinsonDivergence           | cnf: TestHutchinson_Unbiased,
//	                                       | 2018 arXiv:1810.01367                 |                                    | TestHutchinson_VarianceShrinksAsOneOverK
//	Continuity equation ∂ₜp + div(p v) = 0 | Lipman §2; Villani 2009               | cnf.ContinuityResidual             | cnf: TestContinuityResidual_GaussianPath
//	Maximum-likelihood CNF training        | Chen et al. 2018; Grathwohl et al.    | cnf.MaxLikelihoodLoss              | cnf: TestMaxLikelihood_Gradient,
//	                                       | 2018                                  |                                    | TestMaxLikelihood_NLLDecreases
//	Differential entropies of the toy sets | closed forms, quadrature and Monte    | data.Entropy                       | data: TestEntropy_KnownValues
//	                                       | Carlo; FFJORD toy data                |                                    |
//	Exact W2 (assignment), MMD, sliced W2  | Peyré & Cuturi 2019                   | metrics                            | metrics: TestAssign_BruteForce,
//	                                       | arXiv:1803.00567; Gretton et al. 2012 |                                    | TestMMD2_SameAndDifferent
//	Fréchet distance of fitted Gaussians   | Dowson & Landau 1982; Heusel et       | metrics.FrechetDistance,           | metrics: TestFrechet_HandExample2x2,
//	  ‖Δμ‖² + tr(Σ_a + Σ_b − 2(Σ_a^½ Σ_b   | al. 2017 arXiv:1706.08500 eq. 6       | metrics.FrechetGaussian            | TestFrechet_SampleMomentsExact,
//	  Σ_a^½)^½); FID analogue on MNIST     |                                       | classify (FrechetDistance, Floor)  | TestFrechet_IdenticalAndSymmetric
//	Class diversity: mean pairwise         | expanding the square                  | classify.ClassDiversity            | classify: TestDiversity_PairwiseIdentity
//	  ‖φᵢ − φⱼ‖² within class k = 2 tr Σ_k |                                       |                                    |
//	Sphere and flat torus: Exp, Log,       | Chen & Lipman 2023                    | riemann.Sphere, riemann.Torus      | riemann: TestManifold_ExpLogInverse,
//	  P_x, d(x, y), uniform law            | arXiv:2302.03660 §2                   |                                    | TestManifold_DistIsLogNorm, TestManifold_ProjIsTangent
//	Geodesic path Exp_{x₀}(t·Log_{x₀}x₁),  | Chen & Lipman 2023 §3.2–3.3,          | riemann.Geodesic, CondField        | riemann: TestGeodesic_EndpointsAndConstantSpeed,
//	  target Log_x(x₁)/(1 − t)             | eqs. 11–13                            |                                    | TestCondField_GeneratesPath, TestCondField_SolvesToX1
//	Riemannian CFM, projected output       | Chen & Lipman 2023 §3.1, eq. 8        | riemann.CFMLoss, riemann.Train     | riemann: TestCFMLoss_ZeroAtTarget, TestTrain_SphereVMF
//	Manifold Euler and RK4 (on M to        | Chen & Lipman 2023 §3.4               | riemann.Integrate                  | riemann: TestIntegrate_Order,
//	  rounding), orders 1 and 4            |                                       |                                    | TestIntegrate_StaysOnSphere
//	Riemannian divergence on S^D:          | Mathieu & Nickel 2020                 | riemann.SphereDivergence,          | riemann: TestSphereDivergence_Height,
//	  tr J − xᵀJx − D(x·v)                 | arXiv:2006.10605 §3                   | riemann.AmbientField               | TestAmbientField_DivergenceIsRiemannian
//	Manifold change of variables           | Mathieu & Nickel 2020 §3;             | riemann.LogLikelihood              | riemann: TestLogLikelihood_Rotation,
//	  (rotation, non-isometric map,        | Chen et al. 2018 Thm 1                |                                    | TestLogLikelihood_HeightFlow, TestLogLikelihood_IntegratesToOne,
//	  ∫p = 1 on S² and T²)                 |                                       |                                    | TestLogLikelihood_IntegratesToOneTorus
//	Theorem 2 on T² (wrapped Gaussian      | Lipman §3.2, Thm 2                    | riemann.Torus, riemann.Wrap        | riemann: TestTheorem2Torus_LossesDifferByConstant,
//	  paths, lattice-sum marginal)         |                                       |                                    | TestTheorem2Torus_GradientsEqual
//	vMF and von Mises entropies            | closed forms; quadrature              | riemann.VMFEntropy,                | riemann: TestVMF_NormalizedAndEntropy,
//	                                       |                                       | riemann.VonMisesEntropy            | TestVonMises_NormalizedAndEntropy
//	vMF on S^d: C_p = κ^{p/2−1}/           | Mardia & Jupp 2000 §9.3.2;            | riemann.VMFLogNormalizer,          | riemann: TestVMF_NormalizerSd,
//	  ((2π)^{p/2} I_{p/2−1}(κ)),           | Wood 1994 (sampler);                  | riemann.VMFMeanCosine,             | TestVMF_SampleMeanSd, TestLogBesselI
//	  A_p = I_{p/2}/I_{p/2−1},             | Abramowitz & Stegun 9.6.10,           | riemann.VMFEntropyD,               |
//	  H = −ln C − κA                       | 9.7.1 (ln I_ν)                        | riemann.SampleVMF                  |
//	Wrapped normal on T^d: lattice sum,    | Mardia & Jupp 2000 §3.5.7;            | riemann.WrappedNormal,             | riemann: TestWrappedNormal_IntegratesToOne,
//	  truncation bound, base p₀ of the     | Chen & Lipman 2023 §3.4               | riemann.TruncationBound,           | TestWrappedNormal_SamplesMatchDensity,
//	  likelihood                           |                                       | riemann.LogLikelihoodFrom          | TestLogLikelihood_IntegratesToOneTorus
//	Mixture path p_t(xⁱ|x₁) = κ_t δ(x₁ⁱ)   | Gat et al. 2024 arXiv:2407.15595      | discrete.Path, discrete.Marginal,  | discrete: TestKolmogorov_ExactRates
//	  + (1 − κ_t) p₀; its rate             | eqs. 8–11                             | discrete.Rate, discrete.Exact,     |
//	  dκ/(1 − κ)·[p(x₁ⁱ|x) − δ] solves     |                                       | discrete.ApplyGenerator            |
//	  dp_t/dt = p_t·Q_t (to 1e-8)          |                                       |                                    |
//	Discrete Theorem 2: CE and             | Gat et al. 2024 §3, eqs. 12–13;       | discrete.CELoss, discrete.GKLLoss, | discrete: TestTheorem2_Discrete,
//	  generalized KL, conditional =        | Lipman et al. 2024 arXiv:2412.06264   | discrete.MarginalCELoss,           | TestLoss_FloorAtExactPosterior
//	  marginal + const; exact floor        | §7.5                                  | discrete.MarginalGKLLoss           |
//	Exact CTMC simulation ends at q;       | Gat et al. 2024 eq. 14; Campbell      | discrete.Gillespie, discrete.Euler,| discrete: TestGillespie_ReproducesData,
//	  Euler's exact law                    | et al. 2024 arXiv:2402.04997          | discrete.EulerDistribution         | TestEuler_MatchesEulerDistribution
//	CTMC ELBO ≤ log-likelihood             | Campbell et al. 2024 §3               | discrete.ELBO,                     | discrete: TestELBO_Bound
//	                                       |                                       | discrete.ELBOEstimate              |
//	LogSoftmax, CrossEntropy, Embedding    | definitions                           | autograd.LogSoftmax, …             | autograd: TestGrad/LogSoftmax, TestGrad/CrossEntropy, TestGrad/Embedding
//
// Tutorials that walk through these results step by step, each with a test
// of what it prints, are indexed in tutorials/README.md.
package tests
