package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// ulps returns the distance between x and y in units in the last place:
// the number of float64 values between them, with ±0 equal, 0 when both
// are NaN and +Inf when only one is.
func ulps(x, y float64) float64 {
	if math.IsNaN(x) || math.IsNaN(y) {
		if math.IsNaN(x) && math.IsNaN(y) {
			return 0
		}
		return math.Inf(1)
	}
	ord := func(v float64) int64 { // monotonic in v
		b := int64(math.Float64bits(v) &^ (1 << 63))
		if math.Signbit(v) {
			return -b
		}
		return b
	}
	d := ord(x) - ord(y)
	if d < 0 {
		d = -d
	}
	return float64(d)
}

// specialInputs are the arguments where exp and the activations change
// regime: zeros, infinities, NaN, the overflow and underflow thresholds of
// exp (709.78, −708.40 for the smallest normal, −745.13 for half the
// smallest subnormal), subnormals, tiny values where tanh x = x, and the
// switch of Tanh's formulas at 0.625.
var specialInputs = []float64{
	0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
	708, -708, 709, -709, 709.782712893384, 709.7827128933841, 710, -710,
	-708.3964185322641, -708.4, -720, -740, -745, -745.1332191019411, -745.1332191019412, -745.2, -746, 745, 746,
	5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308, 1e-300, -1e-300,
	1e-16, -1e-16, 1e-9, -1e-9, 1e-8, -1e-8, 3e-8, 1e-5, -1e-5,
	0.625, -0.625, math.Nextafter(0.625, 1), math.Nextafter(-0.625, -1), 0.5, 1, -1, ln2Half, -ln2Half,
	18, -18, 20, -20, 36, -36, 37, -37, 40, -40, 700, -700, 1000, -1000,
	math.MaxFloat64, -math.MaxFloat64,
}

const ln2Half = 0.34657359027997264

// activationInputs returns the special inputs followed by n random ones,
// drawn in turn uniformly from [−750, 750], uniformly from [−40, 40] and
// log-uniformly in magnitude from 10⁻³²⁰ to 10³ with either sign.
func activationInputs(rnd *rand.Rand, n int) []float64 {
	xs := append([]float64(nil), specialInputs...)
	for i := 0; i < n; i++ {
		var x float64
		switch i % 3 {
		case 0:
			x = 1500*rnd.Float64() - 750
		case 1:
			x = 80*rnd.Float64() - 40
		default:
			x = math.Pow(10, -320+323*rnd.Float64())
			if rnd.IntN(2) == 0 {
				x = -x
			}
		}
		xs = append(xs, x)
	}
	return xs
}

// The reference loops of Exp, Sigmoid, SiLU, SiLUGrad and AddRowSiLU, as in
// their doc comments, with expOK, math.Exp corrected where it is wrong (see
// expWant), for math.Exp.

func expRef(dst, a []float64) {
	for i := range dst {
		dst[i] = math.Exp(a[i])
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + expOK(-x))
	}
	e := expOK(x)
	return e / (1 + e)
}

func sigmoidRef(dst, a []float64) {
	for i, x := range a[:len(dst)] {
		dst[i] = sigmoid(x)
	}
}

func siluRef(dst, a []float64) {
	for i, x := range a[:len(dst)] {
		dst[i] = x * sigmoid(x)
	}
}

func siluGradRef(dst, g, a []float64) {
	for i := range dst {
		s := sigmoid(a[i])
		dst[i] = g[i] * s * (1 + a[i]*(1-s))
	}
}

func addRowSiLURef(pre, out, a, row []float64, cols int) {
	for i := range pre {
		pre[i] = a[i] + row[i%cols]
		out[i] = pre[i] * sigmoid(pre[i])
	}
}

// expWant is the reference loop of Exp, corrected where math.Exp is wrong:
//
//   - on amd64 its assembly returns +Inf for x ≥ 709.436139303104 although
//     e^x is finite up to x = 709.782712893384 (e^x = 1.7976931348622732e308
//     there, by 60-digit decimal arithmetic; see
//     TestActivations_SpecialValues). In that gap it uses e^x = 2¹⁰²³·e^y,
//     y = x − 1023·ln2 ∈ [0.34, 0.70], with y formed as
//     (x − 1023·ln2hi) − 1023·ln2lo, whose first subtraction is exact
//     (Sterbenz) and whose second is off by ≤ ¼u relative to e^y; so this
//     reference is within 1.25u, and |fast − want| < 2.25u·|want|, ≤ 2 ulp.
//   - on arm64 its assembly returns 0 (or garbage) when e^x < 2⁻¹⁰⁷³: it
//     scales by 2^k by writing the exponent field, which is 0 or negative
//     there. For −745.2 ≤ x < −1074·ln2 ≈ −744.44 the answer is 0 or 2⁻¹⁰⁷⁴,
//     and it uses e^x = 2⁻¹⁰⁷⁴·e^y, y = x + 1074·ln2 ∈ [−0.76, 0], y formed
//     as (x + 1074·ln2hi) + 1074·ln2lo (first sum exact by Sterbenz), e^y
//     rounded once to an integer by Ldexp: correct unless e^y is within
//     1.25u of ½, which only the pinned x = −745.1332191019411 approaches
//     (there e^y − ½ ≈ 5·10⁻¹⁵ ≫ u).
func expWant(dst, a []float64) {
	for i, x := range a[:len(dst)] {
		dst[i] = expOK(x)
	}
}

// expOK is math.Exp corrected as expWant describes.
func expOK(x float64) float64 {
	const ln2hi, ln2lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	w := math.Exp(x)
	if math.IsInf(w, 1) && x <= 709.782712893384 {
		w = math.Ldexp(math.Exp((x-1023*ln2hi)-1023*ln2lo), 1023)
	}
	if x >= -745.2 && x < -1074*ln2hi {
		w = math.Ldexp(math.Exp((x+1074*ln2hi)+1074*ln2lo), -1074)
	}
	return w
}

// An activation pairs a kernel with its reference loop and the bound on
// their difference at one element, derived at the top of activation.go
// from the rounding errors of both computations (u = 2⁻⁵³; a relative
// error of ρ·u is at most ρ ulp):
//
//	Exp      ours < 1 ulp (r: ¼u, Horner ½u, fit u/30, one rounding ½u);
//	         math.Exp's amd64 assembly < 2 ulp (1.62 measured)               → 2 ulp
//	Sigmoid  each: e (1u) + 1+e (½u) + the division (½u)                      → 4 ulp
//	SiLU     each: Sigmoid's 2u + one more product (½u)                        → 5 ulp
//	Tanh     ours: e₂ (1u, damped by e₂/(1−e₂) ≤ 0.4) + 3 roundings ≤ 2u;
//	         math.Tanh: 1 − 2/(s+1) amplifies its 2u by 1.33, + ½u ≤ 3.2u      → 6 ulp
//
// and, for SiLUGrad, an absolute bound (see tolSiLUGrad).
//
// These relative bounds hold while e = e^{−|x|} is a normal number. For
// x < −708.4 it is subnormal, and each side's e carries an absolute error
// instead, below subExpErr; SiLU multiplies it by |x| ≤ 750 (SiLU(−710.88)
// on arm64 is 22 ulp off the reference for that reason), so SiLU's check
// also accepts |Δ| ≤ |x|·subExpErr (absSub).
type activation struct {
	name      string
	fast, ref func(dst, g, a []float64)
	maxULP    float64
	tol       func(g, x, want float64) float64 // absolute tolerance, if not nil
	absSub    bool                             // accept |Δ| ≤ |x|·subExpErr too
}

// subExpErr bounds the sum of the absolute errors of a subnormal e^x from
// Exp (0.84·2⁻¹⁰⁷⁴, top of activation.go) and from math.Exp, whose arm64
// assembly rounds twice, y (≤ 1 ulp of y, ≤ 2⁻¹⁰⁷⁴ once scaled) and then
// y·2^k (½·2⁻¹⁰⁷⁴): 0.84 + 1.5 < 2.5 units of 2⁻¹⁰⁷⁴.
const subExpErr = 2.5 * 0x1p-1074

// tolSiLUGrad bounds |fast − ref| for SiLUGrad at (g, x). The reference's
// 1 − s, s = σ(x) carrying up to 2u·s relative error, is off by up to
// 2u·s + ½u absolutely, which x·(1 − s) multiplies by |x|; the other
// roundings of either side (e, 1+e, the quotient, three products, one sum)
// are below 4u each of M = |g|·s·(1 + |x|), which bounds every intermediate
// magnitude. Hence |Δ| ≤ |g|·s·|x|·(2.5u) + 8u·M ≤ 11u·M, plus, when
// e is subnormal, its absolute error subExpErr times |g|·(1 + |x|).
func tolSiLUGrad(g, x, _ float64) float64 {
	return 11*unitRoundoff*math.Abs(g)*sigmoid(x)*(1+math.Abs(x)) + math.Abs(g)*(1+math.Abs(x))*subExpErr
}

func activations() []activation {
	un := func(f func(dst, a []float64)) func(dst, g, a []float64) {
		return func(dst, _, a []float64) { f(dst, a) }
	}
	return []activation{
		{name: "Exp", fast: un(Exp), ref: un(expWant), maxULP: 2},
		{name: "Sigmoid", fast: un(Sigmoid), ref: un(sigmoidRef), maxULP: 4},
		{name: "SiLU", fast: un(SiLU), ref: un(siluRef), maxULP: 5, absSub: true},
		{name: "Tanh", fast: un(Tanh), ref: un(tanhRef), maxULP: 6},
		{name: "SiLUGrad", fast: SiLUGrad, ref: siluGradRef, tol: tolSiLUGrad},
		{name: "TanhGrad", fast: TanhGrad, ref: tanhGradRef, maxULP: 0},
	}
}

// checkActivation runs op on xs (and gradients gs) into a guarded
// destination and compares it with the reference. It returns the largest
// ulp distance seen (or, with op.tol, the largest |Δ|/tol).
func checkActivation(op activation, gs, xs []float64) (float64, error) {
	want := make([]float64, len(xs))
	op.ref(want, gs, xs)
	got, intact := guarded(len(xs))
	op.fast(got, gs, xs)
	if !intact() {
		return 0, fmt.Errorf("%s (len %d): wrote outside dst", op.name, len(xs))
	}
	worst := 0.0
	for i, w := range want {
		if op.tol != nil {
			tol := op.tol(gs[i], xs[i], w)
			d := math.Abs(got[i] - w)
			if got[i] == w || math.IsNaN(got[i]) && math.IsNaN(w) {
				continue
			}
			if !(d <= tol) {
				return 0, fmt.Errorf("%s(g=%v, x=%v): got %v want %v (tol %v)", op.name, gs[i], xs[i], got[i], w, tol)
			}
			worst = max(worst, d/tol)
			continue
		}
		u := ulps(got[i], w)
		if op.absSub && math.Abs(got[i]-w) <= math.Abs(xs[i])*subExpErr {
			continue
		}
		if !(u <= op.maxULP) || (w == 0 && got[i] == 0 && math.Signbit(w) != math.Signbit(got[i])) {
			return 0, fmt.Errorf("%s(g=%v, x=%v): got %v want %v (%v ulp, tol %v ulp)", op.name, gs[i], xs[i], got[i], w, u, op.maxULP)
		}
		worst = max(worst, u)
	}
	return worst, nil
}

func TestActivations_ULP(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	xs := activationInputs(rnd, 200_000)
	gs := randSlice(rnd, len(xs))
	// TanhGrad takes y = tanh x ∈ [−1, 1].
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = math.Tanh(x)
	}
	for _, op := range activations() {
		in := xs
		if op.name == "TanhGrad" {
			in = ys
		}
		worst, err := checkActivation(op, gs, in)
		require.NoError(t, err)
		if op.tol != nil {
			t.Logf("%-8s max |Δ|/tol = %.3g", op.name, worst)
		} else {
			t.Logf("%-8s max error %v ulp (tol %v)", op.name, worst, op.maxULP)
		}
	}
}

// TestActivations_Lengths runs every kernel on every length 0–17 and a few
// larger ones, with each length's inputs cycling through the special
// values, so that each value meets every lane and the masked tail.
func TestActivations_Lengths(t *testing.T) {
	rnd := rand.New(rand.NewPCG(23, 24))
	for _, op := range activations() {
		for n := 0; n <= 17; n++ {
			for off := 0; off < len(specialInputs); off += 7 {
				xs := make([]float64, n)
				for i := range xs {
					xs[i] = specialInputs[(off+i)%len(specialInputs)]
					if op.name == "TanhGrad" {
						xs[i] = math.Tanh(xs[i])
					}
				}
				_, err := checkActivation(op, randSlice(rnd, n), xs)
				require.NoError(t, err)
			}
		}
		for _, n := range []int{63, 64, 65, 255, 256, 257, 1000} {
			xs := activationInputs(rnd, n)[len(specialInputs):]
			if op.name == "TanhGrad" {
				Tanh(xs, xs)
			}
			_, err := checkActivation(op, randSlice(rnd, n), xs)
			require.NoError(t, err)
		}
	}
}

// TestActivations_InPlace checks dst aliasing the input a.
func TestActivations_InPlace(t *testing.T) {
	rnd := rand.New(rand.NewPCG(25, 26))
	for _, op := range activations() {
		for _, n := range []int{1, 5, 64, 67} {
			xs, gs := activationInputs(rnd, n)[len(specialInputs):], randSlice(rnd, n)
			want := make([]float64, n)
			op.fast(want, gs, xs)
			op.fast(xs, gs, xs)
			require.NoError(t, sameBits(xs, want), "%s in place (len %d)", op.name, n)
		}
	}
}

// TestActivations_SpecialValues pins the values the kernels must produce
// exactly, whatever the rounding elsewhere.
func TestActivations_SpecialValues(t *testing.T) {
	inf, nan, negZero := math.Inf(1), math.NaN(), math.Copysign(0, -1)
	cases := []struct {
		name     string
		f        func(dst, a []float64)
		in, want []float64
	}{
		{"Exp", Exp, []float64{0, negZero, inf, -inf, nan, 710, 1000, -746, -1000, -745.1332191019412},
			[]float64{1, 1, inf, 0, nan, inf, inf, 0, 0, 0}},
		// e^x for x near −745.13 is the smallest subnormal, 2⁻¹⁰⁷⁴, and
		// e^{−709} ≈ 1.2·10⁻³⁰⁸ a normal number just above the subnormals.
		{"Exp", Exp, []float64{-745.1332191019411, -745, -709}, []float64{5e-324, 5e-324, math.Exp(-709)}},
		{"Sigmoid", Sigmoid, []float64{0, negZero, inf, -inf, nan, 1000, -1000}, []float64{0.5, 0.5, 1, 0, nan, 1, 0}},
		{"SiLU", SiLU, []float64{0, negZero, inf, nan, 1000, -1000}, []float64{0, negZero, inf, nan, 1000, negZero}},
		{"Tanh", Tanh, []float64{0, negZero, inf, -inf, nan, 1e-9, -1e-9, 5e-324, -1e-310, 40, -40},
			[]float64{0, negZero, 1, -1, nan, 1e-9, -1e-9, 5e-324, -1e-310, 1, -1}},
	}
	// The largest x with e^x finite, where math.Exp overflows on amd64 (see
	// expWant).
	cases = append(cases, struct {
		name     string
		f        func(dst, a []float64)
		in, want []float64
	}{"Exp", Exp, []float64{709.782712893384}, []float64{1.7976931348622732e+308}})
	for _, c := range cases {
		got := make([]float64, len(c.in))
		c.f(got, c.in)
		for i, w := range c.want {
			same := math.Float64bits(got[i]) == math.Float64bits(w) || math.IsNaN(got[i]) && math.IsNaN(w)
			require.True(t, same, "%s(%v): got %v want %v (tol 0)", c.name, c.in[i], got[i], w)
		}
	}
}

// TestExp_Subnormal checks that subnormal results are rounded, not
// flushed: at every x in [−745, −708.4] they are within 1 ulp (2⁻¹⁰⁷⁴ for
// subnormals) of math.Exp, corrected by expWant where math.Exp is wrong.
func TestExp_Subnormal(t *testing.T) {
	xs := make([]float64, 10000)
	for i := range xs {
		xs[i] = -745 + 36.6*float64(i)/float64(len(xs))
	}
	got, wants := make([]float64, len(xs)), make([]float64, len(xs))
	Exp(got, xs)
	expWant(wants, xs)
	for i, x := range xs {
		want := wants[i]
		require.LessOrEqual(t, ulps(got[i], want), 1.0, "Exp(%v): got %v want %v (tol 1 ulp)", x, got[i], want)
		require.NotZero(t, got[i], "Exp(%v) flushed to 0, want %v", x, want)
	}
}

func TestAddRowSiLU(t *testing.T) {
	rnd := rand.New(rand.NewPCG(27, 28))
	for _, rows := range []int{0, 1, 3, 7} {
		for _, cols := range append(testSizes[1:18], 256) {
			n := rows * cols
			a, row := activationInputs(rnd, n)[len(specialInputs):], randSlice(rnd, cols)
			wantPre, wantOut := make([]float64, n), make([]float64, n)
			addRowSiLURef(wantPre, wantOut, a, row, cols)
			pre, preIntact := guarded(n)
			out, outIntact := guarded(n)
			AddRowSiLU(pre, out, a, row, cols)
			require.True(t, preIntact() && outIntact(), "AddRowSiLU [%d,%d]: wrote outside pre or out", rows, cols)
			require.NoError(t, sameBits(pre, wantPre), "AddRowSiLU [%d,%d]: pre", rows, cols)
			for i := range out {
				u := ulps(out[i], wantOut[i])
				if math.Abs(out[i]-wantOut[i]) <= math.Abs(pre[i])*subExpErr {
					continue // a subnormal e^x's error times x (see activation)
				}
				require.LessOrEqual(t, u, 5.0, "AddRowSiLU [%d,%d]: out[%d] = SiLU(%v): got %v want %v (tol 5 ulp)",
					rows, cols, i, pre[i], out[i], wantOut[i])
			}
			// In place, pre aliasing a, gives the same results.
			inPre, inOut := append([]float64(nil), a...), make([]float64, n)
			AddRowSiLU(inPre, inOut, inPre, row, cols)
			require.NoError(t, sameBits(inPre, pre), "AddRowSiLU [%d,%d] in place: pre", rows, cols)
			require.NoError(t, sameBits(inOut, out), "AddRowSiLU [%d,%d] in place: out", rows, cols)
		}
	}
}

// TestActivations_CheckDetectsError is the negative control: a SiLU that
// is 16 ulp off at one element, and a SiLUGrad with the sign of x·(1−s)
// flipped, must fail checkActivation.
func TestActivations_CheckDetectsError(t *testing.T) {
	rnd := rand.New(rand.NewPCG(29, 30))
	xs, gs := activationInputs(rnd, 1000), randSlice(rnd, 1000+len(specialInputs))
	offSiLU := activation{name: "offSiLU", maxULP: 5, absSub: true, ref: func(dst, _, a []float64) { siluRef(dst, a) },
		fast: func(dst, _, a []float64) {
			SiLU(dst, a)
			dst[len(dst)-1] *= 1 + 16*0x1p-52
		}}
	_, err := checkActivation(offSiLU, gs, xs)
	require.Error(t, err, "checkActivation accepted a SiLU 16 ulp off")

	flipped := activation{name: "flippedSiLUGrad", tol: tolSiLUGrad, ref: siluGradRef,
		fast: func(dst, g, a []float64) {
			for i := range dst {
				s := sigmoid(a[i])
				dst[i] = g[i] * s * (1 - a[i]*(1-s))
			}
		}}
	_, err = checkActivation(flipped, gs, xs)
	require.Error(t, err, "checkActivation accepted SiLUGrad with a flipped sign")
}
