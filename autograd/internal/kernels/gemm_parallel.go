package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

/*
Parallel GEMM.

With Threads() = t > 1, a Gemm of at least gemmParallelMin multiply-adds
splits the rows of C into up to t bands whose first rows are multiples of
gemmRowAlign = lcm(mr, 4): a multiple of the micro-kernel's mr (so that no
band adds edge tiles) and of the 4-row blocks of gemmDot. Each band is
computed by gemmRows with its own packing buffers — band 0 by the calling
goroutine, the others by worker goroutines started by SetThreads — and
every band sees the same k blocks as the one-thread computation, and edge
tiles round as full ones (gemm_plan.go), so every element of C is formed by
the same operations in the same order: results are bit-identical for any
number of threads (TestGemm_ThreadsBitIdentical).
B is packed by every band (a few per cent of the work at the sizes where
bands pay).

One parallel Gemm runs at a time; a Gemm that finds another one running
computes on its own goroutine instead of waiting. The same workers and lock
serve the element-wise kernels and Tasks of parallel.go.

Runners. A parallel call runs on t runners: runner 0 is the calling
goroutine, runner r ≥ 1 is worker goroutine r, started by SetThreads, which
receives its jobs on a channel of its own and owns a set of packing buffers.
Every split is static: band, range or task j of a call goes to runner j
(tasks: runner j mod t, unless a runner that has run out of tasks takes one
not yet started). So when a training step repeats the same calls —
a chunk of the batch's forward and backward passes, the sum of a gradient's
range, the Adam update of that range — the same runner, hence mostly the
same core, touches the same memory every time, and cache lines do not
migrate between cores from call to call (docs/PERFORMANCE.md, "Threads",
measures what that saves).
Jobs are sent by value over buffered channels and awaited with a
WaitGroup, so a steady-state call allocates nothing
(TestGemm_ThreadsNoAllocs). A worker polls its channel for gemmSpin before
it blocks.

Measured on 2 Zen 4 vCPUs with no other load (BenchmarkMatMulThreads,
BenchmarkGemmTraining1024Threads; when other processes share the cores the
timings swing widely and 2 threads can lose):

	product                      1 thread   2 threads   speedup
	128³                           83 µs      54 µs      1.56
	256³                          606 µs     330 µs      1.83
	[1024,256]·[256,256]  NN      2.35 ms    1.19 ms     1.98
	[1024,256]·[256,256]ᵀ NT      2.32 ms    1.18 ms     1.97
	[1024,256]ᵀ·[1024,256] TN     2.81 ms    1.36 ms     2.06 (1 thread: 2.4–2.8 ms)
	1024³                          41 ms      21 ms      1.98
*/

const (
	// gemmParallelMin is the smallest m·n·k that Gemm splits across
	// threads, 128³, where 2 threads gain 1.56× (see above); below it the
	// hand-off and the repeated packing of B take a growing share (64³
	// gains nothing).
	gemmParallelMin = 1 << 21

	maxThreads = 64
)

var (
	threads atomic.Int32 // Threads() − 1, so that the zero value means 1

	workersMu sync.Mutex
	workers   int // worker goroutines started

	// workerJobs[r−1] hands runner r's jobs to its worker (made before the
	// worker starts, and before Threads() can exceed r).
	workerJobs [maxThreads - 1]chan gemmJob
	// runnerScratch[r] is runner r's packing buffers: the worker's own, and
	// for runner 0 the buffers of whichever goroutine holds parMu.
	runnerScratch [maxThreads]Scratch

	parMu   sync.Mutex     // held by the running parallel call
	parWG   sync.WaitGroup // its outstanding jobs, for a caller that blocks
	pending atomic.Int32   // the same count, for a caller that polls (join)
)

// SetThreads sets the number of goroutines Gemm and the element-wise
// kernels of parallel.go may use, clamped to [1, 64]; the default is 1. It
// starts the worker goroutines the first time they are needed; they live as
// long as the program, polling for work for 1 ms (gemmSpin) after each
// parallel call and blocked otherwise. Results do not depend on the setting: Gemm returns
// bit-identical results for every thread count, and so do the element-wise
// kernels. Running more threads than free cores only slows them.
func SetThreads(n int) {
	n = max(1, min(n, maxThreads))
	workersMu.Lock()
	for ; workers < n-1; workers++ {
		workerJobs[workers] = make(chan gemmJob, 1)
		go gemmWorker(workers + 1)
	}
	workersMu.Unlock()
	threads.Store(int32(n - 1))
}

// Threads returns the number of goroutines the kernels may use (see SetThreads).
func Threads() int { return int(threads.Load()) + 1 }

// A gemmJob is one band of rows [i0, i1) of a Gemm or, when ew is not nil,
// the range [i0, i1) of an element-wise kernel, or, when task is not nil,
// the receiving runner's tasks of a Tasks call (parallel.go).
type gemmJob struct {
	plan            *gemmPlan
	transA, transB  bool
	m, n, k, i0, i1 int
	alpha, beta     float64
	a, b, c         []float64
	ew              *ewJob
	task            *taskJob
}

// gemmSpin is how long a worker polls for the next job, and a caller for
// its workers (join), before it blocks: waking a blocked worker took
// 190–220 µs on 2 vCPUs of a virtual machine (a chunk's start in the
// training step, measured), which would cancel the gain on calls issued
// back to back. The serial stretch of a batch-1024 training step between
// its parallel calls (drawing the batch, zeroing the gradients) is
// 150–230 µs there, so 1 ms keeps a worker polling through it; at
// 200 µs it sometimes blocked (docs/PERFORMANCE.md, "Threads").
const gemmSpin = time.Millisecond

// gemmWorker is runner r's goroutine.
func gemmWorker(r int) {
	s := &runnerScratch[r]
	jobs := workerJobs[r-1]
	for {
		j, ok := pollJob(jobs)
		if !ok {
			j = <-jobs
		}
		switch {
		case j.task != nil:
			j.task.run(r, s)
		case j.ew != nil:
			j.ew.run(j.i0, j.i1)
		default:
			gemmRows(j.plan, s, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.b, j.beta, j.c, j.i0, j.i1)
		}
		parWG.Done()
		pending.Add(-1) // after Done: a join that sees 0 finds parWG at 0
	}
}

// fork sends job j to runner r's worker (r ≥ 1), counting it.
func fork(r int, j gemmJob) {
	parWG.Add(1)
	pending.Add(1)
	workerJobs[r-1] <- j
}

// join waits until every forked job is done. The caller polls for up to
// gemmSpin before it blocks, as the workers do: a caller that blocked
// would be woken by the last worker onto that worker's core (Go's
// scheduler runs a goroutine it wakes next on the waker's processor),
// the two goroutines would swap cores, and each runner's memory would be
// in the other core's cache at the next call. It polls without yielding:
// a caller locked to its OS thread (runtime.LockOSThread) that yielded
// would hand its processor to another thread through the operating
// system at every yield. When the goroutines of the call outnumber
// GOMAXPROCS, polling would hold a processor a worker needs, and the
// caller blocks at once.
func join() {
	if runtime.GOMAXPROCS(0) < Threads() {
		parWG.Wait()
		return
	}
	start := time.Now()
	for i := 0; pending.Load() != 0; i++ {
		if i%64 == 63 && time.Since(start) > gemmSpin {
			parWG.Wait()
			return
		}
	}
}

// pollJob polls jobs for up to gemmSpin.
func pollJob(jobs chan gemmJob) (gemmJob, bool) {
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case j := <-jobs:
			return j, true
		default:
		}
		if i%64 == 63 {
			if time.Since(start) > gemmSpin {
				return gemmJob{}, false
			}
			runtime.Gosched()
		}
	}
}

// gemmRowAlign returns the row multiple at which plan p splits C.
func gemmRowAlign(p *gemmPlan) int {
	mr := p.kn.mr
	a, b := mr, 4
	for b != 0 {
		a, b = b, a%b
	}
	return mr * 4 / a
}

// gemmParallel computes Gemm in row bands over Threads() goroutines and
// reports true, or reports false without touching C when another parallel
// Gemm is running or C has too few rows for two bands.
func gemmParallel(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) bool {
	return gemmParallelPlan(gemmDefault, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// gemmParallelPlan is gemmParallel with plan p.
func gemmParallelPlan(p *gemmPlan, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) bool {
	align := gemmRowAlign(p)
	t := min(Threads(), m/align)
	if t < 2 { // bands at multiples of 4 only: some edge tiles more, same bits
		align = 4
		t = min(Threads(), m/align)
	}
	if t < 2 || !parMu.TryLock() {
		return false
	}
	defer parMu.Unlock()
	// Bands of `rows` rows, a multiple of align; the last may be shorter.
	rows := (m + t - 1) / t
	rows = (rows + align - 1) / align * align
	for r, i0 := 1, rows; i0 < m; r, i0 = r+1, i0+rows {
		fork(r, gemmJob{p, transA, transB, m, n, k, i0, min(i0+rows, m), alpha, beta, a, b, c, nil, nil})
	}
	gemmRows(p, &runnerScratch[0], transA, transB, m, n, k, alpha, a, b, beta, c, 0, min(rows, m))
	join()
	return true
}
