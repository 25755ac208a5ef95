package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogSoftmax_Normalized checks that each row of exp(LogSoftmax(a)) sums
// to 1 (to a few ulps per term) and that LogSoftmax is shift-invariant,
// including at logits of size 1000 where a naive exp overflows.
func TestLogSoftmax_Normalized(t *testing.T) {
	a := Normal(5, 7, 0, 1000, newRNG(11))
	ls := LogSoftmax(a)
	for i := 0; i < a.Rows; i++ {
		s := 0.0
		for _, v := range ls.Row(i) {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "row %d: got %v", i, v)
			s += math.Exp(v)
		}
		require.InDelta(t, 1, s, 8*7*0x1p-52, "row %d sums to %v, want 1", i, s)
	}
	shifted := LogSoftmax(AddScalar(a, 37))
	for k := range ls.Data {
		require.InDelta(t, ls.Data[k], shifted.Data[k], 1e-9*max(1, math.Abs(ls.Data[k])), "entry %d", k)
	}
}

// TestCrossEntropy_Value checks CrossEntropy against its definition
// −LogSoftmax(a)_{i,yᵢ}, and, as a negative control, that the value at a
// different target differs.
func TestCrossEntropy_Value(t *testing.T) {
	a := Normal(4, 3, 0, 1, newRNG(12))
	y := []int{2, 0, 1, 2}
	ce := CrossEntropy(a, y)
	ls := LogSoftmax(a)
	for i, yi := range y {
		require.InDelta(t, -ls.At(i, yi), ce.At(i, 0), 1e-13, "row %d", i)
		wrong := CrossEntropy(a, []int{(yi + 1) % 3, 0, 0, 0}).At(0, 0)
		if i == 0 {
			require.Greater(t, math.Abs(wrong-ce.At(0, 0)), 1e-6, "a different target must change the loss")
		}
	}
}

// TestCategoricalOps_WrongBackwardFails is the negative control of the
// three categorical ops' gradient checks: LogSoftmax's backward without the
// softmax term, and a scatter that drops repeated indices, are caught.
func TestCategoricalOps_WrongBackwardFails(t *testing.T) {
	a := Normal(4, 3, 0, 1, newRNG(13))
	noSoftmax := func(x []*Tensor) *Tensor {
		out := LogSoftmax(x[0].Detach())
		return Custom("WrongLogSoftmax", out, x, func(g *Tensor) []*Tensor { return []*Tensor{g} })
	}
	require.Error(t, GradCheck(noSoftmax, []*Tensor{a}, nil))
	idx := []int{3, 0, 3}
	overwrite := func(x []*Tensor) *Tensor {
		out := Embedding(x[0].Detach(), idx)
		return Custom("WrongEmbedding", out, x, func(g *Tensor) []*Tensor {
			s := Zeros(x[0].Rows, x[0].Cols)
			for i, v := range idx {
				copy(s.Data[v*s.Cols:(v+1)*s.Cols], g.Data[i*g.Cols:(i+1)*g.Cols]) // should add
			}
			return []*Tensor{s}
		})
	}
	require.Error(t, GradCheck(overwrite, []*Tensor{a}, nil))
}

// TestCategoricalOps_Misuse checks that bad targets and indices panic with
// a *MisuseError.
func TestCategoricalOps_Misuse(t *testing.T) {
	a := Zeros(2, 3)
	for name, f := range map[string]func(){
		"CrossEntropy/range": func() { CrossEntropy(a, []int{0, 3}) },
		"CrossEntropy/count": func() { CrossEntropy(a, []int{0}) },
		"Embedding/range":    func() { Embedding(a, []int{2}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				_, ok := recover().(*MisuseError)
				require.True(t, ok, "want a *MisuseError")
			}()
			f()
		})
	}
}
