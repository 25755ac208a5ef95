package cnf

import "github.com/flowmatch/flowmatch/autograd"

// MaxLikelihoodLoss is the training objective of a CNF fitted by maximum
// likelihood (Chen et al. 2018; Grathwohl et al. 2018), the slow baseline
// that Flow Matching replaces:
//
//	L(θ) = −(1/n)·Σᵢ log p₁(x₁ᵢ),
//
// with log p₁ from LogLikelihood integrated through the solver from data at
// t = 1 to noise at t = 0 (Flow Matching's convention). x1 must be a
// plain batch (not NoGraph) so that every solver step is recorded; the
// divergence (nil: exact, by GradGraph) is recorded too, so loss.Backward()
// reaches the field's parameters through the trajectory and through
// ∂v/∂x — this needs second-order gradients. Each training step costs a
// full ODE solve plus d (or K) backward passes per evaluation, and the
// backward pass over the whole recorded trajectory, where a flow-matching
// step costs one forward and one backward pass of the network
// (BenchmarkCNFMaxLikelihoodStep against BenchmarkRegressionStep).
// TestMaxLikelihood_NLLDecreases trains one on moons.
//
// A training step can run in an autograd.Arena, as fm.Train's does: pass
// x1.In(a), and Reset a after Backward. The solve's constants (the
// likelihood's ℓ column, the divergence's basis vectors, FieldOf's time
// column) are made in x's arena, so a steady step allocates no tensor
// storage, and the losses and parameters are those of the heap, bit for
// bit (TestMaxLikelihood_ArenaBitIdentical; BenchmarkMaxLikelihoodAllocs
// measures the allocations).
func MaxLikelihoodLoss(f Field, x1 *autograd.Tensor, logp0 LogDensity, div DivergenceFunc, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	lk, st, err := LogLikelihood(f, x1, 1, 0, logp0, div, opts)
	if err != nil {
		return nil, st, err
	}
	return autograd.Neg(autograd.Mean(lk.LogP1)), st, nil
}
