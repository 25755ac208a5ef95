package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTutorial15 checks what the tutorial prints: the forward equation
// holds to 1e-8 for the exact rate and fails by more than 1e-3 without
// 1/(1 − κ); the exact chain ends on the board, uniformly (χ² below its
// 10⁻⁶ threshold); H = ln 128; training cuts the exact KL tenfold.
func TestTutorial15(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Samples: 2000, Steps: 1000, Seed: 1}
	if testing.Short() {
		cfg.Samples, cfg.Steps = 1000, 600
	}
	r, err := run(cfg)
	require.NoError(t, err)
	assert.LessOrEqual(t, r.Residual, 1e-8)
	assert.Greater(t, r.WrongResidual, 1e-3)
	assert.Equal(t, 0, r.OffBoard)
	assert.Less(t, r.Chi2, r.Chi2Max)
	assert.InDelta(t, math.Log(128), r.Entropy, 1e-12)
	assert.Less(t, r.KLTrained, r.KLUntrained/10, "KL %v untrained → %v trained", r.KLUntrained, r.KLTrained)
	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
