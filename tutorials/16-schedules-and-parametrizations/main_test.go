package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTutorial16 checks what the tutorial prints. The conversions and the
// schedule change are exact identities: their errors are rounding, a few
// dozen ulps relative (bound 1e-12). The RK4 endpoints of the two fields
// differ by the solvers' errors, O(h⁴) with h = 1/200 (bound 1e-6; fm's
// TestScheduleChange_SameEndpoints derives the step-doubling bound). The Euler samples
// are within 0.05 of the converged W₂² (10 steps of a field whose exact
// flow is smooth).
func TestTutorial16(t *testing.T) {
	out := t.TempDir()
	r, err := run(out)
	require.NoError(t, err)
	require.Len(t, r.Scheds, 6)
	for _, s := range r.Scheds {
		assert.Less(t, s.SNRLow, s.SNRHigh, "%s: α/σ rises with t", s.Name)
	}
	for name, e := range map[string]float64{"x̂₁": r.ConvData, "x̂₀": r.ConvNoise, "score": r.ConvScore, "round trip": r.RoundTrip, "schedule change": r.ChangeField} {
		assert.Less(t, e, 1e-12, name)
	}
	assert.Less(t, r.ChangeEnds, 1e-6)
	assert.InDelta(t, r.Converged, r.EulerCondOT, 0.05)
	assert.InDelta(t, r.Converged, r.EulerCosine, 0.05)
	_, err = os.Stat(filepath.Join(out, "figure.png"))
	require.NoError(t, err)
}
