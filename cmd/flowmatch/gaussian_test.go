package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSample_SDEAndSchedule: train -path cosine writes a checkpoint that
// sample reads back; sample -sde g and -schedule B run on a CondOT model
// with σ_min = 0 and say what they did; a schedule whose signal-to-noise
// ratio leaves the model's path's range (CondOT with σ_min = 10⁻⁴ never
// reaches σ = 0, Cosine does) and a negative g are usage errors.
func TestSample_SDEAndSchedule(t *testing.T) {
	dir := t.TempDir()
	cos := filepath.Join(dir, "cos.safetensors")
	code, _, errs := call("train", "-data", "moons", "-path", "cosine", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", cos)
	require.Equal(t, 0, code, errs)
	ot := filepath.Join(dir, "ot.safetensors")
	code, _, errs = call("train", "-data", "moons", "-sigma-min", "0", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", ot)
	require.Equal(t, 0, code, errs)
	out := filepath.Join(dir, "s.csv")
	code, _, errs = call("sample", "-checkpoint", cos, "-n", "20", "-ode-steps", "10", "-out", out)
	require.Equal(t, 0, code, errs)
	code, stdout, errs := call("sample", "-checkpoint", ot, "-n", "20", "-ode-steps", "10", "-sde", "0.5", "-out", out)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, stdout, "sde g = 0.5")
	code, stdout, errs = call("sample", "-checkpoint", ot, "-n", "20", "-ode-steps", "10", "-schedule", "cosine", "-out", out)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, stdout, `schedule "cosine"`)
	code, _, errs = call("sample", "-checkpoint", trained(t), "-n", "20", "-schedule", "cosine", "-out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "outside the model's path's range")
	code, _, errs = call("sample", "-checkpoint", ot, "-n", "20", "-sde", "-1", "-out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "want a finite g ≥ 0")
}
