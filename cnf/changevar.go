package cnf

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// TransformedLogDensity1D is the 1-D change of variables (Papamakarios et al.
// 2021, arXiv:1912.02762, §2.1): for
// x = f(z) with z ~ p_Z and f invertible,
//
//	log p_X(x) = log p_Z(f⁻¹(x)) + log|(f⁻¹)′(x)|.
//
// finv is f⁻¹ and dfinv its derivative. TestChangeOfVariables_Affine1D
// checks x = a·z + b, z ~ N(μ, σ²) ⇒ x ~ N(aμ + b, (aσ)²) exactly.
func TransformedLogDensity1D(logpZ, finv, dfinv func(float64) float64, x float64) float64 {
	return logpZ(finv(x)) + math.Log(math.Abs(dfinv(x)))
}

// LogAbsDetJacobian returns log|det ∂f/∂z| at every row of z [n, d] for a
// row-wise map f: [n, d] → [n, d], from the exact Jacobian (d
// vector-Jacobian products through autograd, one per output coordinate)
// and an LU factorization with partial pivoting. It costs O(d) backward
// passes and O(n·d³) flops: meant for small d, and as the reference for
// layers that know their log-det analytically (TestLayers_LogDet). A
// singular Jacobian returns an error wrapping ErrNotInvertible.
func LogAbsDetJacobian(f func(z *autograd.Tensor) *autograd.Tensor, z *autograd.Tensor) ([]float64, error) {
	n, d := z.Rows, z.Cols
	zl := z.Clone().SetRequiresGrad(true)
	x := f(zl)
	if x.Rows != n || x.Cols != d {
		panic(&autograd.MisuseError{Op: "cnf.LogAbsDetJacobian", Shapes: [][2]int{z.Shape(), x.Shape()}, Reason: "f must map [n,d] to [n,d]"})
	}
	jac := make([][]float64, d) // jac[i] = ∂xᵢ/∂z, [n, d]
	for i := 0; i < d; i++ {
		e := autograd.Zeros(n, d)
		for r := 0; r < n; r++ {
			e.Data[r*d+i] = 1
		}
		jac[i] = autograd.Grad(x, e, zl)[0].Data
	}
	out := make([]float64, n)
	m := make([]float64, d*d)
	for r := 0; r < n; r++ {
		for i := 0; i < d; i++ {
			copy(m[i*d:(i+1)*d], jac[i][r*d:(r+1)*d])
		}
		ld, ok := logAbsDet(m, d)
		if !ok {
			return nil, fmt.Errorf("%w: singular Jacobian at row %d", ErrNotInvertible, r)
		}
		out[r] = ld
	}
	return out, nil
}

// logAbsDet returns log|det m| of the d×d row-major m (overwritten) by
// Gaussian elimination with partial pivoting, and false if m is singular.
func logAbsDet(m []float64, d int) (float64, bool) {
	s := 0.0
	for k := 0; k < d; k++ {
		p := k
		for i := k + 1; i < d; i++ {
			if math.Abs(m[i*d+k]) > math.Abs(m[p*d+k]) {
				p = i
			}
		}
		if m[p*d+k] == 0 {
			return math.Inf(-1), false
		}
		if p != k {
			for j := 0; j < d; j++ {
				m[k*d+j], m[p*d+j] = m[p*d+j], m[k*d+j]
			}
		}
		piv := m[k*d+k]
		s += math.Log(math.Abs(piv))
		for i := k + 1; i < d; i++ {
			f := m[i*d+k] / piv
			for j := k; j < d; j++ {
				m[i*d+j] -= f * m[k*d+j]
			}
		}
	}
	return s, true
}

// TransformedLogDensity is the N-D change of variables: for x = f(z) with
// z ~ p_Z and finv = f⁻¹ (row-wise),
//
//	log p_X(x) = log p_Z(f⁻¹(x)) + log|det ∂f⁻¹/∂x|,
//
// with the log-det from LogAbsDetJacobian. Values only; [n, 1].
func TransformedLogDensity(logpZ LogDensity, finv func(x *autograd.Tensor) *autograd.Tensor, x *autograd.Tensor) (*autograd.Tensor, error) {
	ld, err := LogAbsDetJacobian(finv, x)
	if err != nil {
		return nil, err
	}
	lp := logpZ(finv(x.NoGraph()))
	out := autograd.Zeros(x.Rows, 1)
	for i := range out.Data {
		out.Data[i] = lp.Data[i] + ld[i]
	}
	return out.NoGraph(), nil
}
