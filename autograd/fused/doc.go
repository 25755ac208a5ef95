// Package fused runs a multilayer perceptron forward, backward and in forward
// (tangent) mode directly on raw parameter slices, with every buffer
// allocated once: the allocation-free fast path under nn's training step and
// under cnf's sampling and exact log-likelihood. It lives inside autograd/ only
// so that it may call autograd/internal/kernels; it knows nothing of Tensors.
//
// # The network
//
// A Net has widths s₀, …, s_L, weights Wₗ [sₗ₋₁, sₗ] and biases bₗ [sₗ]
// (row-major, shared with the caller: training the caller's parameters
// changes the Net), and an activation σ (SiLU or tanh) after every layer but
// the last. For a batch h₀ = x [n, s₀]:
//
//	zₗ = hₗ₋₁·Wₗ + bₗ,   hₗ = σ(zₗ)   (l < L),   out = z_L.
//
// # Backward (reverse mode)
//
// Given g = ∂L/∂out [n, s_L], with δ_L = g:
//
//	∂L/∂Wₗ += hₗ₋₁ᵀ·δₗ,   ∂L/∂bₗ += Σ_rows δₗ,
//	δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ σ′(zₗ₋₁),
//
// with σ′(z) = s·(1 + z·(1 − s)), s = 1/(1 + e^{−z}) for SiLU and
// σ′(z) = 1 − tanh²z for tanh.
//
// # Forward mode and the divergence
//
// For the tangent direction eⱼ of input coordinate j the derivatives
// ḣₗ = ∂hₗ/∂xⱼ follow the forward pass:
//
//	ż₁ = eⱼ·W₁ (row j of W₁, the same for every sample),
//	żₗ = ḣₗ₋₁·Wₗ,   ḣₗ = σ′(zₗ) ⊙ żₗ,   ∂out/∂xⱼ = ż_L,
//
// and div out = Σⱼ (∂out/∂xⱼ)ⱼ over the first d = s_L coordinates. The d
// tangent streams are stacked under the primal rows, so each hidden layer
// is one matrix product with (1+d)·n rows: the cost is about 1 + d forward
// passes, against one forward and d backward passes with reverse mode.
//
// # Rounding
//
// The primal pass calls the same kernels, in the same order and on the same
// shapes, as autograd's MatMul, AddRow, SiLU and Tanh, so Forward returns the
// values autograd's ops return. Gradients and divergences differ from
// autograd's by rounding only. The tests hold a naive reference that
// evaluates every formula above with plain loops, and a first-order bound on
// the rounding error of any implementation of them (Higham, Accuracy and
// Stability of Numerical Algorithms, 2002, §3); TestWorkspace_MatchesReference
// compares this package with the loops, nn's TestTrainStep_MatchesAutograd
// and cnf's TestFastDivergence_MatchesExact compare it with autograd, all
// within twice that bound, each with a negative control.
//
// # Threads
//
// SetThreads lets the matrix products, and the long element-wise passes
// (activations, their derivatives, bias-gradient sums, AdamStep), use several
// goroutines; the results are bit-identical for every thread count
// (TestWorkspace_ThreadsBitIdentical).
//
// # Data-parallel training step
//
// Workspace.LossGrad, the training step under nn.TrainStep, cuts a batch of
// n rows into Chunks(n) chunks of consecutive rows (at most 8, of at least
// 256 rows; boundaries that depend on n only) and runs the forward pass, the
// loss gradient and the backward pass of each chunk as one task, the chunks
// on up to SetThreads goroutines at once: one fork and one join for the
// whole pass instead of one per product and per element-wise kernel. Each
// chunk's gradient share hₗ₋₁[c]ᵀ·δₗ[c] is added to dW in chunk order
// afterwards, so the results are the same to the bit for every thread count
// (TestLossGrad_ThreadsBitIdentical); a batch of one chunk gives Forward's
// and Backward's bits (TestLossGrad_MatchesForwardBackward).
//
// # Adam
//
// AdamStep is one torch.optim.Adam update over raw slices, a vector kernel
// whose results equal its scalar reference loop to the bit; nn.Adam calls it.
//
// # Notation
//
// n is the batch size, L the number of layers, ⊙ the element-wise product;
// in flowmatch x₀ is noise at t = 0, x₁ data at t = 1, and tensors are
// [batch, dim].
//
// # References
//
// Griewank & Walther, Evaluating Derivatives (2008), for forward and reverse
// mode; Chen et al. 2018, arXiv:1806.07366, and Grathwohl et al. 2018,
// arXiv:1810.01367, for the divergence in the change of variables.
package fused
