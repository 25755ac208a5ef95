package autograd

import (
	"time"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

// Kernels names the float64 kernels this build runs on this machine, one
// line for reports (`flowmatch bench` prints it beside the CPU): the GEMM
// micro-kernel and its blocking (and whether that was tuned for this CPU
// model or derived from its caches), the activation kernels, the architecture
// and build tag, and the thread count, e.g.
//
//	gemm AVX-512 assembly 16x8 (mc 128, kc 512, nc 4096; tuned for AuthenticAMD family 26 model 2); activations AVX-512 assembly, 8 lanes; amd64; threads 1
//
// They are chosen once, at program start, from the CPU's features
// (TestKernels_NamesGemm checks the line's form).
func Kernels() string { return kernels.Describe() }

// A GemmTrial is one candidate measured by TuneGemm: a GEMM micro-kernel
// (by the name Kernels prints) and a cache blocking (mc, kc, nc: Goto & van
// de Geijn 2008, ACM TOMS 34(3)), with GFLOP/s per size (2n³ flops over the
// fastest round's time) and their geometric mean as Score (TestTuneGemm).
type GemmTrial = kernels.GemmTrial

// TuneGemm measures every GEMM micro-kernel this machine runs with the
// blocking derived from its caches (the analytical model of Low et al. 2016,
// ACM TOMS 43(2)) and with other depths kc, on square products of each size,
// one thread, over rounds rounds that alternate the candidates, each run for
// at least trial per size; it returns the trials and the index of the best.
// `flowmatch bench -what gemm -tune` prints them and TunedRow(best)
// (TestTuneGemm).
func TuneGemm(sizes []int, trial time.Duration, rounds int) ([]GemmTrial, int) {
	return kernels.TuneGemm(sizes, trial, rounds)
}

// TunedRow returns trial as the Go line to add to the table of tuned
// blockings in autograd/internal/kernels/gemm_plan.go, keyed by this
// processor's vendor, family and model (TestTuneGemm parses it back).
func TunedRow(trial GemmTrial, sizes []int) string { return kernels.TunedRow(trial, sizes) }

// TimeGemm times the GEMM this machine runs (its kernel and blocking, the
// threads set by nn.SetThreads) on square n×n products for at least trial,
// and returns 2n³ flops over the time taken, in 10⁹ per second: of the
// calling thread's CPU time when cpuTime is true (Linux, one thread), of
// wall-clock time otherwise. `flowmatch bench -what gemm` prints it
// (TestTimeGemm).
func TimeGemm(n int, trial time.Duration) (gflops float64, cpuTime bool) {
	return kernels.TimeGemm(n, trial)
}
