package fused_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
	"github.com/flowmatch/flowmatch/internal/fusedref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grads returns zeroed gradient slices shaped as net's W and B.
func grads(net fused.Net) (dW, dB [][]float64) {
	for l := range net.W {
		dW, dB = append(dW, make([]float64, len(net.W[l]))), append(dB, make([]float64, len(net.B[l])))
	}
	return dW, dB
}

// seed returns a LossGradFunc that records the outputs it is given in
// outs and writes the fixed seed g as ∂L/∂out; each chunk's loss is its
// number of rows, so the total is n.
func seed(g, outs []float64, cols int) fused.LossGradFunc {
	return func(out []float64, i0, i1 int) float64 {
		copy(outs[i0*cols:i1*cols], out)
		copy(out, g[i0*cols:i1*cols])
		return float64(i1 - i0)
	}
}

func TestChunks(t *testing.T) {
	for _, c := range []struct{ n, k, size int }{
		{1, 1, 1}, {256, 1, 256}, {257, 2, 129}, {512, 2, 256}, {600, 3, 200},
		{1024, 4, 256}, {2048, 8, 256}, {2100, 8, 263}, {100000, 8, 12500},
	} {
		k, size := fused.Chunks(c.n)
		assert.Equal(t, [2]int{c.k, c.size}, [2]int{k, size}, "Chunks(%d)", c.n)
		assert.True(t, (k-1)*size < c.n && c.n <= k*size, "Chunks(%d): %d chunks of %d rows", c.n, k, size)
	}
}

// TestLossGrad_MatchesForwardBackward: a batch of one chunk (n ≤ 256) gives
// the outputs of Forward and the gradients of Backward to the bit, and a
// second call adds the same gradients again.
func TestLossGrad_MatchesForwardBackward(t *testing.T) {
	rng := newRNG(6)
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		net := randomNet([]int{3, 64, 64, 2}, act, rng)
		for _, n := range []int{1, 13, 256} {
			x, g := normals(n*3, rng), normals(n*2, rng)
			ws := fused.NewWorkspace(net, 256, 0)
			want := make([]float64, n*2)
			wantW, wantB := grads(net)
			for range 2 {
				ws.Forward(want, x, n)
				ws.Backward(wantW, wantB, x, g)
			}
			got, outs := make([]float64, n*2), make([]float64, n*2)
			gotW, gotB := grads(net)
			var loss float64
			for range 2 {
				loss = ws.LossGrad(gotW, gotB, x, got, n, seed(g, outs, 2))
			}
			where := fmt.Sprintf("%s, n = %d", act, n)
			assert.Equal(t, float64(n), loss, where)
			assert.Equal(t, want, outs, where+": outputs")
			assert.Equal(t, wantW, gotW, where+": dW")
			assert.Equal(t, wantB, gotB, where+": dB")
		}
	}
}

// TestLossGrad_MatchesReference: batches cut into 2, 3 and 8 chunks give
// the outputs and the gradients of the package doc's formulas (fusedref's
// naive loops) within twice fusedref.ErrorBound, a first-order bound that
// holds for any order of the sums over the batch. Negative control: the
// gradients of the batch without its last chunk (a share not added) fail
// the comparison.
func TestLossGrad_MatchesReference(t *testing.T) {
	rng := newRNG(7)
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		net := randomNet([]int{3, 17, 24, 2}, act, rng)
		for _, n := range []int{257, 600, 2100} {
			t.Run(fmt.Sprintf("act=%s/n=%d", act, n), func(t *testing.T) {
				x, g := normals(n*3, rng), normals(n*2, rng)
				exact := fusedref.Naive(net, x, n, g)
				bound := fusedref.ErrorBound(net, x, n, g)
				ws := fused.NewWorkspace(net, n, 0)
				out, outs := make([]float64, n*2), make([]float64, n*2)
				dW, dB := grads(net)
				ws.LossGrad(dW, dB, x, out, n, seed(g, outs, 2))
				assertClose(t, "out", outs, exact.Out, bound.Out, true)
				for l := range dW {
					assertClose(t, fmt.Sprintf("dW%d", l), dW[l], exact.DW[l], bound.DW[l], true)
					assertClose(t, fmt.Sprintf("dB%d", l), dB[l], exact.DB[l], bound.DB[l], true)
				}

				_, size := fused.Chunks(n)
				last := (n - 1) / size * size
				short := append([]float64(nil), g...)
				clear(short[last*2:])
				dW, dB = grads(net)
				ws.LossGrad(dW, dB, x, out, n, seed(short, outs, 2))
				bad := 0
				for l := range dW {
					bad += assertClose(t, "without the last chunk", dW[l], exact.DW[l], bound.DW[l], false)
				}
				assert.Positive(t, bad, "negative control")
			})
		}
	}
}

// TestLossGrad_ThreadsBitIdentical: the data-parallel step gives the same
// loss, outputs and gradients to the bit with 1, 2, 3 and 4 threads, for
// batches of 4 chunks (1024 rows, the workload's) and of 3 uneven ones
// (700 rows), at the workload's widths.
func TestLossGrad_ThreadsBitIdentical(t *testing.T) {
	rng := newRNG(8)
	net := randomNet([]int{3, 256, 256, 2}, autograd.ActSiLU, rng)
	for _, n := range []int{700, 1024} {
		x, g := normals(n*3, rng), normals(n*2, rng)
		run := func(threads int) [][]float64 {
			defer fused.SetThreads(1)
			fused.SetThreads(threads)
			ws := fused.NewWorkspace(net, n, 0)
			out, outs := make([]float64, n*2), make([]float64, n*2)
			dW, dB := grads(net)
			loss := 0.0
			for range 2 {
				loss += ws.LossGrad(dW, dB, x, out, n, func(out []float64, i0, i1 int) float64 {
					copy(outs[i0*2:i1*2], out)
					s := 0.0
					for i, v := range out {
						s += v * v
						out[i] = g[i0*2+i] * math.Abs(v)
					}
					return s
				})
			}
			return append(append([][]float64{{loss}, outs}, dW...), dB...)
		}
		want := run(1)
		for threads := 2; threads <= 4; threads++ {
			require.Equal(t, want, run(threads), "n = %d, %d threads", n, threads)
		}
	}
}

// TestLossGrad_NoAllocs: after its first call, a step of 3 chunks on 2
// threads allocates nothing.
func TestLossGrad_NoAllocs(t *testing.T) {
	rng := newRNG(9)
	net := randomNet([]int{3, 32, 32, 2}, autograd.ActSiLU, rng)
	const n = 600
	x, g := normals(n*3, rng), normals(n*2, rng)
	ws := fused.NewWorkspace(net, n, 0)
	out, outs := make([]float64, n*2), make([]float64, n*2)
	dW, dB := grads(net)
	f := seed(g, outs, 2)
	defer fused.SetThreads(1)
	fused.SetThreads(2)
	ws.LossGrad(dW, dB, x, out, n, f)
	assert.Zero(t, testing.AllocsPerRun(10, func() { ws.LossGrad(dW, dB, x, out, n, f) }))
}

// ExampleChunks shows how Workspace.LossGrad cuts batches: one chunk up to
// 256 rows, chunks of at least 256 rows after that, at most 8 — the same
// for every thread count.
func ExampleChunks() {
	for _, n := range []int{100, 256, 300, 1024, 4096} {
		k, size := fused.Chunks(n)
		fmt.Printf("batch %4d: %d chunks of %d rows\n", n, k, size)
	}
	// Output:
	// batch  100: 1 chunks of 100 rows
	// batch  256: 1 chunks of 256 rows
	// batch  300: 2 chunks of 150 rows
	// batch 1024: 4 chunks of 256 rows
	// batch 4096: 8 chunks of 512 rows
}
