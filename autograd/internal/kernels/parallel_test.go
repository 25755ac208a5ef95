package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

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
// 3 threads, for no, one and many tasks; a Gemm that a task calls gives the
// bits it gives outside Tasks (it runs on the task's goroutine), a nested
// Tasks runs all its tasks, and a call allocates nothing.
func TestTasks_RunsEachOnce(t *testing.T) {
	rnd := rand.New(rand.NewPCG(85, 86))
	const m, k, n = 96, 64, 160 // 983,040 multiply-adds a product
	a, b := randSlice(rnd, m*k), randSlice(rnd, k*n)
	want := make([]float64, m*n)
	Gemm(false, false, m, n, k, 1, a, b, 0, want)
	for threads := 1; threads <= 3; threads++ {
		for _, tasks := range []int{0, 1, 2, 5, 17} {
			var calls [17]atomic.Int32
			var inner atomic.Int32
			got := make([][]float64, tasks)
			withThreads(threads, func() {
				Tasks(tasks, func(i int) {
					calls[i].Add(1)
					got[i] = make([]float64, m*n)
					Gemm(false, false, m, n, k, 1, a, b, 0, got[i])
					Tasks(3, func(int) { inner.Add(1) })
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
			for i := range got {
				require.NoError(t, identical(got[i], want), "%s: task %d's product", where, i)
			}
		}
	}
	if raceEnabled {
		return // the race detector allocates
	}
	var sum [4]float64
	f := func(i int) { sum[i] += float64(i) }
	withThreads(2, func() {
		require.Zero(t, testing.AllocsPerRun(20, func() { Tasks(4, f) }))
	})
}

// BenchmarkTasks times one fork and join of Tasks with two trivial tasks on
// 2 threads: the hand-off to a polling worker and back.
func BenchmarkTasks(b *testing.B) {
	var sink [2]int
	f := func(i int) { sink[i]++ }
	withThreads(2, func() {
		Tasks(2, f)
		for b.Loop() {
			Tasks(2, f)
		}
	})
}
