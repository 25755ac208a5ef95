package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// kTwoSided is the number of standard errors for m two-sided checks at a
// family-wise false-alarm rate of 10⁻³ (Bonferroni): Φ⁻¹(1 − 10⁻³/2m).
func kTwoSided(m int) float64 { return distuv.UnitNormal.Quantile(1 - 1e-3/(2*float64(m))) }

// TestTutorial06 checks what the tutorial prints.
func TestTutorial06(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Samples: 20000, Points: 200, Transport: 2000, Seed: 6}
	if testing.Short() {
		cfg.Samples, cfg.Points, cfg.Transport = 5000, 50, 500
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// 1. ∫p_t = 1: the grid of 400² cells differs from 200² only by
	// rounding; allow that change plus the rounding of a 400²-term sum.
	tol := r.QuadErr + 400*400*0x1p-52
	assert.InDelta(t, 1, r.Mass, tol, "∫p_t: got %v want 1 (tol %g)", r.Mass, tol)
	// The formula's moments agree with samples of ψ_t(x₀) within k SE.
	k := kTwoSided(3)
	for i := range r.Quad {
		assert.InDelta(t, r.Quad[i], r.Sample[i], k*r.SE[i], "moment %d: got %v want %v (tol %v)", i, r.Sample[i], r.Quad[i], k*r.SE[i])
	}

	// 2. u_t is the conditional mean: the error is orthogonal to 1, x₁, x₂
	// in both coordinates (6 checks); negative control: the field whose
	// weights lack qᵢ fails the same check.
	k = kTwoSided(6)
	assert.LessOrEqual(t, r.OrthoRight, k, "orthogonality: worst |mean|/SE %v (k %v)", r.OrthoRight, k)
	assert.Greater(t, r.OrthoNoQ, k, "the no-q field passed the orthogonality check: %v", r.OrthoNoQ)

	// 3. Theorem 1: the residual vanishes within the derived difference
	// error at every point; the wrong fields fail at most points (they can
	// pass only where one posterior weight is ≈ 1 and all fields agree).
	for name, c := range map[string]Check{"empirical": r.Empirical, "mixture": r.Mixture} {
		assert.Equal(t, cfg.Points, c.Right, "%s: the marginal field failed at %d points", name, cfg.Points-c.Right)
		assert.Less(t, c.NoQ, cfg.Points/2, "%s: the no-q field passed at %d points", name, c.NoQ)
		assert.Less(t, c.Hard, cfg.Points/2, "%s: the hard-assignment field passed at %d points", name, c.Hard)
		assert.Less(t, c.Resolution, 1e-3, "%s: the check must see residuals far below its terms", name)
	}

	// 4. Transport: point i is hit with probability qᵢ (binomial SE); the
	// endpoints spread around it as N(x₁ⁱ, σ_min² I), so ‖x − x₁ⁱ‖²/σ_min²
	// has mean 2. The solver error (≈ rtol·|x| ≤ 1e-6) moves that mean by
	// ≲ 4·|x − x₁ⁱ|·1e-6/σ_min² ≈ 1e-4, far below its SE.
	k = kTwoSided(len(r.Q) + 1)
	for i := range r.Q {
		assert.InDelta(t, r.Q[i], r.Hits[i], k*r.HitSE[i], "point %d: got %v want %v (tol %v)", i, r.Hits[i], r.Q[i], k*r.HitSE[i])
	}
	assert.InDelta(t, 2, r.Spread, k*r.SpreadSE+1e-4, "spread: got %v want 2 (tol %v)", r.Spread, k*r.SpreadSE)
	assert.Less(t, math.Abs(r.Spread-2), 0.5)

	for _, f := range []string{"density.png", "field.png", "trajectories.png", "figure.png"} {
		_, err := os.Stat(filepath.Join(cfg.Out, f))
		require.NoError(t, err)
	}
}
