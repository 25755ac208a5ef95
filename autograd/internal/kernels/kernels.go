// Package kernels holds the float64 loops that autograd's ops run on: GEMM in
// the layouts forward and backward passes need, element-wise maps and
// reductions. Every function's doc comment is its naive reference loop; the
// tests compare each fast kernel with that loop.
//
// All matrices are dense, row-major and contiguous. No function allocates,
// except that Gemm allocates its packing buffers (at most mc·kc + kc·nc
// elements, fewer for small products: 0.8 MB for 256³ with the Zen 5
// blocking) the first time they are needed and then keeps them for later
// calls, and SetThreads
// starts worker goroutines with their own buffers.
// Slices must have exactly the documented lengths; kernels do not check
// shapes (the autograd ops do, and panic with a typed error).
//
// On amd64 with AVX2 and FMA, Gemm (with AVX-512F, a 16×8 AVX-512 kernel;
// the kernel and blocking are chosen for the CPU, gemm_plan.go) and the
// activations (Exp, Sigmoid, SiLU,
// Tanh and their fused and backward forms, activation.go) run assembly
// kernels; with -tags purego or elsewhere they run portable Go (the
// activations the same exp algorithm, activation_go.go); AdamStep (adam.go) runs a vector
// kernel bit-identical to its loop. Gemm may split large products across
// goroutines (SetThreads, gemm_parallel.go), and AdamStep, AddRowSiLU,
// SiLUGrad, Tanh, TanhGrad and SumRows long element-wise work
// (parallel.go), without changing any bit of the result.
package kernels

import (
	"gonum.org/v1/gonum/floats"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C, with C of shape [m, n],
// op(A) of shape [m, k] and op(B) of shape [k, n]. op(A) is A when transA is
// false (A stored [m, k]) and Aᵀ when it is true (A stored [k, m]); likewise
// for B ([k, n] or, transposed, [n, k]). When beta is 0, C is overwritten
// (NaNs in C do not propagate).
//
// Reference loop:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			s := 0.0
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			c[i*n+j] = alpha*s + beta*c[i*n+j]
//		}
//	}
//
// The implementation (gemm.go) packs panels of A and B and runs an AVX-512
// or AVX2/FMA micro-kernel on amd64 (a portable Go one under -tags purego or
// without AVX2), with a blocking chosen for the CPU (gemm_plan.go, which
// also says exactly what may change the bits of a result between
// machines); each element's rounding error obeys the same bound as the loop's,
// |Δ| ≤ k·u·Σ_p |opA(i, p)·opB(p, j)| to first order, u = 2⁻⁵³, and results
// depend on nothing but the arguments — not on Threads(): with SetThreads(n),
// n > 1, products of at least 2²¹ multiply-adds are split into row bands
// computed concurrently, bit-identically (gemm_parallel.go).
func Gemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
}

// GemmWith is Gemm computed on the calling goroutine with the packing
// buffers s: those Tasks hands to a task, so that a runner reuses its own
// (gemm_parallel.go's "Runners"). With s nil it is Gemm. It never splits
// the product across threads when s is not nil, and its results are
// Gemm's, bit for bit (TestTasks_RunsEachOnce).
func GemmWith(s *Scratch, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	gemmWith(s, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// Add computes dst = a + b:
//
//	for i := range dst {
//		dst[i] = a[i] + b[i]
//	}
func Add(dst, a, b []float64) {
	floats.AddTo(dst, a, b)
}

// Sub computes dst = a − b:
//
//	for i := range dst {
//		dst[i] = a[i] - b[i]
//	}
func Sub(dst, a, b []float64) {
	floats.SubTo(dst, a, b)
}

// Mul computes dst = a ⊙ b:
//
//	for i := range dst {
//		dst[i] = a[i] * b[i]
//	}
func Mul(dst, a, b []float64) {
	floats.MulTo(dst, a, b)
}

// Div computes dst = a ⊘ b:
//
//	for i := range dst {
//		dst[i] = a[i] / b[i]
//	}
func Div(dst, a, b []float64) {
	floats.DivTo(dst, a, b)
}

// Scale computes dst = s·a:
//
//	for i := range dst {
//		dst[i] = s * a[i]
//	}
func Scale(dst []float64, s float64, a []float64) {
	floats.ScaleTo(dst, s, a)
}

// AddConst computes dst = a + c:
//
//	for i := range dst {
//		dst[i] = a[i] + c
//	}
func AddConst(dst, a []float64, c float64) {
	a = a[:len(dst)]
	for i, v := range a {
		dst[i] = v + c
	}
}

// Axpy computes dst += alpha·x:
//
//	for i := range dst {
//		dst[i] += alpha * x[i]
//	}
func Axpy(dst []float64, alpha float64, x []float64) {
	floats.AddScaled(dst, alpha, x)
}

// AddRow adds row to every row of the [len(dst)/cols, cols] matrix a (a bias
// broadcast over rows):
//
//	for i := range dst {
//		dst[i] = a[i] + row[i%cols]
//	}
func AddRow(dst, a, row []float64, cols int) {
	row = row[:cols]
	for i := 0; i < len(dst); i += cols {
		floats.AddTo(dst[i:i+cols], a[i:i+cols], row)
	}
}

// MulCol scales row i of the [len(dst)/cols, cols] matrix a by col[i]:
//
//	for i := range dst {
//		dst[i] = a[i] * col[i/cols]
//	}
func MulCol(dst, a, col []float64, cols int) {
	for r, i := 0, 0; i < len(dst); r, i = r+1, i+cols {
		floats.ScaleTo(dst[i:i+cols], col[r], a[i:i+cols])
	}
}

// SumRows sums the rows of the [len(a)/cols, cols] matrix a, len(dst) = cols:
//
//	for j := range dst {
//		dst[j] = 0
//	}
//	for i, v := range a {
//		dst[i%cols] += v
//	}
func SumRows(dst, a []float64, cols int) {
	dst = dst[:cols]
	if len(a) >= parallelMin && Threads() > 1 && len(a)%cols == 0 &&
		runParallel(&ewJob{op: opSumRows, dst: dst, a: a, cols: cols}, cols, 8) {
		return
	}
	clear(dst)
	for i := 0; i < len(a); i += cols {
		floats.Add(dst, a[i:i+cols])
	}
}

// SumCols sums each row of the [len(dst), cols] matrix a:
//
//	for i := range dst {
//		s := 0.0
//		for j := 0; j < cols; j++ {
//			s += a[i*cols+j]
//		}
//		dst[i] = s
//	}
//
// The sums are formed in a different order (see Sum).
func SumCols(dst, a []float64, cols int) {
	for i := range dst {
		dst[i] = floats.Sum(a[i*cols : (i+1)*cols])
	}
}

// Sum returns Σ_i a[i]:
//
//	s := 0.0
//	for _, v := range a {
//		s += v
//	}
//	return s
//
// The terms are added in several interleaved partial sums, so the result
// may differ from the loop's by rounding: both are within
// (len(a)−1)·u·Σ|a[i]| of the exact sum (u = 2⁻⁵³).
func Sum(a []float64) float64 {
	return floats.Sum(a)
}

// Transpose writes the [cols, rows] transpose of the [rows, cols] matrix a:
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cols; j++ {
//			dst[j*rows+i] = a[i*cols+j]
//		}
//	}
//
// It works in square tiles so that both matrices are accessed a few cache
// lines at a time.
func Transpose(dst, a []float64, rows, cols int) {
	const tile = 16
	a = a[:rows*cols]
	dst = dst[:rows*cols]
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				ar := a[i*cols+j0 : i*cols+j1]
				for j, v := range ar {
					dst[(j0+j)*rows+i] = v
				}
			}
		}
	}
}

// Map computes dst[i] = f(a[i]).
func Map(dst, a []float64, f func(float64) float64) {
	for i := range dst {
		dst[i] = f(a[i])
	}
}
