package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// kernGoRef is the readable loop the portable micro-kernel (goKernel:
// kern8x8 packed, kern8x8s strided) must reproduce bit for bit:
//
//	s = s + float64(a[p*lda+r]·b[p*ldb+j]) for p = 0, 1, …, k−1, from s = 0
//	c[r*ldc+j] = alpha·s                                   when beta = 0 (c not read)
//	c[r*ldc+j] = float64(alpha·s) + float64(beta·c[r*ldc+j]) otherwise
//
// for r, j < 8. mutate changes its math for the negative controls: "fused"
// sums with fused multiply-adds, "pairs" adds the products two k steps at a
// time, s + (a₀b₀ + a₁b₁), as a kernel that reassociated its unrolled sum
// would.
func kernGoRef(mutate string, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	for r := 0; r < 8; r++ {
		for j := 0; j < 8; j++ {
			var s float64
			for p := 0; p < k; p++ {
				switch {
				case mutate == "fused":
					s = math.FMA(a[p*lda+r], b[p*ldb+j], s)
				case mutate == "pairs" && p+1 < k:
					s += float64(a[p*lda+r]*b[p*ldb+j]) + float64(a[(p+1)*lda+r]*b[(p+1)*ldb+j])
					p++
				default:
					s += float64(a[p*lda+r] * b[p*ldb+j])
				}
			}
			if beta == 0 {
				c[r*ldc+j] = alpha * s
			} else {
				c[r*ldc+j] = float64(alpha*s) + float64(beta*c[r*ldc+j])
			}
		}
	}
}

// TestGoKernel_MatchesReference checks the portable micro-kernel against
// kernGoRef bit for bit, packed (kern8x8, whose eight-step blocks and
// one-step tail this k range crosses) and strided (kern8x8s, lda = 13,
// ldb = 11), for k = 1…9, 15–17, 63–65, 127–129, 200 and the four (alpha,
// beta) of gemmScalars, with C's rows ldc = 11 apart in a buffer of NaN
// sentinels: the gaps between rows and the guard cells around C must stay
// untouched, and with beta = 0 the sentinels in C must not be read. This is
// what keeps the portable GEMM's bits independent of the blocking and the
// thread count (TestGemm_BlockingBitIdentical) and of the architecture.
// Negative controls: the reference with fused multiply-adds, and with its
// products added in pairs, must each differ from the kernel somewhere.
func TestGoKernel_MatchesReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(71, 72))
	ks := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200}
	differs := checkKernel(t, rnd, &goKernel, ks, kernGoRef, "fused", "pairs")
	require.True(t, differs["fused"], "a reference with fused multiply-adds gave the same bits everywhere")
	require.True(t, differs["pairs"], "a reference adding products in pairs gave the same bits everywhere")
}
