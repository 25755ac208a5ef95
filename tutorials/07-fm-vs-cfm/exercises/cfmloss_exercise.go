//go:build exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// CFMLoss returns the Conditional Flow Matching loss of the model v on one
// batch (Lipman et al. 2022, arXiv:2210.02747, §3.2, eq. 9, with the Gaussian paths of §4),
// a [1, 1] tensor differentiable in v's parameters:
//
//	x_tᵢ = ψ_t(x₀ᵢ) = σ_t(x₁ᵢ)·x₀ᵢ + μ_t(x₁ᵢ)                    (the flow map, row by row)
//	uᵢ   = u_t(x_tᵢ|x₁ᵢ) = σ′_t/σ_t · (x_tᵢ − μ_t(x₁ᵢ)) + μ′_t(x₁ᵢ)  (Theorem 3)
//	L    = (1/n)·Σᵢ ‖v(tᵢ, x_tᵢ) − uᵢ‖²
//
// t is [n, 1] (one time per row), x0 the noise and x1 the data, both [n, d].
// The norm is summed over the d coordinates and averaged over the n rows.
//
// Hints: p.Mean(t, x1) and p.Std(t, x1) give μ_t, μ′_t, σ_t, σ′_t for one
// row; build x_t and u as constant tensors (autograd.Zeros, then fill
// Data), and only then call v(t, xt), so that the gradient flows through v
// alone. autograd.Sub, autograd.Square, autograd.SumCols and autograd.Mean
// finish the loss.
func CFMLoss(v fm.Velocity, p fm.Path, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	panic("exercise: CFMLoss is not written yet — see its doc comment, tutorial 07 README (Math) and Lipman et al. 2022, §3.2, eq. 9")
}
