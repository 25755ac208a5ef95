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
	plan := fm.Sinkhorn(cost, a, b, 0.5, 5000)
	// Stopping rule: Σ|row sum − a| ≤ 1e-12·n; columns exact to rounding.
	for i := range a {
		s := 0.0
		for j := range b {
			s += plan[i][j]
		}
		assert.InDelta(t, a[i], s, 1e-12*float64(n), "row %d", i)
	}
	for j := range b {
		s := 0.0
		for i := range a {
			s += plan[i][j]
		}
		assert.InDelta(t, b[j], s, 64*eps*float64(n), "column %d", j)
	}
	// Negative control: two sweeps do not yet give the row marginals.
	early := fm.Sinkhorn(cost, a, b, 0.5, 1)
	worst := 0.0
	for i := range a {
		s := 0.0
		for j := range b {
			s += early[i][j]
		}
		worst = max(worst, math.Abs(s-a[i]))
	}
	assert.Greater(t, worst, 1e-12*float64(n))
}

func TestSinkhorn_NearExactOT(t *testing.T) {
	// ⟨π_ε, C⟩ − ε H(π_ε) ≤ OT − ε H(π*), H(π*) = log n (a permutation
	// plan /n) and H(π_ε) ≤ 2 log n, so OT ≤ ⟨π_ε, C⟩ ≤ OT + ε log n.
	rng := newRNG(10)
	n := 16
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Normal(n, 2, 0, 1, rng)
	cost := fm.SquaredDistances(x0, x1)
	_, ot := fm.Assignment(cost)
	ot /= float64(n)
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	for _, e := range []float64{1, 0.1, 0.01} {
		plan := fm.Sinkhorn(cost, u, u, e, 20000)
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
	a0, a1 := fm.Independent{}.Pair(x0, x1, rng)
	b0, b1 := fm.ExactOT{}.Pair(x0, x1, rng)
	c0, c1 := fm.SinkhornOT{Reg: 0.05}.Pair(x0, x1, rng)
	ind, ot, sk := cost(a0, a1), cost(b0, b1), cost(c0, c1)
	assert.Less(t, ot, ind)
	assert.Less(t, sk, ind)
}
