package autograd

import (
	"math"
	"math/rand/v2"
	"sync"
)

/*
Memory reuse across training steps.

A training step through the graph makes the same tensors, of the same sizes
and in the same order, at every step: every op's output, every gradient of
the backward pass, and their bookkeeping. Without an arena each of them is
a fresh make([]float64, n), which the garbage collector later takes back: a
U-Net step on mnist14 (batch 128, 32 channels) asks for about 1.26 GB that
way, and the page faults, the zeroing of fresh pages and the collections
cost time. An Arena keeps them instead: Reset takes back every buffer it
lent, and the next step's requests for the same lengths get those buffers
again (zeroed, as make would give them), so a steady-state step allocates
no tensor storage.

The arena travels with the data, like the no-graph mode: a tensor made by
an arena (Arena.Zeros, Normal, Uniform, or x.In(a) for data that already
exists) belongs to it, and an op whose inputs include a tensor of an arena
takes its output, its Tensor struct and its input list from that arena.
Every gradient of the backward pass is an op on g and the inputs, so
Backward, Grad and GradGraph draw from the same arena, and so does their
bookkeeping (the topological order and the maps of propagate, cleared with
clear and reused). Parameters are not made by the arena: their Data and
Grad stay theirs. Code that never makes an arena runs as before: a nil
*Arena is the garbage-collected heap.

This is the idea of PyTorch's caching allocator (blocks handed back to a
free list keyed by size instead of to the system, Paszke et al. 2019,
"PyTorch: An Imperative Style, High-Performance Deep Learning Library",
arXiv:1912.01703, §5.3), with the release made explicit: PyTorch frees a
block when its last reference dies, here Reset frees everything at once, at
the end of a step. TestArena_MatchesHeap, TestArena_ReusesBuffers,
TestArena_FreshStructs, TestArena_PoisonShowsEscape, TestArena_SecondOrder
and TestArena_Concurrent check it; fm's TestTrain_ArenaBitIdentical checks
the training loop that uses it (fm.Train).
*/

// Arena owns the storage of the tensors of one computation (a training step)
// so that the next one reuses it. Make the step's leaves with the arena
// (Zeros, Normal, Uniform, or x.In(a) for a batch that already exists): every
// op on them, forward and backward, takes its memory from the arena. At the
// end of the step call Reset, and the next step's tensors reuse the buffers
// of this one (free lists keyed by length; a reused buffer is zeroed).
//
// Reset invalidates every tensor of the arena: their Data will hold the
// next step's numbers. Copy out what you keep before Reset (loss.Item(),
// v.Clone(); Clone always copies to the heap). Parameters (made by
// Zeros, Normal, … without an arena) are untouched: their Data and Grad are
// theirs. In Poison mode Reset fills every buffer it takes back with NaN,
// so that a tensor that escaped its step reads NaN (until the buffer is lent
// again); tests use it (TestArena_PoisonShowsEscape).
//
// Everything lent stays lent until Reset, dead or not: the arena holds the
// largest step's tensors, all at once, for as long as it is used. It suits a
// loop of steps that each end with Reset; a long computation without Reset
// (an ODE solve of many steps) would keep every intermediate that the
// garbage collector would have freed.
//
// An arena serves one graph at a time: do not Reset it while another
// goroutine still computes with its tensors. Its lists are guarded by a
// mutex, so ops may draw from it on several goroutines at once; an op's
// output is taken on the goroutine that calls the op, before any worker it
// starts. A nil *Arena is valid: its methods allocate from the heap, as the
// package-level constructors do.
type Arena struct {
	// Poison makes Reset fill every buffer it takes back with NaN (for
	// tests: a tensor read after Reset shows NaN instead of stale numbers).
	Poison bool

	mu      sync.Mutex
	free    map[int][][]float64 // buffers taken back by Reset, by length
	lent    [][]float64         // buffers handed out since the last Reset
	bytes   int                 // 8 × the lengths of every buffer the arena owns
	tensors slab[Tensor]        // the Tensor structs of the step
	lists   slab[*Tensor]       // the ops' input lists
	walks   []*walk             // idle bookkeeping of propagate
}

// NewArena returns an empty arena.
func NewArena() *Arena { return &Arena{free: map[int][][]float64{}} }

// Reset takes back every buffer, Tensor struct and input list lent since the
// last Reset (filling the buffers with NaN in Poison mode). Every tensor of
// the arena is invalid afterwards (TestArena_PoisonShowsEscape,
// TestArena_FreshStructs). Reset of a nil arena does nothing.
func (a *Arena) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, b := range a.lent {
		if a.Poison {
			for j := range b {
				b[j] = math.NaN()
			}
		}
		a.free[len(b)] = append(a.free[len(b)], b)
		a.lent[i] = nil
	}
	a.lent = a.lent[:0]
	a.tensors.rewind()
	a.lists.rewind()
}

// Held returns how many float64 buffers the arena owns (lent or free) and
// their total size in bytes: after the first step it stays constant when
// every step asks for the same sizes (TestArena_ReusesBuffers).
func (a *Arena) Held() (buffers, bytes int) {
	if a == nil {
		return 0, 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	buffers = len(a.lent)
	for _, fl := range a.free {
		buffers += len(fl)
	}
	return buffers, a.bytes
}

// Zeros returns a [rows, cols] leaf of the arena filled with 0 (on the heap
// for a nil arena: the package-level Zeros); a reused buffer is zeroed
// (TestArena_PoisonShowsEscape).
func (a *Arena) Zeros(rows, cols int) *Tensor {
	if rows < 0 || cols < 0 {
		panic(&MisuseError{Op: "Zeros", Shapes: [][2]int{{rows, cols}}, Reason: "negative dimension"})
	}
	t := a.tensor()
	t.Rows, t.Cols, t.Data, t.arena = rows, cols, a.floats(rows*cols), a
	return t
}

// Normal returns a [rows, cols] leaf of the arena holding independent
// N(mean, std²) draws from rng, mean + std·rng.NormFloat64() in row-major
// order (the package-level Normal for a nil arena), so the same rng gives
// the same batch in or out of an arena (TestArena_MatchesHeap). A nil rng
// panics with a *MisuseError.
func (a *Arena) Normal(rows, cols int, mean, std float64, rng *rand.Rand) *Tensor {
	mustRNG("Normal", rng)
	t := a.Zeros(rows, cols)
	for i := range t.Data {
		t.Data[i] = mean + std*rng.NormFloat64()
	}
	return t
}

// Uniform returns a [rows, cols] leaf of the arena holding independent
// U[lo, hi) draws from rng, lo + (hi − lo)·rng.Float64() in row-major order
// (the package-level Uniform for a nil arena; fm's TestTrain_ArenaBitIdentical
// draws its times so). A nil rng panics with a *MisuseError.
func (a *Arena) Uniform(rows, cols int, lo, hi float64, rng *rand.Rand) *Tensor {
	mustRNG("Uniform", rng)
	t := a.Zeros(rows, cols)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*rng.Float64()
	}
	return t
}

// In returns a leaf of the arena a that shares t's Data (no copy) and keeps
// its no-graph mode, with no history and no gradient (as Detach): every op
// on it takes its memory from a. It is how a batch that already exists (a
// sampler's output) enters a step. a's Reset does not touch t's Data, which
// a does not own, but the view itself is a's like any of its tensors: make
// it again after Reset. With a nil arena it is a heap leaf, as Detach.
// TestArena_ReusesBuffers and ExampleTensor_In.
func (t *Tensor) In(a *Arena) *Tensor {
	v := a.tensor()
	v.Rows, v.Cols, v.Data, v.noGraph, v.arena = t.Rows, t.Cols, t.Data, t.noGraph, a
	return v
}

// Arena returns the arena t belongs to, or nil for a tensor on the heap.
// A helper that makes constants for a computation on t makes them with
// t.Arena().Zeros(…), which is the heap when t has no arena. An op's output
// belongs to the arena of its first input that has one
// (TestArena_MatchesHeap).
func (t *Tensor) Arena() *Arena { return t.arena }

// floats returns a zeroed buffer of length n: a free one of that length if
// the arena has one, else a new one. A nil arena always makes a new one.
func (a *Arena) floats(n int) []float64 {
	if a == nil || n == 0 {
		return make([]float64, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var b []float64
	if fl := a.free[n]; len(fl) > 0 {
		b = fl[len(fl)-1]
		fl[len(fl)-1] = nil
		a.free[n] = fl[:len(fl)-1]
		clear(b)
	} else {
		b = make([]float64, n)
		a.bytes += 8 * n
	}
	a.lent = append(a.lent, b)
	return b
}

// tensor returns a zeroed Tensor struct, from the arena's slab or new.
func (a *Arena) tensor() *Tensor {
	if a == nil {
		return new(Tensor)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return &a.tensors.take(1)[0]
}

// list returns a copy of ts that the graph keeps as an op's inputs.
func (a *Arena) list(ts []*Tensor) []*Tensor {
	if a == nil {
		return append([]*Tensor(nil), ts...)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.lists.take(len(ts))
	copy(l, ts)
	return l
}

// slab hands out consecutive runs of Ts from chunks that rewind reuses.
type slab[T any] struct {
	chunks [][]T
	i, j   int // the next free T is chunks[i][j]
}

// slabChunk is the number of Ts in a chunk (more for a longer run).
const slabChunk = 512

// take returns n zeroed, consecutive Ts (capacity n, so an append copies).
func (s *slab[T]) take(n int) []T {
	for ; s.i < len(s.chunks); s.i, s.j = s.i+1, 0 {
		if c := s.chunks[s.i]; s.j+n <= len(c) {
			run := c[s.j : s.j+n : s.j+n]
			s.j += n
			clear(run)
			return run
		}
	}
	s.chunks = append(s.chunks, make([]T, max(n, slabChunk)))
	s.j = n
	return s.chunks[s.i][:n:n]
}

// rewind makes every chunk free again.
func (s *slab[T]) rewind() { s.i, s.j = 0, 0 }

// walk is the bookkeeping of one propagate: the nodes in topological order
// and, per node, whether it leads to a target and its gradient. An arena
// keeps idle walks and clears them for reuse.
type walk struct {
	order   []*Tensor
	useful  map[*Tensor]bool // visited nodes: whether they lead to a target
	grads   map[*Tensor]*Tensor
	targets map[*Tensor]bool
}

// walk returns an empty walk: an idle one of the arena, or a new one.
func (a *Arena) walk() *walk {
	if a != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		if k := len(a.walks); k > 0 {
			w := a.walks[k-1]
			a.walks = a.walks[:k-1]
			return w
		}
	}
	return &walk{useful: map[*Tensor]bool{}, grads: map[*Tensor]*Tensor{}, targets: map[*Tensor]bool{}}
}

// done clears w and gives it back to the arena (a nil arena drops it).
func (a *Arena) done(w *walk) {
	if a == nil {
		return
	}
	clear(w.order)
	w.order = w.order[:0]
	clear(w.useful)
	clear(w.grads)
	clear(w.targets)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.walks = append(a.walks, w)
}
