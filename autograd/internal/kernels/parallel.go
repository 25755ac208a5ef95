package kernels

import (
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

/*
Parallel element-wise kernels.

With Threads() = t > 1, AdamStep, AddRowSiLU, SiLUGrad, Tanh, TanhGrad and
SumRows split work of at least parallelMin elements into up to t ranges, run
by the calling goroutine (the first range) and the Gemm workers
(gemm_parallel.go), under the same lock as a parallel Gemm. Each element is
computed by the same operations whatever the split: the maps are
element-wise, AddRowSiLU is split at row boundaries so each row still sees
the whole bias, and SumRows — a reduction over rows — is split by columns,
each column summed over all rows in the same order. Results are therefore
bit-identical for every thread count (TestParallel_BitIdentical).

The job is copied into parJob, which the lock protects, and workers receive
a pointer to it, so a call allocates nothing.

Tasks hands whole tasks (package fused's chunks of a training batch) to the
same workers under the same lock: one fork and one join for work that would
otherwise be a fork and a join per kernel call.
*/

// parallelMin is the smallest number of elements an element-wise kernel
// splits across threads: about 10 µs of SiLU or Adam work, against a
// hand-off of 1–2 µs to a polling worker.
const parallelMin = 1 << 14

// parallelMinAdam is AdamStep's threshold (it does more work per element).
const parallelMinAdam = 1 << 13

// An ewOp names the kernel an ewJob runs.
type ewOp uint8

const (
	opAdam       ewOp = iota + 1 // AdamStep(dst, a, b, c, adam)
	opAddRowSiLU                 // AddRowSiLU(dst, b, a, c, cols)
	opSiLUGrad                   // SiLUGrad(dst, a, b)
	opTanh                       // Tanh(dst, a)
	opTanhGrad                   // TanhGrad(dst, a, b)
	opSumRows                    // SumRows(dst, a, cols), range over columns
)

// An ewJob is an element-wise kernel call; run computes elements [lo, hi)
// (columns [lo, hi) for opSumRows).
type ewJob struct {
	op           ewOp
	dst, a, b, c []float64
	cols         int
	adam         AdamParams
}

func (j *ewJob) run(lo, hi int) {
	switch j.op {
	case opAdam:
		adamKernel(j.dst[lo:hi], j.a[lo:hi], j.b[lo:hi], j.c[lo:hi], &j.adam)
	case opAddRowSiLU:
		addRowSiLUKernel(j.dst[lo:hi], j.b[lo:hi], j.a[lo:hi], j.c, j.cols)
	case opSiLUGrad:
		siluGradKernel(j.dst[lo:hi], j.a[lo:hi], j.b[lo:hi])
	case opTanh:
		tanhKernel(j.dst[lo:hi], j.a[lo:hi])
	case opTanhGrad:
		tanhGradKernel(j.dst[lo:hi], j.a[lo:hi], j.b[lo:hi])
	case opSumRows:
		sumRowsCols(j.dst, j.a, j.cols, lo, hi)
	default:
		panic("kernels: unknown ewJob")
	}
}

// parJob is the job of the running parallel element-wise call (parMu).
var parJob ewJob

// runParallel runs j over [0, n) in up to Threads() ranges whose bounds are
// multiples of align, and reports true; it reports false without running
// anything when another parallel call holds the workers or n is too short
// for two ranges.
func runParallel(j *ewJob, n, align int) bool {
	t := min(Threads(), n/align)
	if t < 2 || !parMu.TryLock() {
		return false
	}
	defer parMu.Unlock()
	parJob = *j
	size := (n + t - 1) / t
	size = (size + align - 1) / align * align
	for lo := size; lo < n; lo += size {
		parWG.Add(1)
		gemmJobs <- gemmJob{ew: &parJob, i0: lo, i1: min(lo+size, n)}
	}
	parJob.run(0, min(size, n))
	parWG.Wait()
	parJob = ewJob{} // drop the references to the caller's slices
	return true
}

// sumRowsCols sets dst[lo:hi] to the sums over rows of columns [lo, hi) of
// the [len(a)/cols, cols] matrix a, adding the rows in order, as SumRows
// does for all columns.
func sumRowsCols(dst, a []float64, cols, lo, hi int) {
	d := dst[lo:hi]
	clear(d)
	for i := 0; i < len(a); i += cols {
		floats.Add(d, a[i+lo:i+hi])
	}
}

// A taskJob is the running Tasks call: f(i) for i < n, handed out in order
// by next.
type taskJob struct {
	f    func(i int)
	n    int
	next atomic.Int64
}

// run calls f for the next unclaimed task until none is left.
func (j *taskJob) run() {
	for {
		i := int(j.next.Add(1)) - 1
		if i >= j.n {
			return
		}
		j.f(i)
	}
}

// parTask is the running Tasks call (parMu).
var parTask taskJob

// Tasks calls f(0), …, f(n−1) and returns when all have returned. With
// Threads() = t > 1 and n > 1 the calls are spread over up to t goroutines
// — the caller and the workers of SetThreads, each taking the next task
// when it is done with one — in one fork and one join; otherwise, and when
// another parallel call holds the workers, they run on the calling
// goroutine in the order 0, 1, …. Which goroutine runs task i depends on
// timing, so a caller that wants bit-identical results for every thread
// count gives each task fixed work and outputs no other task touches (the
// data-parallel training step of package fused). The kernels that a task
// calls find the workers taken and run on the task's goroutine; their
// results do not depend on that. f must not call Tasks expecting
// parallelism (a nested call runs serially). A call allocates nothing
// (TestTasks_RunsEachOnce).
func Tasks(n int, f func(i int)) {
	t := min(Threads(), n)
	if t < 2 || !parMu.TryLock() {
		for i := range n {
			f(i)
		}
		return
	}
	defer parMu.Unlock()
	parTask.f, parTask.n = f, n
	parTask.next.Store(0)
	for range t - 1 {
		parWG.Add(1)
		gemmJobs <- gemmJob{task: &parTask}
	}
	parTask.run()
	parWG.Wait()
	parTask.f = nil // drop the caller's closure
}
