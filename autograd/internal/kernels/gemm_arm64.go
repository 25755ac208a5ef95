//go:build !purego

package kernels

// kern8x6 computes the 8×6 tile c[r*ldc+j] = alpha·Σ_p a[p*8+r]·b[p*6+j] + beta·c[r*ldc+j]
// from a packed A micro-panel (k columns of 8) and a packed B micro-panel
// (k rows of 6), with NEON (Advanced SIMD) fused multiply-adds in
// gemm_arm64.s: each element is one FMA chain over p, then
// c = fma(beta, c, alpha·Σ) with alpha·Σ rounded, as the amd64 kernels
// store. When beta is 0, c is not read.
//
//go:noescape
func kern8x6(k int, a, b, c *float64, ldc int, alpha, beta float64)

// kern8x6s is kern8x6 with A's k steps lda elements apart and B's ldb apart.
//
//go:noescape
func kern8x6s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)

// neonKernel is the 8×6 NEON micro-kernel. Advanced SIMD is part of the
// arm64 baseline (every ARMv8-A core has it), so it runs on every arm64
// machine without a feature check. Per k step it loads A's column of 8 and
// B's row of 6 (7 vector registers) and issues 24 two-lane FMLAs, each
// broadcasting one of A's values from a register lane: 24 accumulators, 4
// registers of A, 3 of B and one for alpha and beta fill the 32 vector
// registers. Its sums are the same FMA chains as the amd64 kernels', and
// its stores and the edge-tile merges round as theirs (fused = true), so
// mc, nc and the thread count leave every bit unchanged
// (TestGemm_BlockingBitIdentical, TestGemm_ThreadsMisalignedSame) and it
// gives, bit for bit, the readable loop kernFusedRef
// (TestFusedKernels_MatchReference).
var neonKernel = microKernel{
	name:  "NEON assembly 8x6",
	mr:    8,
	nr:    6,
	fused: true,
	run: func(k int, a, b, c []float64, ldc int, alpha, beta float64) {
		kern8x6(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
	strided: func(k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
		kern8x6s(k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
	},
}

// archKernels returns the NEON micro-kernel, which every arm64 CPU runs.
func archKernels() []*microKernel { return []*microKernel{&neonKernel} }
