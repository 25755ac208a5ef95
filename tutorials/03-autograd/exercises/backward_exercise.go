//go:build exercises

package exercises

import "github.com/flowmatch/flowmatch/autograd"

// MulBackward returns the gradients of the element-wise product
// out = a ⊙ b with respect to its inputs, given g = ∂L/∂out
// (all four tensors have the same shape [n, d]):
//
//	∂L/∂a = g ⊙ b
//	∂L/∂b = g ⊙ a
//
// Hint: autograd.Mul computes an element-wise product; or loop over Data.
func MulBackward(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
	panic("exercise: MulBackward — return g ⊙ b and g ⊙ a")
}

// SiLUBackward returns ∂L/∂a for out = SiLU(a) = a ⊙ σ(a), given g = ∂L/∂out:
//
//	∂L/∂a = g ⊙ SiLU′(a),  SiLU′(a) = σ(a) ⊙ (1 + a ⊙ (1 − σ(a))),
//
// with σ(a) = 1/(1 + e^{−a}). Derive it first: d/da [a·σ(a)] = σ(a) + a·σ′(a)
// and σ′ = σ(1 − σ).
func SiLUBackward(g, a *autograd.Tensor) *autograd.Tensor {
	panic("exercise: SiLUBackward — return g ⊙ σ(a) ⊙ (1 + a ⊙ (1 − σ(a)))")
}
