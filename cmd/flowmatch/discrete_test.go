package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemo_Discrete runs demo on checkerboard-discrete at 8×8 cells with a
// few steps and checks the report: the entropy is ln 32 exactly (32 black
// cells), the KL is NLL − H and positive (an exact KL of a model), and the
// demo line names the dataset (TestDatasets_ListsDiscrete checks the
// listing). Negative control: -data moons is not routed
// to the discrete demo, and -source bad is a usage error.
func TestDemo_Discrete(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"demo", "-data", "checkerboard-discrete", "-bins", "8", "-steps", "20", "-batch", "32", "-euler-steps", "4", "-out", dir}, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	require.Contains(t, out.String(), "demo: dataset=checkerboard-discrete steps=20 nll=")
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var r discreteReport
	require.NoError(t, json.Unmarshal(js, &r))
	require.InDelta(t, 3.4657359027997265, r.Entropy, 1e-12)
	require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
	require.Greater(t, r.KL, 0.0)
	for _, f := range []string{"data.png", "model.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
	}

	require.True(t, discreteDataArg([]string{"-data=8gaussians-discrete"}))
	require.True(t, discreteDataArg([]string{"--data", "checkerboard-discrete"}))
	require.False(t, discreteDataArg([]string{"-data", "moons"}))
	require.NotEqual(t, 0, run([]string{"demo", "-data", "checkerboard-discrete", "-source", "bad", "-out", dir}, &out, &errb))
}

// TestDatasets_ListsDiscrete checks that datasets lists the discrete toys
// with their exact entropies (ln 2048 for the checkerboard at 64×64).
func TestDatasets_ListsDiscrete(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"datasets"}, &out, &errb), "stderr: %s", errb.String())
	require.Contains(t, out.String(), "checkerboard-discrete  H = 7.6246 nats (exact)")
	require.Contains(t, out.String(), "8gaussians-discrete    H = 6.9989 nats (exact)")
}
