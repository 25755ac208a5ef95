package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// portableInputs returns special values, the half-integer ties of x·log₂e
// (where k = round(x·log₂e) changes, odd and even, negative and positive)
// and their neighbours, and n random inputs of each of three kinds: N(0, 16),
// uniform on [−760, 720] and random bit patterns.
func portableInputs(rnd *rand.Rand, n int) []float64 {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 709.78, 710, 711, -708.4,
		-744.44, -745.13, -745.2, -750, -751, 40, -40, math.Inf(1), math.Inf(-1), math.NaN(),
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64}
	for i := -1090; i <= 1030; i++ {
		x := (float64(i) + 0.5) / expLog2e
		xs = append(xs, x, math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1)))
	}
	for range n {
		xs = append(xs, 4*rnd.NormFloat64(), -760+1480*rnd.Float64(), math.Float64frombits(rnd.Uint64()))
	}
	return xs
}

// sameBits1 reports whether a and b have the same bits, or are both NaN.
func sameBits1(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

// TestExpGo_IntegerHalf checks that expGo's k₁ = ⌊k/2⌋ by an arithmetic
// shift of int64(k) gives the bits of the math.Floor(k·0.5) it replaced, on
// the ties of x·log₂e (every k in [−1090, 1030], odd and even) and 300,000
// other inputs. This runs under -tags purego and on every architecture;
// TestExpGo_MatchesAssembly compares expGo with the assembly on amd64. Any
// split with both powers normal gives the same bits (p·2^k₁ is exact), so
// the negative control is no split, k₁ = k, k₂ = 0, whose exponent field
// is wrong for k outside [−1022, 1023]: it differs at the ends of the range.
func TestExpGo_IntegerHalf(t *testing.T) {
	xs := portableInputs(rand.New(rand.NewPCG(61, 62)), 100_000)
	for _, x := range xs {
		require.True(t, sameBits1(expGo(x), expFloorHalf(x, false)), "expGo(%v) = %v, with math.Floor %v (tol 0)", x, expGo(x), expFloorHalf(x, false))
	}
	differs := false
	for _, x := range xs {
		differs = differs || !sameBits1(expGo(x), expFloorHalf(x, true))
	}
	require.True(t, differs, "k₁ = k matched everywhere: the test does not reach |k| > 1022")
}

// expFloorHalf is expGo with k₁ = math.Floor(k·0.5) as it was written
// before, or with k₁ = k (no split: the negative control) when noSplit is
// set.
func expFloorHalf(x float64, noSplit bool) float64 {
	x = min(max(x, expClampLo), expClampHi)
	k := math.RoundToEven(x * expLog2e)
	r := math.FMA(-k, expLn2Hi, x)
	r = math.FMA(-k, expLn2Lo, r)
	p := expC11
	for _, c := range []float64{expC10, expC9, expC8, expC7, expC6, expC5, expC4, expC3, expC2, 1, 1} {
		p = math.FMA(p, r, c)
	}
	if p != p {
		return p
	}
	k1 := math.Floor(k * 0.5)
	if noSplit {
		k1 = k
	}
	s1 := math.Float64frombits(uint64(int64(k1)+1023) << 52)
	s2 := math.Float64frombits(uint64(int64(k-k1)+1023) << 52)
	return p * s1 * s2
}

// TestSigmoidGo_Branchless checks that the branch-free sigmoidGo returns
// the bits of the two-branch formula of sigmoidRef with expGo,
// 1/(1+expGo(−x)) for x ≥ 0 and e/(1+e), e = expGo(x), for x < 0, on the
// inputs of portableInputs (both signs of zero, ±Inf, NaN, ties, 300,000
// random). The negative control, e/(1+e) for every x, differs.
func TestSigmoidGo_Branchless(t *testing.T) {
	twoBranch := func(x float64) float64 {
		if x >= 0 {
			return 1 / (1 + expGo(-x))
		}
		e := expGo(x)
		return e / (1 + e)
	}
	xs := portableInputs(rand.New(rand.NewPCG(63, 64)), 100_000)
	for _, x := range xs {
		require.True(t, sameBits1(sigmoidGo(x), twoBranch(x)), "sigmoidGo(%v) = %v, two branches %v (tol 0)", x, sigmoidGo(x), twoBranch(x))
	}
	oneBranch := func(x float64) float64 {
		e := expGo(x)
		return e / (1 + e)
	}
	differs := false
	for _, x := range xs {
		differs = differs || !sameBits1(sigmoidGo(x), oneBranch(x))
	}
	require.True(t, differs, "e/(1+e) for every x matched: the test cannot see the branch")
}
