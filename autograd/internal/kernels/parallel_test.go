package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParallel_BitIdentical checks that AddRowSiLU, SiLUGrad, Tanh, TanhGrad
// and SumRows give the same bits with 2 and 3 threads as with one, at sizes
// just below, at and above parallelMin, with widths that do and do not
// divide the ranges evenly.
func TestParallel_BitIdentical(t *testing.T) {
	rnd := rand.New(rand.NewPCG(81, 82))
	type op struct {
		name string
		f    func(out [2][]float64, a, b []float64, cols int)
	}
	ops := []op{
		{"AddRowSiLU", func(out [2][]float64, a, b []float64, cols int) { AddRowSiLU(out[0], out[1], a, b[:cols], cols) }},
		{"SiLUGrad", func(out [2][]float64, a, b []float64, _ int) { SiLUGrad(out[0], b, a) }},
		{"Tanh", func(out [2][]float64, a, _ []float64, _ int) { Tanh(out[0], a) }},
		{"TanhGrad", func(out [2][]float64, a, b []float64, _ int) { TanhGrad(out[0], b, a) }},
		{"SumRows", func(out [2][]float64, a, _ []float64, cols int) { SumRows(out[0][:cols], a, cols) }},
	}
	for _, cols := range []int{1, 3, 256, 257} {
		for _, rows := range []int{parallelMin/cols - 1, parallelMin/cols + 1, 3*parallelMin/cols + 7} {
			n := rows * cols
			a, b := randSlice(rnd, n), randSlice(rnd, n)
			for i := range a {
				a[i] *= 4
			}
			for _, o := range ops {
				var want [2][]float64
				for threads := 1; threads <= 3; threads++ {
					got := [2][]float64{make([]float64, n), make([]float64, n)}
					withThreads(threads, func() { o.f(got, a, b, cols) })
					if threads == 1 {
						want = got
						continue
					}
					where := fmt.Sprintf("%s [%d, %d], %d threads", o.name, rows, cols, threads)
					require.NoError(t, identical(got[0], want[0]), where)
					require.NoError(t, identical(got[1], want[1]), where)
				}
			}
		}
	}
}

// TestParallel_NoAllocs: a split element-wise call allocates nothing.
func TestParallel_NoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rnd := rand.New(rand.NewPCG(83, 84))
	const cols = 256
	n := 4 * parallelMin
	a, g, pre, out := randSlice(rnd, n), randSlice(rnd, n), make([]float64, n), make([]float64, n)
	p := AdamParams{C1: 0.1, Beta2: 0.999, C2: 0.001, StepSize: 1e-3, BC2Sqrt: 0.5, Eps: 1e-8}
	m, v := make([]float64, n), make([]float64, n)
	withThreads(2, func() {
		allocs := testing.AllocsPerRun(20, func() {
			AddRowSiLU(pre, out, a, g[:cols], cols)
			SiLUGrad(out, g, pre)
			SumRows(out[:cols], a, cols)
			AdamStep(pre, g, m, v, &p)
		})
		require.Zero(t, allocs)
	})
}

// BenchmarkParallel times the split element-wise kernels on one hidden layer
// at batch 1024 ([1024, 256]) with 1 and 2 threads.
func BenchmarkParallel(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 1))
	const cols = 256
	n := 1024 * cols
	a, g, pre, out := randSlice(rnd, n), randSlice(rnd, n), make([]float64, n), make([]float64, n)
	ops := []struct {
		name string
		f    func()
	}{
		{"AddRowSiLU", func() { AddRowSiLU(pre, out, a, g[:cols], cols) }},
		{"SiLUGrad", func() { SiLUGrad(out, g, a) }},
		{"SumRows", func() { SumRows(out[:cols], a, cols) }},
	}
	for _, o := range ops {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", o.name, threads), func(b *testing.B) {
				withThreads(threads, func() {
					b.ReportAllocs()
					for b.Loop() {
						o.f()
					}
				})
			})
		}
	}
}

// TestTasks_RunsEachOnce: Tasks calls f once for every index, with 1, 2 and
// 3 threads, for no, one and many tasks; a task gets the packing buffers of
// one of the call's runners (nil when the tasks run serially); a GemmWith that a task
// calls with them gives Gemm's bits; a Tasks nested in a parallel one runs
// all its tasks serially, with nil buffers; and a call allocates nothing.
func TestTasks_RunsEachOnce(t *testing.T) {
	rnd := rand.New(rand.NewPCG(85, 86))
	const m, k, n = 96, 64, 160 // 983,040 multiply-adds a product
	a, b := randSlice(rnd, m*k), randSlice(rnd, k*n)
	want := make([]float64, m*n)
	Gemm(false, false, m, n, k, 1, a, b, 0, want)
	for threads := 1; threads <= 3; threads++ {
		for _, tasks := range []int{0, 1, 2, 5, 17} {
			var calls [17]atomic.Int32
			var inner, innerNil atomic.Int32
			got := make([][]float64, tasks)
			scratch := make([]*Scratch, tasks)
			withThreads(threads, func() {
				Tasks(tasks, func(i int, s *Scratch) {
					calls[i].Add(1)
					scratch[i] = s
					got[i] = make([]float64, m*n)
					GemmWith(s, false, false, m, n, k, 1, a, b, 0, got[i])
					Tasks(3, func(_ int, s *Scratch) {
						inner.Add(1)
						if s == nil {
							innerNil.Add(1)
						}
					})
				})
			})
			where := fmt.Sprintf("%d threads, %d tasks", threads, tasks)
			for i := range calls {
				want := int32(0)
				if i < tasks {
					want = 1
				}
				require.Equal(t, want, calls[i].Load(), "%s: calls of task %d", where, i)
			}
			require.Equal(t, int32(3*tasks), inner.Load(), "%s: nested tasks", where)
			runners := min(threads, tasks)
			if runners >= 2 { // inside a parallel call, a nested one is serial
				require.Equal(t, int32(3*tasks), innerNil.Load(), "%s: nested tasks' buffers", where)
			}
			for i := range got {
				require.NoError(t, identical(got[i], want), "%s: task %d's product", where, i)
				if runners < 2 {
					require.Nil(t, scratch[i], "%s: task %d's buffers", where, i)
				} else {
					require.True(t, isRunnerScratch(scratch[i], runners), "%s: task %d's buffers are no runner's", where, i)
				}
			}
		}
	}
	if raceEnabled {
		return // the race detector allocates
	}
	var sum [4]float64
	f := func(i int, _ *Scratch) { sum[i] += float64(i) }
	withThreads(2, func() {
		require.Zero(t, testing.AllocsPerRun(20, func() { Tasks(4, f) }))
	})
}

// isRunnerScratch reports whether s is one of the first n runners' buffers.
func isRunnerScratch(s *Scratch, n int) bool {
	for r := range n {
		if s == &runnerScratch[r] {
			return true
		}
	}
	return false
}

// TestTasks_Steals: a runner that has run out of its own tasks takes the
// tasks another runner has not started. Every task runner 1 starts waits
// until all the others are done, so runner 1 runs at most one task and
// runner 0 must run every other, runner 1's own included (without stealing
// runner 0 stops after its own, and the wait times out).
func TestTasks_Steals(t *testing.T) {
	withThreads(2, func() {
		const n = 7
		var ran [n]*Scratch
		var done atomic.Int32
		timedOut := false
		Tasks(n, func(i int, s *Scratch) {
			ran[i] = s
			if s == &runnerScratch[1] {
				start := time.Now()
				for done.Load() < n-1 {
					if time.Since(start) > 2*time.Second {
						timedOut = true
						return
					}
					time.Sleep(50 * time.Microsecond)
				}
				return
			}
			done.Add(1)
		})
		require.False(t, timedOut, "runner 0 did not take runner 1's tasks")
		on1 := 0
		for i, s := range ran {
			require.True(t, isRunnerScratch(s, 2), "task %d ran on no runner", i)
			if s == &runnerScratch[1] {
				on1++
			}
		}
		require.LessOrEqual(t, on1, 1, "tasks on runner 1")
	})
}

// TestJoin_BlocksAfterSpin: a task that outlasts gemmSpin makes the caller
// block at the join instead of polling; the call still waits for it, and the
// calls after it, which join by polling, see every task done, and the count
// of outstanding jobs settles at 0. Under -race this also checks that both
// ways of joining order the tasks' writes before the caller's reads.
func TestJoin_BlocksAfterSpin(t *testing.T) {
	withThreads(2, func() {
		for _, d := range []time.Duration{0, 3 * gemmSpin, 0, 0} {
			var out [2]int
			Tasks(2, func(i int, _ *Scratch) {
				if i == 1 {
					time.Sleep(d)
				}
				out[i] = i + 1
			})
			require.Equal(t, [2]int{1, 2}, out, "a task of %v", d)
		}
		// A blocked join returns once the worker has called Done, perhaps
		// just before its pending.Add(−1): the count must settle at 0.
		require.Eventually(t, func() bool { return pending.Load() == 0 }, time.Second, time.Millisecond, "jobs outstanding")
	})
}

// TestAddAll: AddAll is the loop of its doc comment, bit for bit, with 1, 2
// and 3 threads, at lengths below, at and above its threshold; adding the
// same sources in the opposite order, the control, gives other bits.
func TestAddAll(t *testing.T) {
	rnd := rand.New(rand.NewPCG(87, 88))
	for _, n := range []int{1, 100, parallelMinAdam - 1, parallelMinAdam, 3*parallelMinAdam + 5} {
		dst0 := randSlice(rnd, n)
		srcs := [][]float64{randSlice(rnd, n), randSlice(rnd, n), randSlice(rnd, n)}
		for _, s := range srcs {
			for i := range s {
				s[i] *= 1e3 // magnitudes that make the order matter
			}
		}
		want := append([]float64(nil), dst0...)
		for i := range want {
			for _, s := range srcs {
				want[i] += s[i]
			}
		}
		for threads := 1; threads <= 3; threads++ {
			got := append([]float64(nil), dst0...)
			withThreads(threads, func() { AddAll(got, srcs) })
			require.NoError(t, identical(got, want), "n=%d, %d threads", n, threads)
		}
		if n >= 100 {
			rev := append([]float64(nil), dst0...)
			AddAll(rev, [][]float64{srcs[2], srcs[1], srcs[0]})
			require.Error(t, identical(rev, want), "n=%d: the reversed order must differ somewhere", n)
		}
	}
	if raceEnabled {
		return
	}
	dst := make([]float64, 4*parallelMinAdam)
	srcs := [][]float64{make([]float64, len(dst)), make([]float64, len(dst))}
	withThreads(2, func() {
		require.Zero(t, testing.AllocsPerRun(20, func() { AddAll(dst, srcs) }))
	})
}

// BenchmarkTasks times one fork and join of Tasks with two trivial tasks on
// 2 threads: the hand-off to a polling worker and back.
func BenchmarkTasks(b *testing.B) {
	var sink [2]int
	f := func(i int, _ *Scratch) { sink[i]++ }
	withThreads(2, func() {
		Tasks(2, f)
		for b.Loop() {
			Tasks(2, f)
		}
	})
}
