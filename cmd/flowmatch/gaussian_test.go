package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
)

// TestSample_SDEAndSchedule: train -path cosine writes a checkpoint that
// sample reads back; sample -sde g and -schedule B run on a CondOT model
// with σ_min = 0 and say what they did; a schedule whose signal-to-noise
// ratio leaves the model's path's range (CondOT with σ_min = 10⁻⁴ never
// reaches σ = 0, Cosine does) and a negative g are usage errors.
func TestSample_SDEAndSchedule(t *testing.T) {
	dir := t.TempDir()
	cos := filepath.Join(dir, "cos.safetensors")
	mustRun(t, "train", "-data", "moons", "-path", "cosine", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", cos)
	ot := filepath.Join(dir, "ot.safetensors")
	mustRun(t, "train", "-data", "moons", "-sigma-min", "0", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", ot)
	out := filepath.Join(dir, "s.csv")
	mustRun(t, "sample", "-checkpoint", cos, "-n", "20", "-ode-steps", "10", "-out", out)
	stdout, _ := mustRun(t, "sample", "-checkpoint", ot, "-n", "20", "-ode-steps", "10", "-sde", "0.5", "-out", out)
	assert.Contains(t, stdout, "sde g = 0.5")
	stdout, _ = mustRun(t, "sample", "-checkpoint", ot, "-n", "20", "-ode-steps", "10", "-schedule", "cosine", "-out", out)
	assert.Contains(t, stdout, `schedule "cosine"`)
	mustFail(t, 2, "outside the model's path's range", "sample", "-checkpoint", trained(t), "-n", "20", "-schedule", "cosine", "-out", out)
	mustFail(t, 2, "want a finite g ≥ 0", "sample", "-checkpoint", ot, "-n", "20", "-sde", "-1", "-out", out)
}

// TestTrain_Param: train -param data writes a checkpoint that records
// fm.param = data; sample reads it back and converts the model's x̂₁ to a
// velocity (fm.ConvertCoeffs) on fm.ParamTimes' interval, and its samples
// have the law of a velocity checkpoint's on the same data (N(0, I₂), where
// both models learn in a few hundred steps). The tolerance is the noise of
// W₂² itself: over k = 4 sample seeds of n = 300 points, the mean of
// W₂²(data model, velocity model) must lie within 3 standard errors of
// the mean of W₂²(velocity model, velocity model with another seed) (the
// value for two samples of one law), both computed here. Negative control:
// the same data checkpoint with its fm.param key removed (read as a
// velocity, the conversion skipped) lies far outside. A bad -param, -param
// with a coupling, and a checkpoint whose fm.param does not parse are
// errors naming the flag, or the file, key and value (as is a bad
// -param-weight; unit trains), and so is -sde on a model that converts on
// [0, 0.999] only; a checkpoint without
// the key (written before it existed) is read as a velocity.
func TestTrain_Param(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "x.safetensors")
	mustFail(t, 2, `-param "x1": want velocity, data, noise or score`, "train", "-data", "gaussian", "-param", "x1", "-out", x)
	mustFail(t, 2, "-coupling ot works with -param velocity only", "train", "-data", "gaussian", "-param", "data", "-coupling", "ot", "-out", x)
	mustFail(t, 2, `-param-weight "snr": want cfm or unit`, "train", "-data", "gaussian", "-param", "noise", "-param-weight", "snr", "-out", x)
	mustRun(t, "train", "-data", "gaussian", "-param", "noise", "-param-weight", "unit", "-hidden", "8", "-steps", "3", "-out", filepath.Join(dir, "unit.safetensors"))

	ckpt := map[string]string{}
	for _, q := range []string{"velocity", "data"} {
		ckpt[q] = filepath.Join(dir, q+".safetensors")
		mustRun(t, "train", "-data", "gaussian", "-param", q, "-hidden", "32,32", "-steps", "400", "-batch", "256", "-lr", "3e-3", "-out", ckpt[q])
	}
	m, meta, err := nn.LoadVelocityMLP(ckpt["data"])
	require.NoError(t, err)
	assert.Equal(t, "data", meta[fm.MetaParam])
	_, p, _, err := loadModel(ckpt["data"])
	require.NoError(t, err)
	assert.Equal(t, paramPath{fm.CondOT{SigmaMin: 1e-4}, fm.ParamData}, p)

	rewrite := func(name string, edit func(map[string]string)) string {
		mm := map[string]string{}
		for k, v := range meta {
			mm[k] = v
		}
		edit(mm)
		path := filepath.Join(dir, name+".safetensors")
		require.NoError(t, nn.SaveVelocityMLP(path, m, mm))
		return path
	}
	old := rewrite("old", func(mm map[string]string) { delete(mm, fm.MetaParam) })
	_, p, _, err = loadModel(old)
	require.NoError(t, err)
	assert.Equal(t, fm.CondOT{SigmaMin: 1e-4}, p, "no fm.param: a velocity model")
	bad := rewrite("bad", func(mm map[string]string) { mm[fm.MetaParam] = "eps" })
	for _, s := range []string{bad, fm.MetaParam, `"eps"`} {
		mustFail(t, 1, s, "sample", "-checkpoint", bad, "-n", "10", "-out", filepath.Join(dir, "s.csv"))
	}
	mustFail(t, 2, "turns into a velocity on [0, 0.999] only", "sample", "-checkpoint", ckpt["data"], "-n", "10", "-sde", "0.5", "-out", filepath.Join(dir, "s.csv"))

	const k, n = 4, 300
	draw := func(c string, seed int) *ag.Tensor {
		out := filepath.Join(dir, fmt.Sprintf("s%d.csv", seed))
		mustRun(t, "sample", "-checkpoint", c, "-n", fmt.Sprint(n), "-ode-steps", "50", "-seed", fmt.Sprint(seed), "-out", out)
		src, err := openData("s", out)
		require.NoError(t, err)
		return src.Points(n, nil)
	}
	w2 := func(a, b *ag.Tensor) float64 {
		w, err := metrics.W2Squared(a, b)
		require.NoError(t, err)
		return w
	}
	var same, cross, control []float64
	for i := range k {
		v, v2 := draw(ckpt["velocity"], 10+i), draw(ckpt["velocity"], 20+i)
		same = append(same, w2(v, v2))
		cross = append(cross, w2(draw(ckpt["data"], 20+i), v))
		control = append(control, w2(draw(old, 20+i), v))
	}
	ms, ses := stats.MeanStdErr(same)
	mc, sec := stats.MeanStdErr(cross)
	mn, _ := stats.MeanStdErr(control)
	tol := 3 * math.Hypot(ses, sec)
	t.Logf("W₂² velocity vs velocity %.4f ± %.4f, data vs velocity %.4f ± %.4f (tol %.4f), data read as velocity %.4f", ms, ses, mc, sec, tol, mn)
	assert.InDelta(t, ms, mc, tol, "got %.4f want %.4f (tol %.4f)", mc, ms, tol)
	assert.Greater(t, mn-ms, tol, "negative control: the unconverted data model must fail")

	// loglik converts the divergence too (div v = d·c_x + c_y·div x̂₁): both
	// models' NLL on the same 300 points agree within 3 standard errors.
	nll := func(c string) (float64, float64) {
		out, _ := mustRun(t, "loglik", "-checkpoint", c, "-data", "gaussian", "-n", "300")
		var nll, se float64
		_, err := fmt.Sscanf(out[strings.Index(out, "nll="):], "nll=%f±%f", &nll, &se)
		require.NoError(t, err, out)
		return nll, se
	}
	nv, sv := nll(ckpt["velocity"])
	nd, sd := nll(ckpt["data"])
	t.Logf("NLL velocity %.4f ± %.4f, data %.4f ± %.4f (H = 2.8379)", nv, sv, nd, sd)
	assert.InDelta(t, nv, nd, 3*math.Hypot(sv, sd))
}
