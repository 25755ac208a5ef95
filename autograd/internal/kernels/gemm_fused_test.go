package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// kernFusedRef is the readable loop every fused micro-kernel (fused = true:
// the AVX2, AVX-512 and NEON assembly kernels) must reproduce bit for bit:
//
//	s = fma(a[p*lda+r], b[p*ldb+j], s) for p = 0, 1, …, k−1, from s = 0
//	c[r*ldc+j] = alpha·s                   when beta = 0 (c not read)
//	c[r*ldc+j] = fma(beta, c[r*ldc+j], alpha·s)  otherwise
//
// for r < mr, j < nr. mutate changes its math for the negative controls:
// "unfused" rounds each product before the sum, "lanes" swaps A's rows in
// pairs (r ↔ r^1, as a wrong lane index in a by-element FMA would).
func kernFusedRef(mutate string, mr, nr, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	for r := 0; r < mr; r++ {
		ra := r
		if mutate == "lanes" {
			ra = r ^ 1
		}
		for j := 0; j < nr; j++ {
			var s float64
			for p := 0; p < k; p++ {
				if mutate == "unfused" {
					s += float64(a[p*lda+ra] * b[p*ldb+j])
				} else {
					s = math.FMA(a[p*lda+ra], b[p*ldb+j], s)
				}
			}
			v := float64(alpha * s)
			if beta == 0 {
				c[r*ldc+j] = v
			} else {
				c[r*ldc+j] = math.FMA(beta, c[r*ldc+j], v)
			}
		}
	}
}

// exactBits reports whether got and want hold the same bit patterns (any
// two NaNs count as equal; +0 and −0 do not).
func exactBits(got, want []float64) error {
	for i := range want {
		g, w := math.Float64bits(got[i]), math.Float64bits(want[i])
		if g != w && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return fmt.Errorf("element %d: got %v (%#x) want %v (%#x) (tol 0 bits)", i, got[i], g, want[i], w)
		}
	}
	return nil
}

// TestFusedKernels_MatchReference checks every fused micro-kernel this
// machine runs (none under -tags purego; the NEON 8×6 one on arm64, run
// under qemu-aarch64 in CI) against kernFusedRef bit for bit, packed
// (run) and strided (strided, lda = mr + 5, ldb = nr + 3), for k = 1…5, 8,
// 17, 64 and the four (alpha, beta) of gemmScalars, with C's rows ldc = nr + 3
// apart in a buffer of NaN sentinels: the gaps between rows and the guard
// cells around C must stay untouched, and with beta = 0 the sentinels in C
// itself must not be read. Negative controls: the reference with its
// products rounded separately, and with A's rows swapped in pairs (a wrong
// lane of a by-element FMA), must each differ from the kernel somewhere.
func TestFusedKernels_MatchReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(61, 62))
	var ran int
	for _, kn := range availableKernels() {
		if !kn.fused {
			continue
		}
		ran++
		ref := func(mut string, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
			kernFusedRef(mut, kn.mr, kn.nr, k, a, lda, b, ldb, c, ldc, alpha, beta)
		}
		differs := checkKernel(t, rnd, kn, []int{1, 2, 3, 4, 5, 8, 17, 64}, ref, "unfused", "lanes")
		require.True(t, differs["unfused"], "%s: a reference with separately rounded products gave the same bits everywhere", kn.name)
		require.True(t, differs["lanes"], "%s: a reference with A's rows swapped in pairs gave the same bits everywhere", kn.name)
	}
	if ran == 0 {
		t.Skip("no fused (assembly) micro-kernel in this build")
	}
}

// kernelRef writes into c the product a micro-kernel must reproduce bit for
// bit; mut names a deliberate mistake for a negative control ("" for none).
type kernelRef func(mut string, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

// checkKernel runs kn packed (run, lda = mr, ldb = nr) and strided
// (strided, lda = mr + 5, ldb = nr + 3) for each k in ks and the four
// (alpha, beta) of gemmScalars, with C's rows ldc = nr + 3 apart in a buffer
// of NaN sentinels, and requires: nothing written outside C (the gaps
// between rows and the guard cells included), C equal to ref("") bit for bit
// (so with beta = 0 the sentinels in C were not read). It returns which of
// muts gave a reference that differs from the kernel somewhere: the caller's
// negative controls. TestFusedKernels_MatchReference and
// TestGoKernel_MatchesReference use it.
func checkKernel(t *testing.T, rnd *rand.Rand, kn *microKernel, ks []int, ref kernelRef, muts ...string) map[string]bool {
	t.Helper()
	mr, nr := kn.mr, kn.nr
	ldc := nr + 3
	differs := map[string]bool{}
	for _, strided := range []bool{false, true} {
		lda, ldb := mr, nr
		if strided {
			lda, ldb = mr+5, nr+3
		}
		for _, k := range ks {
			for _, sc := range gemmScalars {
				a, b := randSlice(rnd, (k-1)*lda+mr), randSlice(rnd, (k-1)*ldb+nr)
				got, intact := guarded((mr-1)*ldc + nr)
				c0 := append([]float64(nil), got...) // all sentinels
				if sc.beta != 0 {
					for r := 0; r < mr; r++ {
						copy(c0[r*ldc:r*ldc+nr], randSlice(rnd, nr))
					}
				}
				copy(got, c0)
				if strided {
					kn.strided(k, a, lda, b, ldb, got, ldc, sc.alpha, sc.beta)
				} else {
					kn.run(k, a, b, got, ldc, sc.alpha, sc.beta)
				}
				where := fmt.Sprintf("%s strided=%v k=%d alpha=%v beta=%v", kn.name, strided, k, sc.alpha, sc.beta)
				require.True(t, intact(), "%s: wrote outside C", where)
				want := append([]float64(nil), c0...)
				ref("", k, a, lda, b, ldb, want, ldc, sc.alpha, sc.beta)
				require.NoError(t, exactBits(got, want), where) // the gaps included
				for _, mut := range muts {
					w := append([]float64(nil), c0...)
					ref(mut, k, a, lda, b, ldb, w, ldc, sc.alpha, sc.beta)
					if exactBits(got, w) != nil {
						differs[mut] = true
					}
				}
			}
		}
	}
	return differs
}
