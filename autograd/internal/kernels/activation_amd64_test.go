//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// withAVX512 runs f with the 8-lane kernels switched on or off.
func withAVX512(on bool, f func()) {
	old := useAVX512
	useAVX512 = on
	defer func() { useAVX512 = old }()
	f()
}

// TestActivations_AVX512MatchesAVX2 checks that the 8-lane kernels give
// the same bits as the 4-lane ones, which the other tests check against the
// reference loops, on special and random inputs of every length 0–17 and
// a few larger ones (every lane and every tail of both widths).
func TestActivations_AVX512MatchesAVX2(t *testing.T) {
	if !hasAVX512F() {
		t.Skip("CPU lacks AVX-512F")
	}
	rnd := rand.New(rand.NewPCG(41, 42))
	inputs := activationInputs(rnd, 20000)
	lengths := []int{63, 64, 65, 257, len(inputs)}
	for n := 0; n <= 17; n++ {
		lengths = append(lengths, n)
	}
	for _, op := range activations() {
		for _, n := range lengths {
			for off := 0; off+n <= len(inputs); off += max(n, 1) * 97 {
				xs, gs := inputs[off:off+n], randSlice(rnd, n)
				want, got := make([]float64, n), make([]float64, n)
				withAVX512(false, func() { op.fast(want, gs, xs) })
				withAVX512(true, func() { op.fast(got, gs, xs) })
				require.NoError(t, sameBits(got, want), "%s (len %d, offset %d): AVX-512 vs AVX2", op.name, n, off)
			}
		}
	}
	// AddRowSiLU, with rows of every length 1–17.
	for cols := 1; cols <= 17; cols++ {
		a, row := inputs[:3*cols], randSlice(rnd, cols)
		var pre, out [2][]float64
		for i, on := range []bool{false, true} {
			pre[i], out[i] = make([]float64, len(a)), make([]float64, len(a))
			withAVX512(on, func() { AddRowSiLU(pre[i], out[i], a, row, cols) })
		}
		require.NoError(t, sameBits(pre[1], pre[0]), "AddRowSiLU cols=%d: pre, AVX-512 vs AVX2", cols)
		require.NoError(t, sameBits(out[1], out[0]), "AddRowSiLU cols=%d: out, AVX-512 vs AVX2", cols)
	}
}

// BenchmarkActivationWidth compares the 4- and 8-lane kernels.
func BenchmarkActivationWidth(b *testing.B) {
	if !hasAVX512F() {
		b.Skip("CPU lacks AVX-512F")
	}
	ops := []struct {
		name string
		f    func(dst, g, a []float64)
	}{
		{"Exp", unaryBench(Exp)}, {"Sigmoid", unaryBench(Sigmoid)}, {"SiLU", unaryBench(SiLU)}, {"SiLUGrad", SiLUGrad},
	}
	for _, op := range ops {
		for _, avx512 := range []bool{false, true} {
			lanes := map[bool]int{false: 4, true: 8}[avx512]
			b.Run(fmt.Sprintf("%s/lanes=%d", op.name, lanes), func(b *testing.B) {
				withAVX512(avx512, func() { benchActivation(b, 65536, op.f) })
			})
		}
	}
}

// TestExpGo_MatchesAssembly checks that expGo, the portable exp of
// activation_go.go run without the assembly (purego, arm64), returns the
// same bits as the AVX2 and AVX-512 kernels on special and 200,000 random
// inputs. The negative control, expGo with the Horner steps rounded twice
// (a product, then a sum: what an unfused compilation gives), must differ
// somewhere: the test sees the rounding of single operations.
func TestExpGo_MatchesAssembly(t *testing.T) {
	if !haveVecMath {
		t.Skip("CPU lacks AVX2/FMA")
	}
	rnd := rand.New(rand.NewPCG(43, 44))
	xs := activationInputs(rnd, 200_000)
	asm := make([]float64, len(xs))
	Exp(asm, xs)
	sameAt := func(f func(float64) float64) (int, bool) {
		for i, x := range xs {
			got := f(x)
			if math.Float64bits(got) != math.Float64bits(asm[i]) && !(math.IsNaN(got) && math.IsNaN(asm[i])) {
				return i, false
			}
		}
		return 0, true
	}
	i, ok := sameAt(expGo)
	require.True(t, ok, "expGo(%v) = %v, assembly %v (tol 0)", xs[i], expGo(xs[i]), asm[i])
	withAVX512(!useAVX512, func() { Exp(asm, xs) })
	i, ok = sameAt(expGo)
	require.True(t, ok, "expGo(%v) = %v, other assembly width %v (tol 0)", xs[i], expGo(xs[i]), asm[i])

	_, ok = sameAt(expUnfused)
	require.False(t, ok, "expUnfused matched the assembly everywhere: the test cannot see rounding")
}

// expUnfused is expGo with every Horner step p·r + c rounded twice.
func expUnfused(x float64) float64 {
	x = min(max(x, expClampLo), expClampHi)
	k := math.RoundToEven(x * expLog2e)
	r := math.FMA(-k, expLn2Hi, x)
	r = math.FMA(-k, expLn2Lo, r)
	p := expC11
	for _, c := range []float64{expC10, expC9, expC8, expC7, expC6, expC5, expC4, expC3, expC2, 1, 1} {
		p = float64(p*r) + c
	}
	k1 := math.Floor(k * 0.5)
	s1 := math.Float64frombits(uint64(int64(k1)+1023) << 52)
	s2 := math.Float64frombits(uint64(int64(k-k1)+1023) << 52)
	return p * s1 * s2
}
