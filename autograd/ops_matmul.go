package autograd

import "github.com/flowmatch/flowmatch/autograd/internal/kernels"

// Matrix products. The backward of each is a product in one of the other two
// layouts, so the three are closed under differentiation and no transpose is
// ever materialized:
//
//	out = a·b    ⇒ ∂L/∂a = g·bᵀ (MatMulNT),  ∂L/∂b = aᵀ·g (MatMulTN)
//	out = a·bᵀ   ⇒ ∂L/∂a = g·b  (MatMul),    ∂L/∂b = gᵀ·a (MatMulTN)
//	out = aᵀ·b   ⇒ ∂L/∂a = b·gᵀ (MatMulNT),  ∂L/∂b = a·g  (MatMul)
//
// A gradient is computed only for an input that requires one, so that
// input-gradients of a network with frozen weights cost one product a layer.

// MatMul returns the matrix product a·b of a [n, k] and b [k, m], shape [n, m].
//
//	∂L/∂a = g·bᵀ,  ∂L/∂b = aᵀ·g
func MatMul(a, b *Tensor) *Tensor {
	if a.Cols != b.Rows {
		panic(&MisuseError{Op: "MatMul", Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "inner dimensions differ"})
	}
	out := result("MatMul", a.Rows, b.Cols, a, b)
	kernels.Gemm(false, false, a.Rows, b.Cols, a.Cols, 1, a.Data, b.Data, 0, out.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			return []*Tensor{ifGrad(a, func() *Tensor { return MatMulNT(g, b) }), ifGrad(b, func() *Tensor { return MatMulTN(a, g) })}
		}
	}
	return finish(out)
}

// MatMulNT returns a·bᵀ of a [n, k] and b [m, k], shape [n, m].
//
//	∂L/∂a = g·b,  ∂L/∂b = gᵀ·a
func MatMulNT(a, b *Tensor) *Tensor {
	if a.Cols != b.Cols {
		panic(&MisuseError{Op: "MatMulNT", Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "a·bᵀ needs equal column counts"})
	}
	out := result("MatMulNT", a.Rows, b.Rows, a, b)
	kernels.Gemm(false, true, a.Rows, b.Rows, a.Cols, 1, a.Data, b.Data, 0, out.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			return []*Tensor{ifGrad(a, func() *Tensor { return MatMul(g, b) }), ifGrad(b, func() *Tensor { return MatMulTN(g, a) })}
		}
	}
	return finish(out)
}

// MatMulTN returns aᵀ·b of a [k, n] and b [k, m], shape [n, m].
//
//	∂L/∂a = b·gᵀ,  ∂L/∂b = a·g
func MatMulTN(a, b *Tensor) *Tensor {
	if a.Rows != b.Rows {
		panic(&MisuseError{Op: "MatMulTN", Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "aᵀ·b needs equal row counts"})
	}
	out := result("MatMulTN", a.Cols, b.Cols, a, b)
	kernels.Gemm(true, false, a.Cols, b.Cols, a.Rows, 1, a.Data, b.Data, 0, out.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			return []*Tensor{ifGrad(a, func() *Tensor { return MatMulNT(b, g) }), ifGrad(b, func() *Tensor { return MatMul(a, g) })}
		}
	}
	return finish(out)
}

// ifGrad returns f() when x requires a gradient and nil otherwise.
func ifGrad(x *Tensor, f func() *Tensor) *Tensor {
	if !x.requiresGrad {
		return nil
	}
	return f()
}
