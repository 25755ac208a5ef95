package autograd

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

// Element-wise arithmetic. Each op's forward runs a kernel; its backward,
// right below it, is written with ops, so that a backward pass recorded by
// GradGraph can be differentiated again. g is ∂L/∂out throughout.

// Add returns a + b, element-wise; a and b have the same shape.
//
//	∂L/∂a = g,  ∂L/∂b = g
func Add(a, b *Tensor) *Tensor {
	mustSameShape("Add", a, b)
	out := result("Add", a.Rows, a.Cols, a, b)
	kernels.Add(out.Data, a.Data, b.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{g, g} }
	}
	return finish(out)
}

// Sub returns a − b, element-wise.
//
//	∂L/∂a = g,  ∂L/∂b = −g
func Sub(a, b *Tensor) *Tensor {
	mustSameShape("Sub", a, b)
	out := result("Sub", a.Rows, a.Cols, a, b)
	kernels.Sub(out.Data, a.Data, b.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{g, Neg(g)} }
	}
	return finish(out)
}

// Mul returns the element-wise (Hadamard) product a ⊙ b.
//
//	∂L/∂a = g ⊙ b,  ∂L/∂b = g ⊙ a
func Mul(a, b *Tensor) *Tensor {
	mustSameShape("Mul", a, b)
	out := result("Mul", a.Rows, a.Cols, a, b)
	kernels.Mul(out.Data, a.Data, b.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Mul(g, b), Mul(g, a)} }
	}
	return finish(out)
}

// Div returns the element-wise quotient a ⊘ b.
//
//	∂L/∂a = g ⊘ b,  ∂L/∂b = −g ⊙ a ⊘ b² = −(g ⊘ b) ⊙ out
func Div(a, b *Tensor) *Tensor {
	mustSameShape("Div", a, b)
	out := result("Div", a.Rows, a.Cols, a, b)
	kernels.Div(out.Data, a.Data, b.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			ga := Div(g, b)
			return []*Tensor{ga, Neg(Mul(ga, out))}
		}
	}
	return finish(out)
}

// Neg returns −a.
//
//	∂L/∂a = −g
func Neg(a *Tensor) *Tensor {
	out := result("Neg", a.Rows, a.Cols, a)
	kernels.Scale(out.Data, -1, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Neg(g)} }
	}
	return finish(out)
}

// Scale returns s·a for a constant s.
//
//	∂L/∂a = s·g
func Scale(a *Tensor, s float64) *Tensor {
	out := result("Scale", a.Rows, a.Cols, a)
	kernels.Scale(out.Data, s, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Scale(g, s)} }
	}
	return finish(out)
}

// AddScalar returns a + c for a constant c, added to every element.
//
//	∂L/∂a = g
func AddScalar(a *Tensor, c float64) *Tensor {
	out := result("AddScalar", a.Rows, a.Cols, a)
	kernels.AddConst(out.Data, a.Data, c)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{g} }
	}
	return finish(out)
}

// Square returns a ⊙ a.
//
//	∂L/∂a = 2·g ⊙ a
func Square(a *Tensor) *Tensor {
	out := result("Square", a.Rows, a.Cols, a)
	kernels.Mul(out.Data, a.Data, a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Scale(Mul(g, a), 2)} }
	}
	return finish(out)
}

// Pow returns a^p element-wise for a constant exponent p (a > 0 unless p is
// an integer), with a⁰ = 1 for every a, 0⁰ included (as math.Pow).
//
//	∂L/∂a = p·g ⊙ a^(p−1)   (p ≠ 0)
//	∂L/∂a = 0               (p = 0: a⁰ is the constant 1)
//
// The case p = 0 is what makes every derivative of an integer power finite
// at a = 0: the k-th derivative of a^p is p(p−1)…(p−k+1)·a^(p−k), built by
// k nested backward passes, and the chain stops at the constant a⁰ instead of
// going on to 0·a⁻¹ = 0·∞ = NaN. TestPow_IntegerDerivativesAtZero checks
// orders 1 to 4 at a = 0 against p!/(p−k)!·0^(p−k), with the old backward
// as negative control; TestGrad/Pow/zero checks them with GradCheck.
func Pow(a *Tensor, p float64) *Tensor {
	out := result("Pow", a.Rows, a.Cols, a)
	for i, v := range a.Data {
		out.Data[i] = math.Pow(v, p)
	}
	if out.recording() && p != 0 {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Scale(Mul(g, Pow(a, p-1)), p)} }
	}
	return finish(out)
}

// Sqrt returns √a element-wise.
//
//	∂L/∂a = g ⊘ (2·out)
func Sqrt(a *Tensor) *Tensor {
	out := result("Sqrt", a.Rows, a.Cols, a)
	for i, v := range a.Data {
		out.Data[i] = math.Sqrt(v)
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Div(Scale(g, 0.5), out)} }
	}
	return finish(out)
}

// Expand broadcasts a to shape [rows, cols]: a may be [1, 1] (a scalar),
// [1, cols] (one row, repeated down) or [rows, 1] (one column, repeated
// across), as in NumPy's broadcast_to.
//
//	∂L/∂a = Sum(g), SumRows(g) or SumCols(g) respectively
func Expand(a *Tensor, rows, cols int) *Tensor {
	out := result("Expand", rows, cols, a)
	switch {
	case a.Rows == rows && a.Cols == cols:
		copy(out.Data, a.Data)
	case a.Rows == 1 && a.Cols == 1:
		for i := range out.Data {
			out.Data[i] = a.Data[0]
		}
	case a.Rows == 1 && a.Cols == cols:
		for i := 0; i < rows; i++ {
			copy(out.Data[i*cols:(i+1)*cols], a.Data)
		}
	case a.Cols == 1 && a.Rows == rows:
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				out.Data[i*cols+j] = a.Data[i]
			}
		}
	default:
		panic(&MisuseError{Op: "Expand", Shapes: [][2]int{a.Shape(), {rows, cols}}, Reason: "can broadcast only [1,1], [1,cols] or [rows,1]"})
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			switch {
			case a.Rows == rows && a.Cols == cols:
				return []*Tensor{g}
			case a.Rows == 1 && a.Cols == 1:
				return []*Tensor{Sum(g)}
			case a.Rows == 1:
				return []*Tensor{SumRows(g)}
			default:
				return []*Tensor{SumCols(g)}
			}
		}
	}
	return finish(out)
}

// AddRow returns a + 1·r: the row r [1, d] added to every row of a [n, d]
// (a bias).
//
//	∂L/∂a = g,  ∂L/∂r = SumRows(g)
func AddRow(a, r *Tensor) *Tensor {
	if r.Rows != 1 || r.Cols != a.Cols {
		panic(&MisuseError{Op: "AddRow", Shapes: [][2]int{a.Shape(), r.Shape()}, Reason: "want a [n,d] and r [1,d]"})
	}
	out := result("AddRow", a.Rows, a.Cols, a, r)
	kernels.AddRow(out.Data, a.Data, r.Data, a.Cols)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{g, SumRows(g)} }
	}
	return finish(out)
}

// MulCol returns diag(c)·a: row i of a [n, d] scaled by c_i, c [n, 1]
// (e.g. a per-sample time t).
//
//	∂L/∂a = MulCol(g, c),  ∂L/∂c = SumCols(g ⊙ a)
func MulCol(a, c *Tensor) *Tensor {
	if c.Cols != 1 || c.Rows != a.Rows {
		panic(&MisuseError{Op: "MulCol", Shapes: [][2]int{a.Shape(), c.Shape()}, Reason: "want a [n,d] and c [n,1]"})
	}
	out := result("MulCol", a.Rows, a.Cols, a, c)
	kernels.MulCol(out.Data, a.Data, c.Data, a.Cols)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{MulCol(g, c), SumCols(Mul(g, a))} }
	}
	return finish(out)
}
