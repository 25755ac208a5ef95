package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
	"gonum.org/v1/gonum/mat"
)

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
}

func benchGemm(b *testing.B, f func(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64), transA, transB bool, m, n, k int) {
	rnd := rand.New(rand.NewPCG(1, 1))
	x, y, c := randSlice(rnd, m*k), randSlice(rnd, k*n), make([]float64, m*n)
	b.ReportAllocs()
	for b.Loop() {
		f(transA, transB, m, n, k, 1, x, y, 0, c)
	}
	reportGFLOPS(b, m, n, k)
}

func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{64, 128, 256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchGemm(b, Gemm, false, false, n, n, n) })
	}
}

func BenchmarkMatMulNaive(b *testing.B) {
	b.Run("n=256", func(b *testing.B) { benchGemm(b, gemmRef, false, false, 256, 256, 256) })
}

func BenchmarkMatMulGonum(b *testing.B) {
	b.Run("n=256", func(b *testing.B) {
		const n = 256
		rnd := rand.New(rand.NewPCG(1, 1))
		x := mat.NewDense(n, n, randSlice(rnd, n*n))
		y := mat.NewDense(n, n, randSlice(rnd, n*n))
		c := mat.NewDense(n, n, nil)
		b.ReportAllocs()
		for b.Loop() {
			c.Mul(x, y)
		}
		reportGFLOPS(b, n, n, n)
	})
}

// BenchmarkGemmTraining runs the products of a training step of an MLP with
// batch 256, widths 3 → 256 → 256 → 2: forward x·W (NN), and backward
// g·Wᵀ (NT) and xᵀ·g (TN). Names give the operands' stored shapes.
func BenchmarkGemmTraining(b *testing.B) {
	cases := []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"NN/[256,3]x[3,256]", false, false, 256, 256, 3},
		{"NN/[256,256]x[256,256]", false, false, 256, 256, 256},
		{"NN/[256,256]x[256,2]", false, false, 256, 2, 256},
		{"NT/[256,256]x[256,256]T", false, true, 256, 256, 256},
		{"NT/[256,2]x[256,2]T", false, true, 256, 256, 2},
		{"TN/[256,256]Tx[256,256]", true, false, 256, 256, 256},
		{"TN/[256,3]Tx[256,256]", true, false, 3, 256, 256},
		{"TN/[256,256]Tx[256,2]", true, false, 256, 2, 256},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchGemm(b, Gemm, c.transA, c.transB, c.m, c.n, c.k) })
		b.Run(c.name+"/naive", func(b *testing.B) { benchGemm(b, gemmRef, c.transA, c.transB, c.m, c.n, c.k) })
	}
}

// BenchmarkGemmPortable runs the blocked GEMM with the portable Go
// micro-kernel (kern8x8), the one -tags purego and non-amd64 builds use,
// whatever this machine would pick.
func BenchmarkGemmPortable(b *testing.B) {
	s := new(Scratch)
	p := planFor(&goKernel, cpu.Detect())
	b.Run("n=256", func(b *testing.B) {
		benchGemm(b, func(transA, transB bool, m, n, k int, alpha float64, a, bb []float64, beta float64, c []float64) {
			gemmBlocked(p, s, transA, transB, m, n, k, alpha, a, bb, beta, c)
		}, false, false, 256, 256, 256)
	})
}

// BenchmarkGemmKernels runs the blocked GEMM with each micro-kernel this
// machine can run, on its plan for this CPU, at 256³ and 512³; run with
// -count 3 to alternate the candidates under a shared load.
func BenchmarkGemmKernels(b *testing.B) {
	for _, n := range []int{256, 512} {
		for _, kn := range availableKernels() {
			p := planFor(kn, cpu.Detect())
			s := new(Scratch)
			b.Run(fmt.Sprintf("n=%d/%s/kc=%d", n, strings.ReplaceAll(kn.name, " ", "_"), p.kc), func(b *testing.B) {
				benchGemm(b, func(transA, transB bool, m, n, k int, alpha float64, a, bb []float64, beta float64, c []float64) {
					gemmBlocked(p, s, transA, transB, m, n, k, alpha, a, bb, beta, c)
				}, false, false, n, n, n)
			})
		}
	}
}
