package exercises

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/autograd"
)

const eps = 0x1p-52

func randomInputs(seed uint64) (g, a, b *autograd.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 3))
	return autograd.Normal(3, 4, 0, 1, rng), autograd.Normal(3, 4, 0, 2, rng), autograd.Normal(3, 4, 0, 2, rng)
}

// TestMulBackward compares MulBackward with g ⊙ b and g ⊙ a (one rounding
// per element, so the tolerance is ε relative) and checks an op built
// with it by autograd.GradCheck.
func TestMulBackward(t *testing.T) {
	grade.Try(t, func() {
		g, a, b := randomInputs(1)
		ga, gb := MulBackward(g, a, b)
		require.NotNil(t, ga, "∂L/∂a is nil")
		require.NotNil(t, gb, "∂L/∂b is nil")
		require.Equal(t, a.Shape(), ga.Shape(), "∂L/∂a has the wrong shape")
		require.Equal(t, b.Shape(), gb.Shape(), "∂L/∂b has the wrong shape")
		for i := range g.Data {
			wa, wb := g.Data[i]*b.Data[i], g.Data[i]*a.Data[i]
			assert.InDelta(t, wa, ga.Data[i], eps*math.Abs(wa), "∂L/∂a[%d]: got %v want %v", i, ga.Data[i], wa)
			assert.InDelta(t, wb, gb.Data[i], eps*math.Abs(wb), "∂L/∂b[%d]: got %v want %v", i, gb.Data[i], wb)
		}
		mul := func(xs []*autograd.Tensor) *autograd.Tensor {
			a, b := xs[0], xs[1]
			out := autograd.Zeros(a.Rows, a.Cols)
			for i := range out.Data {
				out.Data[i] = a.Data[i] * b.Data[i]
			}
			return autograd.Custom("StudentMul", out, []*autograd.Tensor{a, b}, func(g *autograd.Tensor) []*autograd.Tensor {
				ga, gb := MulBackward(g, a, b)
				return []*autograd.Tensor{ga, gb}
			})
		}
		assert.NoError(t, autograd.GradCheck(mul, []*autograd.Tensor{a, b}, nil))
	})
}

// TestSiLUBackward compares SiLUBackward with the formula on random inputs
// and with the library's SiLU on a grid that includes large |a|, then runs
// GradCheck on an op built with it. The tolerance is 16ε relative: the
// formula takes ~6 roundings.
func TestSiLUBackward(t *testing.T) {
	grade.Try(t, func() {
		g, a, _ := randomInputs(2)
		got := SiLUBackward(g, a)
		require.NotNil(t, got)
		require.Equal(t, a.Shape(), got.Shape(), "wrong shape")
		for i, x := range a.Data {
			s := 1 / (1 + math.Exp(-x))
			want := g.Data[i] * s * (1 + x*(1-s))
			assert.InDelta(t, want, got.Data[i], 16*eps*(math.Abs(want)+math.Abs(g.Data[i])), "a = %v: got %v want %v", x, got.Data[i], want)
		}
		grid := autograd.FromRows([][]float64{{-30, -5, -1, 0, 1e-8, 0.5, 2, 40}})
		ones := autograd.Full(1, 8, 1)
		lib := grid.Clone().SetRequiresGrad(true)
		want := autograd.Grad(autograd.SiLU(lib), ones, lib)[0]
		gotGrid := SiLUBackward(ones, grid)
		for i := range want.Data {
			assert.InDelta(t, want.Data[i], gotGrid.Data[i], 16*eps*(1+math.Abs(want.Data[i])), "SiLU′(%v)", grid.Data[i])
		}
		assert.NoError(t, autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return studentSiLU(xs[0], SiLUBackward) }, []*autograd.Tensor{a}, nil))
	})
}

// studentSiLU registers SiLU with the given backward.
func studentSiLU(a *autograd.Tensor, backward func(g, a *autograd.Tensor) *autograd.Tensor) *autograd.Tensor {
	out := autograd.Zeros(a.Rows, a.Cols)
	for i, x := range a.Data {
		out.Data[i] = x / (1 + math.Exp(-x))
	}
	return autograd.Custom("StudentSiLU", out, []*autograd.Tensor{a}, func(g *autograd.Tensor) []*autograd.Tensor {
		return []*autograd.Tensor{backward(g, a)}
	})
}

// TestGrader_CatchesWrongBackward is the negative control of the grader:
// a SiLU backward that forgets the a·σ′(a) term must fail GradCheck.
func TestGrader_CatchesWrongBackward(t *testing.T) {
	_, a, _ := randomInputs(3)
	wrong := func(g, a *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, autograd.Sigmoid(a)) }
	err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return studentSiLU(xs[0], wrong) }, []*autograd.Tensor{a}, nil)
	var gce *autograd.GradCheckError
	assert.True(t, errors.As(err, &gce), fmt.Sprintf("a wrong backward passed the grader: %v", err))
}
