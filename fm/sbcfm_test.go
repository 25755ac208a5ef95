package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// sbPlan returns the plan of SBCFM(σ)'s coupling on (x0, x1).
func sbPlan(t *testing.T, sigma float64, x0, x1 *autograd.Tensor) [][]float64 {
	t.Helper()
	c, _ := fm.SBCFM(sigma)
	s, ok := c.(fm.SinkhornOT)
	require.True(t, ok, "SBCFM(%v) returned a %T", sigma, c)
	s.MaxIter, s.Tol = 20000, sbTol
	plan, err := s.Plan(x0, x1)
	require.NoError(t, err, "σ = %v", sigma)
	return plan
}

// sbTol is the Sinkhorn tolerance of sbPlan: the plan's row marginals are
// off by at most sbTol in total, which moves ⟨C, π⟩ by at most sbTol·max C.
const sbTol = 1e-10

// planCost returns ⟨C, π⟩.
func planCost(plan, cost [][]float64) float64 {
	c := 0.0
	for i := range plan {
		for j := range plan[i] {
			c += plan[i][j] * cost[i][j]
		}
	}
	return c
}

// TestSBCFM_PlanLimits: the plan of SBCFM(σ) is the entropic OT plan with
// the absolute ε = 2σ² on squared distances (Tong et al. 2023,
// arXiv:2307.03672, §3.3).
//
// σ → 0: ⟨C, π_ε⟩ − ε H(π_ε) ≤ OT − ε H(π*) with H(π*) = ln n and
// H(π_ε) ≤ 2 ln n, so OT ≤ ⟨C, π_ε⟩ ≤ OT + ε ln n: the plan's cost tends
// to the exact assignment's, checked for σ = 0.5, 0.2, 0.1, 0.05 (slack
// Tol·max C for Sinkhorn's marginal error; OT's
// assignment carries more of the plan's mass as σ falls), and SBCFM(0) is
// ExactOT. Negative control: the same Reg read relative to the largest
// cost (Absolute false, the old SinkhornOT) breaks the bound.
//
// σ → ∞: with π = diag(u)·K·diag(v), K = e^{−C/ε}, each row of n·π is
// v ⊙ Kᵢ. normalized, and the column sums force n·v̂ⱼ within e^{±R/ε}
// (R = max C − min C), so |ln(n² πᵢⱼ)| ≤ 2R/ε → 0: checked for σ = 3, 10,
// 30 (slack n·Tol for Sinkhorn's row error; the bound holds with room,
// the measured worst is about a sixth of it). Negative control: the plan of
// ε/20 breaks the bound of ε.
func TestSBCFM_PlanLimits(t *testing.T) {
	rng := newRNG(31)
	n := 8
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 0, 2, rng)
	cost := fm.SquaredDistances(x0, x1)
	cmax := 0.0
	for _, row := range cost {
		for _, v := range row {
			cmax = max(cmax, v)
		}
	}
	perm, ot := fm.Assignment(cost)
	ot /= float64(n)
	c, path := fm.SBCFM(0)
	assert.Equal(t, fm.ExactOT{}, c)
	assert.Equal(t, fm.BrownianBridge(0).Sched, path.Sched)
	prev := 0.0
	for _, sigma := range []float64{0.5, 0.2, 0.1, 0.05} {
		eps := 2 * sigma * sigma
		plan := sbPlan(t, sigma, x0, x1)
		gap := planCost(plan, cost) - ot
		onOT := 0.0
		for i, j := range perm {
			onOT += plan[i][j]
		}
		t.Logf("σ = %v: ⟨C, π⟩ − OT = %.3g (bound ε ln n = %.3g), mass on the OT assignment %.4f", sigma, gap, eps*math.Log(float64(n)), onOT)
		slack := sbTol * cmax
		assert.GreaterOrEqual(t, gap, -slack)
		assert.LessOrEqual(t, gap, eps*math.Log(float64(n))+slack, "σ = %v", sigma)
		assert.GreaterOrEqual(t, onOT, prev-sbTol, "σ = %v: the OT assignment's mass grows as σ falls", sigma)
		prev = onOT
		rel, err := fm.SinkhornOT{Reg: eps, MaxIter: 20000}.Plan(x0, x1)
		require.NoError(t, err)
		if sigma == 0.5 {
			assert.Greater(t, planCost(rel, cost)-ot, eps*math.Log(float64(n)), "negative control: relative ε")
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range cost {
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	R := hi - lo
	worst := func(plan [][]float64) float64 {
		w := 0.0
		for _, row := range plan {
			for _, p := range row {
				w = max(w, math.Abs(math.Log(float64(n*n)*p)))
			}
		}
		return w
	}
	for _, sigma := range []float64{3, 10, 30} {
		eps := 2 * sigma * sigma
		w, bound := worst(sbPlan(t, sigma, x0, x1)), 2*R/eps+float64(n)*sbTol
		t.Logf("σ = %v: max |ln n²π| = %.3g (bound 2R/ε = %.3g)", sigma, w, bound)
		assert.LessOrEqual(t, w, bound, "σ = %v", sigma)
		sharp, err := fm.SinkhornOT{Reg: eps / 20, Absolute: true}.Plan(x0, x1)
		require.NoError(t, err)
		if sigma == 3 {
			assert.Greater(t, worst(sharp), bound, "negative control: ε/20")
		}
	}
}

// TestSBCFM_BridgeMarginals: SBCFM's path at fixed (x₀, x₁) has the
// Brownian bridge's marginal N(t x₁ + (1 − t) x₀, σ² t(1 − t) I) (Tong et
// al. 2023, arXiv:2307.03672, §3): over 20,000 draws of z at t = 0.2, 0.5,
// 0.9, the sample mean is within 4 standard errors of the closed form, and
// the sample variance within 4 of its standard error σ²t(1 − t)·√(2/(N−1)).
// Negative control: Brownian motion's variance σ²t (no pinning at x₁) is
// rejected at t = 0.5. As σ → 0 the path is CondOT's: at σ = 10⁻⁶ I_t
// differs from t x₁ + (1 − t) x₀ by at most σ/2·max|z| plus rounding.
func TestSBCFM_BridgeMarginals(t *testing.T) {
	const N = 20000
	sigma := 0.7
	_, br := fm.SBCFM(sigma)
	rng := newRNG(41)
	a, b := []float64{-1, 2}, []float64{3, 0.5}
	x0, x1 := autograd.Zeros(N, 2), autograd.Zeros(N, 2)
	for i := range N {
		copy(x0.Row(i), a)
		copy(x1.Row(i), b)
	}
	z := autograd.Normal(N, 2, 0, 1, rng)
	for _, tt := range []float64{0.2, 0.5, 0.9} {
		xt, _ := br.Sample(autograd.Full(N, 1, tt), x0, x1, z)
		want := sigma * sigma * tt * (1 - tt)
		for j := range 2 {
			col := make([]float64, N)
			for i := range N {
				col[i] = xt.Row(i)[j]
			}
			m, v := meanVar(col)
			mu := tt*b[j] + (1-tt)*a[j]
			assert.InDelta(t, mu, m, 4*math.Sqrt(want/N), "t = %v mean", tt)
			se := want * math.Sqrt(2.0/(N-1))
			assert.InDelta(t, want, v, 4*se, "t = %v variance", tt)
			if tt == 0.5 {
				assert.Greater(t, math.Abs(v-sigma*sigma*tt), 4*se, "negative control: σ²t")
			}
		}
	}
	const tiny = 1e-6
	_, br = fm.SBCFM(tiny)
	xt, _ := br.Sample(autograd.Full(N, 1, 0.3), x0, x1, z)
	zmax := 0.0
	for _, v := range z.Data {
		zmax = max(zmax, math.Abs(v))
	}
	for i := range N {
		for j := range 2 {
			assert.InDelta(t, 0.3*b[j]+0.7*a[j], xt.Row(i)[j], tiny/2*zmax+1e-15)
		}
	}
}

// meanVar returns the sample mean and the unbiased sample variance.
func meanVar(xs []float64) (m, v float64) {
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, v / float64(len(xs)-1)
}
