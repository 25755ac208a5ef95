package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/manifolddemo"
)

// TestDemo_Manifold: demo -data sphere-vmf trains on the sphere, ends with
// the demo line and writes report.json (kl = nll − H) and the pictures;
// the dispatcher recognizes the flag's forms; a bad count is an error.
func TestDemo_Manifold(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"demo", "-data", "sphere-vmf", "-steps", "20", "-batch", "32", "-width", "8", "-n", "50", "-out", dir}, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	require.Contains(t, out.String(), "demo: dataset=sphere-vmf steps=20 nll=")
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var r manifolddemo.Report
	require.NoError(t, json.Unmarshal(js, &r))
	require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
	require.Less(t, r.SphereDrift, 1e-12)
	for _, f := range []string{"samples.png", "density.png", "data-density.png", "trajectories.png", "ortho.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
	}
	require.True(t, manifoldDataArg([]string{"-data=torus-vonmises"}))
	require.True(t, manifoldDataArg([]string{"--data", "torus-checkerboard"}))
	require.False(t, manifoldDataArg([]string{"-data", "moons"}))
	require.NotEqual(t, 0, run([]string{"demo", "-data", "sphere-vmf", "-steps", "0", "-out", dir}, &out, &errb))
}

// TestDatasets_ListsManifolds checks that datasets lists the manifold data
// sets with their exact entropies.
func TestDatasets_ListsManifolds(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"datasets"}, &out, &errb), "stderr: %s", errb.String())
	require.Contains(t, out.String(), "sphere-vmf           on the sphere H = 1.2892 nats (exact; uniform: 2.5310)")
	require.Contains(t, out.String(), "torus-checkerboard   on the torus  H = 2.9826 nats (exact; uniform: 3.6758)")
}
