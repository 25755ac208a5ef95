package autograd

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

// Transpose returns aᵀ, shape [a.Cols, a.Rows].
//
//	∂L/∂a = gᵀ
func Transpose(a *Tensor) *Tensor {
	out := result("Transpose", a.Cols, a.Rows, a)
	kernels.Transpose(out.Data, a.Data, a.Rows, a.Cols)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Transpose(g)} }
	}
	return finish(out)
}

// Concat joins tensors with the same number of rows side by side, along
// columns: [n, d₁], [n, d₂], … → [n, d₁+d₂+…] (e.g. the input (x, t) of a
// velocity network).
//
//	∂L/∂tᵢ = Slice(g, offᵢ, offᵢ + dᵢ)
func Concat(ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic(&MisuseError{Op: "Concat", Reason: "no tensors"})
	}
	rows, cols := ts[0].Rows, 0
	for _, t := range ts {
		if t.Rows != rows {
			shapes := make([][2]int, len(ts))
			for i, t := range ts {
				shapes[i] = t.Shape()
			}
			panic(&MisuseError{Op: "Concat", Shapes: shapes, Reason: "row counts differ"})
		}
		cols += t.Cols
	}
	out := result("Concat", rows, cols, ts...)
	off := 0
	for _, t := range ts {
		for i := 0; i < rows; i++ {
			copy(out.Data[i*cols+off:i*cols+off+t.Cols], t.Data[i*t.Cols:(i+1)*t.Cols])
		}
		off += t.Cols
	}
	if out.recording() {
		ins := out.inputs // result's copy of ts: the graph keeps its own list
		out.backward = func(g *Tensor) []*Tensor {
			gs := make([]*Tensor, len(ins))
			off := 0
			for i, t := range ins {
				gs[i] = Slice(g, off, off+t.Cols)
				off += t.Cols
			}
			return gs
		}
	}
	return finish(out)
}

// Slice returns the columns from ≤ j < to of a, shape [n, to−from].
//
//	∂L/∂a = Concat(0[n, from], g, 0[n, d−to])
func Slice(a *Tensor, from, to int) *Tensor {
	if from < 0 || to > a.Cols || from > to {
		panic(&MisuseError{Op: "Slice", Shapes: [][2]int{a.Shape()}, Reason: fmt.Sprintf("columns [%d, %d) out of range", from, to)})
	}
	w := to - from
	out := result("Slice", a.Rows, w, a)
	for i := 0; i < a.Rows; i++ {
		copy(out.Data[i*w:(i+1)*w], a.Data[i*a.Cols+from:i*a.Cols+to])
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			left, right := g.arena.Zeros(a.Rows, from), g.arena.Zeros(a.Rows, a.Cols-to)
			return []*Tensor{Concat(left, g, right)}
		}
	}
	return finish(out)
}
