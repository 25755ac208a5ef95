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
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/stats"
)

const eps = 0x1p-52

// field is a nonlinear field on ℝ³ whose Jacobian is full and not symmetric:
// v = tanh(x·W + c)·(1 + t).
func field() cnf.Field {
	rng := rand.New(rand.NewPCG(7, 7))
	w, c := autograd.Normal(3, 3, 0, 1, rng), autograd.Normal(1, 3, 0, 1, rng)
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.Scale(autograd.Tanh(autograd.AddRow(autograd.MatMul(x, w), c)), 1+t)
	}
}

type estimator func(f cnf.Field, t float64, x *autograd.Tensor, probes []*autograd.Tensor) *autograd.Tensor

// TestHutchinson_BasisProbes: with the deterministic probes √d·eⱼ
// (j = 1 … d, the same column in every row) the average is
// (1/d)·Σⱼ d·Jⱼⱼ = tr J exactly, so the estimate must equal cnf.ExactDivergence
// to rounding (~d·16ε relative).
func TestHutchinson_BasisProbes(t *testing.T) {
	grade.Try(t, func() {
		f := field()
		x := autograd.Normal(5, 3, 0, 1, rand.New(rand.NewPCG(1, 1)))
		var probes []*autograd.Tensor
		for j := 0; j < 3; j++ {
			e := autograd.Zeros(5, 3)
			for i := 0; i < 5; i++ {
				e.Data[i*3+j] = math.Sqrt(3)
			}
			probes = append(probes, e)
		}
		got := Hutchinson(f, 0.3, x, probes)
		require.NotNil(t, got)
		require.Equal(t, [2]int{5, 1}, got.Shape(), "the estimate must be [n, 1]")
		_, want := cnf.ExactDivergence(f, 0.3, x.NoGraph())
		for i := range want.Data {
			tol := 3 * 16 * eps * (1 + math.Abs(want.Data[i])) * 3
			assert.InDelta(t, want.Data[i], got.Data[i], tol, "row %d: got %v want %v (tol %g)", i, got.Data[i], want.Data[i], tol)
		}
	})
}

// libInput is the comparison's input: 4 points in 3-D and K = 2 Gaussian probes (K ≠ d, so
// that "×K" and "×1/d" mistakes differ).
func libInput() (f cnf.Field, x *autograd.Tensor, probes []*autograd.Tensor) {
	rng := rand.New(rand.NewPCG(2, 2))
	x = autograd.Normal(4, 3, 0, 1, rng)
	return field(), x, cnf.Probes(cnf.Gaussian, 2, 4, 3, rng)
}

// libTol: a vector-Jacobian product and a dot product per probe, relative to 1 + |div|: 64ε.
const libTol = 64 * eps

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintSumProbes = "summed over the K probes"
	hintMeanDims  = "averaged over the d coordinates"
	hintOneProbe  = "only the first probe"
	hintNoDot     = "the dot product with ε is missing"
	hintRows      = "every row has the same value"
)

// library is cnf.HutchinsonDivergence with the given probes, as a slice.
func library(f cnf.Field, tt float64, x *autograd.Tensor, probes []*autograd.Tensor) []float64 {
	_, d := cnf.HutchinsonDivergence(f, tt, x.Detach().NoGraph(), probes)
	return d.Data
}

// hutchinsonMistakes returns what each likely mistake returns on libInput.
func hutchinsonMistakes() []grade.Mistake {
	f, x, probes := libInput()
	right := library(f, 0.7, x, probes)
	k, d := float64(len(probes)), float64(x.Cols)
	// εᵀJ summed over its coordinates, averaged over the probes.
	noDot := make([]float64, x.Rows)
	for _, e := range probes {
		xv := x.Detach().SetRequiresGrad(true)
		g := autograd.Grad(f(0.7, xv), e, xv)[0]
		for i := range noDot {
			for _, v := range g.Row(i) {
				noDot[i] += v / k
			}
		}
	}
	mean := 0.0
	for _, v := range right {
		mean += v / float64(len(right))
	}
	same := make([]float64, len(right))
	for i := range same {
		same[i] = mean
	}
	return []grade.Mistake{
		{Hint: hintSumProbes + " instead of averaged: your estimate is exactly K = " + fmt.Sprint(k) + " times too large, so it is biased.",
			Got: grade.Scale(right, k)},
		{Hint: hintMeanDims + " in εᵀJε instead of summed: off by a factor of exactly 1/d = 1/" + fmt.Sprint(d) + ".",
			Got: grade.Scale(right, 1/d)},
		{Hint: hintOneProbe + " is used: average over all K probes.",
			Got: library(f, 0.7, x, probes[:1])},
		{Hint: hintNoDot + ": you summed the coordinates of εᵀJ; multiply it by ε element-wise first, then sum each row.",
			Got: noDot},
		{Hint: hintRows + " (the batch mean): rows are independent points; average over the probes only, not over the rows.",
			Got: same},
	}
}

// TestHutchinson_MatchesLibrary: with the same random probes the estimate
// equals cnf.HutchinsonDivergence to rounding. A wrong estimate is compared
// with the likely mistakes, and the failure says which one it resembles.
func TestHutchinson_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		f, x, probes := libInput()
		got := Hutchinson(f, 0.7, x, probes)
		require.NotNil(t, got)
		require.Equal(t, [2]int{4, 1}, got.Shape(), "the estimate must be [n, 1]: one divergence per row (finish each row's dot product with SumCols)")
		grade.Check(t, "Hutchinson", got.Data, library(f, 0.7, x, probes), libTol, hutchinsonMistakes()...)
	})
}

// unbiased draws R single-probe Rademacher estimates at one point and
// returns their mean, standard error and the exact divergence.
func unbiased(est estimator, probesPerCall int) (mean, se, exact float64) {
	f := field()
	rng := rand.New(rand.NewPCG(3, 3))
	x := autograd.FromRows([][]float64{{0.2, -0.4, 0.9}})
	const R = 2000
	vs := make([]float64, R)
	for k := range vs {
		vs[k] = est(f, 0.5, x, cnf.Probes(cnf.Rademacher, probesPerCall, 1, 3, rng)).Item()
	}
	mean, se = stats.MeanStdErr(vs)
	_, div := cnf.ExactDivergence(f, 0.5, x.NoGraph())
	return mean, se, div.Item()
}

// TestHutchinson_Unbiased: the mean of 2000 estimates with two Rademacher
// probes each lies within 4 standard errors (computed here) of the exact
// divergence.
func TestHutchinson_Unbiased(t *testing.T) {
	grade.Try(t, func() {
		mean, se, exact := unbiased(Hutchinson, 2)
		assert.InDelta(t, exact, mean, 4*se, "got mean %v ± %v want %v (tol %v)", mean, se, exact, 4*se)
	})
}

// TestGrader_CatchesMissingAverage is the grader's negative control: an
// estimator that sums over the K = 2 probes instead of averaging is biased
// by a factor 2 and fails the unbiasedness check.
func TestGrader_CatchesMissingAverage(t *testing.T) {
	sum := func(f cnf.Field, t float64, x *autograd.Tensor, probes []*autograd.Tensor) *autograd.Tensor {
		_, d := cnf.HutchinsonDivergence(f, t, x.NoGraph(), probes)
		return autograd.Scale(d, float64(len(probes)))
	}
	mean, se, exact := unbiased(sum, 2)
	assert.Greater(t, math.Abs(mean-exact), 4*se, "a biased estimator passed: %v ± %v vs %v", mean, se, exact)
}

// student is Hutchinson written as the exercise suggests, with one of the diagnosed mistakes
// switched on by its flags.
type student struct {
	sumProbes, meanDims, oneProbe, noDot, meanRows bool
	factor                                         float64
}

func (st student) estimate(f cnf.Field, tt float64, x *autograd.Tensor, probes []*autograd.Tensor) *autograd.Tensor {
	if st.oneProbe {
		probes = probes[:1]
	}
	xv := x.Detach().SetRequiresGrad(true)
	v := f(tt, xv)
	sum := autograd.Zeros(x.Rows, 1)
	for _, e := range probes {
		g := autograd.Grad(v, e, xv)[0]
		var dot *autograd.Tensor
		if st.noDot {
			dot = autograd.SumCols(g)
		} else {
			dot = autograd.SumCols(autograd.Mul(g, e))
		}
		if st.meanDims {
			dot = autograd.Scale(dot, 1/float64(x.Cols))
		}
		sum = autograd.Add(sum, dot)
	}
	out := sum
	if !st.sumProbes {
		out = autograd.Scale(sum, 1/float64(len(probes)))
	}
	if st.meanRows {
		m := autograd.Mean(out).Item()
		out = autograd.Full(x.Rows, 1, m)
	}
	if st.factor != 0 {
		out = autograd.Scale(out, st.factor)
	}
	return out.Detach()
}

// TestDiagnosis: each deliberately wrong Hutchinson, written as a student might, gets the hint
// of its mistake; the right one passes.
func TestDiagnosis(t *testing.T) {
	f, x, probes := libInput()
	want, ms := library(f, 0.7, x, probes), hutchinsonMistakes()
	for _, c := range []struct {
		name, hint string
		st         student
	}{
		{"right", "", student{}},
		{"sum over probes", hintSumProbes, student{sumProbes: true}},
		{"mean over dimensions", hintMeanDims, student{meanDims: true}},
		{"one probe", hintOneProbe, student{oneProbe: true}},
		{"no dot product", hintNoDot, student{noDot: true}},
		{"mean over rows", hintRows, student{meanRows: true}},
		{"sign flipped", "opposite sign", student{factor: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("Hutchinson", c.st.estimate(f, 0.7, x, probes).Data, want, libTol, ms...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}
