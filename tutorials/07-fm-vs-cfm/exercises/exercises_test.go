package exercises

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

const eps = 0x1p-52

type lossFunc func(v fm.Velocity, p fm.Path, t, x0, x1 *autograd.Tensor) *autograd.Tensor

// xDependent is a path whose σ depends on x₁ and whose mean is not t·x₁, so
// that shortcuts valid only for CondOT fail.
var xDependent = fm.FuncPath{
	MeanFunc: func(t float64, x1 []float64) (mu, dmu []float64) {
		mu, dmu = make([]float64, len(x1)), make([]float64, len(x1))
		for j, v := range x1 {
			mu[j], dmu[j] = t*t*v, 2*t*v
		}
		return mu, dmu
	},
	StdFunc: func(t float64, x1 []float64) (float64, float64) {
		s1 := 0.05 + 0.1*math.Abs(x1[0])
		return 1 - (1-s1)*t, -(1 - s1)
	},
}

type setup struct {
	model     *nn.VelocityMLP
	t, x0, x1 *autograd.Tensor
}

func newSetup(seed uint64) setup {
	rng := rand.New(rand.NewPCG(seed, 3))
	return setup{
		model: nn.NewVelocityMLP(3, []int{16}, autograd.ActSiLU, rng),
		t:     autograd.Uniform(64, 1, 0, 1, rng),
		x0:    autograd.Normal(64, 3, 0, 1, rng),
		x1:    autograd.Normal(64, 3, 1, 2, rng),
	}
}

// compare returns the worst relative difference between loss and fm.CFMLoss
// in value and in every parameter gradient, over two paths.
func compare(t *testing.T, loss lossFunc) float64 {
	worst := 0.0
	for i, p := range []fm.Path{fm.CondOT{SigmaMin: 0.01}, xDependent} {
		s := newSetup(uint64(10 + i))
		got := loss(s.model.Forward, p, s.t, s.x0, s.x1)
		require.NotNil(t, got)
		require.Equal(t, [2]int{1, 1}, got.Shape(), "the loss is a [1, 1] tensor")
		want := fm.CFMLoss(s.model.Forward, p, s.t, s.x0, s.x1)
		worst = max(worst, math.Abs(got.Item()-want.Item())/(1+math.Abs(want.Item())))
		gg := autograd.Grad(got, nil, s.model.Params()...)
		gw := autograd.Grad(want, nil, s.model.Params()...)
		for k := range gw {
			for j := range gw[k].Data {
				worst = max(worst, math.Abs(gg[k].Data[j]-gw[k].Data[j])/(1+math.Abs(gw[k].Data[j])))
			}
		}
	}
	return worst
}

// TestCFMLoss_MatchesLibrary: value and parameter gradients equal
// fm.CFMLoss to rounding (a few hundred flops per entry: 1e3·ε relative)
// for CondOT and for a path with x₁-dependent σ.
func TestCFMLoss_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		worst := compare(t, CFMLoss)
		assert.LessOrEqual(t, worst, 1e3*eps, "got worst relative difference %g want ≤ %g", worst, 1e3*eps)
	})
}

// TestCFMLoss_CondOTClosedForm: for CondOT and the zero field v = 0 the loss
// is (1/n)·Σᵢ ‖x₁ᵢ − (1 − σ_min)·x₀ᵢ‖², by hand.
func TestCFMLoss_CondOTClosedForm(t *testing.T) {
	grade.Try(t, func() {
		s := newSetup(20)
		const sm = 0.1
		zero := func(_, x *autograd.Tensor) *autograd.Tensor { return autograd.Scale(x, 0) }
		got := CFMLoss(zero, fm.CondOT{SigmaMin: sm}, s.t, s.x0, s.x1)
		require.NotNil(t, got)
		want := 0.0
		for i := range s.x0.Data {
			d := s.x1.Data[i] - (1-sm)*s.x0.Data[i]
			want += d * d
		}
		want /= float64(s.x0.Rows)
		assert.InDelta(t, want, got.Item(), 64*eps*want, "got %v want %v", got.Item(), want)
	})
}

// TestCFMLoss_EvaluatesModelOnPath: the model must see x_t = ψ_t(x₀) and
// t (the zero field above cannot tell). With v(t, x) = t·x and CondOT,
// σ_min = 0, the loss is (1/n)·Σᵢ ‖tᵢ·x_tᵢ − (x₁ᵢ − x₀ᵢ)‖², by hand.
func TestCFMLoss_EvaluatesModelOnPath(t *testing.T) {
	grade.Try(t, func() {
		s := newSetup(30)
		v := func(tt, x *autograd.Tensor) *autograd.Tensor { return autograd.MulCol(x, tt) }
		got := CFMLoss(v, fm.CondOT{}, s.t, s.x0, s.x1)
		require.NotNil(t, got)
		want := 0.0
		for i := 0; i < s.x0.Rows; i++ {
			ti := s.t.Data[i]
			for j := 0; j < s.x0.Cols; j++ {
				xt := (1-ti)*s.x0.At(i, j) + ti*s.x1.At(i, j)
				d := ti*xt - (s.x1.At(i, j) - s.x0.At(i, j))
				want += d * d
			}
		}
		want /= float64(s.x0.Rows)
		assert.InDelta(t, want, got.Item(), 64*eps*want, "got %v want %v", got.Item(), want)
	})
}

// TestGrader_CatchesWrongTarget is the grader's negative control: a loss
// whose target is evaluated at x₀ instead of x_t (the same for CondOT with
// σ_min = 0, which is why the second path is there), and a loss summed
// instead of averaged over rows, both fail the comparison.
func TestGrader_CatchesWrongTarget(t *testing.T) {
	atX0 := func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
		xt := fm.FlowBatch(p, tt, x0, x1)
		return fm.SquaredError(v(tt, xt), fm.CondFieldBatch(p, tt, x0, x1))
	}
	summed := func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
		return autograd.Scale(fm.CFMLoss(v, p, tt, x0, x1), float64(x0.Rows))
	}
	assert.Greater(t, compare(t, atX0), 1e3*eps, "a target at x₀ passed")
	assert.Greater(t, compare(t, summed), 1e3*eps, "a summed loss passed")
}
