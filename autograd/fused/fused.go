package fused

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

// Net is an MLP given by its raw parameters (see the package doc):
// W[l] is [Sizes[l], Sizes[l+1]] row-major and B[l] has Sizes[l+1] entries.
// The slices are used in place, never copied.
type Net struct {
	Sizes []int
	W, B  [][]float64
	Act   autograd.Activation // autograd.ActSiLU or autograd.ActTanh
}

// Check returns an error unless the sizes and slice lengths are consistent
// and the activation is supported.
func (net Net) Check() error {
	L := len(net.Sizes) - 1
	if L < 1 {
		return fmt.Errorf("fused: Net needs at least two sizes, got %v", net.Sizes)
	}
	if net.Act != autograd.ActSiLU && net.Act != autograd.ActTanh {
		return fmt.Errorf("fused: no fused kernel for activation %q (only silu and tanh have one)", string(net.Act))
	}
	if len(net.W) != L || len(net.B) != L {
		return fmt.Errorf("fused: %d weights and %d biases for %d layers", len(net.W), len(net.B), L)
	}
	for l := range L {
		in, out := net.Sizes[l], net.Sizes[l+1]
		if in <= 0 || out <= 0 {
			return fmt.Errorf("fused: sizes %v must be positive", net.Sizes)
		}
		if len(net.W[l]) != in*out || len(net.B[l]) != out {
			return fmt.Errorf("fused: layer %d: len(W) = %d, len(b) = %d, want %d and %d",
				l, len(net.W[l]), len(net.B[l]), in*out, out)
		}
	}
	return nil
}

// Workspace holds every buffer that Forward, Backward and Divergence need for
// batches of up to the maxBatch rows given to NewWorkspace. It reads the
// Net's parameters at each call. A Workspace is not safe for concurrent use;
// give each goroutine its own.
type Workspace struct {
	net      Net
	maxBatch int
	tangents int // tangent streams that pre and act have room for

	// Hidden layer l (0-based, l < L−1) keeps zₗ₊₁ in pre[l] and hₗ₊₁ in act[l],
	// [(1+tangents)·n, Sizes[l+1]]: the primal rows first, then one block of
	// n rows per tangent stream (ż in pre, ḣ in act).
	pre, act [][]float64
	delta    [2][]float64 // δ ping-pong, [n, max width]
	rowSum   []float64    // Σ_rows δ, [max width]
	tanOut   []float64    // ∂out/∂xⱼ stacked, [tangents·n, s_L]
	n        int          // rows of the last Forward, for Backward
	step     stepState    // LossGrad's (step.go)
}

// NewWorkspace returns a Workspace for net and batches of up to maxBatch
// rows. tangents is the number of tangent streams Divergence will carry
// (0 if it is not used; Divergence needs Sizes[L]). It panics if net fails
// Check, for maxBatch < 1 or for tangents outside [0, Sizes[0]].
func NewWorkspace(net Net, maxBatch, tangents int) *Workspace {
	if err := net.Check(); err != nil {
		panic(err)
	}
	if maxBatch < 1 || tangents < 0 || tangents > net.Sizes[0] {
		panic(autograd.Misuse("fused.NewWorkspace", "maxBatch %d, tangents %d (inputs %d): want maxBatch ≥ 1 and 0 ≤ tangents ≤ inputs", maxBatch, tangents, net.Sizes[0]))
	}
	L := len(net.Sizes) - 1
	w := &Workspace{net: net, maxBatch: maxBatch, tangents: tangents}
	rows := (1 + tangents) * maxBatch
	wmax := 0
	for l := 0; l+1 < L; l++ {
		s := net.Sizes[l+1]
		w.pre = append(w.pre, make([]float64, rows*s))
		w.act = append(w.act, make([]float64, rows*s))
	}
	for _, s := range net.Sizes {
		wmax = max(wmax, s)
	}
	w.delta[0] = make([]float64, maxBatch*wmax)
	w.delta[1] = make([]float64, maxBatch*wmax)
	w.rowSum = make([]float64, wmax)
	w.tanOut = make([]float64, tangents*maxBatch*net.Sizes[L])
	return w
}

func (w *Workspace) checkBatch(op string, n int) {
	if n < 1 || n > w.maxBatch {
		panic(autograd.Misuse("fused."+op, "batch %d outside [1, %d]", n, w.maxBatch))
	}
}

// Forward computes out = MLP(x) for x [n, s₀] into out [n, s_L] and keeps the
// activations for Backward. It calls the kernels of autograd's MatMul,
// AddRow and SiLU or Tanh, so out equals what those ops return
// (TestWorkspace_MatchesReference; nn's TestEvaluator_EqualsForward).
func (w *Workspace) Forward(out, x []float64, n int) {
	w.checkBatch("Forward", n)
	w.n = n
	net := w.net
	L := len(net.Sizes) - 1
	in := x[:n*net.Sizes[0]]
	for l := 0; l+1 < L; l++ {
		s := net.Sizes[l+1]
		pre, act := w.pre[l][:n*s], w.act[l][:n*s]
		kernels.Gemm(false, false, n, s, net.Sizes[l], 1, in, net.W[l], 0, pre)
		w.biasAct(pre, act, net.B[l], s)
		in = act
	}
	s := net.Sizes[L]
	out = out[:n*s]
	kernels.Gemm(false, false, n, s, net.Sizes[L-1], 1, in, net.W[L-1], 0, out)
	kernels.AddRow(out, out, net.B[L-1], s)
}

// biasAct sets z ← z + b (every row) and h = σ(z).
func (w *Workspace) biasAct(pre, act, b []float64, cols int) {
	if w.net.Act == autograd.ActSiLU {
		kernels.AddRowSiLU(pre, act, pre, b, cols)
		return
	}
	kernels.AddRow(pre, pre, b, cols)
	kernels.Tanh(act, pre)
}

// actGrad sets dst = g ⊙ σ′(z), with z and h = σ(z) the rows of a forward pass.
func (w *Workspace) actGrad(dst, g, z, h []float64) {
	if w.net.Act == autograd.ActSiLU {
		kernels.SiLUGrad(dst, g, z)
		return
	}
	kernels.TanhGrad(dst, g, h)
}

// Backward accumulates the parameter gradients of a loss L given
// g = ∂L/∂out [n, s_L] at the batch of the preceding Forward:
//
//	dW[l] += hₗ₋₁ᵀ·δₗ,   dB[l] += Σ_rows δₗ,   δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ σ′(zₗ₋₁),
//
// with δ_L = g (0-based l here; see the package doc). dW and dB have the
// shapes of the Net's W and B. x must be the input given to Forward. g is
// not modified. TestWorkspace_MatchesReference.
func (w *Workspace) Backward(dW, dB [][]float64, x, g []float64) {
	n := w.n
	if n == 0 {
		panic(autograd.Misuse("fused.Workspace.Backward", "called before Forward"))
	}
	net := w.net
	L := len(net.Sizes) - 1
	delta := g[:n*net.Sizes[L]]
	for l := L - 1; l >= 0; l-- {
		in, out := net.Sizes[l], net.Sizes[l+1]
		var h []float64
		if l > 0 {
			h = w.act[l-1][:n*in]
		} else {
			h = x[:n*in]
		}
		kernels.Gemm(true, false, in, out, n, 1, h, delta, 1, dW[l])
		kernels.SumRows(w.rowSum[:out], delta, out)
		kernels.Add(dB[l], dB[l], w.rowSum[:out])
		if l == 0 {
			break
		}
		next := w.delta[l%2][:n*in]
		kernels.Gemm(false, true, n, in, out, 1, delta, net.W[l], 0, next)
		w.actGrad(next, next, w.pre[l-1][:n*in], h)
		delta = next
	}
}

// Divergence computes out = MLP(x) [n, s_L] and, with d = s_L tangent
// streams, div [n] the divergence with respect to the first d inputs:
//
//	div[i] = Σ_{j<d} ∂out[i, j]/∂x[i, j],
//
// by the forward-mode recursion of the package doc (one product per hidden
// layer for all d+1 streams together). out equals Forward's. The Workspace
// must have been made with tangents = s_L. It overwrites the activations
// kept for Backward. TestWorkspace_MatchesReference.
func (w *Workspace) Divergence(out, div, x []float64, n int) {
	w.checkBatch("Divergence", n)
	net := w.net
	L := len(net.Sizes) - 1
	d := net.Sizes[L]
	if w.tangents != d {
		panic(autograd.Misuse("fused.Workspace.Divergence", "needs a Workspace with %d tangents, have %d", d, w.tangents))
	}
	w.n = 0 // the stacked buffers are not a Backward state
	out, div = out[:n*d], div[:n]
	if L == 1 { // out = x·W + b: div = Σⱼ Wⱼⱼ for every row
		w.Forward(out, x, n)
		tr := 0.0
		for j := range d {
			tr += net.W[0][j*d+j]
		}
		for i := range div {
			div[i] = tr
		}
		return
	}
	// Layer 1: primal z₁, h₁; tangent j is ḣ₁ = σ′(z₁) ⊙ W₁[j, :] row by row.
	s := net.Sizes[1]
	pre, act := w.pre[0], w.act[0]
	kernels.Gemm(false, false, n, s, net.Sizes[0], 1, x[:n*net.Sizes[0]], net.W[0], 0, pre[:n*s])
	w.biasAct(pre[:n*s], act[:n*s], net.B[0], s)
	for j := range d {
		wj := net.W[0][j*s : (j+1)*s]
		for i := range n {
			r := (1+j)*n + i
			w.actGrad(act[r*s:(r+1)*s], wj, pre[i*s:(i+1)*s], act[i*s:(i+1)*s])
		}
	}
	// Hidden layers 2 … L−1: one product for the primal and the d tangents,
	// then bias and σ on the primal rows, σ′(z) ⊙ ż on each tangent block.
	rows := (1 + d) * n
	for l := 1; l+1 < L; l++ {
		in, s := net.Sizes[l], net.Sizes[l+1]
		pre, act := w.pre[l][:rows*s], w.act[l][:rows*s]
		kernels.Gemm(false, false, rows, s, in, 1, w.act[l-1][:rows*in], net.W[l], 0, pre)
		w.biasAct(pre[:n*s], act[:n*s], net.B[l], s)
		for j := range d {
			blk := (1 + j) * n * s
			w.actGrad(act[blk:blk+n*s], pre[blk:blk+n*s], pre[:n*s], act[:n*s])
		}
	}
	// Output layer: the primal as in Forward (same shapes, hence same values),
	// the tangents in a second product.
	in := net.Sizes[L-1]
	h := w.act[L-2]
	kernels.Gemm(false, false, n, d, in, 1, h[:n*in], net.W[L-1], 0, out)
	kernels.AddRow(out, out, net.B[L-1], d)
	tan := w.tanOut[:d*n*d]
	kernels.Gemm(false, false, d*n, d, in, 1, h[n*in:rows*in], net.W[L-1], 0, tan)
	for i := range div {
		sum := 0.0
		for j := range d {
			sum += tan[(j*n+i)*d+j]
		}
		div[i] = sum
	}
}

// SetThreads sets the number of goroutines the matrix products may use
// (process-wide, clamped to [1, 64], default 1). Results are bit-identical
// for every setting: each element of a product is formed by the same
// operations in the same order whatever the split
// (TestWorkspace_ThreadsBitIdentical). The products, the activations and
// their derivatives, the bias-gradient sums and AdamStep run in parallel
// above a size threshold (a few tens of µs of work); the rest stays on the
// calling goroutine. Workspace.LossGrad instead runs whole chunks of rows
// at once (TestLossGrad_ThreadsBitIdentical).
func SetThreads(n int) { kernels.SetThreads(n) }
