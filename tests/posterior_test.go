package tests

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// Conditional density estimation rests on two facts checked here on the
// exact labelled mixture (fm.LabelledMixture): the class-conditional field
// u_t(x|c) generates p_t(x|c) (Theorem 1 of Lipman et al. 2022 on one
// class's data), so the instantaneous change of variables (Chen et al.
// 2018, arXiv:1806.07366, Theorem 1) along it gives the conditional
// log-density log q(x|c); and conditional and unconditional densities give
// the class posterior by Bayes' rule. Flow-matching posterior estimation
// (Dax et al. 2023, arXiv:2305.17161) measures a trained q(θ|x) this way;
// examples/posterior does so against exact posteriors.

// fdDivergence returns a cnf.DivergenceFunc that computes div f by central
// differences with step h, Σⱼ (fⱼ(x + h eⱼ) − fⱼ(x − h eⱼ))/2h, for fields
// that are not built from autograd ops (such as the exact mixture fields).
func fdDivergence(h float64) cnf.DivergenceFunc {
	return func(f cnf.Field, t float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		v := f(t, x)
		div := autograd.Zeros(x.Rows, 1)
		for j := range x.Cols {
			xp, xm := x.Clone().NoGraph(), x.Clone().NoGraph()
			for i := range x.Rows {
				xp.Row(i)[j] += h
				xm.Row(i)[j] -= h
			}
			fp, fmn := f(t, xp), f(t, xm)
			for i := range x.Rows {
				div.Data[i] += (fp.Row(i)[j] - fmn.Row(i)[j]) / (2 * h)
			}
		}
		return v, div
	}
}

// TestCondLogLikelihood_ExactField: for each class c of a labelled mixture
// on CondOT (σ_min = 0, so p₁(·|c) = q(·|c) exactly), cnf.LogLikelihood
// along the exact class field u_t(x|c) (fm.Guided at w = 1 of
// LabelledMixture.CondVelocity, t = 1 → 0, base N(0, I)) returns
// log q(x|c) at 12 points of the class, and along the unconditional field
// (the null label) log q(x); their difference plus log π_c is the Bayes
// log-posterior log p(c|x). Tolerance: 4 × the sum of the measured RK4 error
// (40 against 80 steps) and finite-difference error of the divergence
// (h = 10⁻⁴ against 2·10⁻⁴), plus rounding 10⁻⁹. Negative control: the
// unconditional flow's log q(x) differs from log q(x|c) by far more.
func TestCondLogLikelihood_ExactField(t *testing.T) {
	m := threeClasses(fm.CondOT{})
	nc := m.NumClasses()
	lpi := m.LogClassWeights()
	const n = 12
	loglik := func(x *autograd.Tensor, c, steps int, h float64) []float64 {
		v := fm.Guided(m.CondVelocity(), nn.LabelContext([]int{c}, nc), nn.LabelContext([]int{nn.NullLabel}, nc), 1)
		lik, _, err := cnf.LogLikelihood(cnf.FieldOf(v), x.NoGraph(), 1, 0, cnf.StandardNormalLogProb, fdDivergence(h), cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
		require.NoError(t, err)
		return lik.LogP1.Data
	}
	worst, maxTol := 0.0, 0.0
	for c := range nc {
		x := classSample(m, c, n, uint64(300+c))
		cond, cond2, condH := loglik(x, c, 40, 1e-4), loglik(x, c, 80, 1e-4), loglik(x, c, 40, 2e-4)
		unc, unc2, uncH := loglik(x, nn.NullLabel, 40, 1e-4), loglik(x, nn.NullLabel, 80, 1e-4), loglik(x, nn.NullLabel, 40, 2e-4)
		for i := range n {
			xi := x.Row(i)
			want, wantU := m.Class(c).LogProb(1, xi), m.Marginal().LogProb(1, xi)
			tol := 4*(math.Abs(cond[i]-cond2[i])+math.Abs(cond[i]-condH[i])) + 1e-9
			tolU := 4*(math.Abs(unc[i]-unc2[i])+math.Abs(unc[i]-uncH[i])) + 1e-9
			worst = max(worst, math.Abs(cond[i]-want)/tol, math.Abs(unc[i]-wantU)/tolU)
			maxTol = max(maxTol, tol, tolU)
			require.InDelta(t, want, cond[i], tol, "class %d x=%v: log q(x|c) by the ODE %.8f, exact %.8f (tol %.2g)", c, xi, cond[i], want, tol)
			require.InDelta(t, wantU, unc[i], tolU, "class %d x=%v: log q(x) by the ODE %.8f, exact %.8f (tol %.2g)", c, xi, unc[i], wantU, tolU)
			post := m.BayesPosterior(xi)[c]
			require.InDelta(t, math.Log(post), lpi[c]+cond[i]-unc[i], tol+tolU, "class %d x=%v: Bayes log-posterior", c, xi)
			assert.Greater(t, math.Abs(unc[i]-want), 10*(tol+tolU), "class %d x=%v: negative control (unconditional flow) passed", c, xi)
		}
	}
	t.Logf("log q(x|c) and log q(x) by the change of variables along the exact fields: worst |error|/tol = %.3f (largest tol %.2g) over %d classes × %d points", worst, maxTol, nc, n)
}
