// Package kernels holds the float64 loops that autograd's ops run on: GEMM in
// the layouts forward and backward passes need, element-wise maps and
// reductions. Every function's doc comment is its naive reference loop; the
// tests compare each fast kernel with that loop.
//
// All matrices are dense, row-major and contiguous. No function allocates.
// Slices must have exactly the documented lengths; kernels do not check
// shapes (the autograd ops do, and panic with a typed error).
package kernels

import "math"

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
func Gemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
}

// Add computes dst[i] = a[i] + b[i].
func Add(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Sub computes dst[i] = a[i] - b[i].
func Sub(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

// Mul computes dst[i] = a[i] * b[i].
func Mul(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// Div computes dst[i] = a[i] / b[i].
func Div(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

// Scale computes dst[i] = s * a[i].
func Scale(dst []float64, s float64, a []float64) {
	for i := range dst {
		dst[i] = s * a[i]
	}
}

// AddConst computes dst[i] = a[i] + c.
func AddConst(dst, a []float64, c float64) {
	for i := range dst {
		dst[i] = a[i] + c
	}
}

// Axpy computes dst[i] += alpha * x[i].
func Axpy(dst []float64, alpha float64, x []float64) {
	for i := range dst {
		dst[i] += alpha * x[i]
	}
}

// AddRow computes dst[i*cols+j] = a[i*cols+j] + row[j] (a bias broadcast over rows).
func AddRow(dst, a, row []float64, cols int) {
	for i := range dst {
		dst[i] = a[i] + row[i%cols]
	}
}

// MulCol computes dst[i*cols+j] = a[i*cols+j] * col[i] (each row scaled by its own factor).
func MulCol(dst, a, col []float64, cols int) {
	for i := range dst {
		dst[i] = a[i] * col[i/cols]
	}
}

// SumRows computes dst[j] = Σ_i a[i*cols+j]: the sum over rows, len(dst) = cols.
func SumRows(dst, a []float64, cols int) {
	for j := range dst {
		dst[j] = 0
	}
	for i, v := range a {
		dst[i%cols] += v
	}
}

// SumCols computes dst[i] = Σ_j a[i*cols+j]: the sum of each row, len(dst) = rows.
func SumCols(dst, a []float64, cols int) {
	for i := range dst {
		s := 0.0
		for _, v := range a[i*cols : (i+1)*cols] {
			s += v
		}
		dst[i] = s
	}
}

// Sum returns Σ_i a[i].
func Sum(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}

// Transpose writes the [cols, rows] transpose of the [rows, cols] matrix a:
// dst[j*rows+i] = a[i*cols+j].
func Transpose(dst, a []float64, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			dst[j*rows+i] = a[i*cols+j]
		}
	}
}

// Map computes dst[i] = f(a[i]).
func Map(dst, a []float64, f func(float64) float64) {
	for i := range dst {
		dst[i] = f(a[i])
	}
}

// Exp computes dst[i] = e^{a[i]}.
func Exp(dst, a []float64) {
	for i := range dst {
		dst[i] = math.Exp(a[i])
	}
}

// Sigmoid computes dst[i] = 1/(1+e^{−a[i]}), evaluated without overflow for
// either sign of a[i].
func Sigmoid(dst, a []float64) {
	for i := range dst {
		dst[i] = sigmoid(a[i])
	}
}

// SiLU computes dst[i] = a[i]·σ(a[i]).
func SiLU(dst, a []float64) {
	for i := range dst {
		dst[i] = a[i] * sigmoid(a[i])
	}
}

// Tanh computes dst[i] = tanh(a[i]).
func Tanh(dst, a []float64) {
	for i := range dst {
		dst[i] = math.Tanh(a[i])
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
