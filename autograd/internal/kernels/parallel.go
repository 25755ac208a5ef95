package kernels

import "gonum.org/v1/gonum/floats"

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
