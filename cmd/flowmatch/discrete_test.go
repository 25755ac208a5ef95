package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/nn"
)

// TestDemo_Discrete runs demo on checkerboard-discrete at 8×8 cells with a
// few steps and checks the report: the entropy is ln 32 exactly (32 black
// cells), the KL is NLL − H and positive (an exact KL of a model), and the
// demo line names the dataset (TestDatasets_ListsDiscrete checks the
// listing; TestCommands_Forms the routing). Negative control: -source bad
// is a usage error.
func TestDemo_Discrete(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustRun(t, "demo", "-data", "checkerboard-discrete", "-bins", "8", "-steps", "20", "-batch", "32", "-euler-steps", "4", "-out", dir)
	require.Contains(t, out, "demo: dataset=checkerboard-discrete steps=20 nll=")
	var r discreteReport
	readJSON(t, filepath.Join(dir, "report.json"), &r)
	require.InDelta(t, 3.4657359027997265, r.Entropy, 1e-12)
	require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
	require.Greater(t, r.KL, 0.0)
	for _, f := range []string{"data.png", "model.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
	}
	mustFail(t, 2, `-source "bad": want mask or uniform`, "demo", "-data", "checkerboard-discrete", "-source", "bad", "-out", dir)
}

// TestDatasets_ListsDiscrete checks that datasets lists the discrete toys
// with their exact entropies (ln 2048 for the checkerboard at 64×64).
func TestDatasets_ListsDiscrete(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"datasets"}, &out, &errb), "stderr: %s", errb.String())
	require.Contains(t, out.String(), "checkerboard-discrete  H = 7.6246 nats (exact)")
	require.Contains(t, out.String(), "8gaussians-discrete    H = 6.9989 nats (exact)")
}

// TestDiscreteCommands runs train, sample, loglik and plot on a discrete
// checkpoint (8×8 cells, 20 steps): every sample is the centre of a cell,
// loglik prints entropy ln 32 exactly, plot draws both pictures.
// Negative control: a continuous checkpoint is not routed to them.
func TestDiscreteCommands(t *testing.T) {
	dir := t.TempDir()
	r := newTrip(t, dir, "disc")
	r.run("train", "-data", "checkerboard-discrete", "-bins", "8", "-steps", "20", "-batch", "32")
	require.True(t, discreteCheckpointArg([]string{"-checkpoint", r.ckpt}))
	r.run("sample", "-n", "50", "-euler-steps", "8")
	pts, err := data.ReadCSV(r.samples)
	require.NoError(t, err)
	require.Equal(t, 50, pts.Rows)
	for i := range pts.Rows {
		x, y := pts.At(i, 0), pts.At(i, 1)
		require.InDelta(t, 0.5, math.Mod(x+4, 1), 1e-12, "row %d: x = %v is not a cell centre", i, x)
		require.InDelta(t, 0.5, math.Mod(y+4, 1), 1e-12, "row %d: y = %v is not a cell centre", i, y)
	}
	out, _ := r.run("loglik", "-euler-steps", "8")
	require.Contains(t, out, "entropy=3.4657")
	r.run("plot", "-euler-steps", "8")
	for _, f := range []string{"data.png", "model.png"} {
		_, err := os.Stat(filepath.Join(r.plots, f))
		require.NoError(t, err)
	}
	cont := filepath.Join(dir, "v.safetensors")
	require.NoError(t, nn.SaveVelocityMLP(cont, nn.NewVelocityMLP(2, []int{4}, ag.ActSiLU, newRand(1, 1)), nil))
	require.False(t, discreteCheckpointArg([]string{"-checkpoint=" + cont}))
}
