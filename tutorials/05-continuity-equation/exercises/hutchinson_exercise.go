//go:build exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// Hutchinson estimates the divergence div v = tr(∂v/∂x) of v = f(t, ·) at
// every row of x [n, d] with the probes ε₁ … ε_K (each [n, d], entries with
// E[ε] = 0 and E[εεᵀ] = I), returning [n, 1]:
//
//	div v(x) ≈ (1/K)·Σₖ εₖᵀ (∂v/∂x) εₖ
//
// It is unbiased because E[εᵀJε] = tr(J·E[εεᵀ]) = tr J, and costs one
// vector-Jacobian product per probe instead of d.
//
// Hints: evaluate v on a leaf that requires a gradient,
// xv := x.Detach().SetRequiresGrad(true); v := f(t, xv). Then
// autograd.Grad(v, ε, xv)[0] is εᵀJ for every row at once (rows are
// independent samples), autograd.SumCols(autograd.Mul(·, ε)) finishes the
// dot product row by row, and autograd.Scale divides by K.
func Hutchinson(f cnf.Field, t float64, x *autograd.Tensor, probes []*autograd.Tensor) *autograd.Tensor {
	panic("exercise: Hutchinson is not written yet — see its doc comment, tutorial 05 README (Exercises) and Grathwohl et al. 2018, arXiv:1810.01367, §3.1")
}
