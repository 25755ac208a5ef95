//go:build exercises

package exercises

import "github.com/flowmatch/flowmatch/autograd"

// MulBackward returns the gradients ∂L/∂a and ∂L/∂b of the element-wise product
// out = a ⊙ b, given g = ∂L/∂out (all four tensors have the same shape [n, d]): the chain
// rule applied element by element (tutorial 03 README, Math and Exercises).
//
// Hint: autograd.Mul computes an element-wise product; or loop over Data.
func MulBackward(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
	panic("exercise: MulBackward is not written yet — see tutorial 03 README, Math (the chain rule) and Exercises")
}

// SiLUBackward returns ∂L/∂a for out = SiLU(a) = a ⊙ σ(a), σ(a) = 1/(1 + e^{−a}), given
// g = ∂L/∂out (tutorial 03 README, Exercises). Derive SiLU′ by hand first: SiLU is a product
// of two functions of a, and σ′ = σ(1 − σ).
//
// Hint: autograd.Sigmoid, autograd.Mul, autograd.AddScalar and autograd.Neg.
func SiLUBackward(g, a *autograd.Tensor) *autograd.Tensor {
	panic("exercise: SiLUBackward is not written yet — derive SiLU′ with the product rule (tutorial 03 README, Exercises)")
}
