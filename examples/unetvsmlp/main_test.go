package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// The EMA's warm-up decay is (1 + k)/(10 + k) until it reaches the decay:
// 2/11 at the first update, 0.5 at k = 8, and the decay from k = 8,990 on
// for 0.999 ((1 + k)/(10 + k) ≥ 0.999 ⇔ k ≥ 8,990). Control: without the
// warm-up the first update would keep 0.999 of the random initialization.
func TestEMADecay(t *testing.T) {
	require.InDelta(t, 2.0/11, emaDecay(0.999, 1), 1e-15)
	require.InDelta(t, 0.5, emaDecay(0.999, 8), 1e-15)
	require.Less(t, emaDecay(0.999, 8989), 0.999)
	require.InDelta(t, 0.999, emaDecay(0.999, 8990), 1e-15)
	require.Equal(t, 0.999, emaDecay(0.999, 8991))
	require.Equal(t, 0.9, emaDecay(0.9, 1000))
	require.NotEqual(t, 0.999, emaDecay(0.999, 1), "control: no warm-up")
}

// -unet reads Ch:batch and Ch:batch:lr; a Ch that -groups does not divide,
// a missing batch and a bad lr are errors that name the pair. -mult gives
// every U-Net the same channel multipliers (named in the model's name); one
// level or a multiplier that is not a positive integer is an error naming
// the flag.
func TestParseUNets(t *testing.T) {
	us, err := parseUNets("8:64, 16:32:2e-3", 4, "")
	require.NoError(t, err)
	require.Equal(t, []spec{{Name: "U-Net Ch 8", Ch: 8, Batch: 64, LR: 1e-3}, {Name: "U-Net Ch 16", Ch: 16, Batch: 32, LR: 2e-3}}, us)
	for _, bad := range []string{"6:32", "16", "16:32:x", "16:0", "16:32:-1", "16:32:1e-3:4"} {
		_, err := parseUNets(bad, 4, "")
		require.ErrorContains(t, err, bad)
	}
	_, err = parseUNets("12:32", 4, "")
	require.NoError(t, err)
	_, err = parseUNets("12:32", 8, "")
	require.ErrorContains(t, err, "-groups 8")
	us, err = parseUNets("8:32", 4, "1,2,4")
	require.NoError(t, err)
	require.Equal(t, []spec{{Name: "U-Net Ch 8 mult 1-2-4", Ch: 8, Mult: []int{1, 2, 4}, Batch: 32, LR: 1e-3}}, us)
	for _, bad := range []string{"1", "1,0,2", "1,x", "1,-2"} {
		_, err := parseUNets("8:32", 4, bad)
		require.ErrorContains(t, err, "-mult", bad)
	}
}

func TestParseDurations(t *testing.T) {
	d, err := parseDurations("60s, 2m", 3*time.Minute)
	require.NoError(t, err)
	require.Equal(t, []float64{60, 120}, d)
	for _, bad := range []string{"2m,60s", "3m", "0s", "x"} {
		_, err := parseDurations(bad, 3*time.Minute)
		require.Error(t, err, bad)
	}
}

// Flags are checked before anything is loaded or trained.
func TestRun_FlagErrors(t *testing.T) {
	var out bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", "cifar"}, "-data"},
		{[]string{"-clock", "gpu"}, "-clock"},
		{[]string{"-threads", "2"}, "-clock cpu"},
		{[]string{"-ema", "1"}, "-ema"},
		{[]string{"-method", "rk4"}, "-method"},
		{[]string{"-method", "midpoint", "-nfe", "25"}, "-nfe 25"},
		{[]string{"-n", "15"}, "-n 15"},
		{[]string{"-eval-at", "4m"}, "-eval-at"},
		{[]string{"-snap-w", "x"}, "-snap-w"},
		{[]string{"-eval=false"}, "-save"},
		{[]string{"-mlp=false", "-unet", ""}, "no model"},
	} {
		require.ErrorContains(t, run(c.args, &out), c.want, c.args)
	}
}

// TestPrepareOutDir: a missing folder is made with its parents and a
// probe file leaves nothing behind; a path under a regular file is an
// error, and run reports it for -save and -samples-out, naming the flag,
// before it loads any data or trains.
func TestPrepareOutDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	require.NoError(t, prepareOutDir(dir))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "the probe file must be removed")
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	require.Error(t, prepareOutDir(filepath.Join(file, "sub")))
	var out bytes.Buffer
	require.ErrorContains(t, run([]string{"-save", filepath.Join(file, "sub"), "-eval=false", "-budget", "100ms", "-unet", ""}, &out), "-save")
	require.ErrorContains(t, run([]string{"-samples-out", filepath.Join(file, "x.safetensors")}, &out), "-samples-out")
}

// A snapshot written by -save loads back (-load) with its numbers and its
// weights, as a U-Net and as an MLP, and a three-level U-Net (-mult) with
// its channel multipliers; a U-Net of the wrong size and a file without the
// run's metadata are errors.
func TestSnapshot_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	rng := fm.NewRand(1)
	models := []fm.Model{
		nn.NewUNet(nn.UNetConfig{C: 1, H: 14, W: 14, Ch: 4, Groups: 2, Emb: 8, Ctx: 11, Classes: 10}, rng),
		nn.NewLabelVelocityMLP(196, 10, []int{8}, ag.ActSiLU, rng),
	}
	for _, m := range models {
		r := result{spec: spec{Name: "U-Net Ch 4", Ch: 4, Batch: 32, LR: 2e-3}, TrainS: 200.5, CPUS: 180.2, Loss: 0.25}
		var sn snapshot
		sn.At, sn.Steps, sn.Raw = 90, 1234, true
		for _, p := range m.Params() {
			w := make([]float64, len(p.Data))
			for i := range w {
				w[i] = rng.NormFloat64()
			}
			sn.Weights = append(sn.Weights, w)
		}
		path, err := saveSnapshot(dir, "mnist14", r, m, sn)
		require.NoError(t, err)
		r2, m2, sn2, err := loadSnapshot(path, 14)
		require.NoError(t, err)
		require.Equal(t, r.Name, r2.Name)
		require.Equal(t, []any{32, 2e-3, 200.5, 180.2, 0.25, 1234}, []any{r2.Batch, r2.LR, r2.TrainS, r2.CPUS, r2.Loss, r2.Steps})
		require.Equal(t, []any{90.0, 1234, true}, []any{sn2.At, sn2.Steps, sn2.Raw})
		require.Equal(t, sn.Weights, sn2.Weights)
		require.IsType(t, m, m2)
		_, _, _, err = loadSnapshot(path, 28)
		require.ErrorContains(t, err, "want 784")
	}
	deep := nn.NewUNet(nn.UNetConfig{C: 1, H: 28, W: 28, Ch: 2, Groups: 2, Emb: 8, Ctx: 11, Classes: 10, Mult: []int{1, 2, 4}}, rng)
	r := result{spec: spec{Name: "U-Net Ch 2 mult 1-2-4", Ch: 2, Mult: []int{1, 2, 4}, Batch: 32, LR: 1e-3}}
	sn := snapshot{At: 180, Steps: 10}
	for _, p := range deep.Params() {
		sn.Weights = append(sn.Weights, p.Data)
	}
	path, err := saveSnapshot(dir, "mnist", r, deep, sn)
	require.NoError(t, err)
	_, m2, _, err := loadSnapshot(path, 28)
	require.NoError(t, err)
	require.Equal(t, deep.Cfg, m2.(*nn.UNet).Cfg, "the channel multipliers come back")
	path = filepath.Join(dir, "plain.safetensors")
	require.NoError(t, nn.SaveUNet(path, models[0].(*nn.UNet), nil))
	_, _, _, err = loadSnapshot(path, 14)
	require.ErrorContains(t, err, "not written by unetvsmlp")
}

// Images drawn in parts (-rows) are the rows of the images drawn at once,
// and -combine puts the parts of a file set back in row order; a missing
// or repeated row is an error.
func TestRows_PartsEqualWhole(t *testing.T) {
	dir := t.TempDir()
	u := nn.NewUNet(nn.UNetConfig{C: 1, H: 14, W: 14, Ch: 4, Groups: 2, Emb: 8, Ctx: 11, Classes: 10}, fm.NewRand(3))
	var sn snapshot
	sn.At, sn.Steps = 60, 10
	for _, p := range u.Params() {
		sn.Weights = append(sn.Weights, p.Data)
	}
	ckpt, err := saveSnapshot(dir, "mnist14", result{spec: spec{Name: "U-Net Ch 4", Batch: 8, LR: 1e-3}}, u, sn)
	require.NoError(t, err)
	opt := options{Method: "euler", NFE: 3, Seed: 5}
	labels := make([]int, 20)
	for i := range labels {
		labels[i] = i / 2
	}
	null := nn.LabelContext([]int{nn.NullLabel}, 10)
	whole, err := sample(u, labels, null, 2, opt, opt.Seed, 0, 20)
	require.NoError(t, err)
	p1, p2 := filepath.Join(dir, "p1.safetensors"), filepath.Join(dir, "p2.safetensors")
	require.NoError(t, drawRows(ckpt, "0:7", p1, 14, []float64{2}, 20, opt))
	require.NoError(t, drawRows(ckpt, "7:20", p2, 14, []float64{2}, 20, opt))
	r, w, x, err := combineRows(p2+","+p1, 20, 14)
	require.NoError(t, err)
	// Not bit for bit: the GEMM's blocking follows the batch's row count, so
	// the parts round differently; a few thousand ulps of values of order 1
	// after 3 steps bound that, a wrong row (a shifted label) is off by O(1).
	require.InDeltaSlice(t, whole.Data, x.Data, 1e-12)
	require.Greater(t, maxAbsDiff(whole.Data[7*196:], x.Data[6*196:19*196]), 1e-3, "control: rows shifted by one")
	require.Equal(t, 2.0, w)
	require.Equal(t, "U-Net Ch 4", r.Name)
	require.Equal(t, 60.0, r.Scores[0].At)
	_, _, _, err = combineRows(p2, 20, 14)
	require.ErrorContains(t, err, "row 0 of 20 is in no part")
	_, _, _, err = combineRows(p1+","+p1+","+p2, 20, 14)
	require.ErrorContains(t, err, "drawn twice")
	require.ErrorContains(t, drawRows(ckpt, "5:3", p1, 14, []float64{2}, 20, opt), "-rows")
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range min(len(a), len(b)) {
		m = max(m, abs(a[i]-b[i]))
	}
	return m
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestReadRunMeta_BadValue: a snapshot's metadata that does not parse is an
// error naming the file and the key, not a silent zero; a missing name says
// the file was not written by -save. The control: the same metadata with
// the value mended reads back.
func TestReadRunMeta_BadValue(t *testing.T) {
	meta := map[string]string{}
	for k, v := range map[string]string{"name": "MLP", "batch": "128", "lr": "0.001", "train_s": "1", "cpu_s": "1", "loss": "0.5", "steps": "10", "at": "1", "raw": "false"} {
		meta[metaPrefix+k] = v
	}
	r, sn, err := readRunMeta("m.safetensors", meta)
	require.NoError(t, err)
	require.Equal(t, []any{"MLP", 128, 0.001, 10, 10}, []any{r.Name, r.Batch, r.LR, r.Steps, sn.Steps})
	meta[metaPrefix+"lr"] = "fast"
	_, _, err = readRunMeta("m.safetensors", meta)
	require.ErrorContains(t, err, `m.safetensors: unetvsmlp.lr = "fast" is not a number`)
	delete(meta, metaPrefix+"name")
	_, _, err = readRunMeta("m.safetensors", meta)
	require.ErrorContains(t, err, "not written by unetvsmlp -save")
}
