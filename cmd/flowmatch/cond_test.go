package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/nn"
)

// TestCondCommands trains a tiny label-conditioned model on mnist14 for a
// few steps and samples it as a PNG grid, a .csv and a .npy; the checkpoint
// records the context (nn.MetaContext) and the label dropout.
func TestCondCommands(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.safetensors")
	out, _ := mustRun(t, "train", "-data", "mnist14", "-cond", "label", "-cond-drop", "0.1", "-steps", "5", "-hidden", "16", "-batch", "16", "-threads", "1", "-out", ckpt)
	assert.Contains(t, out, "train: wrote "+ckpt)
	m, meta, err := nn.LoadVelocityMLP(ckpt)
	require.NoError(t, err)
	assert.Equal(t, 196, m.Dim())
	assert.Equal(t, 10, m.Classes())
	assert.Equal(t, 11, m.Ctx())
	assert.Equal(t, "0.1", meta[metaCondDrop])
	assert.Equal(t, "mnist14", meta[metaData])

	grid := filepath.Join(dir, "grid.png")
	out, _ = mustRun(t, "sample", "-checkpoint", ckpt, "-class", "3", "-guidance", "2", "-n", "8", "-ode-steps", "3", "-out", grid)
	assert.Contains(t, out, "class 3, guidance w = 2")
	f, err := os.Open(grid)
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	// 8 images: 3 columns (⌈√8⌉) of 14·4 pixels and 2 pixels of padding.
	assert.Equal(t, 2+3*(14*4+2), img.Bounds().Dx())

	csv := filepath.Join(dir, "s.csv")
	out, _ = mustRun(t, "sample", "-checkpoint", ckpt, "-n", "20", "-ode-steps", "2", "-out", csv)
	assert.Contains(t, out, "every class in turn")
	x, err := data.ReadCSV(csv)
	require.NoError(t, err)
	assert.Equal(t, [2]int{20, 196}, x.Shape())

	npy := filepath.Join(dir, "s.npy")
	mustRun(t, "sample", "-checkpoint", ckpt, "-class", "0", "-guidance", "0", "-n", "4", "-ode-steps", "2", "-out", npy)
	y, err := data.ReadNPY(npy)
	require.NoError(t, err)
	assert.Equal(t, [2]int{4, 196}, y.Shape())
}

// TestCondSample_FlagErrors checks that bad flags of the conditional
// commands are clear usage errors (exit code 2) naming the flag, before
// any work.
func TestCondSample_FlagErrors(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.safetensors")
	mustRun(t, "train", "-data", "mnist14", "-steps", "2", "-hidden", "8", "-batch", "4", "-threads", "1", "-cond-drop", "0", "-out", ckpt)
	flat := filepath.Join(dir, "u.safetensors")
	mustRun(t, "train", "-data", "8gaussians", "-steps", "2", "-hidden", "8", "-threads", "1", "-out", flat)
	out := filepath.Join(dir, "x.png")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-data", "mnist14", "-cond", "text", "-out", filepath.Join(dir, "y.safetensors")}, `-cond "text": want label`},
		{[]string{"train", "-data", "mnist14", "-cond-drop", "1", "-out", filepath.Join(dir, "y.safetensors")}, "-cond-drop 1: want a probability in [0, 1)"},
		{[]string{"train", "-data", "mnist14", "-cond-drop", "-0.1", "-out", filepath.Join(dir, "y.safetensors")}, "-cond-drop -0.1: want a probability in [0, 1)"},
		{[]string{"train", "-data", "mnist14", "-cond", "none", "-cond-drop", "0.1", "-out", filepath.Join(dir, "y.safetensors")}, "there is no label to drop"},
		{[]string{"train", "-data", "mnist14", "-out", filepath.Join(dir, "missing", "y.safetensors")}, "does not exist"},
		{[]string{"sample", "-checkpoint", ckpt, "-class", "10", "-guidance", "1", "-out", out}, "-class 10: want a class in [0, 10)"},
		{[]string{"sample", "-checkpoint", ckpt, "-class", "3", "-guidance", "2", "-out", out}, "-guidance 2: " + ckpt + " was trained with -cond-drop 0"},
		{[]string{"sample", "-checkpoint", flat, "-guidance", "2", "-out", filepath.Join(dir, "u.csv")}, "is an unconditional model"},
		{[]string{"sample", "-checkpoint", flat, "-class", "1", "-out", filepath.Join(dir, "u.csv")}, "is an unconditional model"},
		{[]string{"sample", "-checkpoint", ckpt, "-guidance", "NaN", "-out", out}, "want a finite weight"},
		{[]string{"demo", "-data", "mnist14", "-cond", "none", "-cond-drop", "0", "-out", filepath.Join(dir, "d")}, "it needs -cond label"},
		{[]string{"demo", "-data", "mnist14", "-n", "15", "-out", filepath.Join(dir, "d")}, "-n 15: want a multiple of 10"},
		{[]string{"demo", "-data", "mnist14", "-out", filepath.Join(dir, "no", "such", "d")}, "does not exist"},
	} {
		code, _, errs := call(c.args...)
		assert.Equal(t, 2, code, "%v: %s", c.args, errs)
		assert.Contains(t, errs, c.want, "%v", c.args)
	}
	_, err := os.Stat(filepath.Join(dir, "d"))
	assert.True(t, os.IsNotExist(err), "a refused demo creates no folder")
	// Control: -guidance 1 needs no unconditional field.
	mustRun(t, "sample", "-checkpoint", ckpt, "-class", "3", "-guidance", "1", "-n", "2", "-ode-steps", "1", "-out", out)
}

// TestDemo_MNIST runs demo -data mnist14 at toy size: it writes the
// pictures, the report and the checkpoint, and ends with its one line.
func TestDemo_MNIST(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errs := call("demo", "-data", "mnist14", "-steps", "3", "-hidden", "16", "-batch", "16", "-n", "20",
		"-classifier-steps", "3", "-ode-steps", "2", "-sweep", "0,1", "-guidance", "2", "-out", dir)
	require.Equal(t, 0, code, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Regexp(t, `^demo: dataset=mnist14 steps=3 acc=[0-9.]+ fd=[0-9.]+ fd_floor=[0-9.]+ seconds=[0-9.]+$`, lines[len(lines)-1])
	for _, f := range []string{"model.safetensors", "grid.png", "sweep.png", "loss.png", "report.json", "report.md"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
	// The default guidance joins the sweep: w = 0, 1 and 2 are measured.
	assert.Equal(t, 3, strings.Count(out, "demo: w = "))
}

// TestDatasets_ListsMNIST checks that datasets names the image data sets.
func TestDatasets_ListsMNIST(t *testing.T) {
	out, _ := mustRun(t, "datasets", "-threads", "1")
	assert.Regexp(t, `(?m)^  mnist14 +196D`, out)
	assert.Regexp(t, `(?m)^  mnist +784D`, out)
}
