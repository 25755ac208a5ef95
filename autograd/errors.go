package autograd

import (
	"fmt"
	"strings"
)

// MisuseError is the panic value of every flowmatch package when it is
// called in a way that is a programming error, as in gonum: a shape that
// does not fit, a size that is not positive, a nil generator, an option
// outside its range. Such a call cannot be handled meaningfully at run time,
// so it panics; data, files and numerical failure return errors instead.
// Recover it with errors.As:
//
//	var me *autograd.MisuseError
//	if errors.As(err, &me) { … me.Op, me.Shapes, me.Reason … }
//
// It names the op (qualified by its package outside autograd, e.g.
// "fm.Train"; autograd's own ops are named bare, e.g. "MatMul"), the shapes
// it was given if shapes are involved, and what is wrong.
type MisuseError struct {
	Op     string   // the op or function, e.g. "MatMul" or "fm.Train"
	Shapes [][2]int // the shapes of its operands, in order (may be empty)
	Reason string   // what is wrong and, where it helps, what to do
}

// Misuse returns a *MisuseError for op with a formatted reason and no
// shapes: panic(autograd.Misuse("nn.NewLinear", "sizes %d, %d must be positive", in, out)).
func Misuse(op, format string, args ...any) *MisuseError {
	return &MisuseError{Op: op, Reason: fmt.Sprintf(format, args...)}
}

func (e *MisuseError) Error() string {
	op := e.Op
	if !strings.Contains(op, ".") {
		op = "autograd." + op
	}
	if len(e.Shapes) == 0 {
		return fmt.Sprintf("%s: %s", op, e.Reason)
	}
	s := make([]string, len(e.Shapes))
	for i, sh := range e.Shapes {
		s[i] = fmt.Sprintf("[%d,%d]", sh[0], sh[1])
	}
	return fmt.Sprintf("%s %s: %s", op, strings.Join(s, " "), e.Reason)
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
		panic(&MisuseError{Op: op, Shapes: [][2]int{a.Shape(), b.Shape()}, Reason: "shapes differ"})
	}
}
