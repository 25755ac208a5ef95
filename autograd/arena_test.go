package autograd

import (
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// arenaNet is a small classifier of 4×4 images that uses every family of
// ops a training step meets: a convolution, GroupNorm, pooling and
// upsampling, Concat, MatMul, AddRow, SiLU, ReLU (whose backward makes a
// constant), Tanh and a cross-entropy. Its parameters live on the heap.
type arenaNet struct{ w, b, gamma, beta, w2, b2 *Tensor }

var arenaGeom = ConvGeom{C: 1, H: 4, W: 4, KH: 3, KW: 3, Stride: 1, Pad: 1}

func newArenaNet(seed uint64) *arenaNet {
	rng := newRNG(seed)
	p := func(r, c int, std float64) *Tensor { return Normal(r, c, 0, std, rng).SetRequiresGrad(true) }
	return &arenaNet{w: p(4, 9, 0.3), b: p(1, 4, 0.1), gamma: p(1, 4, 0.1), beta: p(1, 4, 0.1), w2: p(80, 3, 0.2), b2: p(1, 3, 0.1)}
}

func (m *arenaNet) params() []*Tensor { return []*Tensor{m.w, m.b, m.gamma, m.beta, m.w2, m.b2} }

// loss returns the mean cross-entropy of the labels y under the net's
// logits of the images x [n, 16] (without the GroupNorm when norm is false).
func (m *arenaNet) loss(x *Tensor, y []int, norm bool) *Tensor {
	h := Conv2D(x, m.w, m.b, arenaGeom) // [n, 4·4·4]
	if norm {
		h = GroupNorm(h, m.gamma, m.beta, 2, 4, 1e-5)
	}
	h = SiLU(h)
	u := Upsample2(AvgPool2(h, 4, 4, 4), 4, 2, 2)
	f := Concat(ReLU(Sub(h, u)), Tanh(x)) // [n, 80]
	return Mean(CrossEntropy(AddRow(MatMul(f, m.w2), m.b2), y))
}

// arenaRun trains a fresh arenaNet for steps SGD steps of batch n (step k
// draws its batch from seed k) with the batches made by a (nil: the heap),
// calling a.Reset after each step, and returns every step's loss and
// gradients and the final parameters, all copied out.
func arenaRun(a *Arena, n, steps int) (losses []float64, grads, params [][]float64) {
	m := newArenaNet(7)
	for k := range steps {
		rng := newRNG(uint64(100 + k))
		x := a.Normal(n, 16, 0, 1, rng)
		y := make([]int, n)
		for i := range y {
			y[i] = rng.IntN(3)
		}
		for _, p := range m.params() {
			p.ZeroGrad()
		}
		l := m.loss(x, y, true)
		l.Backward()
		losses = append(losses, l.Item())
		for _, p := range m.params() {
			grads = append(grads, append([]float64(nil), p.Grad...))
			for i, g := range p.Grad {
				p.Data[i] -= 0.1 * g
			}
		}
		a.Reset()
	}
	for _, p := range m.params() {
		params = append(params, append([]float64(nil), p.Data...))
	}
	return losses, grads, params
}

// sameBits reports whether x and y hold the same float64 bit patterns.
func sameBits(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// TestArena_MatchesHeap: three training steps with the batches in a
// poisoned arena give the losses, gradients and parameters of the same
// steps on the heap, bit for bit (an op computes the same numbers in a
// reused, zeroed buffer as in a fresh one). Controls: the comparison sees a
// one-ulp change, and the arena's tensors really are the arena's.
func TestArena_MatchesHeap(t *testing.T) {
	hl, hg, hp := arenaRun(nil, 6, 3)
	a := NewArena()
	a.Poison = true
	al, ag, ap := arenaRun(a, 6, 3)
	require.True(t, sameBits(hl, al), "losses: heap %v, arena %v", hl, al)
	for i := range hg {
		require.True(t, sameBits(hg[i], ag[i]), "gradient %d differs", i)
	}
	for i := range hp {
		require.True(t, sameBits(hp[i], ap[i]), "parameter %d differs", i)
	}
	for _, v := range hl {
		require.False(t, math.IsNaN(v))
	}
	// Controls.
	nudged := append([]float64(nil), hl...)
	nudged[1] = math.Nextafter(nudged[1], math.Inf(1))
	require.False(t, sameBits(hl, nudged), "control: a one-ulp change must be seen")
	x := a.Zeros(2, 16)
	require.Same(t, a, x.Arena())
	require.Same(t, a, Tanh(x).Arena(), "an op takes its output from its input's arena")
	require.Same(t, a, Add(Zeros(2, 16), x).Arena(), "from any input's arena")
	require.Nil(t, Tanh(Zeros(2, 16)).Arena(), "no arena: the heap")
	a.Reset()
}

// TestArena_ReusesBuffers: after the first step the arena holds the same
// buffers at every step (every request of step k + 1 is served by a buffer
// of step k), and a steady-state step allocates the same number of bytes
// at batch 8 and at batch 64: no tensor storage, only the backward closures
// and slices, whose count does not depend on the batch. Control: on the
// heap the bytes grow with the batch. (The net runs without its GroupNorm
// here: GroupNorm broadcasts γ and β to [n, C] by an Expand whose only
// input is a parameter, so that op has no arena to draw from and its
// output, n·C values, comes from the heap.)
func TestArena_ReusesBuffers(t *testing.T) {
	a := NewArena()
	arenaRun(a, 8, 1)
	bufs, bytes := a.Held()
	require.Positive(t, bufs)
	arenaRun(a, 8, 3)
	bufs2, bytes2 := a.Held()
	assert.Equal(t, bufs, bufs2, "buffers after 1 step and after 3 more")
	assert.Equal(t, bytes, bytes2, "bytes after 1 step and after 3 more")

	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops pooled convolution scratch at random: bytes per step are not steady")
	}
	m := newArenaNet(7)
	// stepBytes returns the fewest bytes allocated by one step of batch n
	// over 5 steps (after a warm-up), with the batch in arena b.
	stepBytes := func(b *Arena, n int) uint64 {
		data := Normal(n, 16, 0, 1, newRNG(1)) // outlives the steps
		y := make([]int, n)
		best := uint64(math.MaxUint64)
		var ms runtime.MemStats
		for k := range 6 {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			m.loss(data.In(b), y, false).Backward()
			b.Reset()
			runtime.ReadMemStats(&ms)
			if k > 0 {
				best = min(best, ms.TotalAlloc-before)
			}
		}
		return best
	}
	a8, a64 := stepBytes(NewArena(), 8), stepBytes(NewArena(), 64)
	h8, h64 := stepBytes(nil, 8), stepBytes(nil, 64)
	t.Logf("bytes per step: arena %d (batch 8), %d (batch 64); heap %d, %d", a8, a64, h8, h64)
	assert.Equal(t, a8, a64, "arena: bytes per step at batch 8 and 64")
	assert.Greater(t, h64, h8+7*8*16*8, "control: on the heap, batch 64 allocates more (at least its 56 more input rows)")
}

// TestArena_PoisonShowsEscape: a tensor kept past Reset reads NaN in Poison
// mode, while its Clone (taken before Reset, on the heap) keeps its
// numbers. Control: without Poison the escaped tensor silently keeps stale
// numbers, which is why tests poison.
func TestArena_PoisonShowsEscape(t *testing.T) {
	for _, poison := range []bool{true, false} {
		a := NewArena()
		a.Poison = poison
		x := a.Uniform(3, 4, 1, 2, newRNG(3))
		y := Exp(x)
		kept := y.Clone()
		a.Reset()
		require.Nil(t, kept.Arena())
		for i, v := range kept.Data {
			require.False(t, math.IsNaN(v), "the clone, element %d", i)
		}
		nan := 0
		for _, v := range y.Data {
			if math.IsNaN(v) {
				nan++
			}
		}
		if poison {
			require.Equal(t, len(y.Data), nan, "poisoned: every element of the escaped tensor is NaN")
		} else {
			require.Zero(t, nan, "control: without Poison the escaped tensor keeps stale numbers")
			require.True(t, sameBits(kept.Data, y.Data))
		}
		z := a.Zeros(3, 4) // reuses a poisoned buffer: zeroed
		require.Equal(t, make([]float64, 12), z.Data)
	}
}

// TestArena_FreshStructs: a Tensor struct lent again after Reset carries
// nothing of its last use. Step 1 makes a leaf that requires a gradient and
// backpropagates; step 2 makes the same shapes without gradients, and its
// tensors must not require one, nor have a Grad, a history or inputs.
func TestArena_FreshStructs(t *testing.T) {
	a := NewArena()
	x := a.Zeros(2, 2).SetRequiresGrad(true)
	Sum(Tanh(x)).Backward()
	require.Equal(t, []float64{1, 1, 1, 1}, x.Grad)
	a.Reset()
	z := a.Zeros(2, 2)
	y := Tanh(z)
	require.False(t, z.RequiresGrad(), "a leaf of step 2 in step 1's struct")
	require.Nil(t, z.Grad)
	require.False(t, y.RequiresGrad())
	require.Nil(t, y.inputs)
	require.Nil(t, y.backward)
	require.Equal(t, "", z.Op())
	require.Equal(t, "Tanh", y.Op())
}

// hvp returns the Hessian-vector product H·v of f(x) = Σ tanh(x·W) ⊙ c at x,
// computed as ∇ₓ⟨∇ₓf, v⟩ with GradGraph then Grad (second order through
// MatMul, Tanh and its TanhGrad), with x and v leaves of a (nil: the heap).
func hvp(a *Arena, x0, v0, w, c []float64) *Tensor {
	x := a.Zeros(3, 4)
	copy(x.Data, x0)
	x.SetRequiresGrad(true)
	v := a.Zeros(3, 4)
	copy(v.Data, v0)
	W := FromSlice(4, 5, w)
	C := a.Zeros(3, 5)
	copy(C.Data, c)
	g := GradGraph(Sum(Mul(Tanh(MatMul(x, W)), C)), nil, x)[0]
	return Grad(Sum(Mul(g, v)), nil, x)[0]
}

// TestArena_SecondOrder: a Hessian-vector product computed in an arena
// twice, across a Reset, gives the same bits both times and the heap's;
// GradCheck passes inside an arena, on a function whose constants are the
// arena's and on a gradient (second order). Controls: the first product
// kept past a poisoned Reset differs (NaN), and GradCheck inside the arena
// still catches a wrong backward.
func TestArena_SecondOrder(t *testing.T) {
	rng := newRNG(11)
	x0, v0 := Normal(3, 4, 0, 1, rng).Data, Normal(3, 4, 0, 1, rng).Data
	w, c := Normal(4, 5, 0, 1, rng).Data, Normal(3, 5, 0, 1, rng).Data
	want := hvp(nil, x0, v0, w, c).Data
	a := NewArena()
	a.Poison = true
	first := hvp(a, x0, v0, w, c)
	require.Same(t, a, first.Arena())
	got1 := append([]float64(nil), first.Data...)
	a.Reset()
	got2 := hvp(a, x0, v0, w, c).Data
	require.True(t, sameBits(want, got1), "before Reset: got %v want %v", got1, want)
	require.True(t, sameBits(want, got2), "after Reset: got %v want %v", got2, want)
	a.Reset()
	require.False(t, sameBits(want, first.Data), "control: the product kept past a poisoned Reset must differ")
	require.True(t, math.IsNaN(first.Data[0]))

	W, C := FromSlice(4, 5, w), a.Zeros(3, 5)
	copy(C.Data, c)
	f := func(xs []*Tensor) *Tensor { return Mul(Tanh(MatMul(xs[0], W)), C) }
	second := func(xs []*Tensor) *Tensor { return GradGraph(Sum(f(xs)), nil, xs[0])[0] }
	x := FromSlice(3, 4, x0)
	require.NoError(t, GradCheck(f, []*Tensor{x}, nil))
	require.NoError(t, GradCheck(second, []*Tensor{x}, nil))
	require.Same(t, a, second([]*Tensor{x.Clone().SetRequiresGrad(true)}).Arena(), "the gradient is the arena's")
	wrong := func(xs []*Tensor) *Tensor {
		y := f(xs)
		return Custom("WrongScale", y.Detach(), []*Tensor{y}, func(g *Tensor) []*Tensor { return []*Tensor{Scale(g, 1.01)} })
	}
	require.Error(t, GradCheck(wrong, []*Tensor{x}, nil), "control: a backward 1% off must fail inside the arena")
	a.Reset()
}

// TestArena_Concurrent: ops on one arena from several goroutines at once
// (each its own graph, as an op that draws from a worker would) are safe:
// run it with -race. Each goroutine's result equals its heap twin.
func TestArena_Concurrent(t *testing.T) {
	a := NewArena()
	var wg sync.WaitGroup
	got := make([][]float64, 4)
	for k := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := a.Normal(5, 6, 0, 1, newRNG(uint64(k)))
			p := Normal(6, 6, 0, 1, newRNG(99)).SetRequiresGrad(true)
			Sum(Tanh(MatMul(x, p))).Backward()
			got[k] = append([]float64(nil), p.Grad...)
		}()
	}
	wg.Wait()
	a.Reset()
	for k := range got {
		x := Normal(5, 6, 0, 1, newRNG(uint64(k)))
		p := Normal(6, 6, 0, 1, newRNG(99)).SetRequiresGrad(true)
		Sum(Tanh(MatMul(x, p))).Backward()
		require.True(t, sameBits(p.Grad, got[k]), "goroutine %d", k)
	}
}
