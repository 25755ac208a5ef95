//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/autograd"

// MulBackward returns ∂L/∂a = g ⊙ b and ∂L/∂b = g ⊙ a for out = a ⊙ b.
// The reference asks the library's own backward pass: it records a ⊙ b on
// fresh leaves sharing a's and b's data and pulls g back with autograd.Grad.
func MulBackward(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
	la, lb := a.Detach().SetRequiresGrad(true), b.Detach().SetRequiresGrad(true)
	gs := autograd.Grad(autograd.Mul(la, lb), g, la, lb)
	return gs[0], gs[1]
}

// SiLUBackward returns ∂L/∂a = g ⊙ σ(a) ⊙ (1 + a ⊙ (1 − σ(a))) for
// out = SiLU(a), from the library's backward pass of autograd.SiLU.
func SiLUBackward(g, a *autograd.Tensor) *autograd.Tensor {
	la := a.Detach().SetRequiresGrad(true)
	return autograd.Grad(autograd.SiLU(la), g, la)[0]
}
