package autograd

import (
	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Reductions. Their backward broadcasts g back with Expand.

// Sum returns Σᵢⱼ aᵢⱼ as a [1, 1] scalar.
//
//	∂L/∂a = g broadcast to a's shape
func Sum(a *Tensor) *Tensor {
	out := result("Sum", 1, 1, a)
	out.Data[0] = kernels.Sum(a.Data)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Expand(g, a.Rows, a.Cols)} }
	}
	return finish(out)
}

// Mean returns Σᵢⱼ aᵢⱼ / (n·d) as a [1, 1] scalar. An empty a has no mean
// and panics with a *MisuseError.
//
//	∂L/∂a = g/(n·d) broadcast to a's shape
func Mean(a *Tensor) *Tensor {
	if len(a.Data) == 0 {
		panic(&MisuseError{Op: "Mean", Shapes: [][2]int{a.Shape()}, Reason: "mean of an empty tensor"})
	}
	n := float64(len(a.Data))
	out := result("Mean", 1, 1, a)
	out.Data[0] = kernels.Sum(a.Data) / n
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Expand(Scale(g, 1/n), a.Rows, a.Cols)} }
	}
	return finish(out)
}

// SumRows sums over the rows (the batch axis): a [n, d] → [1, d],
// outⱼ = Σᵢ aᵢⱼ (NumPy's sum(axis=0)).
//
//	∂L/∂a = g [1, d] repeated down n rows
func SumRows(a *Tensor) *Tensor {
	out := result("SumRows", 1, a.Cols, a)
	kernels.SumRows(out.Data, a.Data, a.Cols)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Expand(g, a.Rows, a.Cols)} }
	}
	return finish(out)
}

// SumCols sums over the columns, one total per row: a [n, d] → [n, 1],
// outᵢ = Σⱼ aᵢⱼ (NumPy's sum(axis=1)); e.g. ‖x‖² per sample.
//
//	∂L/∂a = g [n, 1] repeated across d columns
func SumCols(a *Tensor) *Tensor {
	out := result("SumCols", a.Rows, 1, a)
	kernels.SumCols(out.Data, a.Data, a.Cols)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Expand(g, a.Rows, a.Cols)} }
	}
	return finish(out)
}

// LogSumExp returns, for each row, ln Σⱼ exp(aᵢⱼ): a [n, d] → [n, 1],
// computed as mᵢ + ln Σⱼ exp(aᵢⱼ − mᵢ) with mᵢ = maxⱼ aᵢⱼ, so it neither
// overflows nor underflows to −Inf when every term is tiny. A row of −Inf
// gives −Inf. The forward pass is the module's one log-sum-exp
// (internal/stats.LogSumExp), row by row.
//
//	∂L/∂aᵢⱼ = gᵢ · softmax(aᵢ)ⱼ = gᵢ · exp(aᵢⱼ − outᵢ)
func LogSumExp(a *Tensor) *Tensor {
	out := result("LogSumExp", a.Rows, 1, a)
	for i := 0; i < a.Rows; i++ {
		out.Data[i] = stats.LogSumExp(a.Data[i*a.Cols : (i+1)*a.Cols])
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			softmax := Exp(Sub(a, Expand(out, a.Rows, a.Cols)))
			return []*Tensor{MulCol(softmax, g)}
		}
	}
	return finish(out)
}
