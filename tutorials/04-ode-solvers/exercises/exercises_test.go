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

// stepTol: one step of a nonlinear field, a few dozen roundings, relative to 1 + |x|: 64ε.
const stepTol = 64 * eps

// nonlinearStep is one step of s on the nonlinear field from t = 0.4 with h = 0.3, as a slice:
// what the graders compare with cnf.Integrate.
func nonlinearStep(s stepper) []float64 {
	x := autograd.FromRows([][]float64{{0.7, -1.1}, {-0.2, 0.4}})
	return s(nonlinear, 0.4, x, 0.3).Data
}

// rk returns one step of the explicit Runge–Kutta method with nodes c, matrix a (lower
// triangular, row i for stage i) and weights b, scaled by hScale (1 for a correct step; the
// likely mistakes below change one of these):
//
//	kᵢ = f(t + cᵢh, x + h·Σⱼ aᵢⱼkⱼ),  x′ = x + hScale·h·Σᵢ bᵢkᵢ.
func rk(c []float64, a [][]float64, b []float64, hScale float64) stepper {
	return func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
		k := make([]*autograd.Tensor, len(c))
		for i := range c {
			xi := x
			for j, aij := range a[i] {
				if aij != 0 {
					xi = autograd.Add(xi, autograd.Scale(k[j], h*aij))
				}
			}
			k[i] = f(t+c[i]*h, xi)
		}
		out := autograd.Scale(x, 0)
		for i, bi := range b {
			out = autograd.Add(out, autograd.Scale(k[i], bi))
		}
		return autograd.Add(x, autograd.Scale(out, hScale*h))
	}
}

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintEndTime    = "f is evaluated at the end of the step"
	hintNoH        = "the step size h is missing"
	hintIncrement  = "you returned the increment"
	hintBackward   = "the step goes backward"
	hintStageTimes = "the stage times are wrong"
	hintWeights    = "the weights of k₁ … k₄ are wrong"
	hintK3         = "k₃ is built from the wrong slope"
	hintK4         = "k₄ is not a full step"
	hintEulerOnly  = "only k₁ is used"
)

var (
	rk4c = []float64{0, 0.5, 0.5, 1}
	rk4a = [][]float64{{}, {0.5}, {0, 0.5}, {0, 0, 1}}
	rk4b = []float64{1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}
)

// eulerMistakes and rk4Mistakes return what each likely mistake returns (nonlinearStep).
func eulerMistakes() []grade.Mistake {
	right := nonlinearStep(rk([]float64{0}, [][]float64{{}}, []float64{1}, 1))
	x := autograd.FromRows([][]float64{{0.7, -1.1}, {-0.2, 0.4}}).Data
	inc := make([]float64, len(x))
	for i := range x {
		inc[i] = right[i] - x[i]
	}
	return []grade.Mistake{
		{Hint: hintEndTime + " (t + h); Euler's method uses the slope at the start, time t.",
			Got: nonlinearStep(rk([]float64{1}, [][]float64{{}}, []float64{1}, 1))},
		{Hint: hintNoH + ": the slope f(t, x) must be multiplied by the step size.",
			Got: nonlinearStep(func(f cnf.Field, t float64, x *autograd.Tensor, _ float64) *autograd.Tensor {
				return autograd.Add(x, f(t, x))
			})},
		{Hint: hintIncrement + ", not the new state: the step starts from x.",
			Got: inc},
		{Hint: hintBackward + " in time: a sign is flipped.",
			Got: nonlinearStep(rk([]float64{0}, [][]float64{{}}, []float64{1}, -1))},
	}
}

func rk4Mistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintStageTimes + ": k₂ and k₃ belong to the midpoint t + h/2 and k₄ to the end t + h (README, Math; Chen et al. 2018 use the classical RK4).",
			Got: nonlinearStep(rk([]float64{0, 0, 0, 0}, rk4a, rk4b, 1))},
		{Hint: hintStageTimes + ": check every stage's time against its state (the midpoint stages at t + h/2, the last at t + h).",
			Got: nonlinearStep(rk([]float64{0, 0.5, 0.5, 0.5}, rk4a, rk4b, 1))},
		{Hint: hintWeights + ": they must sum to 1 and give the middle stages twice the weight of the ends.",
			Got: nonlinearStep(rk(rk4c, rk4a, []float64{0.25, 0.25, 0.25, 0.25}, 1))},
		{Hint: hintWeights + ": right up to order 3 but not 4 (check which stage gets the largest weight).",
			Got: nonlinearStep(rk(rk4c, rk4a, []float64{1.0 / 6, 1.0 / 6, 0.5, 1.0 / 6}, 1))},
		{Hint: hintK3 + ": each stage's state uses the stage just before it.",
			Got: nonlinearStep(rk(rk4c, [][]float64{{}, {0.5}, {0.5, 0}, {0, 0, 1}}, rk4b, 1))},
		{Hint: hintK4 + ": its state is x advanced by the whole step h, not h/2.",
			Got: nonlinearStep(rk(rk4c, [][]float64{{}, {0.5}, {0, 0.5}, {0, 0, 0.5}}, rk4b, 1))},
		{Hint: hintEulerOnly + " (that is Euler's method): combine all four stages.",
			Got: nonlinearStep(rk([]float64{0}, [][]float64{{}}, []float64{1}, 1))},
		{Hint: hintNoH + ": the weighted slope must be multiplied by the step size.",
			Got: nonlinearStep(func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
				y := rk(rk4c, rk4a, rk4b, 1)(f, t, x, h)
				return autograd.Add(x, autograd.Scale(autograd.Sub(y, x), 1/h))
			})},
	}
}

func checkStep(t *testing.T, name string, s stepper, growth func(z float64) float64, method cnf.Method, p float64, mistakes []grade.Mistake) {
	grade.Try(t, func() {
		// A nonlinear, time-dependent field: one step of the library, and the likely
		// mistakes when it differs (first, so that a wrong step gets its hint).
		grade.Check(t, name+" on a nonlinear field", nonlinearStep(s), nonlinearStep(library(method)), stepTol, mistakes...)
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
		// Repeated steps converge at the method's order (band 0.2, as in
		// tutorial 04's test).
		fit := order(s)
		assert.InDelta(t, p, fit, 0.2, "%s: got order %.3f want %v (tol 0.2)", name, fit, p)
	})
}

func TestEulerStep(t *testing.T) {
	checkStep(t, "EulerStep", EulerStep, func(z float64) float64 { return 1 + z }, cnf.Euler, 1, eulerMistakes())
}

func TestRK4Step(t *testing.T) {
	checkStep(t, "RK4Step", RK4Step, func(z float64) float64 { return 1 + z + z*z/2 + z*z*z/6 + z*z*z*z/24 }, cnf.RK4, 4, rk4Mistakes())
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

// library is one step of cnf.Integrate with the given method.
func library(m cnf.Method) stepper {
	return func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
		out, _, err := cnf.Integrate(f, x, t, t+h, cnf.SolveOptions{Method: m, Steps: 1})
		if err != nil {
			panic(err)
		}
		return out
	}
}

// TestDiagnosis: each deliberately wrong step, written as a student might, gets the hint of
// its mistake; the right ones pass.
func TestDiagnosis(t *testing.T) {
	add, sc := autograd.Add, autograd.Scale
	euler := func(atEnd, noH, increment, backward bool) stepper {
		return func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
			tt, hh := t, h
			if atEnd {
				tt = t + h
			}
			if noH {
				hh = 1
			}
			if backward {
				hh = -hh
			}
			d := sc(f(tt, x), hh)
			if increment {
				return d
			}
			return add(x, d)
		}
	}
	type rk4Options struct {
		sameTime, k3FromK1, k4Half, quarterWeights, eulerOnly bool
	}
	rk4 := func(o rk4Options) stepper {
		return func(f cnf.Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
			tm, te := t+h/2, t+h
			if o.sameTime {
				tm, te = t, t
			}
			k1 := f(t, x)
			if o.eulerOnly {
				return add(x, sc(k1, h))
			}
			k2 := f(tm, add(x, sc(k1, h/2)))
			prev := k2
			if o.k3FromK1 {
				prev = k1
			}
			k3 := f(tm, add(x, sc(prev, h/2)))
			h4 := h
			if o.k4Half {
				h4 = h / 2
			}
			k4 := f(te, add(x, sc(k3, h4)))
			if o.quarterWeights {
				return add(x, sc(add(add(k1, k2), add(k3, k4)), h/4))
			}
			return add(x, sc(add(add(k1, sc(k2, 2)), add(sc(k3, 2), k4)), h/6))
		}
	}
	for _, c := range []struct {
		name, hint string
		s          stepper
		method     cnf.Method
		mistakes   []grade.Mistake
	}{
		{"Euler right", "", euler(false, false, false, false), cnf.Euler, eulerMistakes()},
		{"Euler at t + h", hintEndTime, euler(true, false, false, false), cnf.Euler, eulerMistakes()},
		{"Euler without h", hintNoH, euler(false, true, false, false), cnf.Euler, eulerMistakes()},
		{"Euler increment", hintIncrement, euler(false, false, true, false), cnf.Euler, eulerMistakes()},
		{"Euler backward", hintBackward, euler(false, false, false, true), cnf.Euler, eulerMistakes()},
		{"RK4 right", "", rk4(rk4Options{}), cnf.RK4, rk4Mistakes()},
		{"RK4 stages at t", hintStageTimes, rk4(rk4Options{sameTime: true}), cnf.RK4, rk4Mistakes()},
		{"RK4 k₃ from k₁", hintK3, rk4(rk4Options{k3FromK1: true}), cnf.RK4, rk4Mistakes()},
		{"RK4 k₄ half step", hintK4, rk4(rk4Options{k4Half: true}), cnf.RK4, rk4Mistakes()},
		{"RK4 equal weights", hintWeights, rk4(rk4Options{quarterWeights: true}), cnf.RK4, rk4Mistakes()},
		{"RK4 is Euler", hintEulerOnly, rk4(rk4Options{eulerOnly: true}), cnf.RK4, rk4Mistakes()},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict(c.name, nonlinearStep(c.s), nonlinearStep(library(c.method)), stepTol, c.mistakes...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}
