package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/metrics"
)

// TestTutorial11 checks what the tutorial prints, with fewer steps than main
// (a maximum-likelihood step costs tens of milliseconds). Timings are
// printed by main but never asserted.
func TestTutorial11(t *testing.T) {
	cfg := Config{Out: t.TempDir(), MLSteps: 40, FMSteps: 400, Checks: 2, Eval: 500, Seed: 11}
	if testing.Short() {
		cfg.MLSteps = 20
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// One maximum-likelihood step integrates the augmented ODE with RK4:
	// 4 evaluations per step.
	assert.Equal(t, 4*solve.Steps, r.ML.NFE)

	// One-sided checks, family-wise 10⁻³: 2 decreases, 2 floors, 1 comparison.
	k := distuv.UnitNormal.Quantile(1 - 1e-3/5)
	for _, ru := range []Run{r.ML, r.FM} {
		require.Len(t, ru.Rows, 2)
		// Training lowers the held-out NLL: paired on the same points.
		d := make([]float64, len(ru.Rows[0]))
		for i := range d {
			d[i] = ru.Rows[0][i] - ru.Rows[1][i]
		}
		drop, se := metrics.MeanStdErr(d)
		assert.Greater(t, drop, k*se, "%s: NLL drop %v (tol %v)", ru.Name, drop, k*se)
		// E[NLL] = H + KL ≥ H.
		last := len(ru.NLL) - 1
		assert.Greater(t, ru.NLL[last]-r.H, -k*math.Hypot(ru.SE[last], r.HSE), "%s: NLL %v below H %v", ru.Name, ru.NLL[last], r.H)
		// Both start from the same weights: the same initial NLL.
		assert.Equal(t, r.ML.NLL[0], ru.NLL[0])
	}
	// Ten times as many flow-matching steps (still far less compute) end at
	// a lower held-out NLL than the maximum-likelihood run.
	assert.Greater(t, r.FinalDiff, k*r.FinalSE, "NLL(ML) − NLL(FM) = %v ± %v", r.FinalDiff, r.FinalSE)

	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
