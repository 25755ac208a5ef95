//go:build exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// EulerStep returns the state after one Euler step of size h from x at time t
// (seed §3):
//
//	x′ = x + h·f(t, x)
//
// x is a batch [n, d]; f returns a tensor of the same shape.
// Hint: autograd.Add and autograd.Scale.
func EulerStep(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	panic("exercise: EulerStep — return x + h·f(t, x)")
}

// RK4Step returns the state after one step of the classical fourth-order
// Runge–Kutta method:
//
//	k₁ = f(t, x)
//	k₂ = f(t + h/2, x + (h/2)·k₁)
//	k₃ = f(t + h/2, x + (h/2)·k₂)
//	k₄ = f(t + h, x + h·k₃)
//	x′ = x + (h/6)·(k₁ + 2k₂ + 2k₃ + k₄)
//
// It costs 4 evaluations of f and its error over [0, 1] falls like h⁴.
func RK4Step(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	panic("exercise: RK4Step — combine k₁…k₄ with weights 1/6, 1/3, 1/3, 1/6")
}
