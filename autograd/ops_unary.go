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
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{tanhGrad(g, out)} }
	}
	return finish(out)
}

// tanhGrad returns g ⊙ (1 − y²), Tanh's backward for y = tanh(a), in one
// pass (one allocation instead of four on the training path). Its own
// backward, needed only for higher-order gradients:
//
//	∂L/∂g = g₂ ⊙ (1 − y²),  ∂L/∂y = −2·g₂ ⊙ g ⊙ y
func tanhGrad(g, y *Tensor) *Tensor {
	out := result("TanhGrad", g.Rows, g.Cols, g, y)
	for i, v := range y.Data {
		out.Data[i] = g.Data[i] * (1 - v*v)
	}
	if out.recording() {
		out.backward = func(g2 *Tensor) []*Tensor {
			return []*Tensor{tanhGrad(g2, y), Scale(Mul(Mul(g2, g), y), -2)}
		}
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
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{siluGrad(g, a)} }
	}
	return finish(out)
}

// siluGrad returns g ⊙ SiLU′(a) = g ⊙ s ⊙ (1 + a ⊙ (1 − s)), s = σ(a), in one
// pass. Its own backward, needed only for higher-order gradients:
//
//	∂L/∂g = g₂ ⊙ SiLU′(a)
//	∂L/∂a = g₂ ⊙ g ⊙ SiLU″(a),  SiLU″(a) = s ⊙ (1 − s) ⊙ (2 + a ⊙ (1 − 2s))
func siluGrad(g, a *Tensor) *Tensor {
	out := result("SiLUGrad", g.Rows, g.Cols, g, a)
	for i, x := range a.Data {
		s := 1 / (1 + math.Exp(-x))
		out.Data[i] = g.Data[i] * s * (1 + x*(1-s))
	}
	if out.recording() {
		out.backward = func(g2 *Tensor) []*Tensor {
			s := Sigmoid(a)
			oneMinusS := AddScalar(Neg(s), 1)
			d2 := Mul(Mul(s, oneMinusS), AddScalar(Mul(a, AddScalar(Scale(s, -2), 1)), 2))
			return []*Tensor{siluGrad(g2, a), Mul(Mul(g2, g), d2)}
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

// step returns the constant 1[a > 0] (a leaf of a's arena: its derivative
// is 0 almost everywhere).
func step(a *Tensor) *Tensor {
	s := a.arena.Zeros(a.Rows, a.Cols)
	for i, v := range a.Data {
		if v > 0 {
			s.Data[i] = 1
		}
	}
	return s
}
