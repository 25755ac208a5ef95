package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Sizes for the element-wise tests: every remainder of any unrolling up to
// 16, and both sides of a few powers of two.
var testSizes = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 63, 64, 65, 255, 256, 257}

// Reference loops, identical to the doc comments.

func addRef(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func subRef(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

func mulRef(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func divRef(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

func scaleRef(dst []float64, s float64, a []float64) {
	for i := range dst {
		dst[i] = s * a[i]
	}
}

func addConstRef(dst, a []float64, c float64) {
	for i := range dst {
		dst[i] = a[i] + c
	}
}

func axpyRef(dst []float64, alpha float64, x []float64) {
	for i := range dst {
		dst[i] += alpha * x[i]
	}
}

func addRowRef(dst, a, row []float64, cols int) {
	for i := range dst {
		dst[i] = a[i] + row[i%cols]
	}
}

func mulColRef(dst, a, col []float64, cols int) {
	for i := range dst {
		dst[i] = a[i] * col[i/cols]
	}
}

func sumRowsRef(dst, a []float64, cols int) {
	for j := range dst {
		dst[j] = 0
	}
	for i, v := range a {
		dst[i%cols] += v
	}
}

func sumColsRef(dst, a []float64, cols int) {
	for i := range dst {
		s := 0.0
		for j := 0; j < cols; j++ {
			s += a[i*cols+j]
		}
		dst[i] = s
	}
}

func sumRef(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}

func transposeRef(dst, a []float64, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			dst[j*rows+i] = a[i*cols+j]
		}
	}
}

// sameBits reports whether got and want hold the same values, NaNs equal.
func sameBits(got, want []float64) error {
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return fmt.Errorf("element %d: got %v want %v (tol 0)", i, got[i], want[i])
		}
	}
	return nil
}

// runElementwise runs fast and ref on copies of the same inputs, fast with a
// guarded destination that starts as dst0, and checks that they agree
// exactly and that fast wrote nothing outside dst.
func runElementwise(t *testing.T, name string, dst0 []float64, fast, ref func(dst []float64)) {
	t.Helper()
	want := append([]float64(nil), dst0...)
	ref(want)
	got, intact := guarded(len(dst0))
	copy(got, dst0)
	fast(got)
	if !intact() {
		t.Fatalf("%s (len %d): wrote outside dst", name, len(dst0))
	}
	if err := sameBits(got, want); err != nil {
		t.Fatalf("%s (len %d): %v", name, len(dst0), err)
	}
}

func TestElementwise(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, n := range testSizes {
		a, b, d := randSlice(rnd, n), randSlice(rnd, n), randSlice(rnd, n)
		s := rnd.NormFloat64()
		binary := []struct {
			name      string
			fast, ref func(dst, a, b []float64)
		}{{"Add", Add, addRef}, {"Sub", Sub, subRef}, {"Mul", Mul, mulRef}, {"Div", Div, divRef}}
		for _, op := range binary {
			runElementwise(t, op.name, d, func(dst []float64) { op.fast(dst, a, b) }, func(dst []float64) { op.ref(dst, a, b) })
			// In place: dst aliases a.
			runElementwise(t, op.name+"/inplace", a,
				func(dst []float64) { op.fast(dst, dst, b) }, func(dst []float64) { op.ref(dst, dst, b) })
		}
		runElementwise(t, "Scale", d, func(dst []float64) { Scale(dst, s, a) }, func(dst []float64) { scaleRef(dst, s, a) })
		runElementwise(t, "AddConst", d, func(dst []float64) { AddConst(dst, a, s) }, func(dst []float64) { addConstRef(dst, a, s) })
		runElementwise(t, "Axpy", d, func(dst []float64) { Axpy(dst, s, a) }, func(dst []float64) { axpyRef(dst, s, a) })
		// Exp, Tanh and the other activations round differently from their
		// loops; activation_test.go compares them within ulp bounds.

	}
}

func TestMatrixKernels(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 14))
	for _, rows := range testSizes {
		for _, cols := range testSizes {
			if cols == 0 || rows*cols > 4096 && rows != cols {
				continue
			}
			a, d := randSlice(rnd, rows*cols), randSlice(rnd, rows*cols)
			row, col := randSlice(rnd, cols), randSlice(rnd, rows)
			name := fmt.Sprintf("[%d,%d]", rows, cols)
			runElementwise(t, "AddRow"+name, d,
				func(dst []float64) { AddRow(dst, a, row, cols) }, func(dst []float64) { addRowRef(dst, a, row, cols) })
			runElementwise(t, "MulCol"+name, d,
				func(dst []float64) { MulCol(dst, a, col, cols) }, func(dst []float64) { mulColRef(dst, a, col, cols) })
			runElementwise(t, "Transpose"+name, d,
				func(dst []float64) { Transpose(dst, a, rows, cols) }, func(dst []float64) { transposeRef(dst, a, rows, cols) })
			runElementwise(t, "SumRows"+name, randSlice(rnd, cols),
				func(dst []float64) { SumRows(dst, a, cols) }, func(dst []float64) { sumRowsRef(dst, a, cols) })

			// SumCols sums in a different order: compare within the bound
			// 2·(cols−1)·u·Σ_j |a_ij| (both results carry error ≤ (cols−1)·u·Σ|a|).
			got, intact := guarded(rows)
			SumCols(got, a, cols)
			want := make([]float64, rows)
			sumColsRef(want, a, cols)
			if !intact() {
				t.Fatalf("SumCols%s: wrote outside dst", name)
			}
			for i := range want {
				mag := 0.0
				for _, v := range a[i*cols : (i+1)*cols] {
					mag += math.Abs(v)
				}
				tol := 2 * float64(cols) * unitRoundoff * mag
				if math.Abs(got[i]-want[i]) > tol {
					t.Fatalf("SumCols%s: dst[%d] got %v want %v (tol %v)", name, i, got[i], want[i], tol)
				}
			}
		}
	}
}

func TestSum(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 16))
	for _, n := range append(testSizes, 10000) {
		a := randSlice(rnd, n)
		mag := 0.0
		for _, v := range a {
			mag += math.Abs(v)
		}
		got, want := Sum(a), sumRef(a)
		if tol := 2 * float64(n) * unitRoundoff * mag; math.Abs(got-want) > tol {
			t.Fatalf("Sum (len %d): got %v want %v (tol %v)", n, got, want, tol)
		}
	}
}

func TestSigmoidSiLU(t *testing.T) {
	// Where 1/(1+e^{−x}) neither overflows nor underflows it is the
	// reference, to 4u relative (a few roundings in either formula).
	xs := []float64{-700, -40, -1, -1e-300, 0, 1e-300, 0.5, 1, 40, 700}
	sig, silu := make([]float64, len(xs)), make([]float64, len(xs))
	Sigmoid(sig, xs)
	SiLU(silu, xs)
	for i, x := range xs {
		want := 1 / (1 + math.Exp(-x))
		if tol := 4 * unitRoundoff * want; !(math.Abs(sig[i]-want) <= tol) {
			t.Errorf("Sigmoid(%v): got %v want %v (tol %v)", x, sig[i], want, tol)
		}
		if tol := 4 * unitRoundoff * math.Abs(x*want); !(math.Abs(silu[i]-x*want) <= tol) {
			t.Errorf("SiLU(%v): got %v want %v (tol %v)", x, silu[i], x*want, tol)
		}
	}
	// Beyond, the limits, without overflow to NaN.
	Sigmoid(sig[:4], []float64{math.Inf(-1), -1000, 1000, math.Inf(1)})
	if want := []float64{0, 0, 1, 1}; sameBits(sig[:4], want) != nil {
		t.Errorf("Sigmoid(−∞, −1000, 1000, ∞): got %v want %v", sig[:4], want)
	}
	Sigmoid(sig[:1], []float64{math.NaN()})
	if !math.IsNaN(sig[0]) {
		t.Errorf("Sigmoid(NaN): got %v want NaN", sig[0])
	}
}
