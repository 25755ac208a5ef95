package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTutorial05 checks what the tutorial prints.
func TestTutorial05(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Points: 200, Repeats: 400, Seed: 5}
	if testing.Short() {
		cfg.Points, cfg.Repeats = 50, 100
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// The right field: the residual is central-difference error, O(h²), at
	// every point (the halving test), and its median relative size drops by
	// 4 per halving of h (±0.8 for the O(h²) drift of that ratio and the
	// change of the median point).
	assert.Equal(t, cfg.Points, r.RightPass, "halving test failed at %d points", cfg.Points-r.RightPass)
	for i := 1; i < len(r.Hs); i++ {
		ratio := r.RightRel[i-1] / r.RightRel[i]
		assert.InDelta(t, 4, ratio, 0.8, "right field: residual ratio %v per halving, want 4", ratio)
	}
	// Negative control: the wrong field fails the halving test at almost
	// every point (it can pass only where its residual happens to cross 0),
	// and its median relative residual neither shrinks with h nor comes near
	// the right field's.
	assert.Less(t, r.WrongPass, cfg.Points/20, "the wrong field passed the halving test at %d points", r.WrongPass)
	for i := range r.Hs {
		assert.Greater(t, r.WrongRel[i], 100*r.RightRel[0], "the wrong field's residual %v at h = %v is small", r.WrongRel[i], r.Hs[i])
		if i > 0 {
			assert.Less(t, r.WrongRel[i-1]/r.WrongRel[i], 1.5, "the wrong field's residual shrinks with h")
		}
	}

	// Likelihood through the ODE: within the solver bound; the wrong field
	// misses by far more than that bound at every point.
	assert.Less(t, r.LikMaxErr, r.LikBound, "got max error %g want < %g", r.LikMaxErr, r.LikBound)
	assert.Greater(t, r.LikWrongMinErr, 100*r.LikBound, "the wrong field's likelihood is close: %v", r.LikWrongMinErr)

	// Hutchinson: with ∂u/∂x = c·I and ε = ±1, εᵀJε = c·d exactly, so every
	// Rademacher solve gives the same number (rounding and solver noise
	// only); Gaussian probes are unbiased: within 4 standard errors, widened
	// by the per-solve solver bound.
	assert.Less(t, r.RademacherSpread, 2*r.GaussSolveErr, "Rademacher spread %g", r.RademacherSpread)
	tol := 4*r.GaussSE + r.GaussSolveErr
	assert.InDelta(t, r.GaussExact, r.GaussMean, tol, "Gaussian probes: got %v want %v (tol %v)", r.GaussMean, r.GaussExact, tol)
	assert.Positive(t, r.GaussSE, "Gaussian probes should be noisy")

	// The picture's right-field residual is small next to ∂ₜp (|∂ₜp| ≤ 1 here).
	assert.Less(t, r.ResidualMaxAlongLineOK, 1e-4, "residual along the line %g", r.ResidualMaxAlongLineOK)
	_, err = os.Stat(filepath.Join(cfg.Out, "continuity.png"))
	require.NoError(t, err)
}
