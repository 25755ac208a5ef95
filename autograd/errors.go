package autograd

import (
	"fmt"
	"strings"
)

// ShapeError is the panic value of an op used with tensors of the wrong
// shape (programmer misuse, as in gonum: it cannot be handled meaningfully at
// run time). It names the op and the shapes it was given.
type ShapeError struct {
	Op     string   // the op, e.g. "MatMul"
	Shapes [][2]int // the shapes of its operands, in order
	Reason string   // what is wrong and, where it helps, what to do
}

func (e *ShapeError) Error() string {
	s := make([]string, len(e.Shapes))
	for i, sh := range e.Shapes {
		s[i] = fmt.Sprintf("[%d,%d]", sh[0], sh[1])
	}
	return fmt.Sprintf("autograd: %s %s: %s", e.Op, strings.Join(s, " "), e.Reason)
}

// NonFiniteError reports the first op whose output held NaN or ±Inf while
// DetectAnomaly was active.
type NonFiniteError struct {
	Op    string // the op that produced the value
	Shape [2]int // its output shape
	Index int    // row-major index of the first non-finite element
	Value float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("autograd: %s produced %v at element [%d,%d] of its [%d,%d] output",
		e.Op, e.Value, e.Index/max(e.Shape[1], 1), e.Index%max(e.Shape[1], 1), e.Shape[0], e.Shape[1])
}

func mustSameShape(op string, a, b *Tensor) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(&ShapeError{Op: op, Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "shapes differ"})
	}
}
