//go:build !exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// EulerStep returns x + h·f(t, x): cnf.Integrate with one Euler step from t
// to t + h.
func EulerStep(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	return oneStep(cnf.Euler, f, t, x, h)
}

// RK4Step returns one classical Runge–Kutta step: cnf.Integrate with one RK4
// step from t to t + h.
func RK4Step(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	return oneStep(cnf.RK4, f, t, x, h)
}

func oneStep(m cnf.Method, f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	out, _, err := cnf.Integrate(f, x, t, t+h, cnf.SolveOptions{Method: m, Steps: 1})
	if err != nil {
		panic(err) // a non-finite state: the caller's field blew up
	}
	return out
}
