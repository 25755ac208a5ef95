// Package playground is the Go side of the browser playground (web/): a
// training Session over the library (fm, nn, data) that the WebAssembly
// entry point cmd/playground-wasm drives from a Web Worker, and the Frame
// the page draws at a time t.
//
// Everything the page shows is computed here, by the library compiled to
// WebAssembly; the JavaScript only draws:
//
//   - training: fm.Train with the fused step (TrainConfig.Fused), run a
//     chunk of steps at a time (Session.Train) so that the worker can
//     report the loss and answer the slider between chunks;
//   - the learned flow: model samples x_t = ψ_t(x₀) from x₀ ~ p₀ by RK4
//     on dx/dt = v_θ(t, x) from 0 to t (⌈10t⌉ steps), their trajectories, and the
//     arrows of v_θ(t, x) on a grid;
//   - the exact marginal p_t(x) and u_t(x) of Theorem 1 (Lipman et al.
//     2022, §3, eqs. 6 and 8): fm.MixtureMarginal for the Gaussian sets
//     (8gaussians, gaussian, and the "drawn" set: a bump N(pᵢ, 0.2² I) at
//     each point placed with the mouse), fm.EmpiricalMarginal over a fixed
//     draw of the data for the others;
//   - the conditional path p_t(x|x₁) and field u_t(x|x₁) for one picked
//     x₁ (§4, eq. 10 and Theorem 3);
//   - the trained model's log p₁(x) on a grid by the instantaneous change
//     of variables (Chen et al. 2018, arXiv:1806.07366, Theorem 1), on
//     demand (Session.LogLikelihood).
//
// # Notation
//
// x₀ noise at t = 0, x₁ data at t = 1, ψ_t the flow map, u_t the target
// field (marginal u_t(x), conditional u_t(x|x₁)), v_θ the model field,
// p_t the probability path. Tensors are [batch, dim]; the playground is 2-D.
//
// # References
//
//   - Lipman, Chen, Ben-Hamu, Nickel, Le 2022, Flow Matching for Generative
//     Modeling, arXiv:2210.02747 (§3 Theorem 1, §4 eqs. 10–23).
//   - Chen, Rubanova, Bettencourt, Duvenaud 2018, Neural Ordinary
//     Differential Equations, arXiv:1806.07366 (Theorem 1).
//   - Tong et al. 2023, Improving and generalizing flow-based generative
//     models with minibatch optimal transport, arXiv:2302.00482 (the OT
//     coupling).
//
// Tested by TestSession_ChunksAreOneRun, TestSession_LossGoesDown,
// TestSession_Drawn, TestMixtureOf_MatchesData, TestFrame_DensityAndFields,
// TestFrame_SamplesMoveWithT and TestLogLikelihood_IntegratesToOne.
package playground
