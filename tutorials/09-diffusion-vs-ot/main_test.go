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

// TestTutorial09 checks what the tutorial prints.
func TestTutorial09(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Steps: 600, Eval: 1000, Seed: 9}
	if testing.Short() {
		cfg.Steps, cfg.Eval = 300, 500
	}
	r, err := run(cfg)
	require.NoError(t, err)
	require.Len(t, r.Paths, 3)
	ve, vp, ot := r.Paths[0], r.Paths[1], r.Paths[2]

	// E[NLL] = H + KL ≥ H: every held-out mean is above the entropy, within
	// k standard errors of the two estimates (one-sided, 5 checks).
	k := distuv.UnitNormal.Quantile(1 - 1e-3/5)
	for _, p := range r.Paths {
		assert.Greater(t, p.NLL-r.H, -k*math.Hypot(p.NLLSE, r.HSE), "%s: NLL %v below the entropy %v", p.Name, p.NLL, r.H)
	}
	// The paired differences on the same held-out points: CondOT below VP,
	// VP below VE, each by more than k SE.
	assert.Greater(t, r.VPMinusOT, k*r.VPMinusOTSE, "NLL(VP) − NLL(CondOT) = %v ± %v", r.VPMinusOT, r.VPMinusOTSE)
	assert.Greater(t, r.VEMinusVP, k*r.VEMinusVPSE, "NLL(VE) − NLL(VP) = %v ± %v", r.VEMinusVP, r.VEMinusVPSE)
	// Sampling cost at the same tolerance: VE needs more evaluations than
	// either. (Deterministic given the seeds; Dopri5's NFE moves in steps of 6.)
	assert.Greater(t, ve.NFE, vp.NFE)
	assert.Greater(t, ve.NFE, ot.NFE)

	for _, f := range []string{"figure.png", "losses.png"} {
		_, err := os.Stat(filepath.Join(cfg.Out, f))
		require.NoError(t, err)
	}
}
