package kernels

/*
Vectorized exp and the activations built on it.

On amd64 with AVX2 and FMA (and without -tags purego) the functions in this
file run the 4-lane assembly kernels of activation_amd64.s, or for Exp,
Sigmoid, SiLU, SiLUGrad and AddRowSiLU their 8-lane AVX-512 versions when the
CPU has AVX-512F. Elsewhere (-tags purego, arm64, other architectures, amd64
without AVX2/FMA) Exp, Sigmoid, SiLU, SiLUGrad and AddRowSiLU run the loops
of their doc comments with expGo (activation_go.go) in place of math.Exp:
the same algorithm in Go, with math.FMA where the assembly fuses, so Exp
gives the same bits on every architecture (TestExpGo_MatchesAssembly), and
subnormal results where math.Exp's arm64 assembly returns 0 (x < −744.44).
Tanh and TanhGrad run their reference loops.

# exp

For x clamped to [−750, 710] (NaN passes the clamp unchanged):

	k  = round(x·log₂e)                        so |r| ≤ ln2/2 + tiny
	r  = (x − k·ln2hi) − k·ln2lo               Cody–Waite: ln2hi has 32 significant
	                                           bits, so k·ln2hi and the first
	                                           subtraction (an FMA) are exact
	p  = 1 + r + Σ_{n=2}^{11} cₙ·rⁿ            Horner with FMA; cₙ from a Chebyshev
	                                           fit (mpmath.chebyfit) to eʳ on
	                                           |r| ≤ 0.3467, error 3.2·10⁻¹⁸ < u/30
	eˣ = (p·2^k₁)·2^k₂,  k₁ = ⌊k/2⌋, k₂ = k − k₁

Both powers 2^k₁, 2^k₂ are normal numbers (|k₁|, |k₂| ≤ 541), and p·2^k₁ is
exact, so the result is rounded once: results above the largest float64
(x > 709.78) become +Inf, results in the subnormal range (−745.13 < x < −708.4)
are rounded correctly from p — they are not flushed to zero — and results
below half the smallest subnormal become 0. e^{±Inf} = +Inf, 0; e^{NaN} = NaN.
Measured against 40-digit decimal values at 60,000 points of [−745, 710], the
error is below 0.87 ulp for normal results and 0.84 ulp (of 2⁻¹⁰⁷⁴) for
subnormal ones; math.Exp's amd64 assembly reaches 1.62 ulp on the same points,
and returns +Inf for 709.44 ≤ x ≤ 709.78 where e^x is finite (see expWant in
the tests). Against math.Exp, Exp differs by at most 2 ulp (TestActivations_ULP).

# Activations

With e = e^{−|x|} ∈ (0, 1], which can neither overflow nor lose accuracy:

	σ(x)        = 1/(1+e) if x ≥ 0, e/(1+e) if x < 0     the formula of sigmoidRef
	x·σ(x)      = x/(1+e) or (x·e)/(1+e)
	SiLU′·g     = g·s·(1 + x·c),   d = 1/(1+e),  {s, c} = {d, e·d}: s = σ(x), c = 1 − σ(x)
	tanh x      = sign(x)·(1−e₂)/(1+e₂), e₂ = e^{−2|x|}, for |x| > 0.625
	tanh x      = x + x·z·P(z)/Q(z), z = x², for |x| ≤ 0.625 (Cephes, as math.Tanh)

SiLUGrad computes 1 − σ(x) without the cancellation of the reference loop,
whose 1−s loses ≈ |x|·u absolutely for large x; its tolerance in the test
accounts for that.
*/

import "math"

// Exp computes dst = eᵃ element-wise:
//
//	for i := range dst {
//		dst[i] = math.Exp(a[i])
//	}
//
// Results are within 0.87 ulp of e^x — more accurate than math.Exp, from
// which they differ by at most 2 ulp — including subnormal results (not
// flushed), and +Inf and 0 beyond the range (see the top of activation.go;
// TestActivations_ULP, TestExp_Subnormal). Its results are the same bits on
// every architecture and build (TestExpGo_MatchesAssembly).
func Exp(dst, a []float64) { expKernel(dst, a) }

// Sigmoid computes dst = σ(a) = 1/(1+e^{−a}), evaluated without overflow for
// either sign:
//
//	for i, x := range a[:len(dst)] {
//		if x >= 0 {
//			dst[i] = 1 / (1 + math.Exp(-x))
//		} else {
//			e := math.Exp(x)
//			dst[i] = e / (1 + e)
//		}
//	}
//
// Results are within a few ulp of the loop (TestActivations_ULP).
func Sigmoid(dst, a []float64) { sigmoidKernel(dst, a) }

// SiLU computes dst = a ⊙ σ(a):
//
//	for i, x := range a[:len(dst)] {
//		dst[i] = x * sigmoid(x) // sigmoid as in Sigmoid's loop
//	}
//
// Results are within a few ulp of the loop (TestActivations_ULP).
func SiLU(dst, a []float64) { siluKernel(dst, a) }

// Tanh computes dst = tanh(a):
//
//	for i := range dst {
//		dst[i] = math.Tanh(a[i])
//	}
//
// Results are within a few ulp of the loop, tanh x = x exactly for tiny |x|,
// and ±1 for large |x| (TestActivations_ULP).
func Tanh(dst, a []float64) {
	if len(dst) >= parallelMin && Threads() > 1 && runParallel(&ewJob{op: opTanh, dst: dst, a: a[:len(dst)]}, len(dst), 8) {
		return
	}
	tanhKernel(dst, a)
}

// SiLUGrad computes the backward pass of SiLU, dst = g ⊙ d(x·σ(x))/dx at x = a,
// using d(x·σ(x))/dx = σ(x)·(1 + x·(1 − σ(x))):
//
//	for i := range dst {
//		s := sigmoid(a[i])
//		dst[i] = g[i] * s * (1 + a[i]*(1-s))
//	}
//
// The kernel forms 1 − σ(x) without cancellation, so it is at least as
// accurate as the loop (TestActivations_ULP).
func SiLUGrad(dst, g, a []float64) {
	n := len(dst)
	if n >= parallelMin && Threads() > 1 && runParallel(&ewJob{op: opSiLUGrad, dst: dst, a: g[:n], b: a[:n]}, n, 8) {
		return
	}
	siluGradKernel(dst, g, a)
}

// AddRowSiLU adds the bias row to every row of the [len(pre)/cols, cols]
// matrix a and applies SiLU, keeping the pre-activation for the backward pass:
//
//	for i := range pre {
//		pre[i] = a[i] + row[i%cols]
//		out[i] = pre[i] * sigmoid(pre[i])
//	}
//
// pre is exactly AddRow's result and out is SiLU(pre) (TestAddRowSiLU).
func AddRowSiLU(pre, out, a, row []float64, cols int) {
	n := len(pre)
	if n >= parallelMin && Threads() > 1 && n%cols == 0 &&
		runParallel(&ewJob{op: opAddRowSiLU, dst: pre, a: a[:n], b: out[:n], c: row[:cols], cols: cols}, n, cols*8) {
		return
	}
	addRowSiLUKernel(pre, out, a, row, cols)
}

// TanhGrad computes the backward pass of tanh from its output y = tanh(x),
// dst = g ⊙ (1 − y²):
//
//	for i := range dst {
//		dst[i] = g[i] * (1 - y[i]*y[i])
//	}
//
// The kernel rounds exactly as the loop does.
func TanhGrad(dst, g, y []float64) {
	n := len(dst)
	if n >= parallelMin && Threads() > 1 && runParallel(&ewJob{op: opTanhGrad, dst: dst, a: g[:n], b: y[:n]}, n, 8) {
		return
	}
	tanhGradKernel(dst, g, y)
}

// The reference loops of Tanh and TanhGrad, run without AVX2/FMA or under
// -tags purego. Those of the other activations are in activation_test.go;
// without the assembly, those activations run the loops of activation_go.go.

func tanhRef(dst, a []float64) {
	for i := range dst {
		dst[i] = math.Tanh(a[i])
	}
}

// tanhGradRef rounds y² before subtracting it: float64(…) keeps the
// compiler from fusing the two into one FMA, as it may on arm64, so the loop
// gives the same bits on every architecture, and those of the assembly.
func tanhGradRef(dst, g, y []float64) {
	for i := range dst {
		dst[i] = g[i] * (1 - float64(y[i]*y[i]))
	}
}
