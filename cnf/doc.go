// Package cnf holds densities through invertible maps: the change of
// variables, discrete normalizing flows, ODE solvers, and continuous
// normalizing flows (CNFs) with exact and stochastic log-likelihoods
// (Papamakarios et al. 2021, §2; Chen et al. 2018; Grathwohl et al. 2018), the
// continuity equation (Lipman et al. 2022, §2; Villani 2009), and the slow
// baseline — maximum-likelihood training through the ODE solver — that Flow
// Matching (package fm) avoids.
//
// # Notation
//
// Time runs from t = 0, where x₀ ~ p₀ = N(0, I) is noise, to t = 1, where
// x₁ is data; dx/dt = v(t, x) carries p₀ to p₁ (ψ_t is its flow map, u_t a
// target field, v_θ a model field). Batches are tensors [n, d], one sample a
// row; log-densities and divergences are [n, 1]. Sample integrates 0 → 1;
// LogLikelihood takes its interval, LogLikelihood(f, x, 1, 0, …) from data at
// t = 1 to noise at t = 0 in this convention. The instantaneous change of
// variables (Chen et al. 2018, Theorem 1) in this direction reads
//
//	log p₁(x(1)) = log p₀(x(0)) − ∫₀¹ div v(t, x(t)) dt.
//
// FFJORD (Grathwohl et al. 2018) and torchdiffeq's examples use the opposite
// convention: data z(0) at t = 0, noise z(T) at t = T, field f, and
// log p(x) = log p_T(z(T)) + ∫₀ᵀ tr ∂f/∂z dt. The two agree under t_ours =
// 1 − t_FFJORD/T and v = −T·f: the sign of the integral flips with the
// direction of time; LogLikelihood(f, x, 0, T, …) with FFJORD's own field
// evaluates their convention directly. Mixing the conventions is the commonest source of a
// likelihood with the wrong sign; TestLogLikelihood_LinearField pins ours to
// the closed form log p₀(e^{−At}x) − t·tr A.
//
// A discrete flow is x = f_K ∘ … ∘ f₁(z₀) and
// log p(x) = log π₀(z₀) − Σᵢ log|det ∂fᵢ/∂zᵢ₋₁|.
//
// # Solvers and what a step means
//
// Integrate takes a Method and, for the fixed-step methods, exactly one of
// Steps (equal steps) or Grid (explicit times); nothing defaults silently
// to a single step over [t0, t1]. Stats reports evaluations of the field
// (NFE) and accepted/rejected steps: Euler N, Midpoint and Heun 2N, RK4 4N;
// Dopri5 2 + 6 per attempted step (first-same-as-last).
//
// # Modes
//
// A NoGraph state gives plain values with no tape, even when the field's
// parameters require gradients (inference: Sample, likelihood evaluation).
// A plain or recorded state records every solver step, so a loss on the
// result trains the field (MaxLikelihoodLoss); the divergence is then
// recorded with autograd.GradGraph, a second-order gradient.
//
// # Tests as proofs
//
// Convergence orders (TestIntegrate_ConvergenceOrder, with a wrong RK4
// weight as negative control), Dopri5 error bounds, likelihoods against
// closed forms (linear fields, the Gaussian CondOT marginal), densities
// integrating to 1, Hutchinson's unbiasedness and 1/K variance, the
// continuity residual, every layer's log-det against finite differences.
//
// # References
//
//   - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed,
//     B. Lakshminarayanan, "Normalizing Flows for Probabilistic Modeling and
//     Inference", JMLR 22 (2021), arXiv:1912.02762 (the change of variables, §2).
//   - C. Villani, "Optimal Transport: Old and New", Springer 2009 (the
//     continuity equation).
//   - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural
//     Ordinary Differential Equations", 2018, arXiv:1806.07366.
//   - W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud,
//     "FFJORD: Free-form Continuous Dynamics for Scalable Reversible
//     Generative Models", 2018, arXiv:1810.01367.
//   - D. J. Rezende, S. Mohamed, "Variational Inference with Normalizing
//     Flows", ICML 2015, arXiv:1505.05770 (planar and radial flows).
//   - L. Dinh, J. Sohl-Dickstein, S. Bengio, "Density estimation using Real
//     NVP", 2016, arXiv:1605.08803 (affine coupling).
//   - E. Hairer, S. P. Nørsett, G. Wanner, "Solving Ordinary Differential
//     Equations I", 2nd ed., Springer 1993 (Runge–Kutta methods, DOPRI5,
//     step-size control and the starting step).
//   - J. R. Dormand, P. J. Prince, "A family of embedded Runge–Kutta
//     formulae", J. Comput. Appl. Math. 6 (1980).
//   - M. F. Hutchinson, "A stochastic estimator of the trace of the
//     influence matrix for Laplacian smoothing splines", Commun. Stat.
//     Simul. Comput. 18 (1989).
//   - Y. Lipman, R. T. Q. Chen, H. Ben-Hamu, M. Nickel, M. Le, "Flow
//     Matching for Generative Modeling", 2022, arXiv:2210.02747.
package cnf
