// Package fm implements Flow Matching (Lipman et al. 2022): Gaussian
// conditional probability paths and their vector fields, the exact marginal
// path and field, the Flow Matching and Conditional Flow Matching losses,
// couplings for OT-CFM, training and reflow.
//
// # Notation
//
// Time runs from noise to data: x₀ ~ N(0, I) (the noise) at t = 0, x₁ ~ q
// (the data) at t = 1. A conditional path p_t(x|x₁) = N(μ_t(x₁), σ_t(x₁)² I)
// has the flow map ψ_t(x) = σ_t(x₁)·x + μ_t(x₁) and the target field
// u_t(x|x₁); μ′_t, σ′_t are time derivatives. The marginal path is
// p_t(x) = ∫ p_t(x|x₁) q(x₁) dx₁ with the marginal field u_t(x). The model
// field is v_θ(t, x). Batches are tensors [batch, dim] with one time per
// row, t [batch, 1]. Identifiers are ASCII: X0, X1, Xt, Sigma, DSigma.
//
// # Map
//
//	Lipman et al. §4, eqs. 10–15, Theorem 3   Path, FuncPath, Flow, SampleCond, CondLogProb, CondField, FlowBatch, CondFieldBatch
//	Lipman et al. §4.1, eqs. 16–19            VE, VP (closed-form Field methods)
//	Lipman et al. §4.1, eqs. 20–23            CondOT
//	Lipman et al. §3, eqs. 6–8, Theorem 1     EmpiricalMarginal, MixtureMarginal (derivation in marginal.go)
//	Lipman et al. eqs. 5 and 9, Theorem 2     FMLoss, CFMLoss, CFMFloor
//	Tong et al.                               Independent, ExactOT (Assignment), SinkhornOT (Sinkhorn)
//	Liu et al.                                Reflow, MeasurePaths, TrajectoryStats, PathStats
//	training and sampling                     Train, TrainConfig (Fused), Sample
//	checkpoints                               PathMetadata, PathFromMetadata (keys MetaPath, MetaSigmaMin, …)
//	Lipman et al. 2024 §4.8 (schedulers)      Polynomial, Cosine, LinearVP (with CondOT, VE, VP: AffinePath), SNR
//	Tweedie, velocity–score identity          VelocityScore, ScoreFromVelocity, MixtureMarginal.Score/DataMean/NoiseMean
//	parametrizations (derivation in param.go) Param, ConvertCoeffs, Convert, AsVelocity, LossWeight, ParamTarget, ParamLoss
//	scale–time transformation (§4.8)          ScheduleChange (Map, Field, Velocity)
//	Song et al. 2021 §4.3, SDE sampling       SampleSDE (Euler–Maruyama, any g_t; derivation in sde.go)
//	Lu et al. 2022 (DPM-Solver, ++(2M))       SampleExpInt (exponential integrator, data prediction; expint.go)
//	Vincent 2011; Song et al. 2021 (DSM)      TrainParam, ParamTrainConfig, DSMWeight (any parametrization and weight)
//	Albergo et al.; Tong et al. (SB-CFM)      Interpolant, InterpolantLoss, BrownianBridge (SB-CFM's path)
//
// The theorems are verified numerically in package tests (go test ./tests
// -run Theorem -v), whose doc.go holds the math index.
//
// # Fast path
//
// Train takes one step of CFMLoss + Backward, or, when TrainConfig.Fused
// asks for it, the fused step of nn (nn.TrainStep): the same loss and
// gradients up to rounding, with no graph. The choice is explicit: a model
// without a fused step (an activation other than SiLU and tanh) makes Train
// return an error instead of switching silently. TestTrain_FusedMatchesAutograd
// bounds the difference with a derived rounding bound.
//
// # Conditional fields and guidance
//
// A conditional model v_θ(t, x, c) (nn.NewCondVelocityMLP,
// nn.NewLabelVelocityMLP; a CondVelocity through model.ForwardCond) is
// trained by Train with TrainConfig.Cond, which draws data with their
// contexts, and label dropout: each context is replaced by the null context
// ∅ with probability CondDrop (DropContext), so one model learns v(t, x, c)
// and the unconditional v(t, x, ∅) (Ho & Salimans 2022, Algorithm 1;
// Zheng et al. 2023 for flows). Guided combines them,
// ṽ = (1 − w)·v(t, x, ∅) + w·v(t, x, c), with w = 1 conditional and w = 0
// unconditional (nn.Evaluator.EvalGuided is its fused twin). With a
// real-vector context (an observation x, and θ as the "data"), the same
// training is flow-matching posterior estimation of p(θ|x) (Dax et al. 2023).
// TestTrain_Conditional, TestDropContext_Rate. LabelledMixture holds the
// exact conditional and unconditional fields and scores of a labelled
// Gaussian mixture (derivation in condmixture.go) as a CondVelocity, so
// guidance of exact fields is checked against the guided score
// (TestGuided_ExactFieldIsGuidedScore) and its flows against their targets
// (TestGuided_Endpoints, TestGuided_ClassHistogram); examples/posterior
// measures trained posteriors against exact ones.
//
// # Errors
//
// Programmer misuse (a missing field, a shape that does not fit, a nil rng,
// an empty data set) panics with an *autograd.MisuseError that names the
// function, the field or shapes and what was expected. Numerical failure
// returns an error that says what went wrong and where: a training step
// whose loss or parameters stop being finite, a Sinkhorn plan that has not
// converged (ErrNotConverged), an ODE solver's failure.
//
// The marginal-field weight is q(x₁)·p_t(x|x₁)/p_t(x), as in Lipman et al.
// eq. 8; a version of it without q(x₁), which some write-ups print, is the
// negative control of TestTrain_ApproachesFloor.
//
// # References
//
//   - Lipman, Chen, Ben-Hamu, Nickel, Le. Flow Matching for Generative
//     Modeling. 2022. arXiv:2210.02747.
//   - Chen, Rubanova, Bettencourt, Duvenaud. Neural Ordinary Differential
//     Equations. 2018. arXiv:1806.07366.
//   - Grathwohl, Chen, Bettencourt, Sutskever, Duvenaud. FFJORD. 2018.
//     arXiv:1810.01367.
//   - Tong, Malkin, Huguet, Zhang, Rector-Brooks, Fatras, Wolf, Bengio.
//     Improving and Generalizing Flow-Based Generative Models with Minibatch
//     Optimal Transport. 2023. arXiv:2302.00482.
//   - Liu, Gong, Liu. Flow Straight and Fast: Learning to Generate and
//     Transfer Data with Rectified Flow. 2022. arXiv:2209.03003.
//   - Song, Sohl-Dickstein, Kingma, Kumar, Ermon, Poole. Score-Based
//     Generative Modeling through Stochastic Differential Equations. 2021.
//     arXiv:2011.13456 (the VE and VP noise schedules).
//   - Lipman, Havasi, Holderrieth, Shaul, Le, Karrer, Chen, Lopez-Paz,
//     Ben-Hamu, Gat. Flow Matching Guide and Code. 2024. arXiv:2412.06264
//     (§4.8: schedulers, the scale–time transformation, parametrizations).
//   - Vincent. A Connection Between Score Matching and Denoising
//     Autoencoders. Neural Computation 23(7), 2011 (the score target −x₀/σ_t).
//   - Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. 2020.
//     arXiv:2006.11239 (the unweighted ε-loss).
//   - Lu, Zhou, Bao, Chen, Li, Zhu. DPM-Solver: A Fast ODE Solver for
//     Diffusion Probabilistic Model Sampling. 2022. arXiv:2206.00927; and
//     DPM-Solver++. 2022. arXiv:2211.01095 (§4, the multistep 2M).
//   - Albergo, Boffi, Vanden-Eijnden. Stochastic Interpolants: A Unifying
//     Framework for Flows and Diffusions. 2023. arXiv:2303.08797.
//   - Tong, Malkin, Fatras, Atanackovic, Zhang, Huguet, Wolf, Bengio.
//     Simulation-Free Schrödinger Bridges via Score and Flow Matching. 2023.
//     arXiv:2307.03672 (SB-CFM).
//   - Kloeden, Platen. Numerical Solution of Stochastic Differential
//     Equations. Springer, 1992 (Euler–Maruyama, §14.1).
//   - Ho, Salimans. Classifier-Free Diffusion Guidance. 2022.
//     arXiv:2207.12598 (label dropout, Algorithm 1; the guided field, eq. 6).
//   - Zheng, Le, Shaul, Lipman, Grover, Chen. Guided Flows for Generative
//     Modeling and Decision Making. 2023. arXiv:2311.13443.
//   - Dax, Wildberger, Buchholz, Green, Macke, Schölkopf. Flow Matching for
//     Scalable Simulation-Based Inference. 2023. arXiv:2305.17161.
//   - Efron. Tweedie's Formula and Selection Bias. Journal of the American
//     Statistical Association 106(496), 2011 (E[x₁|x_t] from the score; the
//     velocity–score identity that LabelledMixture uses per class).
//   - Cuturi. Sinkhorn Distances. 2013. arXiv:1306.0895.
//   - Peyré, Cuturi. Computational Optimal Transport. 2019.
//     arXiv:1803.00567 (the semi-dual that Sinkhorn's Newton steps solve).
//   - Jonker, Volgenant. A shortest augmenting path algorithm for dense and
//     sparse linear assignment problems. Computing 38, 1987.
package fm
