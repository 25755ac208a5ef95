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

// TestTutorial10 checks what the tutorial prints, with fewer training steps
// than main (every test of the repository should stay under a few seconds).
func TestTutorial10(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Steps: 300, Batch: 128, Eval: 300, Seed: 10}
	if testing.Short() {
		cfg.Steps = 200
	}
	r, err := run(cfg)
	require.NoError(t, err)
	require.Len(t, r.Methods, 3)
	ind := r.Methods[0]

	// The exact OT coupling lowers the pair cost of a minibatch (it is the
	// minimum over permutations, which include the identity).
	assert.Less(t, r.PairOT, r.PairIndependent)

	// One-sided paired checks on the same start points (family-wise 10⁻³).
	k := distuv.UnitNormal.Quantile(1 - 1e-3/float64(2*2))
	for _, m := range r.Methods[1:] {
		// Straighter: the per-row straightness drops by more than k SE.
		d := make([]float64, len(m.StraightRows))
		for i := range d {
			d[i] = ind.StraightRows[i] - m.StraightRows[i]
		}
		drop, se := metrics.MeanStdErr(d)
		assert.Greater(t, drop, k*se, "%s: straightness drop %v (tol %v)", m.Name, drop, k*se)
		// Fewer steps: one Euler step of m is closer to its accurate end
		// point than one Euler step of the independent model, by more than
		// the two SEs allow.
		assert.Greater(t, ind.EulerErr[0]-m.EulerErr[0], k*math.Hypot(ind.EulerErrSE[0], m.EulerErrSE[0]),
			"%s: Euler-1 error %v vs independent %v", m.Name, m.EulerErr[0], ind.EulerErr[0])
		// And closer to the data with 1 step than the independent model is
		// with 2: the gap exceeds twice the W₂² between two data sets of
		// this size (the scale of W₂²'s own sampling error).
		assert.Greater(t, ind.EulerW2[1]-m.EulerW2[0], 2*r.W2Noise, "%s: Euler-1 W₂² %v vs independent Euler-2 %v", m.Name, m.EulerW2[0], ind.EulerW2[1])
	}
	// Euler is first order: for every method the error falls as steps grow.
	for _, m := range r.Methods {
		for i := 1; i < len(EulerSteps); i++ {
			assert.Less(t, m.EulerErr[i], m.EulerErr[i-1], "%s: Euler error must fall with more steps", m.Name)
		}
	}
	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
