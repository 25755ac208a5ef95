package exercises

import (
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

// TestHutchinson_MatchesLibrary: with the same random probes the estimate
// equals cnf.HutchinsonDivergence to rounding.
func TestHutchinson_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		f := field()
		rng := rand.New(rand.NewPCG(2, 2))
		x := autograd.Normal(4, 3, 0, 1, rng)
		probes := cnf.Probes(cnf.Gaussian, 3, 4, 3, rng)
		got := Hutchinson(f, 0.7, x, probes)
		require.NotNil(t, got)
		_, want := cnf.HutchinsonDivergence(f, 0.7, x.NoGraph(), probes)
		for i := range want.Data {
			assert.InDelta(t, want.Data[i], got.Data[i], 64*eps*(1+math.Abs(want.Data[i])), "row %d", i)
		}
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
