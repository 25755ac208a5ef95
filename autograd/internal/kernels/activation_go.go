package kernels

import "math"

// Portable exp and the activations built on it: the algorithm of the
// assembly kernels (top of activation.go) in Go, run under -tags purego, on
// other architectures, and on amd64 CPUs without AVX2/FMA.
//
// Every fused multiply-add of the assembly is an explicit math.FMA here and
// every other operation is a plain one that the compiler cannot fuse (no
// product feeds a sum), so expGo returns the same bits as the AVX2 and
// AVX-512 kernels (TestExpGo_MatchesAssembly) on every architecture. On
// arm64, math.Exp's assembly cannot serve instead: it returns 0 (or a wrong
// value) for e^x below 2⁻¹⁰⁷³, x < −744.44, where the smallest subnormal is
// the right answer (it writes a zero or negative exponent field when it
// scales by 2^k; TestExp_Subnormal, TestActivations_SpecialValues).

// Constants of the assembly (activation_amd64.s), bit for bit.
const (
	expClampHi = 710.0
	expClampLo = -750.0
	expLog2e   = 0x1.71547652b82fep+00
	expLn2Hi   = 0x1.62e42feep-01      // ln2, leading 32 bits: k·ln2hi is exact
	expLn2Lo   = 0x1.a39ef35793c76p-33 // ln2 − ln2hi
	expC2      = 0x1.0000000000011p-01 // p(r) = 1 + r + Σ_{n=2}^{11} cₙ·rⁿ ≈ eʳ
	expC3      = 0x1.555555555555ap-03 // on |r| ≤ 0.3467 (Chebyshev fit,
	expC4      = 0x1.555555554f0aap-05 // mpmath.chebyfit; relative error
	expC5      = 0x1.111111110f21ap-07 // 3.2·10⁻¹⁸)
	expC6      = 0x1.6c16c188036efp-10
	expC7      = 0x1.a01a01b1481f4p-13
	expC8      = 0x1.a01991984e47ap-16
	expC9      = 0x1.71ddf5682c530p-19
	expC10     = 0x1.28b418336ce6ep-22
	expC11     = 0x1.af633403869eep-26
)

// expGo returns eˣ by the algorithm at the top of activation.go:
//
//	x = clamp(x, −750, 710), k = round(x·log₂e) (ties to even),
//	r = (x − k·ln2hi) − k·ln2lo, p = 1 + r + Σ cₙ·rⁿ (Horner),
//	eˣ = (p·2^k₁)·2^k₂, k₁ = ⌊k/2⌋, k₂ = k − k₁.
func expGo(x float64) float64 {
	if x > expClampHi { // NaN fails both tests and passes through
		x = expClampHi
	}
	if x < expClampLo {
		x = expClampLo
	}
	k := math.RoundToEven(x * expLog2e)
	r := math.FMA(-k, expLn2Hi, x)
	r = math.FMA(-k, expLn2Lo, r)
	p := math.FMA(expC11, r, expC10)
	p = math.FMA(p, r, expC9)
	p = math.FMA(p, r, expC8)
	p = math.FMA(p, r, expC7)
	p = math.FMA(p, r, expC6)
	p = math.FMA(p, r, expC5)
	p = math.FMA(p, r, expC4)
	p = math.FMA(p, r, expC3)
	p = math.FMA(p, r, expC2)
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	if p != p { // NaN: k is NaN too, and has no integer value
		return p
	}
	// k is an integer in [−1083, 1025]: k₁ = ⌊k/2⌋ is an arithmetic shift
	// (math.Floor would test for SSE4.1 on amd64 at every call).
	ki := int64(k)
	k1 := ki >> 1
	// |k₁|, |k₂| ≤ 541, so both powers are normal numbers.
	s1 := math.Float64frombits(uint64(k1+1023) << 52)
	s2 := math.Float64frombits(uint64(ki-k1+1023) << 52)
	return p * s1 * s2
}

// sigmoidGo is sigmoid with expGo in place of math.Exp, the formula of
// sigmoidRef without its branch: with e = expGo(−|x|),
//
//	σ(x) = n/(1 + e),  n = 1 if x ≥ 0, e otherwise,
//
// n chosen by a conditional move of its bits. It returns the bits of
// 1/(1+expGo(−x)) for x ≥ 0 and e/(1+e) for x < 0 (and NaN for NaN;
// TestSigmoidGo_Branchless). The sign of pre-activations is random in
// training, so a branch on it mispredicts every other element: with the
// branch and math.Floor in expGo, 13.4–14.0 CPU-ns per element of N(0, 4)
// inputs; without the branch 11.1–11.5; without both 9.6–9.9 (alternating
// runs, 2-core AMD EPYC Zen 5, shared, load ~10).
func sigmoidGo(x float64) float64 {
	e := expGo(-math.Abs(x))
	n := math.Float64bits(e)
	if x >= 0 {
		n = 0x3ff0000000000000 // 1.0
	}
	return math.Float64frombits(n) / (1 + e)
}

// The loops below are the reference loops of activation.go with expGo for
// math.Exp.

func expLoop(dst, a []float64) {
	a = a[:len(dst)]
	for i, x := range a {
		dst[i] = expGo(x)
	}
}

func sigmoidLoop(dst, a []float64) {
	a = a[:len(dst)]
	for i, x := range a {
		dst[i] = sigmoidGo(x)
	}
}

func siluLoop(dst, a []float64) {
	a = a[:len(dst)]
	for i, x := range a {
		dst[i] = x * sigmoidGo(x)
	}
}

func siluGradLoop(dst, g, a []float64) {
	g, a = g[:len(dst)], a[:len(dst)]
	for i, x := range a {
		s := sigmoidGo(x)
		dst[i] = g[i] * s * (1 + x*(1-s))
	}
}

func addRowSiLULoop(pre, out, a, row []float64, cols int) {
	out, a = out[:len(pre)], a[:len(pre)]
	for i := range pre {
		v := a[i] + row[i%cols]
		pre[i] = v
		out[i] = v * sigmoidGo(v)
	}
}
