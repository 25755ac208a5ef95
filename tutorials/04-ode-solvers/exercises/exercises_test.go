package exercises

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

const eps = 0x1p-52

type stepper func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor

// ycos is dx/dt = x·cos t: nonlinear in t, so the stage times matter;
// x(t) = x(0)·e^{sin t}.
func ycos(t float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Scale(x, math.Cos(t)) }

// nonlinear mixes the coordinates: v = (sin(x₂)·(1 + t), −x₁²).
func nonlinear(t float64, x *autograd.Tensor) *autograd.Tensor {
	x1, x2 := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
	return autograd.Concat(autograd.Scale(autograd.Sin(x2), 1+t), autograd.Neg(autograd.Square(x1)))
}

// order integrates ycos over [0, 1] with N = 8 … 64 repeated steps and fits
// the slope of log error against log h.
func order(s stepper) float64 {
	var sx, sy, sxx, sxy float64
	ns := []int{8, 16, 32, 64}
	for _, n := range ns {
		h := 1 / float64(n)
		x := autograd.FromRows([][]float64{{1}})
		for i := 0; i < n; i++ {
			x = s(ycos, float64(i)*h, x, h)
		}
		e := math.Abs(x.Item() - math.Exp(math.Sin(1)))
		lx, ly := math.Log(h), math.Log(e)
		sx, sy, sxx, sxy = sx+lx, sy+ly, sxx+lx*lx, sxy+lx*ly
	}
	k := float64(len(ns))
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}

func checkStep(t *testing.T, name string, s stepper, growth func(z float64) float64, method cnf.Method, p float64) {
	grade.Try(t, func() {
		// dx/dt = λx: one step multiplies x by the method's growth factor.
		const lambda, h = -1.3, 0.25
		x := autograd.FromRows([][]float64{{1, -2}, {0.5, 3}})
		got := s(func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Scale(x, lambda) }, 0.3, x, h)
		require.NotNil(t, got, "%s returned nil", name)
		require.Equal(t, x.Shape(), got.Shape(), "%s: wrong shape", name)
		g := growth(lambda * h)
		for i, v := range x.Data {
			want := g * v
			tol := 16 * eps * math.Abs(v) * 4
			assert.InDelta(t, want, got.Data[i], tol, "%s on λx: got %v want %v (tol %g)", name, got.Data[i], want, tol)
		}
		// A nonlinear, time-dependent field: one step of the library.
		x2 := autograd.FromRows([][]float64{{0.7, -1.1}, {-0.2, 0.4}})
		ref, _, err := cnf.Integrate(nonlinear, x2, 0.4, 0.4+0.3, cnf.SolveOptions{Method: method, Steps: 1})
		require.NoError(t, err)
		got2 := s(nonlinear, 0.4, x2, 0.3)
		for i := range ref.Data {
			assert.InDelta(t, ref.Data[i], got2.Data[i], 64*eps*(1+math.Abs(ref.Data[i])), "%s on a nonlinear field, element %d", name, i)
		}
		// Repeated steps converge at the method's order (band 0.2, as in
		// tutorial 04's test).
		fit := order(s)
		assert.InDelta(t, p, fit, 0.2, "%s: got order %.3f want %v (tol 0.2)", name, fit, p)
	})
}

func TestEulerStep(t *testing.T) {
	checkStep(t, "EulerStep", EulerStep, func(z float64) float64 { return 1 + z }, cnf.Euler, 1)
}

func TestRK4Step(t *testing.T) {
	checkStep(t, "RK4Step", RK4Step, func(z float64) float64 { return 1 + z + z*z/2 + z*z*z/6 + z*z*z*z/24 }, cnf.RK4, 4)
}

// TestGrader_CatchesWrongWeights is the grader's negative control: RK4 with
// the weights (1/6, 1/6, 1/2, 1/6) still satisfies the conditions for order
// 1–3 but not order 4, and the order check must see it.
func TestGrader_CatchesWrongWeights(t *testing.T) {
	wrong := func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
		k1 := f(t, x)
		k2 := f(t+h/2, autograd.Add(x, autograd.Scale(k1, h/2)))
		k3 := f(t+h/2, autograd.Add(x, autograd.Scale(k2, h/2)))
		k4 := f(t+h, autograd.Add(x, autograd.Scale(k3, h)))
		s := autograd.Add(autograd.Add(autograd.Scale(k1, 1.0/6), autograd.Scale(k2, 1.0/6)), autograd.Add(autograd.Scale(k3, 0.5), autograd.Scale(k4, 1.0/6)))
		return autograd.Add(x, autograd.Scale(s, h))
	}
	assert.Less(t, order(wrong), 4-0.2, "a wrong RK4 measured order 4")
}
