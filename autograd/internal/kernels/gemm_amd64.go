//go:build !purego

package kernels

import "github.com/flowmatch/flowmatch/internal/cpu"

// kern6x8 computes the 6×8 tile c[r*ldc+j] = alpha·Σ_p a[p*6+r]·b[p*8+j] + beta·c[r*ldc+j]
// from a packed A micro-panel (k columns of 6) and a packed B micro-panel
// (k rows of 8). When beta is 0, c is not read. Implemented with AVX2 and
// FMA in gemm_amd64.s.
//
//go:noescape
func kern6x8(k int, a, b, c *float64, ldc int, alpha, beta float64)

// kern6x8s is kern6x8 with A's k steps lda elements apart and B's ldb apart.
//
//go:noescape
func kern6x8s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)

// dot4x2 computes out[2r+j] = Σ_{p < k−k%4} a[r*lda+p]·bj[p] for rows r < 4
// of a and the vectors b0, b1, in four interleaved partial sums per element.
//
//go:noescape
func dot4x2(k int, a *float64, lda int, b0, b1 *float64, out *[8]float64)

// kern16x8 computes the 16×8 tile c[r*ldc+j] = alpha·Σ_p a[p*16+r]·b[p*8+j] + beta·c[r*ldc+j]
// from a packed A micro-panel (k columns of 16) and a packed B micro-panel
// (k rows of 8), one zmm accumulator per row, with AVX-512F in
// gemm_avx512_amd64.s. When beta is 0, c is not read. k ≥ 1.
//
//go:noescape
func kern16x8(k int, a, b, c *float64, ldc int, alpha, beta float64)

// kern16x8s is kern16x8 with A's k steps lda elements apart and B's ldb apart.
//
//go:noescape
func kern16x8s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)

// hasAVX2FMA reports whether the CPU has AVX2 and FMA and the OS saves the
// YMM registers on context switches (read once by internal/cpu).
func hasAVX2FMA() bool {
	c := cpu.Detect()
	return c.AVX2 && c.FMA
}

var asmKernel = microKernel{
	name:  "AVX2+FMA assembly 6x8",
	mr:    6,
	nr:    8,
	fused: true,
	run: func(k int, a, b, c []float64, ldc int, alpha, beta float64) {
		kern6x8(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	strided: func(k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
		kern6x8s(k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
	},
}

// avx512Kernel is the 16×8 AVX-512 micro-kernel: per k step one load of
// B's row and sixteen FMAs that broadcast A's values from memory, for 16
// loads per 128 multiply-adds (the 6×8 AVX2 kernel: 8 per 48). Its sums
// are the same FMA chains as asmKernel's, so the two give the same bits
// at equal kc (TestGemm_BlockingBitIdentical).
var avx512Kernel = microKernel{
	name:   "AVX-512 assembly 16x8",
	mr:     16,
	nr:     8,
	fused:  true,
	avx512: true,
	run: func(k int, a, b, c []float64, ldc int, alpha, beta float64) {
		kern16x8(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	strided: func(k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
		kern16x8s(k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
	},
}

// archKernels returns the assembly micro-kernels this CPU runs: the AVX2
// one with AVX2 and FMA, then the AVX-512 one with AVX-512F as well.
func archKernels() []*microKernel {
	c := cpu.Detect()
	var out []*microKernel
	if c.AVX2 && c.FMA {
		out = append(out, &asmKernel)
		if c.AVX512F {
			out = append(out, &avx512Kernel)
		}
	}
	return out
}

func init() {
	if hasAVX2FMA() {
		dotKernel = func(k int, a []float64, lda int, b0, b1 []float64, out *[8]float64) int {
			k4 := k &^ 3
			if k4 == 0 {
				*out = [8]float64{}
				return 0
			}
			_ = a[3*lda+k4-1]
			_, _ = b0[k4-1], b1[k4-1]
			dot4x2(k, &a[0], lda, &b0[0], &b1[0], out)
			return k4
		}
	}
}
