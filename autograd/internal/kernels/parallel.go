package kernels

import (
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

/*
Parallel element-wise kernels.

With Threads() = t > 1, AdamStep, AddAll, AddRowSiLU, SiLUGrad, Tanh,
TanhGrad and SumRows split work of at least parallelMin elements
(parallelMinAdam for AdamStep and AddAll) into up to t ranges, range j run by
runner j (gemm_parallel.go's "Runners": the caller is runner 0), under the
same lock as a parallel Gemm. AddAll and AdamStep split a slice of n
elements at the same bounds, so the runner that sums a range of a gradient
is the one that then applies Adam to it. Each element is
computed by the same operations whatever the split: the maps are
element-wise, AddRowSiLU is split at row boundaries so each row still sees
the whole bias, and SumRows — a reduction over rows — is split by columns,
each column summed over all rows in the same order. Results are therefore
bit-identical for every thread count (TestParallel_BitIdentical).

The job is copied into parJob, which the lock protects, and workers receive
a pointer to it, so a call allocates nothing.

Tasks hands whole tasks (package fused's chunks of a training batch) to the
same runners under the same lock, task i to runner i mod t unless another
runner takes it first (see Tasks): one fork and one join for work that would
otherwise be a fork and a join per kernel call.
*/

// parallelMin is the smallest number of elements an element-wise kernel
// splits across threads: about 10 µs of SiLU or Adam work, against a
// hand-off of 1–2 µs to a polling worker.
const parallelMin = 1 << 14

// parallelMinAdam is the threshold of AdamStep (it does more work per
// element) and of AddAll (whose ranges must be AdamStep's).
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
	opAddAll                     // AddAll(dst, srcs)
)

// An ewJob is an element-wise kernel call; run computes elements [lo, hi)
// (columns [lo, hi) for opSumRows).
type ewJob struct {
	op           ewOp
	dst, a, b, c []float64
	cols         int
	adam         AdamParams
	srcs         [][]float64
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
	case opAddAll:
		addAllRange(j.dst, j.srcs, lo, hi)
	default:
		panic("kernels: unknown ewJob")
	}
}

// parJob is the job of the running parallel element-wise call (parMu).
var parJob ewJob

// runParallel runs j over [0, n) in up to Threads() ranges whose bounds are
// multiples of align, range r on runner r, and reports true; it reports
// false without running anything when another parallel call holds the
// workers or n is too short for two ranges. The bounds depend on n, align
// and Threads() only.
func runParallel(j *ewJob, n, align int) bool {
	t := min(Threads(), n/align)
	if t < 2 || !parMu.TryLock() {
		return false
	}
	defer parMu.Unlock()
	parJob = *j
	size := (n + t - 1) / t
	size = (size + align - 1) / align * align
	for r, lo := 1, size; lo < n; r, lo = r+1, lo+size {
		fork(r, gemmJob{ew: &parJob, i0: lo, i1: min(lo+size, n)})
	}
	parJob.run(0, min(size, n))
	join()
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

// addAllRange is AddAll on elements [lo, hi).
func addAllRange(dst []float64, srcs [][]float64, lo, hi int) {
	d := dst[lo:hi]
	for _, s := range srcs {
		floats.Add(d, s[lo:hi])
	}
}

// AddAll adds srcs to dst in order, element by element:
//
//	for i := range dst {
//		for _, s := range srcs {
//			dst[i] += s[i]
//		}
//	}
//
// (package fused sums the chunks' gradient shares with it). With Threads()
// > 1, a slice of at least 2¹³ elements is split into ranges at the bounds
// AdamStep uses for the same length, range r summed by runner r; each
// element is summed in the same order whatever the split, so the results
// are bit-identical for every thread count (TestAddAll). Every src must be
// at least as long as dst.
func AddAll(dst []float64, srcs [][]float64) {
	n := len(dst)
	for _, s := range srcs {
		_ = s[:n]
	}
	if n >= parallelMinAdam && Threads() > 1 && runParallel(&ewJob{op: opAddAll, dst: dst, srcs: srcs}, n, 8) {
		return
	}
	addAllRange(dst, srcs, 0, n)
}

// A taskJob is the running Tasks call: f(i, s) for i < n over t runners.
// Runner r's own tasks are r, r + t, r + 2t, …; taken[r] counts those
// claimed so far, so the next is r + taken[r]·t.
type taskJob struct {
	f     func(i int, s *Scratch)
	n, t  int
	taken [maxThreads]atomic.Int64
}

// run is runner r's share: its own tasks in order, then, in turn from
// runners r+1, r+2, …, the tasks other runners have not started yet, so a
// runner whose core was taken away (a virtual machine's vCPU descheduled by
// its host for milliseconds) delays the call by the task it is in, not by
// all of its tasks. Each task is claimed once, by an atomic increment.
func (j *taskJob) run(r int, s *Scratch) {
	for d := range j.t {
		v := (r + d) % j.t
		for {
			i := v + int(j.taken[v].Add(1)-1)*j.t
			if i >= j.n {
				break
			}
			j.f(i, s)
		}
	}
}

// parTask is the running Tasks call (parMu).
var parTask taskJob

// Tasks calls f(0, s), …, f(n−1, s) and returns when all have returned.
// With Threads() = t > 1 and n > 1 the calls are spread over min(t, n)
// runners (gemm_parallel.go) in one fork and one join: task i runs on
// runner i mod t, tasks of one runner in increasing order, unless that
// runner has not started it when another has run out of tasks, which then
// takes it; s is the packing buffers of the runner that runs the task, for
// GemmWith. Otherwise, and when another
// parallel call holds the workers, the tasks run on the calling goroutine
// in the order 0, 1, … with s nil. Which core runs task i depends on the
// operating system, so a caller that wants bit-identical results for every
// thread count gives each task fixed work and outputs no other task
// touches (the data-parallel training step of package fused); the
// fixed assignment lets a task repeated from call to call find its data in
// the same core's cache. The kernels that a task calls find the workers
// taken and run on the task's goroutine; their results do not depend on
// that. f must not call Tasks expecting parallelism (a nested call runs
// serially). A call allocates nothing (TestTasks_RunsEachOnce).
func Tasks(n int, f func(i int, s *Scratch)) {
	t := min(Threads(), n)
	if t < 2 || !parMu.TryLock() {
		for i := range n {
			f(i, nil)
		}
		return
	}
	defer parMu.Unlock()
	parTask.f, parTask.n, parTask.t = f, n, t
	for r := range t {
		parTask.taken[r].Store(0)
	}
	for r := 1; r < t; r++ {
		fork(r, gemmJob{task: &parTask})
	}
	parTask.run(0, &runnerScratch[0])
	join()
	parTask.f = nil // drop the caller's closure
}
