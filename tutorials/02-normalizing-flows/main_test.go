package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/stats"
)

const eps = 0x1p-52

// TestTutorial02 trains the flow (150 steps under -short, 400 otherwise; the
// tutorial runs 1000) and checks what the tutorial prints. Every comparison
// of NLLs uses the standard error of the paired per-point difference,
// computed by run on the 2000 held-out points.
func TestTutorial02(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Steps: 400, Batch: 256, Seed: 2}
	if testing.Short() {
		cfg.Steps = 150
	}
	r, err := run(cfg)
	require.NoError(t, err)
	t.Logf("held-out NLL %.3f → %.3f, Gaussian %.3f, H %.3f", r.NLLBefore, r.NLLAfter, r.Gauss, r.Entropy)

	// Training lowers the held-out NLL, by more than 4 standard errors.
	assert.Greater(t, r.Gain, 4*r.GainSE, "gain %v ± %v", r.Gain, r.GainSE)
	// The flow beats the best Gaussian by more than 4 standard errors.
	assert.Greater(t, r.GainOverGauss, 4*r.GaussSE, "gain over the Gaussian %v ± %v", r.GainOverGauss, r.GaussSE)
	// No model beats the entropy: NLL − H = KL ≥ 0, up to 4 standard errors.
	assert.Greater(t, r.KL, -4*r.KLSE, "NLL − H = %v ± %v is below 0", r.KL, r.KLSE)
	// The training loss falls: the mean of the last 10% of steps is below the
	// mean of the first 10% by more than 4 standard errors of the difference.
	w := len(r.Losses) / 10
	m1, s1 := stats.MeanStdErr(r.Losses[:w])
	m2, s2 := stats.MeanStdErr(r.Losses[len(r.Losses)-w:])
	assert.Greater(t, m1-m2, 4*math.Hypot(s1, s2), "training NLL %v → %v", m1, m2)

	// The flow's log-density sum by hand equals cnf.LogProb up to the rounding of
	// adding len(LayerLogDets)+1 terms.
	mag := math.Abs(r.LogBase)
	for _, ld := range r.LayerLogDets {
		mag += math.Abs(ld)
	}
	tol := 16 * eps * mag * float64(len(r.LayerLogDets)+1)
	assert.InDelta(t, r.LogProb, r.ByHand, tol, "by hand %v, LogProb %v (tol %g)", r.ByHand, r.LogProb, tol)
	// Analytic log-dets against autograd's Jacobian + LU: rounding, amplified
	// by the Jacobian's conditioning; each coupling scales by e^{±1} at most
	// (tanh-bounded log-scale), so κ ≤ e^{2·couplings}·κ(affine) with the
	// learned affine scale inside e^{±2} here.
	tolDet := 1e3 * eps * math.Exp(2*float64(r.Layers-1)+4)
	assert.Less(t, r.LogDetMaxErr, tolDet, "log-det: got %g want < %g", r.LogDetMaxErr, tolDet)

	for _, name := range []string{"nll.png", "density.png", "samples.png"} {
		_, err := os.Stat(filepath.Join(cfg.Out, name))
		require.NoError(t, err, name)
	}
}
