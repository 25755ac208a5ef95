package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/cnf"
)

// TestTutorial04 checks what the tutorial prints.
func TestTutorial04(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Points: 300, Seed: 4}
	if testing.Short() {
		cfg.Points = 100
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// Orders. The global error of an order-p method is C·hᵖ·(1 + D·h + …),
	// so the slope fitted over h = 1/8 … 1/64 is p + O(h); the band 0.2
	// admits |D| up to ~3 at h = 1/8 (as in cnf's TestIntegrate_ConvergenceOrder).
	perStep := map[cnf.Method]int{cnf.Euler: 1, cnf.Midpoint: 2, cnf.Heun: 2, cnf.RK4: 4}
	for _, f := range r.Fixed {
		assert.InDelta(t, f.Order, f.Fit, 0.2, "%s: got order %.3f want %v (tol 0.2)", f.Method, f.Fit, f.Order)
		for i, n := range f.Steps {
			assert.Equal(t, perStep[f.Method]*n, f.NFE[i], "%s NFE with %d steps", f.Method, n)
		}
	}
	// Dopri5: NFE = 2 + 6·(accepted + rejected). Its global error is at most
	// the sum of the accepted local errors, each ≤ tol·(1 + |x|) with |x| ≤ 1,
	// carried to t = 1 by at most e^{L}, L = max_t (1 + t)·‖A‖₂ = 2·√(¼ + 4).
	L := 2 * math.Sqrt(0.25+4)
	prev := math.Inf(1)
	for _, d := range r.Dopri5 {
		assert.Equal(t, 2+6*(d.Accepted+d.Rejected), d.NFE, "tol %g", d.Tol)
		bound := float64(d.Accepted) * d.Tol * 2 * math.Exp(L)
		assert.Less(t, d.Err, bound, "tol %g: got error %g want < %g", d.Tol, d.Err, bound)
		assert.Less(t, d.Err, prev, "a tighter tolerance did not lower the error")
		prev = d.Err
	}
	// The 2-D flow: for the same 16 evaluations RK4 lands closer than Euler,
	// and Euler improves with more steps.
	assert.Less(t, r.RK4End, r.Euler16, "RK4 (4 steps) %v vs Euler (16 steps) %v", r.RK4End, r.Euler16)
	assert.Less(t, r.Euler16, r.EulerEnd, "Euler 16 steps %v vs 4 steps %v", r.Euler16, r.EulerEnd)

	for _, name := range []string{"work-precision.png", "trajectories.png"} {
		_, err := os.Stat(filepath.Join(cfg.Out, name))
		require.NoError(t, err, name)
	}
}
