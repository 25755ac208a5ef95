package fused_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
	"github.com/flowmatch/flowmatch/internal/fusedref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xf05ed)) }

// randomNet returns a fused.Net with torch.nn.Linear's U(±1/√in) initialization.
func randomNet(sizes []int, act autograd.Activation, rng *rand.Rand) fused.Net {
	net := fused.Net{Sizes: sizes, Act: act}
	for l := 0; l+1 < len(sizes); l++ {
		bound := 1 / math.Sqrt(float64(sizes[l]))
		w := make([]float64, sizes[l]*sizes[l+1])
		b := make([]float64, sizes[l+1])
		for i := range w {
			w[i] = bound * (2*rng.Float64() - 1)
		}
		for i := range b {
			b[i] = bound * (2*rng.Float64() - 1)
		}
		net.W, net.B = append(net.W, w), append(net.B, b)
	}
	return net
}

func normals(n int, rng *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// assertClose checks |got − want| ≤ 2·bound element-wise (both are within
// bound of the exact value, fusedref.ErrorBound) and returns the number of
// violations, so that negative controls can count them.
func assertClose(t *testing.T, name string, got, want, bound []float64, report bool) int {
	t.Helper()
	bad := 0
	for i := range want {
		tol := 2 * bound[i]
		if !(math.Abs(got[i]-want[i]) <= tol) {
			if report && bad < 3 {
				t.Errorf("%s[%d]: got %v want %v (tol %.3g)", name, i, got[i], want[i], tol)
			}
			bad++
		}
	}
	return bad
}

func checkCase(t *testing.T, net fused.Net, n int, rng *rand.Rand) {
	L := len(net.Sizes) - 1
	x := normals(n*net.Sizes[0], rng)
	g := normals(n*net.Sizes[L], rng)
	exact := fusedref.Naive(net, x, n, g)
	bound := fusedref.ErrorBound(net, x, n, g)

	ws := fused.NewWorkspace(net, n+3, net.Sizes[L])
	out := make([]float64, n*net.Sizes[L])
	ws.Forward(out, x, n)
	assertClose(t, "out", out, exact.Out, bound.Out, true)

	dW, dB := make([][]float64, L), make([][]float64, L)
	for l := range L {
		dW[l], dB[l] = make([]float64, len(net.W[l])), make([]float64, len(net.B[l]))
	}
	ws.Backward(dW, dB, x, g)
	for l := range L {
		assertClose(t, fmt.Sprintf("dW%d", l), dW[l], exact.DW[l], bound.DW[l], true)
		assertClose(t, fmt.Sprintf("dB%d", l), dB[l], exact.DB[l], bound.DB[l], true)
	}
	// Backward accumulates: a second call doubles the gradients exactly up to rounding.
	ws.Backward(dW, dB, x, g)
	for l := range L {
		twice, twiceBound := make([]float64, len(exact.DW[l])), make([]float64, len(exact.DW[l]))
		for i, v := range exact.DW[l] {
			twice[i], twiceBound[i] = 2*v, 2*bound.DW[l][i]
		}
		assertClose(t, fmt.Sprintf("2·dW%d", l), dW[l], twice, twiceBound, true)
	}

	out2 := make([]float64, len(out))
	div := make([]float64, n)
	ws.Divergence(out2, div, x, n)
	assert.Equal(t, out, out2, "Divergence's out equals Forward's")
	assertClose(t, "div", div, exact.Div, bound.Div, true)
}

// TestWorkspace_MatchesReference checks Forward, Backward and Divergence,
// the three formulas of the package doc, against naive loops for both
// activations, several depths and batch sizes (including ones that leave
// GEMM edge tiles), within the derived bound of assertClose.
func TestWorkspace_MatchesReference(t *testing.T) {
	rng := newRNG(1)
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		for _, sizes := range [][]int{{3, 2}, {3, 9, 2}, {3, 17, 33, 2}, {4, 20, 20, 20, 3}} {
			for _, n := range []int{1, 7, 13} {
				t.Run(fmt.Sprintf("act=%s/sizes=%v/n=%d", act, sizes, n), func(t *testing.T) {
					checkCase(t, randomNet(sizes, act, rng), n, rng)
				})
			}
		}
	}
}

// TestWorkspace_NegativeControl: a wrong derivative (σ′ of tanh used for
// SiLU) and a one-weight perturbation both fail the comparisons above.
func TestWorkspace_NegativeControl(t *testing.T) {
	rng := newRNG(2)
	net := randomNet([]int{3, 16, 16, 2}, autograd.ActSiLU, rng)
	n := 5
	x, g := normals(n*3, rng), normals(n*2, rng)
	exact := fusedref.Naive(net, x, n, g)
	bound := fusedref.ErrorBound(net, x, n, g)

	wrong := net
	wrong.Act = autograd.ActTanh
	bad := fusedref.Naive(wrong, x, n, g)
	assert.Positive(t, assertClose(t, "wrong act", bad.DW[0], exact.DW[0], bound.DW[0], false))

	perturbed := net
	perturbed.W = append([][]float64(nil), net.W...)
	perturbed.W[1] = append([]float64(nil), net.W[1]...)
	perturbed.W[1][5] += 1e-6
	ws := fused.NewWorkspace(perturbed, n, 2)
	out := make([]float64, n*2)
	div := make([]float64, n)
	ws.Divergence(out, div, x, n)
	assert.Positive(t, assertClose(t, "perturbed div", div, exact.Div, bound.Div, false))
	dW := [][]float64{make([]float64, 48), make([]float64, 256), make([]float64, 32)}
	dB := [][]float64{make([]float64, 16), make([]float64, 16), make([]float64, 2)}
	ws.Forward(out, x, n)
	ws.Backward(dW, dB, x, g)
	assert.Positive(t, assertClose(t, "perturbed dW", dW[0], exact.DW[0], bound.DW[0], false))
}

func TestWorkspace_NoAllocs(t *testing.T) {
	rng := newRNG(3)
	net := randomNet([]int{3, 64, 64, 2}, autograd.ActSiLU, rng)
	n := 32
	ws := fused.NewWorkspace(net, n, 2)
	x, g := normals(n*3, rng), normals(n*2, rng)
	out, div := make([]float64, n*2), make([]float64, n)
	dW := [][]float64{make([]float64, 3*64), make([]float64, 64*64), make([]float64, 64*2)}
	dB := [][]float64{make([]float64, 64), make([]float64, 64), make([]float64, 2)}
	allocs := testing.AllocsPerRun(20, func() {
		ws.Forward(out, x, n)
		ws.Backward(dW, dB, x, g)
		ws.Divergence(out, div, x, n)
	})
	assert.Zero(t, allocs)
}

func TestNet_Check(t *testing.T) {
	rng := newRNG(4)
	net := randomNet([]int{3, 4, 2}, autograd.ActSiLU, rng)
	require.NoError(t, net.Check())
	bad := net
	bad.Act = autograd.ActReLU
	require.Error(t, bad.Check())
	bad = net
	bad.Sizes = []int{3, 5, 2}
	require.Error(t, bad.Check())
	assert.Panics(t, func() { fused.NewWorkspace(net, 0, 0) })
	ws := fused.NewWorkspace(net, 2, 0)
	assert.Panics(t, func() { ws.Forward(make([]float64, 6), make([]float64, 9), 3) })
	assert.Panics(t, func() { ws.Divergence(make([]float64, 4), make([]float64, 2), make([]float64, 6), 2) })
}

// TestWorkspace_ThreadsBitIdentical: Forward, Backward and Divergence give
// the same bits with 1 and 2 threads, at a size where the products split.
func TestWorkspace_ThreadsBitIdentical(t *testing.T) {
	rng := newRNG(5)
	net := randomNet([]int{3, 256, 256, 2}, autograd.ActSiLU, rng)
	n := 300
	x, g := normals(n*3, rng), normals(n*2, rng)
	run := func(threads int) [][]float64 {
		defer fused.SetThreads(1) // the default
		fused.SetThreads(threads)
		ws := fused.NewWorkspace(net, n, 2)
		out, div := make([]float64, n*2), make([]float64, n)
		dW := [][]float64{make([]float64, 3*256), make([]float64, 256*256), make([]float64, 256*2)}
		dB := [][]float64{make([]float64, 256), make([]float64, 256), make([]float64, 2)}
		ws.Forward(out, x, n)
		ws.Backward(dW, dB, x, g)
		v := make([]float64, n*2)
		ws.Divergence(v, div, x, n)
		return append(append([][]float64{out, v, div}, dW...), dB...)
	}
	assert.Equal(t, run(1), run(2))
}
