// Package autograd is a small reverse-mode automatic differentiation engine
// on dense float64 matrices, written to be read in one sitting.
//
// # Tensors
//
// A Tensor is a row-major [Rows, Cols] matrix; a batch of n points in d
// dimensions is [n, d] and a scalar is [1, 1]. Leaves come from constructors
// (Zeros, FromSlice, Normal, Uniform with an explicit *rand.Rand); every op
// (Add, MatMul, SiLU, LogSumExp, …) returns a new tensor.
//
// # How gradients flow
//
// An op that has an input requiring a gradient records its inputs and a
// backward closure, written right under its forward code. The closure maps
// g = ∂L/∂out to ∂L/∂input and is itself written with ops, so the backward
// pass is an ordinary computation: run plainly it yields numbers (Backward,
// Grad); recorded (GradGraph) it yields a graph that can be differentiated
// again, which is how a divergence ∇·v can be trained through.
//
// Backward sorts the graph topologically, seeds ∂L/∂L = 1 and visits nodes
// from the loss down; a tensor used twice receives the sum of the gradients
// from both uses, and leaves accumulate into Grad (+=) across calls until
// ZeroGrad.
//
// # Inference
//
// NoGraph marks a tensor from which nothing is recorded: ops on it allocate
// only their outputs, never closures. The mode travels with the data, so
// concurrent training and sampling do not interfere.
//
// # Memory
//
// Every op's output and every gradient is a new buffer, which the garbage
// collector takes back later. A training loop that makes the same tensors at
// every step can reuse them instead: make the step's batch with an Arena
// (arena.Normal, arena.Zeros, or x.In(arena)) and every op on it, forward
// and backward, draws its memory from the arena; arena.Reset() at the end of
// the step hands it all back for the next step (the idea of PyTorch's
// caching allocator, Paszke et al. 2019, arXiv:1912.01703, §5.3). The
// numbers are the same bits as without it (TestArena_MatchesHeap). Reset
// invalidates the step's tensors: copy out what you keep (loss.Item(),
// v.Clone()) before it. Parameters are never the arena's. Code that makes
// no arena allocates as before.
//
// # Misuse and numerical trouble
//
// Ops given tensors of the wrong shape panic with a *MisuseError naming the op
// and the shapes. DetectAnomaly runs a function and names the first op whose
// output holds NaN or ±Inf. GradCheck compares any backward pass with
// central differences under a derived tolerance.
//
// # Notation
//
// g is ∂L/∂out, the gradient arriving at an op's output; ⊙ and ⊘ are
// element-wise product and quotient; 1[·] is an indicator. In the rest of
// flowmatch x₀ is noise at t = 0, x₁ is data at t = 1 and tensors are
// [batch, dim].
//
// # References
//
// Karpathy's micrograd for the shape of the engine; Griewank & Walther,
// Evaluating Derivatives (2008), for reverse mode; Paszke et al. 2017,
// "Automatic differentiation in PyTorch", for create_graph semantics.
package autograd
