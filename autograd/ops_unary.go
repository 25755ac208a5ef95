package autograd

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

// Element-wise functions f applied to every entry. Each backward is
// g ⊙ f′(a), with f′ written with ops (often through out = f(a)) so that it
// can be differentiated again.

// Exp returns eᵃ.
//
//	∂L/∂a = g ⊙ out
func Exp(a *Tensor) *Tensor {
	out := result("Exp", a.Rows, a.Cols, a)
	kernels.Exp(out.Data, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, out)} }
	}
	return finish(out)
}

// Log returns the natural logarithm ln a.
//
//	∂L/∂a = g ⊘ a
func Log(a *Tensor) *Tensor {
	out := result("Log", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, math.Log)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Div(g, a)} }
	}
	return finish(out)
}

// Sin returns sin a.
//
//	∂L/∂a = g ⊙ cos a
func Sin(a *Tensor) *Tensor {
	out := result("Sin", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, math.Sin)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, Cos(a))} }
	}
	return finish(out)
}

// Cos returns cos a.
//
//	∂L/∂a = −g ⊙ sin a
func Cos(a *Tensor) *Tensor {
	out := result("Cos", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, math.Cos)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Neg(Mul(g, Sin(a)))} }
	}
	return finish(out)
}

// Tanh returns tanh a.
//
//	∂L/∂a = g ⊙ (1 − out²)
func Tanh(a *Tensor) *Tensor {
	out := result("Tanh", a.Rows, a.Cols, a)
	kernels.Tanh(out.Data, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, AddScalar(Neg(Square(out)), 1))} }
	}
	return finish(out)
}

// Sigmoid returns σ(a) = 1/(1 + e⁻ᵃ), computed without overflow.
//
//	∂L/∂a = g ⊙ out ⊙ (1 − out)
func Sigmoid(a *Tensor) *Tensor {
	out := result("Sigmoid", a.Rows, a.Cols, a)
	kernels.Sigmoid(out.Data, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(Mul(g, out), AddScalar(Neg(out), 1))} }
	}
	return finish(out)
}

// SiLU returns a ⊙ σ(a) (also called swish).
//
//	∂L/∂a = g ⊙ σ(a) ⊙ (1 + a ⊙ (1 − σ(a)))
func SiLU(a *Tensor) *Tensor {
	out := result("SiLU", a.Rows, a.Cols, a)
	kernels.SiLU(out.Data, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			s := Sigmoid(a)
			return []*Tensor{Mul(Mul(g, s), AddScalar(Mul(a, AddScalar(Neg(s), 1)), 1))}
		}
	}
	return finish(out)
}

// ReLU returns max(a, 0).
//
//	∂L/∂a = g ⊙ 1[a > 0]   (the subgradient 0 at a = 0)
func ReLU(a *Tensor) *Tensor {
	out := result("ReLU", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, func(x float64) float64 { return max(x, 0) })
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, step(a))} }
	}
	return finish(out)
}

// ELU returns a for a > 0 and eᵃ − 1 otherwise (α = 1).
//
//	∂L/∂a = g ⊙ (1[a > 0] + 1[a ≤ 0] ⊙ (out + 1))
func ELU(a *Tensor) *Tensor {
	out := result("ELU", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return math.Expm1(x)
	})
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			pos := step(a)
			neg := AddScalar(Neg(pos), 1)
			return []*Tensor{Mul(g, Add(pos, Mul(neg, AddScalar(out, 1))))}
		}
	}
	return finish(out)
}

// Softplus returns ln(1 + eᵃ), computed as max(a, 0) + ln(1 + e^−|a|) so
// that it neither overflows for large a nor loses precision for very
// negative a.
//
//	∂L/∂a = g ⊙ σ(a)
func Softplus(a *Tensor) *Tensor {
	out := result("Softplus", a.Rows, a.Cols, a)
	kernels.Map(out.Data, a.Data, func(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) })
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, Sigmoid(a))} }
	}
	return finish(out)
}

// step returns the constant 1[a > 0] (a leaf: its derivative is 0 almost
// everywhere).
func step(a *Tensor) *Tensor {
	s := Zeros(a.Rows, a.Cols)
	for i, v := range a.Data {
		if v > 0 {
			s.Data[i] = 1
		}
	}
	return s
}
