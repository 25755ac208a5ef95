package exercises

import (
	"fmt"
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

// paths are the two paths the comparison uses: CondOT, and xDependent, where shortcuts valid
// only for CondOT fail.
var paths = []fm.Path{fm.CondOT{SigmaMin: 0.01}, xDependent}

// outputs returns, for each path, the loss value followed by every parameter gradient, all
// in one slice: what the comparison with fm.CFMLoss checks.
func outputs(t *testing.T, loss lossFunc) []float64 {
	var out []float64
	for i, p := range paths {
		s := newSetup(uint64(10 + i))
		got := loss(s.model.Forward, p, s.t, s.x0, s.x1)
		require.NotNil(t, got)
		require.Equal(t, [2]int{1, 1}, got.Shape(), "the loss is a [1, 1] tensor")
		out = append(out, got.Item())
		if !got.RequiresGrad() { // detached from the model: no gradient reaches it
			for _, q := range s.model.Params() {
				out = append(out, make([]float64, len(q.Data))...)
			}
			continue
		}
		for _, g := range autograd.Grad(got, nil, s.model.Params()...) {
			out = append(out, g.Data...)
		}
	}
	return out
}

// compare returns the worst relative difference between loss and fm.CFMLoss
// in value and in every parameter gradient, over two paths.
func compare(t *testing.T, loss lossFunc) float64 {
	got, want := outputs(t, loss), outputs(t, fm.CFMLoss)
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(got[i]-want[i])/(1+math.Abs(want[i])))
	}
	return worst
}

// matchTol: a few hundred flops per entry, relative to 1 + |value|: 1e3·ε.
const matchTol = 1e3 * eps

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintSumRows   = "summed over the n rows"
	hintMeanDims  = "averaged over the d coordinates"
	hintTargetX0  = "the target is evaluated at the noise x₀"
	hintModelX0   = "the model sees the noise x₀"
	hintTimes     = "t and 1 − t are swapped"
	hintSign      = "the residual has the wrong sign"
	hintNoSquare  = "the norm is not squared"
	hintNoGrad    = "no gradient reaches the model"
	hintModelTime = "the model sees the wrong time"
)

// mistakes returns what each likely mistake returns (outputs), built from the library's
// pieces with one thing changed.
func mistakes(t *testing.T) []grade.Mistake {
	right := outputs(t, fm.CFMLoss)
	n, d := float64(newSetup(10).x0.Rows), float64(newSetup(10).x0.Cols)
	rowNorm := func(r *autograd.Tensor) *autograd.Tensor { return autograd.Sqrt(autograd.SumCols(autograd.Square(r))) }
	flip := func(tt *autograd.Tensor) *autograd.Tensor { return autograd.AddScalar(autograd.Neg(tt), 1) }
	values := func(scale float64) []float64 { // the value scaled, gradients scaled alike
		return grade.Scale(right, scale)
	}
	detached := append([]float64(nil), right...)
	off := 0
	for i := range paths {
		s := newSetup(uint64(10 + i))
		off++
		for _, q := range s.model.Params() {
			for k := range q.Data {
				detached[off+k] = 0
			}
			off += len(q.Data)
		}
	}
	return []grade.Mistake{
		{Hint: hintSumRows + " instead of averaged: your loss is exactly n = " + fmt.Sprint(n) + " times too large. The loss is an expectation over the batch.",
			Got: values(n)},
		{Hint: hintMeanDims + " instead of summed: your loss is off by a factor of exactly 1/d = 1/" + fmt.Sprint(d) + ". ‖·‖² sums over coordinates.",
			Got: values(1 / d)},
		{Hint: hintTargetX0 + "; evaluate it at the point x_t on the path (the doc comment's x_tᵢ). For CondOT with σ_min = 0 the two agree, which is why a second path is checked.",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				return fm.SquaredError(v(tt, fm.FlowBatch(p, tt, x0, x1)), fm.CondFieldBatch(p, tt, x0, x1))
			})},
		{Hint: hintModelX0 + "; call it at the point x_t on the path.",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				return fm.SquaredError(v(tt, x0), fm.CondFieldBatch(p, tt, fm.FlowBatch(p, tt, x0, x1), x1))
			})},
		{Hint: hintTimes + " in the path: x_t and the target are those of time 1 − t. t = 0 is noise, t = 1 is data (README, Math).",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				xt := fm.FlowBatch(p, flip(tt), x0, x1)
				return fm.SquaredError(v(tt, xt), fm.CondFieldBatch(p, flip(tt), xt, x1))
			})},
		{Hint: hintModelTime + ": pass it the same t as the path (one time per row), not 1 − t.",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				xt := fm.FlowBatch(p, tt, x0, x1)
				return fm.SquaredError(v(flip(tt), xt), fm.CondFieldBatch(p, tt, xt, x1))
			})},
		{Hint: hintSign + ": you compare v with −u. The loss measures how far the model is from the target.",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				xt := fm.FlowBatch(p, tt, x0, x1)
				return fm.SquaredError(v(tt, xt), autograd.Neg(fm.CondFieldBatch(p, tt, xt, x1)))
			})},
		{Hint: hintNoSquare + ": you average ‖v − u‖, not ‖v − u‖² (Lipman et al. 2022, eq. 9).",
			Got: outputs(t, func(v fm.Velocity, p fm.Path, tt, x0, x1 *autograd.Tensor) *autograd.Tensor {
				xt := fm.FlowBatch(p, tt, x0, x1)
				return autograd.Mean(rowNorm(autograd.Sub(v(tt, xt), fm.CondFieldBatch(p, tt, xt, x1))))
			})},
		{Hint: hintNoGrad + "'s parameters: the value is right but it was computed outside the graph (Data copied into a new tensor, or NoGraph). Only the target may be a constant.",
			Got: detached},
	}
}

// TestCFMLoss_MatchesLibrary: value and parameter gradients equal
// fm.CFMLoss to rounding (a few hundred flops per entry: 1e3·ε relative)
// for CondOT and for a path with x₁-dependent σ. A wrong loss is compared
// with the likely mistakes, and the failure says which one it resembles.
func TestCFMLoss_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		grade.Check(t, "CFMLoss (value, then gradients)", outputs(t, CFMLoss), outputs(t, fm.CFMLoss), matchTol, mistakes(t)...)
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

// student is CFMLoss written as the exercise suggests (x_t and the target built row by row
// from p.Mean and p.Std as constants, then v(t, x_t)), with one of the diagnosed mistakes
// switched on by its flags.
type student struct {
	sumRows, meanDims, targetAtX0, modelAtX0, swapT, modelSwapT, plus, noSquare, detach bool
	factor                                                                              float64
}

func (st student) loss(v fm.Velocity, p fm.Path, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	n, d := x0.Rows, x0.Cols
	xt, u, tm := autograd.Zeros(n, d), autograd.Zeros(n, d), autograd.Zeros(n, 1)
	for i := 0; i < n; i++ {
		ti := t.Data[i]
		tm.Data[i] = ti
		if st.modelSwapT {
			tm.Data[i] = 1 - ti
		}
		if st.swapT {
			ti = 1 - ti
		}
		mu, dmu := p.Mean(ti, x1.Row(i))
		sg, dsg := p.Std(ti, x1.Row(i))
		for j := 0; j < d; j++ {
			x := sg*x0.At(i, j) + mu[j]
			xt.Data[i*d+j] = x
			at := x
			if st.targetAtX0 {
				at = x0.At(i, j)
			}
			u.Data[i*d+j] = dsg/sg*(at-mu[j]) + dmu[j]
		}
	}
	in := xt
	if st.modelAtX0 {
		in = x0
	}
	var r *autograd.Tensor
	if st.plus {
		r = autograd.Add(v(tm, in), u)
	} else {
		r = autograd.Sub(v(tm, in), u)
	}
	sq := autograd.SumCols(autograd.Square(r))
	if st.noSquare {
		sq = autograd.Sqrt(sq)
	}
	if st.meanDims {
		sq = autograd.Scale(sq, 1/float64(d))
	}
	var l *autograd.Tensor
	if st.sumRows {
		l = autograd.Sum(sq)
	} else {
		l = autograd.Mean(sq)
	}
	if st.factor != 0 {
		l = autograd.Scale(l, st.factor)
	}
	if st.detach {
		l = autograd.FromSlice(1, 1, []float64{l.Item()})
	}
	return l
}

// TestDiagnosis: each deliberately wrong CFMLoss, written as a student might, gets the hint of
// its mistake; the right one passes.
func TestDiagnosis(t *testing.T) {
	want, ms := outputs(t, fm.CFMLoss), mistakes(t)
	for _, c := range []struct {
		name, hint string
		st         student
	}{
		{"right", "", student{}},
		{"sum over rows", hintSumRows, student{sumRows: true}},
		{"mean over dimensions", hintMeanDims, student{meanDims: true}},
		{"target at x₀", hintTargetX0, student{targetAtX0: true}},
		{"model at x₀", hintModelX0, student{modelAtX0: true}},
		{"t and 1 − t swapped", hintTimes, student{swapT: true}},
		{"model time 1 − t", hintModelTime, student{modelSwapT: true}},
		{"v + u", hintSign, student{plus: true}},
		{"norm not squared", hintNoSquare, student{noSquare: true}},
		{"detached", hintNoGrad, student{detach: true}},
		{"factor ½", "times 0.5:", student{factor: 0.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("CFMLoss", outputs(t, c.st.loss), want, matchTol, ms...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}
