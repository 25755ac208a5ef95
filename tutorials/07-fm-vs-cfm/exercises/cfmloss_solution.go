//go:build !exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// CFMLoss returns (1/n)·Σᵢ ‖v(ψ_t(x₀ᵢ), tᵢ) − u_t(ψ_t(x₀ᵢ)|x₁ᵢ)‖²: the
// library's fm.CFMLoss.
func CFMLoss(v fm.Velocity, p fm.Path, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	return fm.CFMLoss(v, p, t, x0, x1)
}
