package steparena

import (
	"fmt"
	"math"
	"runtime"

	"github.com/flowmatch/flowmatch/autograd"
)

// newArena is New's constructor; Set replaces it.
var newArena = autograd.NewArena

// New returns the arena of one training run: autograd.NewArena(), or what
// the constructor installed by Set returns (nil is the heap).
func New() *autograd.Arena { return newArena() }

// Set makes New call f until restore is called, for tests that run a loop
// on the heap (Heap) and in a poisoned arena (Poisoned) and compare. Tests
// that call it must not run in parallel with other users of New.
func Set(f func() *autograd.Arena) (restore func()) {
	old := newArena
	newArena = f
	return func() { newArena = old }
}

// Poisoned returns a new arena in Poison mode: its Reset fills every buffer
// it takes back with NaN (autograd.Arena.Poison).
func Poisoned() *autograd.Arena {
	a := autograd.NewArena()
	a.Poison = true
	return a
}

// Heap returns nil, the heap, as a constructor for Set.
func Heap() *autograd.Arena { return nil }

// In returns t as a leaf of a (t.In(a)), so that every op on it draws from
// a, or t itself when a is nil: without an arena a loop runs exactly as it
// did before arenas existed. A nil t stays nil.
func In(a *autograd.Arena, t *autograd.Tensor) *autograd.Tensor {
	if a == nil || t == nil {
		return t
	}
	return t.In(a)
}

// BitDiff returns nil when heap and arena hold the same float64s bit for
// bit (math.Float64bits), else an error naming what, the first index that
// differs and both values.
func BitDiff(what string, heap, arena []float64) error {
	if len(heap) != len(arena) {
		return fmt.Errorf("%s: heap has %d values, arena %d", what, len(heap), len(arena))
	}
	for i, v := range heap {
		if math.Float64bits(v) != math.Float64bits(arena[i]) {
			return fmt.Errorf("%s[%d]: heap %v, arena %v (not bit for bit)", what, i, v, arena[i])
		}
	}
	return nil
}

// PerStep returns the bytes and heap objects that one steady-state step of
// a loop allocates: run(k) and run(2k) each run a whole loop of that many
// steps (set-up included), and the difference of their allocations
// (runtime.MemStats TotalAlloc and Mallocs), divided by k, cancels the
// set-up and the first steps, in which an arena fills. For benchmarks: it
// reads the counters of the whole process, so run nothing else meanwhile.
func PerStep(run func(steps int), k int) (bytes, objects float64) {
	measure := func(steps int) (b, o uint64) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		run(steps)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
	}
	b1, o1 := measure(k)
	b2, o2 := measure(2 * k)
	return (float64(b2) - float64(b1)) / float64(k), (float64(o2) - float64(o1)) / float64(k)
}
