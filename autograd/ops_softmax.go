package autograd

import (
	"fmt"

	"github.com/flowmatch/flowmatch/internal/stats"
)

// Categorical ops: the log-softmax of logits, the cross-entropy against
// integer targets, and the embedding lookup that turns tokens into vectors.
// Discrete flow matching (package fm/discrete) is built on them.

// LogSoftmax returns, row by row, log softmax(a): a [n, V] → [n, V],
//
//	outᵢⱼ = aᵢⱼ − ln Σₖ exp(aᵢₖ)
//
// with the log-sum-exp taken stably (internal/stats.LogSumExp). Backward,
// with g = ∂L/∂out and softmax(aᵢ)ⱼ = exp(outᵢⱼ):
//
//	∂L/∂aᵢⱼ = gᵢⱼ − exp(outᵢⱼ)·Σₖ gᵢₖ
//
// built from ops, so it can be differentiated again. Checked by
// TestGrad/LogSoftmax and TestLogSoftmax_Normalized.
func LogSoftmax(a *Tensor) *Tensor {
	out := result("LogSoftmax", a.Rows, a.Cols, a)
	for i := 0; i < a.Rows; i++ {
		row := a.Data[i*a.Cols : (i+1)*a.Cols]
		lse := stats.LogSumExp(row)
		for j, v := range row {
			out.Data[i*a.Cols+j] = v - lse
		}
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			return []*Tensor{Sub(g, MulCol(Exp(out), SumCols(g)))}
		}
	}
	return finish(out)
}

// CrossEntropy returns the negative log-likelihood of integer targets
// under the categorical distributions softmax(aᵢ), one value per row:
// a [n, V] → [n, 1],
//
//	outᵢ = −log softmax(aᵢ)_{yᵢ} = ln Σₖ exp(aᵢₖ) − aᵢ_{yᵢ}
//
// with 0 ≤ yᵢ < V (a target out of range panics with a *MisuseError).
// Backward, with g = ∂L/∂out [n, 1] and the one-hot matrix Yᵢⱼ = δ(j, yᵢ):
//
//	∂L/∂aᵢⱼ = gᵢ·(softmax(aᵢ)ⱼ − Yᵢⱼ)
//
// built from ops (softmax = Exp(LogSoftmax(a))), so it can be
// differentiated again. Checked by TestGrad/CrossEntropy and
// TestCrossEntropy_Value.
func CrossEntropy(a *Tensor, y []int) *Tensor {
	if len(y) != a.Rows {
		panic(&MisuseError{Op: "CrossEntropy", Shapes: [][2]int{a.Shape()}, Reason: fmt.Sprintf("%d targets for %d rows", len(y), a.Rows)})
	}
	onehot := a.arena.Zeros(a.Rows, a.Cols)
	for i, yi := range y {
		if yi < 0 || yi >= a.Cols {
			panic(&MisuseError{Op: "CrossEntropy", Shapes: [][2]int{a.Shape()}, Reason: fmt.Sprintf("target %d of row %d is outside [0, %d)", yi, i, a.Cols)})
		}
		onehot.Data[i*a.Cols+yi] = 1
	}
	out := result("CrossEntropy", a.Rows, 1, a)
	for i, yi := range y {
		row := a.Data[i*a.Cols : (i+1)*a.Cols]
		out.Data[i] = stats.LogSumExp(row) - row[yi]
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			return []*Tensor{MulCol(Sub(Exp(LogSoftmax(a)), onehot), g)}
		}
	}
	return finish(out)
}

// Embedding looks up rows of a table: table [V, d] and indices idx (each in
// [0, V)) → [len(idx), d], outᵢ = table_{idxᵢ}. An index out of range panics
// with a *MisuseError. Backward scatters g back onto the rows it came from
// (rows used twice add up, rows never used get 0):
//
//	∂L/∂table_v = Σ_{i: idxᵢ = v} gᵢ
//
// The scatter is itself an op (its backward is Embedding again), so the
// gradient can be differentiated. Checked by TestGrad/Embedding and
// TestGrad/Embedding/scatter.
func Embedding(table *Tensor, idx []int) *Tensor {
	for i, v := range idx {
		if v < 0 || v >= table.Rows {
			panic(&MisuseError{Op: "Embedding", Shapes: [][2]int{table.Shape()}, Reason: fmt.Sprintf("index %d at %d is outside [0, %d)", v, i, table.Rows)})
		}
	}
	d := table.Cols
	out := result("Embedding", len(idx), d, table)
	for i, v := range idx {
		copy(out.Data[i*d:(i+1)*d], table.Data[v*d:(v+1)*d])
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{scatterRows(g, idx, table.Rows)} }
	}
	return finish(out)
}

// scatterRows is Embedding's adjoint: g [n, d] → [rows, d] with
// out_v = Σ_{i: idxᵢ = v} gᵢ. Its backward is the lookup ∂L/∂g = Embedding(G, idx).
func scatterRows(g *Tensor, idx []int, rows int) *Tensor {
	d := g.Cols
	out := result("ScatterRows", rows, d, g)
	for i, v := range idx {
		dst, src := out.Data[v*d:(v+1)*d], g.Data[i*d:(i+1)*d]
		for j := range dst {
			dst[j] += src[j]
		}
	}
	if out.recording() {
		out.backward = func(gg *Tensor) []*Tensor { return []*Tensor{Embedding(gg, idx)} }
	}
	return finish(out)
}
