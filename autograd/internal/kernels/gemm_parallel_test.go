package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/stretchr/testify/require"
)

// withThreads runs f with SetThreads(n) and restores the previous setting.
func withThreads(n int, f func()) {
	old := Threads()
	SetThreads(n)
	defer SetThreads(old)
	f()
}

// TestGemm_ThreadsBitIdentical checks that splitting C into row bands
// changes no bit of any result, for every layout, for shapes whose bands end
// inside and at the edge of micro-tiles, and for the narrow-C (gemmDot)
// path. gemmParallel is called directly, so that the small shapes, which
// Gemm would not split, are split too.
func TestGemm_ThreadsBitIdentical(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	shapes := [][3]int{
		{24, 8, 5}, {25, 9, 17}, {36, 17, 3}, {47, 13, 40}, {60, 2, 33}, {61, 4, 8}, {97, 3, 64},
		{121, 33, 300}, {255, 256, 257}, {256, 2, 256}, {300, 513, 20},
	}
	for _, threads := range []int{2, 3, 4} {
		withThreads(threads, func() {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for i, mnk := range shapes {
						m, n, k := mnk[0], mnk[1], mnk[2]
						sc := gemmScalars[i%len(gemmScalars)]
						a, b, c0 := randSlice(rnd, m*k), randSlice(rnd, k*n), randSlice(rnd, m*n)
						want := append([]float64(nil), c0...)
						s := new(Scratch)
						gemmRows(gemmDefault, s, tA, tB, m, n, k, sc.alpha, a, b, sc.beta, want, 0, m)
						got, intact := guarded(m * n)
						copy(got, c0)
						split := gemmParallel(tA, tB, m, n, k, sc.alpha, a, b, sc.beta, got)
						require.True(t, split, "m=%d: not split", m)
						require.True(t, intact(), "threads=%d m=%d n=%d k=%d: wrote outside C", threads, m, n, k)
						require.NoError(t, sameBits(got, want), "threads=%d transA=%v transB=%v m=%d n=%d k=%d",
							threads, tA, tB, m, n, k)
					}
				}
			}
		})
	}
}

// TestGemm_ThreadsMisalignedSame checks that bands starting at a row that
// is not a multiple of mr (27) still give every bit of the one-band result:
// they move elements between full tiles and edge tiles, which round alike.
// Its negative control is the same kernel with the edge tiles merged
// unfused (fused = false: alpha·acc + β·c rounded twice), which must change
// some bits of an assembly kernel's result.
func TestGemm_ThreadsMisalignedSame(t *testing.T) {
	rnd := rand.New(rand.NewPCG(39, 40))
	const m, n, k, alpha, beta = 60, 32, 50, 1.0, 0.3
	a, b, c0 := randSlice(rnd, m*k), randSlice(rnd, k*n), randSlice(rnd, m*n)
	split := func(p *gemmPlan, bands [][2]int) []float64 {
		c := append([]float64(nil), c0...)
		for _, band := range bands {
			gemmRows(p, new(Scratch), false, false, m, n, k, alpha, a, b, beta, c, band[0], band[1])
		}
		return c
	}
	for _, kn := range availableKernels() {
		p := planFor(kn, cpu.Detect())
		want := split(p, [][2]int{{0, m}})
		require.NoError(t, sameBits(split(p, [][2]int{{0, 27}, {27, m}}), want), kn.name)
		if !kn.fused {
			continue
		}
		unfused := *kn
		unfused.fused = false
		pu := &gemmPlan{&unfused, p.mc, p.kc, p.nc, "unfused edges"}
		require.Error(t, sameBits(split(pu, [][2]int{{0, 27}, {27, m}}), want),
			"%s: unfused edge merges left every bit unchanged", kn.name)
	}
}

// TestGemm_ThreadsLarge runs Gemm itself above gemmParallelMin with 2
// threads, against the one-thread result (bit-identical) and the reference
// loop (within checkGemm's bound).
func TestGemm_ThreadsLarge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(33, 34))
	const m, n, k = 300, 130, 120
	require.GreaterOrEqual(t, m*n*k, gemmParallelMin)
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			a, b := randSlice(rnd, m*k), randSlice(rnd, k*n)
			one, two := make([]float64, m*n), make([]float64, m*n)
			Gemm(tA, tB, m, n, k, 1, a, b, 0, one)
			withThreads(2, func() {
				Gemm(tA, tB, m, n, k, 1, a, b, 0, two)
				require.NoError(t, checkGemm(rnd, gemmImpl{"Gemm/threads=2", Gemm}, tA, tB, m, n, k, 0.5, -2))
			})
			require.NoError(t, sameBits(two, one), "transA=%v transB=%v", tA, tB)
		}
	}
}

// TestGemm_ThreadsConcurrent runs parallel Gemms from several goroutines at
// once (for the race detector): each must still get the one-thread result.
func TestGemm_ThreadsConcurrent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	const m, n, k = 240, 128, 72
	a, b := randSlice(rnd, m*k), randSlice(rnd, k*n)
	want := make([]float64, m*n)
	Gemm(false, false, m, n, k, 1, a, b, 0, want)
	withThreads(2, func() {
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				c := make([]float64, m*n)
				for range 3 {
					Gemm(false, false, m, n, k, 1, a, b, 0, c)
					if err := sameBits(c, want); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range 4 {
			require.NoError(t, <-errs)
		}
	})
}

func TestGemm_ThreadsNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rnd := rand.New(rand.NewPCG(37, 38))
	const m, n, k = 256, 256, 256
	a, b, c := randSlice(rnd, m*k), randSlice(rnd, k*n), make([]float64, m*n)
	withThreads(2, func() {
		Gemm(false, true, m, n, k, 1, a, b, 0, c) // start the workers, fill the pool
		allocs := testing.AllocsPerRun(20, func() { Gemm(false, true, m, n, k, 1, a, b, 0, c) })
		require.Zero(t, allocs, "Gemm with 2 threads: got %v allocations per call, want 0", allocs)
	})
}

func TestSetThreads(t *testing.T) {
	withThreads(1, func() {
		require.Equal(t, 1, Threads())
		SetThreads(0)
		require.Equal(t, 1, Threads())
		SetThreads(3)
		require.Equal(t, 3, Threads())
		SetThreads(1000)
		require.Equal(t, maxThreads, Threads())
	})
}

// BenchmarkMatMulThreads compares one and two threads on square products.
func BenchmarkMatMulThreads(b *testing.B) {
	for _, n := range []int{64, 128, 256, 1024} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, threads), func(b *testing.B) {
				withThreads(threads, func() { benchGemm(b, Gemm, false, false, n, n, n) })
			})
		}
	}
}

// BenchmarkGemmTraining1024Threads runs the large products of a training
// step at batch 1024 (see BenchmarkGemmTraining) with one and two threads.
func BenchmarkGemmTraining1024Threads(b *testing.B) {
	cases := []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"NN/[1024,256]x[256,256]", false, false, 1024, 256, 256},
		{"NT/[1024,256]x[256,256]T", false, true, 1024, 256, 256},
		{"TN/[1024,256]Tx[1024,256]", true, false, 256, 256, 1024},
	}
	for _, c := range cases {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				withThreads(threads, func() { benchGemm(b, Gemm, c.transA, c.transB, c.m, c.n, c.k) })
			})
		}
	}
}
