package fused

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

/*
The data-parallel training step.

LossGrad cuts a batch of n rows into k = Chunks(n) chunks of consecutive
rows, boundaries c·⌈n/k⌉, which depend on n only. Chunk c runs the whole
forward pass, the loss gradient and the backward pass on its rows,
writing its share of the gradients

	Pᶜ(Wₗ) = hₗ₋₁[c]ᵀ·δₗ[c],   Pᶜ(bₗ) = Σ_{rows of c} δₗ[c]

(chunk 0 adds its share to dW and dB directly; the others write theirs to
buffers of their own), and after all chunks are done the shares are added
element by element in chunk order:

	dW ← ((dW + P⁰) + P¹) + … + Pᵏ⁻¹,   loss = ((ℓ⁰ + ℓ¹) + …) + ℓᵏ⁻¹.

Every chunk's work is fixed by n and the chunk index, and no chunk reads
another's buffers, so the results are the same to the bit whichever
goroutine runs which chunk and however many there are
(TestLossGrad_ThreadsBitIdentical): kernels.Tasks runs the chunks, one fork
and one join for the forward and backward passes of the whole batch, chunk
c on runner c mod t (unless that runner is so late that another takes it)
with that runner's GEMM packing buffers, so that a chunk's activations stay
in one core's cache from step to step. The sums
are kernels.AddAll, split like the Adam update that follows them, so a
range of a gradient is summed and then updated by the same runner. With k = 1 (n ≤ chunkRows) the step computes what
Forward and Backward compute, to the bit (TestLossGrad_MatchesForwardBackward);
with k > 1 it adds the same terms in another order: each element of dW is
a sum over the batch of n products, cut into k partial sums, whose rounding
obeys the same first-order bound as the one-chunk sum
(TestLossGrad_MatchesReference).
*/

const (
	// chunkRows is the smallest number of rows a chunk gets when a batch
	// is cut: batches of up to chunkRows rows are one chunk. At 256 rows,
	// a chunk's products (256 × 256 × 256 for the workload's hidden
	// layers) still run the GEMM at full speed, and a layer's activations,
	// 256 × 256 float64 = 512 KiB, stay in a core's L2 cache.
	chunkRows = 256
	// maxChunks bounds the chunks, hence the buffers of the shares and the
	// work of adding them, for large batches.
	maxChunks = 8
)

// Chunks returns the number of chunks k and their size (rows; the last
// chunk may be shorter) that LossGrad cuts a batch of n ≥ 1 rows into:
//
//	k = min(8, ⌈n/256⌉),   size = ⌈n/k⌉,
//
// a function of n alone, never of the thread count (the package doc's
// "Data-parallel training step"). TestChunks, ExampleChunks.
func Chunks(n int) (k, size int) {
	k = min(maxChunks, (n+chunkRows-1)/chunkRows)
	size = (n + k - 1) / k
	return (n + size - 1) / size, size
}

// A LossGradFunc computes the loss of rows i0 … i1−1 of a batch from the
// network's output for those rows, out [(i1−i0), s_L], overwrites out with
// ∂L/∂out for the same rows, and returns those rows' share of the loss. It
// is called once per chunk, possibly from several goroutines at once for
// different rows; it must touch nothing but its rows.
type LossGradFunc func(out []float64, i0, i1 int) float64

// stepState is the running LossGrad call and its buffers.
type stepState struct {
	dW, dB  [][]float64
	x, out  []float64
	n, size int
	f       LossGradFunc
	loss    [maxChunks]float64
	share   [maxChunks][]float64 // share[c], c ≥ 1: chunk c's gradients, layer by layer (W then b)
	srcs    [][][]float64        // srcs[2l], srcs[2l+1]: Wₗ's and bₗ's part of share[1], share[2], …
	k       int
	runFn   func(int, *kernels.Scratch) // w.runChunk, made once
}

// LossGrad runs the training step of the data-parallel scheme above on the
// n rows of x [n, s₀]: Forward, then f on each chunk's outputs (out [n,
// s_L] holds the outputs, then ∂L/∂out), then Backward, accumulating
//
//	dW[l] += hₗ₋₁ᵀ·δₗ,   dB[l] += Σ_rows δₗ
//
// (the formulas of Backward; dW and dB have the shapes of the Net's W and
// B), and returns the sum of f's results in chunk order. With
// SetThreads(t), t > 1, up to t chunks run at once; the results are the same
// to the bit for every t (TestLossGrad_ThreadsBitIdentical). It allocates
// the shares' buffers at its first call with more than one chunk, nothing
// after.
func (w *Workspace) LossGrad(dW, dB [][]float64, x, out []float64, n int, f LossGradFunc) float64 {
	w.checkBatch("LossGrad", n)
	L := len(w.net.Sizes) - 1
	if len(dW) != L || len(dB) != L {
		panic(autograd.Misuse("fused.Workspace.LossGrad", "%d weight and %d bias gradients for %d layers", len(dW), len(dB), L))
	}
	st := &w.step
	st.k, st.size = Chunks(n)
	if st.runFn == nil {
		st.runFn = w.runChunk
	}
	if st.k > 1 && st.share[st.k-1] == nil {
		w.allocShares()
	}
	st.dW, st.dB, st.x, st.out, st.n, st.f = dW, dB, x, out, n, f
	kernels.Tasks(st.k, st.runFn)
	if st.k > 1 {
		for l := range L {
			kernels.AddAll(dW[l], st.srcs[2*l][:st.k-1])
			kernels.AddAll(dB[l], st.srcs[2*l+1][:st.k-1])
		}
	}
	loss := 0.0
	for c := range st.k {
		loss += st.loss[c]
	}
	w.n = n
	st.dW, st.dB, st.x, st.out, st.f = nil, nil, nil, nil, nil
	return loss
}

// allocShares allocates the shares of every chunk a batch of maxBatch rows
// has, and their parts for each gradient.
func (w *Workspace) allocShares() {
	st := &w.step
	net := w.net
	L := len(net.Sizes) - 1
	k, _ := Chunks(w.maxBatch)
	var sizes []int
	total := 0
	for l := range L {
		sizes = append(sizes, net.Sizes[l]*net.Sizes[l+1], net.Sizes[l+1])
		total += net.Sizes[l]*net.Sizes[l+1] + net.Sizes[l+1]
	}
	for c := 1; c < k; c++ {
		st.share[c] = make([]float64, total)
	}
	st.srcs = make([][][]float64, len(sizes))
	off := 0
	for g, size := range sizes {
		for c := 1; c < k; c++ {
			st.srcs[g] = append(st.srcs[g], st.share[c][off:off+size])
		}
		off += size
	}
}

// runChunk is task c of LossGrad: forward, loss gradient and backward on
// the rows of chunk c, its products computed with the runner's packing
// buffers sc.
func (w *Workspace) runChunk(c int, sc *kernels.Scratch) {
	st := &w.step
	net := w.net
	L := len(net.Sizes) - 1
	i0 := c * st.size
	i1 := min(i0+st.size, st.n)
	m := i1 - i0
	wmax := len(w.rowSum)
	// Forward on rows [i0, i1).
	in := st.x[i0*net.Sizes[0] : i1*net.Sizes[0]]
	for l := 0; l+1 < L; l++ {
		s := net.Sizes[l+1]
		pre, act := w.pre[l][i0*s:i1*s], w.act[l][i0*s:i1*s]
		kernels.GemmWith(sc, false, false, m, s, net.Sizes[l], 1, in, net.W[l], 0, pre)
		w.biasAct(pre, act, net.B[l], s)
		in = act
	}
	sL := net.Sizes[L]
	out := st.out[i0*sL : i1*sL]
	kernels.GemmWith(sc, false, false, m, sL, net.Sizes[L-1], 1, in, net.W[L-1], 0, out)
	kernels.AddRow(out, out, net.B[L-1], sL)
	st.loss[c] = st.f(out, i0, i1)
	// Backward: chunk 0 adds to dW and dB, chunk c ≥ 1 writes its share.
	delta := out
	for l := L - 1; l >= 0; l-- {
		nin, nout := net.Sizes[l], net.Sizes[l+1]
		var h []float64
		if l > 0 {
			h = w.act[l-1][i0*nin : i1*nin]
		} else {
			h = st.x[i0*nin : i1*nin]
		}
		if c == 0 {
			kernels.GemmWith(sc, true, false, nin, nout, m, 1, h, delta, 1, st.dW[l])
			rs := w.rowSum[:nout]
			kernels.SumRows(rs, delta, nout)
			kernels.Add(st.dB[l], st.dB[l], rs)
		} else {
			sw, sb := st.srcs[2*l][c-1], st.srcs[2*l+1][c-1]
			kernels.GemmWith(sc, true, false, nin, nout, m, 1, h, delta, 0, sw)
			kernels.SumRows(sb, delta, nout)
		}
		if l == 0 {
			break
		}
		next := w.delta[l%2][i0*wmax : i0*wmax+m*nin]
		kernels.GemmWith(sc, false, true, m, nin, nout, 1, delta, net.W[l], 0, next)
		w.actGrad(next, next, w.pre[l-1][i0*nin:i1*nin], h)
		delta = next
	}
}
