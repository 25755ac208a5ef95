package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// permutations calls f with every permutation of 0..n−1 (Heap's algorithm).
func permutations(n int, f func(p []int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			f(p)
			return
		}
		for i := 0; i < k; i++ {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
	}
	gen(n)
}

func TestAssignment_MatchesBruteForce(t *testing.T) {
	rng := newRNG(7)
	for n := 1; n <= 8; n++ {
		for trial := 0; trial < 5; trial++ {
			x0 := autograd.Normal(n, 2, 0, 1, rng)
			x1 := autograd.Normal(n, 2, 1, 1, rng)
			cost := fm.SquaredDistances(x0, x1)
			perm, total := fm.Assignment(cost)
			best, identity := math.Inf(1), 0.0
			permutations(n, func(p []int) {
				s := 0.0
				for i, j := range p {
					s += cost[i][j]
				}
				best = min(best, s)
			})
			seen := make([]bool, n)
			check := 0.0
			for i, j := range perm {
				require.False(t, seen[j], "perm must be a permutation")
				seen[j] = true
				check += cost[i][j]
				identity += cost[i][i]
			}
			// Sums of n terms in different orders: n·ε relative rounding.
			tol := 4 * float64(n) * eps * best
			assert.InDelta(t, best, total, tol, "n=%d: got %v want %v (tol %.3g)", n, total, best, tol)
			assert.InDelta(t, total, check, tol)
			if n >= 4 && trial == 0 {
				// Negative control: the unoptimized pairing is worse than the
				// brute-force optimum by far more than the tolerance.
				assert.Greater(t, identity-best, tol)
			}
		}
	}
}

func TestAssignment_Large(t *testing.T) {
	// n = 512 runs in O(n³); its optimum is no worse than 2000 random swaps
	// of it (a local-optimality check: no 2-swap may lower the cost).
	n := 512
	if testing.Short() {
		n = 128
	}
	rng := newRNG(8)
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 0, 1, rng)
	cost := fm.SquaredDistances(x0, x1)
	perm, total := fm.Assignment(cost)
	for k := 0; k < 2000; k++ {
		i, j := rng.IntN(n), rng.IntN(n)
		delta := cost[i][perm[j]] + cost[j][perm[i]] - cost[i][perm[i]] - cost[j][perm[j]]
		require.GreaterOrEqual(t, delta, -1e-12*total, "swap %d,%d improves the optimum", i, j)
	}
}

func TestSinkhorn_Marginals(t *testing.T) {
	rng := newRNG(9)
	n, m := 12, 9
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(m, 2, 0.5, 1, rng)
	cost := fm.SquaredDistances(x0, x1)
	a, b := make([]float64, n), make([]float64, m)
	for i := range a {
		a[i] = 1 + rng.Float64()
	}
	for j := range b {
		b[j] = 1 + rng.Float64()
	}
	normalize := func(v []float64) {
		s := 0.0
		for _, x := range v {
			s += x
		}
		for i := range v {
			v[i] /= s
		}
	}
	normalize(a)
	normalize(b)
	const tol = 1e-12
	res, err := fm.Sinkhorn(cost, a, b, 0.5, tol, 5000)
	require.NoError(t, err)
	plan := res.Plan
	t.Logf("converged after %d sweeps, marginal error %.2g", res.Sweeps, res.MarginalErr)
	assert.Zero(t, res.NewtonSteps, "Sinkhorn's sweeps suffice at ε = 0.5")
	// Stopping rule: Σᵢ|row sum − aᵢ| ≤ tol; columns exact to rounding.
	rowErr := 0.0
	for i := range a {
		s := 0.0
		for j := range b {
			s += plan[i][j]
		}
		rowErr += math.Abs(s - a[i])
	}
	assert.LessOrEqual(t, rowErr, tol)
	assert.LessOrEqual(t, rowErr, res.MarginalErr)
	for j := range b {
		s := 0.0
		for i := range a {
			s += plan[i][j]
		}
		assert.InDelta(t, b[j], s, 64*eps*float64(n), "column %d", j)
	}
	// Negative control: one sweep does not yet give the row marginals, and
	// says so.
	early, err := fm.Sinkhorn(cost, a, b, 0.5, tol, 1)
	require.ErrorIs(t, err, fm.ErrNotConverged)
	assert.Equal(t, 1, early.Sweeps)
	assert.Greater(t, early.MarginalErr, tol)
}

// issueCosts are squared distances of 16 points N(0, I) against N(0, 4I):
// costs of order 10, the largest about 60.
func issueCosts() ([][]float64, []float64) {
	rng := newRNG(12)
	n := 16
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 0, 2, rng)
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	return fm.SquaredDistances(x0, x1), u
}

// TestSinkhorn_ConvergesAtSmallEps: at ε = 0.05 against costs of order 10,
// Sinkhorn's sweeps alone leave a marginal error far above 1e-9 (the
// negative control: 100 sweeps, the budget before Newton starts), while
// Sinkhorn with its Newton steps reaches it. The converged plan has the
// marginals (Σ|row − a| + Σ|column − b| ≤ tol) and the Gibbs form of the
// optimum, πᵢⱼ = exp((fᵢ + gⱼ − Cᵢⱼ)/ε): every 2×2 "cross ratio" of
// log πᵢⱼ + Cᵢⱼ/ε vanishes (to the rounding of (g − C)/ε, k·u·max C/ε);
// the independent plan a·bᵀ, with the right marginals, does not have it.
func TestSinkhorn_ConvergesAtSmallEps(t *testing.T) {
	cost, u := issueCosts()
	const e, tol = 0.05, 1e-9
	sweeps, err := fm.Sinkhorn(cost, u, u, e, tol, 100)
	require.ErrorIs(t, err, fm.ErrNotConverged)
	assert.Zero(t, sweeps.NewtonSteps)
	res, err := fm.Sinkhorn(cost, u, u, e, tol, 1000)
	require.NoError(t, err)
	t.Logf("sweeps alone: %.2g after %d; with Newton: %.2g after %d sweeps and %d Newton steps",
		sweeps.MarginalErr, sweeps.Sweeps, res.MarginalErr, res.Sweeps, res.NewtonSteps)
	assert.Greater(t, sweeps.MarginalErr, 1e3*tol)
	assert.LessOrEqual(t, res.MarginalErr, tol)
	n := len(u)
	cmax := 0.0
	for _, row := range cost {
		for _, c := range row {
			cmax = max(cmax, c)
		}
	}
	gibbsOff := func(plan [][]float64) float64 {
		h := func(i, j int) float64 { return math.Log(plan[i][j]) + cost[i][j]/e }
		worst := 0.0
		for i := 1; i < n; i++ {
			for j := 1; j < n; j++ {
				if plan[i][j] > 1e-250 && plan[i][0] > 1e-250 && plan[0][j] > 1e-250 && plan[0][0] > 1e-250 {
					worst = max(worst, math.Abs(h(i, j)-h(i, 0)-h(0, j)+h(0, 0)))
				}
			}
		}
		return worst
	}
	bound := 64 * eps * cmax / e
	assert.LessOrEqual(t, gibbsOff(res.Plan), bound)
	indep := make([][]float64, n)
	for i := range indep {
		indep[i] = make([]float64, n)
		for j := range indep[i] {
			indep[i][j] = u[i] * u[j]
		}
	}
	assert.Greater(t, gibbsOff(indep), bound, "negative control: a·bᵀ is not of the Gibbs form")
}

// TestSinkhorn_NotConverged: when the iterations run out before the
// tolerance, Sinkhorn returns ErrNotConverged with the plan, the iteration
// counts and the marginal error, instead of a silent plan; misuse panics.
func TestSinkhorn_NotConverged(t *testing.T) {
	cost, u := issueCosts()
	res, err := fm.Sinkhorn(cost, u, u, 0.05, 1e-9, 103)
	require.ErrorIs(t, err, fm.ErrNotConverged)
	t.Logf("%v", err)
	assert.Equal(t, 103, res.Sweeps+res.NewtonSteps)
	assert.Greater(t, res.MarginalErr, 1e-9)
	assert.Len(t, res.Plan, len(u))
	assert.Contains(t, err.Error(), "marginal error")
	assert.Panics(t, func() { _, _ = fm.Sinkhorn(cost, u, u, 0, 1e-9, 10) }, "ε = 0 is misuse")
	assert.Panics(t, func() { _, _ = fm.Sinkhorn(cost, u[:3], u, 0.1, 1e-9, 10) }, "a of the wrong length is misuse")
	assert.Panics(t, func() { _, _ = fm.Sinkhorn(cost, u, u, 0.1, 0, 10) }, "tol = 0 is misuse")
}

// TestSinkhornOT_PairsFromPlan: SinkhornOT draws each pair (i, j) with
// probability πᵢⱼ of the plan on the scaled costs: over many draws the
// frequencies are within 5 binomial standard errors of π (and not those of
// the independent coupling, 1/n² each: the negative control). A plan that
// cannot converge in MaxIter sweeps is an error.
func TestSinkhornOT_PairsFromPlan(t *testing.T) {
	rng := newRNG(13)
	n := 4
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 1, 1, rng)
	cost := scaledCost(x0, x1)
	u := []float64{0.25, 0.25, 0.25, 0.25}
	res, err := fm.Sinkhorn(cost, u, u, 0.2, 1e-9, 1000)
	require.NoError(t, err)
	// Identify the rows of the pairs by their first coordinate.
	index := func(x *autograd.Tensor, v float64) int {
		for i := 0; i < x.Rows; i++ {
			if x.At(i, 0) == v {
				return i
			}
		}
		t.Fatalf("row %v not found", v)
		return -1
	}
	counts := make([][]float64, n)
	for i := range counts {
		counts[i] = make([]float64, n)
	}
	draws := 0
	for k := 0; k < 2000; k++ {
		p0, p1, err := fm.SinkhornOT{Reg: 0.2}.Pair(x0, x1, rng)
		require.NoError(t, err)
		for r := 0; r < n; r++ {
			counts[index(x0, p0.At(r, 0))][index(x1, p1.At(r, 0))]++
			draws++
		}
	}
	for i := range counts {
		for j := range counts[i] {
			p := res.Plan[i][j]
			se := math.Sqrt(p * (1 - p) / float64(draws))
			assert.InDelta(t, p, counts[i][j]/float64(draws), 5*se, "π[%d][%d]", i, j)
		}
	}
	// Negative control: the frequencies of the independent coupling are not
	// those of the plan (some cell is off by more than 5 SE).
	off := 0
	for i := range counts {
		for j := range counts[i] {
			p := res.Plan[i][j]
			if math.Abs(1.0/16-p) > 5*math.Sqrt(p*(1-p)/float64(draws)) {
				off++
			}
		}
	}
	assert.Positive(t, off)
	// Not converged: an error, not a silent plan.
	_, _, err = fm.SinkhornOT{Reg: 1e-4, MaxIter: 3}.Pair(x0, x1, rng)
	require.ErrorIs(t, err, fm.ErrNotConverged)
	assert.Panics(t, func() { _, _, _ = fm.SinkhornOT{Reg: 0.1}.Pair(x0, x1, nil) }, "nil rng")
}

func TestSinkhorn_NearExactOT(t *testing.T) {
	// ⟨π_ε, C⟩ − ε H(π_ε) ≤ OT − ε H(π*), H(π*) = log n (a permutation
	// plan /n) and H(π_ε) ≤ 2 log n, so OT ≤ ⟨π_ε, C⟩ ≤ OT + ε log n. The
	// costs are scaled to a largest cost of 1, as in SinkhornOT, where
	// Sinkhorn converges to 1e-9 in a few hundred sweeps down to ε = 0.02.
	rng := newRNG(10)
	n := 16
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 0, 1, rng)
	cost := scaledCost(x0, x1)
	_, ot := fm.Assignment(cost)
	ot /= float64(n)
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	for _, e := range []float64{1, 0.1, 0.02} {
		res, err := fm.Sinkhorn(cost, u, u, e, 1e-9, 20000)
		require.NoError(t, err, "ε=%v", e)
		plan := res.Plan
		c := 0.0
		for i := range plan {
			for j := range plan[i] {
				c += plan[i][j] * cost[i][j]
			}
		}
		assert.GreaterOrEqual(t, c, ot*(1-1e-9), "ε=%v", e)
		assert.LessOrEqual(t, c, ot+e*math.Log(float64(n))+1e-9, "ε=%v", e)
	}
}

func TestExactOT_LowersPairCost(t *testing.T) {
	rng := newRNG(11)
	x0 := autograd.Normal(256, 2, 0, 1, rng)
	x1 := autograd.Normal(256, 2, 2, 0.5, rng)
	cost := func(a, b *autograd.Tensor) float64 {
		s := 0.0
		for i := range a.Data {
			d := a.Data[i] - b.Data[i]
			s += d * d
		}
		return s
	}
	a0, a1, err := fm.Independent{}.Pair(x0, x1, rng)
	require.NoError(t, err)
	b0, b1, err := fm.ExactOT{}.Pair(x0, x1, rng)
	require.NoError(t, err)
	c0, c1, err := fm.SinkhornOT{Reg: 0.05}.Pair(x0, x1, rng)
	require.NoError(t, err)
	ind, ot, sk := cost(a0, a1), cost(b0, b1), cost(c0, c1)
	assert.Less(t, ot, ind)
	assert.Less(t, sk, ind)
}

// scaledCost returns the squared distances of x0 and x1 divided by the
// largest of them, as SinkhornOT scales its costs.
func scaledCost(x0, x1 *autograd.Tensor) [][]float64 {
	cost := fm.SquaredDistances(x0, x1)
	cmax := 0.0
	for _, row := range cost {
		for _, c := range row {
			cmax = max(cmax, c)
		}
	}
	for _, row := range cost {
		for j := range row {
			row[j] /= cmax
		}
	}
	return cost
}
