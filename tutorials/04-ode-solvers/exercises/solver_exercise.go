//go:build exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// EulerStep returns the state after one step of Euler's method of size h from the state x at
// time t, for dx/dt = f(t, x) (tutorial 04 README, Math; Chen et al. 2018, arXiv:1806.07366,
// §2). x is a batch [n, d]; f returns a tensor of the same shape. Its error over [0, 1]
// falls like h: order 1, one evaluation of f.
//
// Hint: autograd.Add and autograd.Scale.
func EulerStep(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	panic("exercise: EulerStep is not written yet — see tutorial 04 README, Math (Euler's method)")
}

// RK4Step returns the state after one step of the classical fourth-order Runge–Kutta method
// (tutorial 04 README, Math; Hairer, Nørsett & Wanner 1993, Solving ODEs I, §II.1). It
// costs four evaluations of f, whose stage times matter when f depends on t, and its error
// over [0, 1] falls like h⁴.
func RK4Step(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	panic("exercise: RK4Step is not written yet — see tutorial 04 README, Math (RK4: four stages and their weights)")
}
