package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// exactKL measures the flow of N(μ(x) + δ, cΣ) (gaussianField) on n
// linear-Gaussian pairs with RK4 of the given steps and the exact autograd
// divergence, and returns the two KL estimates.
func exactKL(t *testing.T, g *linearGaussian, n, steps int, delta []float64, c float64) klEstimate {
	t.Helper()
	theta, x := g.simulate(n, fm.NewRand(7))
	mu := g.mean(x)
	q, err := nll(g.gaussianField(mu, delta, c), nil, theta, steps)
	require.NoError(t, err)
	logP, ent := make([]float64, n), make([]float64, n)
	for i := range logP {
		logP[i], ent[i] = g.logPost(theta.Row(i), mu.Row(i)), g.entropy()
	}
	return measure(q, logP, ent)
}

// TestKL_ExactPosteriorIsZero: the measurement of a flow that is the exact
// posterior (its own CondOT field, through cnf.LogLikelihood with the exact
// divergence) gives KL = 0: the paired estimate within the RK4 error
// (twice |KL(20 steps) − KL(40 steps)|, RK4's error at 40 steps being
// 1/16 of that at 20), and mean NLL − H within k = 3.29 standard errors
// (two-sided α = 10⁻³). Negative control: the flow of N(μ + δ, 1.5Σ) is
// measured far from 0 by both.
func TestKL_ExactPosteriorIsZero(t *testing.T) {
	g, err := newLinearGaussian(linearA, 0.5)
	require.NoError(t, err)
	k := distuv.UnitNormal.Quantile(1 - 1e-3/2)
	zero := []float64{0, 0, 0}
	e20, e40 := exactKL(t, g, 400, 20, zero, 1), exactKL(t, g, 400, 40, zero, 1)
	solver := 2*math.Abs(e20.KL-e40.KL) + 1e-12
	t.Logf("exact posterior: paired KL %.3g (RK4 40 steps; 20 steps: %.3g), NLL − H = %.4f ± %.4f", e40.KL, e20.KL, e40.KLByEntropy, e40.KLEntropSE)
	assert.LessOrEqual(t, math.Abs(e40.KL), solver, "paired KL of the exact posterior")
	assert.LessOrEqual(t, math.Abs(e40.KLByEntropy), k*e40.KLEntropSE, "NLL − H of the exact posterior")
	bad := exactKL(t, g, 400, 40, []float64{0.3, 0, -0.2}, 1.5)
	assert.Greater(t, bad.KL, 100*solver, "negative control: a wrong posterior measured as exact")
	assert.Greater(t, bad.KLByEntropy, k*bad.KLEntropSE, "negative control (NLL − H)")
}

// TestKL_WrongGaussianIsClosedForm: the flow of N(μ(x) + δ, cΣ) is measured
// at the closed-form KL(N(μ, Σ) ‖ N(μ + δ, cΣ)) = ½(d/c + δᵀΣ⁻¹δ/c − d + d ln c)
// for three (δ, c), by both estimates, within k standard errors
// (k = Φ⁻¹(1 − α/2m), α = 10⁻³, m = 6 checks) plus the RK4 error (as in
// TestKL_ExactPosteriorIsZero). Negative control: the closed form without
// the scale (c = 1 in it) is outside that band.
func TestKL_WrongGaussianIsClosedForm(t *testing.T) {
	g, err := newLinearGaussian(linearA, 0.5)
	require.NoError(t, err)
	k := distuv.UnitNormal.Quantile(1 - 1e-3/12)
	for _, tc := range []struct {
		delta []float64
		c     float64
	}{{[]float64{0.2, 0, 0}, 1}, {[]float64{0, 0, 0}, 2}, {[]float64{0.3, -0.3, 0.2}, 0.6}} {
		want := g.wrongKL(tc.delta, tc.c)
		e20, e40 := exactKL(t, g, 400, 20, tc.delta, tc.c), exactKL(t, g, 400, 40, tc.delta, tc.c)
		solver := 2*math.Abs(e20.KL-e40.KL) + 1e-12
		t.Logf("δ = %v, c = %v: closed form %.4f, paired %.4f ± %.4f, NLL − H %.4f ± %.4f", tc.delta, tc.c, want, e40.KL, e40.KLSE, e40.KLByEntropy, e40.KLEntropSE)
		assert.InDelta(t, want, e40.KL, k*e40.KLSE+solver, "paired KL, δ = %v, c = %v", tc.delta, tc.c)
		assert.InDelta(t, want, e40.KLByEntropy, k*e40.KLEntropSE+solver, "NLL − H, δ = %v, c = %v", tc.delta, tc.c)
		if tc.c != 1 {
			assert.Greater(t, math.Abs(g.wrongKL(tc.delta, 1)-e40.KL), k*e40.KLSE+solver, "negative control: closed form without c")
		}
	}
}

// TestGrid_LinearGaussian: the grid normalization used for the banana
// posterior, applied to a 2-D linear-Gaussian joint N(θ; 0, I)·N(x; Aθ, s²I),
// gives log Z(x) = log N(x; 0, AAᵀ + s²I) and the entropy ½ ln det(2πeΣ) to
// 10⁻⁶ (the midpoint rule on a smooth density that decays far inside the
// grid converges faster than any power of the cell width; 10⁻⁶ is far
// below every Monte-Carlo error it is used beside). Negative control: a
// grid over [−1, 1]² misses mass and errs by more than 10⁻².
func TestGrid_LinearGaussian(t *testing.T) {
	a := [][]float64{{1, 0.5}, {-0.3, 1}}
	const s = 0.4
	g, err := newLinearGaussian(a, s)
	require.NoError(t, err)
	A := mat.NewDense(2, 2, []float64{a[0][0], a[0][1], a[1][0], a[1][1]})
	cov := mat.NewSymDense(2, nil)
	var aat mat.Dense
	aat.Mul(A, A.T())
	for i := range 2 {
		for j := i; j < 2; j++ {
			cov.SetSym(i, j, aat.At(i, j))
		}
		cov.SetSym(i, i, cov.At(i, i)+s*s)
	}
	for _, x := range [][]float64{{0.3, -0.5}, {1.5, 1}} {
		joint := func(th []float64) float64 {
			lp := -0.5*(th[0]*th[0]+th[1]*th[1]) - math.Log(2*math.Pi)
			for r := range 2 {
				res := (x[r] - a[r][0]*th[0] - a[r][1]*th[1]) / s
				lp += -0.5*res*res - 0.5*math.Log(2*math.Pi*s*s)
			}
			return lp
		}
		want := logNormal(x, cov)
		for _, gr := range []grid{{l: 5, g: 200}, {l: 1, g: 200}} {
			lj, logZ := gr.eval(joint)
			h := gr.entropy(lj, logZ)
			t.Logf("x = %v, grid [−%v, %v]²: log Z %.8f (exact %.8f), H %.8f (exact %.8f)", x, gr.l, gr.l, logZ, want, h, g.entropy())
			if gr.l == 5 {
				assert.InDelta(t, want, logZ, 1e-6, "log Z")
				assert.InDelta(t, g.entropy(), h, 1e-6, "entropy")
			} else {
				assert.Greater(t, math.Abs(want-logZ)+math.Abs(g.entropy()-h), 1e-2, "negative control: a small grid passed")
			}
		}
	}
}

// logNormal returns log N(x; 0, cov).
func logNormal(x []float64, cov *mat.SymDense) float64 {
	var ch mat.Cholesky
	ch.Factorize(cov)
	var sol mat.VecDense
	_ = ch.SolveVecTo(&sol, mat.NewVecDense(len(x), x))
	q := mat.Dot(&sol, mat.NewVecDense(len(x), x))
	return -0.5 * (float64(len(x))*math.Log(2*math.Pi) + ch.LogDet() + q)
}

// TestLinearGaussian_PosteriorMoments: the closed-form posterior mean is
// E[θ|x] and Σ its residual covariance: over 20,000 simulated pairs, the
// residuals θ − μ(x) have mean 0 and covariance Σ within k standard errors
// (k = Φ⁻¹(1 − α/2m), α = 10⁻³, m = 9 checks). Negative control: the
// least-squares mean (AᵀA)⁻¹Aᵀx, which ignores the prior, leaves residuals
// whose covariance is not Σ.
func TestLinearGaussian_PosteriorMoments(t *testing.T) {
	g, err := newLinearGaussian(linearA, 0.5)
	require.NoError(t, err)
	const n = 20000
	theta, x := g.simulate(n, fm.NewRand(3))
	mu := g.mean(x)
	var sigma mat.Dense
	sigma.Inverse(g.sigInv)
	var ls mat.Dense // (AᵀA)⁻¹Aᵀ
	var ata mat.Dense
	ata.Mul(g.a.T(), g.a)
	ata.Inverse(&ata)
	ls.Mul(&ata, g.a.T())
	k := distuv.UnitNormal.Quantile(1 - 1e-3/18)
	bad := 0
	for i := range 3 {
		for j := range 3 {
			prod, lsProd := make([]float64, n), make([]float64, n)
			for r := range n {
				th, m := theta.Row(r), mu.Row(r)
				prod[r] = (th[i] - m[i]) * (th[j] - m[j])
				var li, lj float64
				for c := range 3 {
					li += ls.At(i, c) * x.Row(r)[c]
					lj += ls.At(j, c) * x.Row(r)[c]
				}
				lsProd[r] = (th[i] - li) * (th[j] - lj)
			}
			m, se := stats.MeanStdErr(prod)
			assert.InDelta(t, sigma.At(i, j), m, k*se, "Cov[θ − μ(x)]_%d%d", i, j)
			if lm, lse := stats.MeanStdErr(lsProd); math.Abs(lm-sigma.At(i, j)) > k*lse {
				bad++
			}
		}
		res := make([]float64, n)
		for r := range n {
			res[r] = theta.Row(r)[i] - mu.Row(r)[i]
		}
		m, se := stats.MeanStdErr(res)
		assert.InDelta(t, 0, m, k*se, "E[θ − μ(x)]_%d", i)
	}
	assert.Positive(t, bad, "negative control: the least-squares mean has the posterior's residual covariance")
}

// TestLinearGaussian_TrainedKL trains the conditional MLP (3 hidden layers
// of 64, 2,000 steps of batch 256) on linear-Gaussian pairs and measures
// its posterior on 1,000 held-out pairs: the paired KL's one-sided upper
// confidence bound, KL + k·se with k = Φ⁻¹(1 − 10⁻³), is at most the
// target 0.05 nats. Skipped with -short (training).
func TestLinearGaussian_TrainedKL(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for 2,000 steps")
	}
	g, err := newLinearGaussian(linearA, 0.5)
	require.NoError(t, err)
	model, err := train(3, 3, []int{64, 64, 64}, g.simulate, 2000, 1)
	require.NoError(t, err)
	theta, x := g.simulate(1000, fm.NewRand(101))
	q, err := modelNLL(model, theta, x, 40)
	require.NoError(t, err)
	mu := g.mean(x)
	logP, ent := make([]float64, theta.Rows), make([]float64, theta.Rows)
	for i := range logP {
		logP[i], ent[i] = g.logPost(theta.Row(i), mu.Row(i)), g.entropy()
	}
	e := measure(q, logP, ent)
	k := distuv.UnitNormal.Quantile(1 - 1e-3)
	t.Logf("trained 2,000 steps: paired KL %.4f ± %.4f, NLL − H %.4f ± %.4f", e.KL, e.KLSE, e.KLByEntropy, e.KLEntropSE)
	assert.LessOrEqual(t, e.KL+k*e.KLSE, 0.05, "KL %.4f ± %.4f: upper bound above the target 0.05", e.KL, e.KLSE)
}

// TestRun prints the three lines of measurements on a tiny run.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-steps", "20", "-n", "50", "-ode", "8", "-obs", "2", "-width", "16"}, &out))
	s := out.String()
	for _, want := range []string{"linear-Gaussian", "banana", "sliced W₂", "KL = "} {
		assert.True(t, strings.Contains(s, want), "output lacks %q:\n%s", want, s)
	}
	require.Error(t, run([]string{"-n", "1"}, &out))
}
