package kernels

import (
	"sync"
	"sync/atomic"
)

/*
Parallel GEMM.

With Threads() = t > 1, a Gemm of at least gemmParallelMin multiply-adds
splits the rows of C into up to t bands whose first rows are multiples of
gemmRowAlign = lcm(mr, 4): a multiple of the micro-kernel's mr and of the
4-row blocks of gemmDot. Each band is computed by gemmRows with its own
packing buffers — band 0 by the calling goroutine, the others by worker
goroutines started by SetThreads — and every band sees the same row tiles,
edge tiles and k blocks as the one-thread computation, so every element of C
is formed by the same operations in the same order: results are
bit-identical for any number of threads (TestGemm_ThreadsBitIdentical).
B is packed by every band (a few per cent of the work at the sizes where
bands pay).

One parallel Gemm runs at a time; a Gemm that finds another one running
computes on its own goroutine instead of waiting. Jobs are sent to the
workers by value over a buffered channel and awaited with a WaitGroup, so a
steady-state call allocates nothing (TestGemm_ThreadsNoAllocs).
*/

const (
	// gemmParallelMin is the smallest m·n·k that Gemm splits across threads:
	// below it, waking a worker (a few µs) costs more than half the product
	// saves. Measured on 2 Zen 4 cores: 2 threads gain ≈ 1.3× at 128³ (2²¹)
	// and lose at 64³.
	gemmParallelMin = 1 << 21

	maxThreads = 64
)

var (
	threads atomic.Int32 // Threads() − 1, so that the zero value means 1

	workersMu sync.Mutex
	workers   int // worker goroutines started

	gemmJobs = make(chan gemmJob, maxThreads)
	parMu    sync.Mutex     // held by the running parallel Gemm
	parWG    sync.WaitGroup // its outstanding bands
)

// SetThreads sets the number of goroutines Gemm may use, clamped to
// [1, 64]; the default is 1. It starts the worker goroutines the first time
// they are needed; they live as long as the program, idle when unused.
// Results do not depend on the setting: Gemm returns bit-identical results
// for every thread count. Running more threads than cores only slows Gemm.
func SetThreads(n int) {
	n = max(1, min(n, maxThreads))
	workersMu.Lock()
	for ; workers < n-1; workers++ {
		go gemmWorker()
	}
	workersMu.Unlock()
	threads.Store(int32(n - 1))
}

// Threads returns the number of goroutines Gemm may use (see SetThreads).
func Threads() int { return int(threads.Load()) + 1 }

// A gemmJob is one band of rows [i0, i1) of a Gemm.
type gemmJob struct {
	transA, transB  bool
	m, n, k, i0, i1 int
	alpha, beta     float64
	a, b, c         []float64
}

func gemmWorker() {
	s := new(gemmScratch)
	for j := range gemmJobs {
		gemmRows(s, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.b, j.beta, j.c, j.i0, j.i1)
		parWG.Done()
	}
}

// gemmRowAlign returns the row multiple at which C may be split without
// changing any result.
func gemmRowAlign() int {
	mr := gemmKernel.mr
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
	align := gemmRowAlign()
	t := min(Threads(), m/align)
	if t < 2 || !parMu.TryLock() {
		return false
	}
	defer parMu.Unlock()
	// Bands of `rows` rows, a multiple of align; the last may be shorter.
	rows := (m + t - 1) / t
	rows = (rows + align - 1) / align * align
	for i0 := rows; i0 < m; i0 += rows {
		parWG.Add(1)
		gemmJobs <- gemmJob{transA, transB, m, n, k, i0, min(i0+rows, m), alpha, beta, a, b, c}
	}
	s := getScratch()
	gemmRows(s, transA, transB, m, n, k, alpha, a, b, beta, c, 0, min(rows, m))
	putScratch(s)
	parWG.Wait()
	return true
}
