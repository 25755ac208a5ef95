package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// TestUsageErrors_Variants is TestUsageErrors for the other forms of the
// commands (discrete and manifold data and checkpoints, images): each
// shared check (a required flag, a count out of range, -threads, the output
// file's extension and folder, the output folder's parent) and each form's
// own checks are one line on stderr naming the flag, exit code 2 (1 for a
// data set that does not fit the checkpoint), nothing on stdout, and
// nothing is created.
func TestUsageErrors_Variants(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-dir")
	disc, sph, img := filepath.Join(dir, "disc.safetensors"), filepath.Join(dir, "sphere.safetensors"), filepath.Join(dir, "img.safetensors")
	mustRun(t, "train", "-data", "checkerboard-discrete", "-bins", "8", "-steps", "2", "-batch", "8", "-out", disc)
	mustRun(t, "train", "-data", "sphere-vmf", "-hidden", "8", "-steps", "2", "-batch", "8", "-out", sph)
	mustRun(t, "train", "-data", "mnist14", "-hidden", "8", "-steps", "2", "-batch", "4", "-threads", "1", "-out", img)
	csv := filepath.Join(dir, "s.csv")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		// A flag of another form: the hint shows the flags of this one.
		{[]string{"train", "-data", "sphere-vmf", "-lr", "1", "-foo", "2"}, 2, "flag provided but not defined: -foo (see 'flowmatch train -h -data sphere-vmf')"},
		{[]string{"train", "-data", "mnist14", "-path", "vp"}, 2, "-path vp: does not apply to images: the path is CondOT (set -sigma-min) (see 'flowmatch train -h -data mnist14')"},
		{[]string{"train", "-data", "8gaussians-discrete", "-hidden", "64,64"}, 2, "-hidden 64,64: does not apply to a discrete model: the posterior MLP is fixed"},
		{[]string{"datasets", "-n", "3"}, 2, "flag provided but not defined: -n (see 'flowmatch datasets -h')"},
		{[]string{"train", "-data", "moons", "-sde", "1"}, 2, "flag provided but not defined: -sde (see 'flowmatch train -h')"},

		// Discrete checkpoints and data; the 2-D form's flags say why they
		// do not apply.
		{[]string{"loglik", "-checkpoint", disc, "-data", "moons"}, 2, "-data moons: does not apply to a discrete model: the NLL is exact"},
		{[]string{"sample", "-checkpoint", disc, "-class", "3", "-out", csv}, 2, "-class 3: does not apply to a discrete model: the model is unconditional"},
		{[]string{"sample", "-checkpoint", sph, "-guidance", "2", "-out", csv}, 2, "-guidance 2: does not apply on a manifold: the model is unconditional"},
		{[]string{"sample", "-checkpoint", disc, "-solver", "rk4", "-out", csv}, 2, "-solver rk4: does not apply to a discrete model: the sampler is the discrete Euler jump process (set -euler-steps)"},
		{[]string{"plot", "-checkpoint", disc, "-n", "100", "-out", filepath.Join(dir, "p1")}, 2, "-n 100: does not apply to a discrete model: the pictures are exact laws"},
		{[]string{"sample", "-checkpoint", disc}, 2, "missing required flag(s) -out"},
		{[]string{"sample", "-checkpoint", disc, "-out", csv, "-n", "0"}, 2, "-n 0: want 1 to 2000000"},
		{[]string{"sample", "-checkpoint", disc, "-out", csv, "-euler-steps", "0"}, 2, "-euler-steps 0: want 1 to 10000"},
		{[]string{"sample", "-checkpoint", disc, "-out", csv, "-threads", "0"}, 2, "-threads 0: want 1 to 64"},
		{[]string{"sample", "-checkpoint", disc, "-out", filepath.Join(dir, "s.txt")}, 2, "want a file name ending in .csv or .npy"},
		{[]string{"sample", "-checkpoint", disc, "-out", filepath.Join(missing, "s.csv")}, 2, "folder " + missing + " does not exist"},
		{[]string{"loglik", "-checkpoint", disc, "-euler-steps", "0"}, 2, "-euler-steps 0: want 1 to 10000"},
		{[]string{"loglik", "-checkpoint", disc, "-threads", "65"}, 2, "-threads 65: want 1 to 64"},
		{[]string{"plot", "-checkpoint", disc}, 2, "missing required flag(s) -out"},
		{[]string{"plot", "-checkpoint", disc, "-out", filepath.Join(dir, "p1"), "-euler-steps", "0"}, 2, "-euler-steps 0: want 1 to 10000"},
		{[]string{"plot", "-checkpoint", disc, "-out", filepath.Join(missing, "pics")}, 2, "folder " + missing + " does not exist"},
		{[]string{"train", "-data", "checkerboard-discrete"}, 2, "missing required flag(s) -out"},
		{[]string{"train", "-data", "checkerboard-discrete", "-bins", "3", "-out", filepath.Join(dir, "x.safetensors")}, 2, "-bins 3: want 4 to 128"},
		{[]string{"train", "-data", "checkerboard-discrete", "-out", filepath.Join(dir, "x.pt")}, 2, "want a file name ending in .safetensors"},
		{[]string{"demo", "-data", "checkerboard-discrete", "-euler-steps", "0", "-out", filepath.Join(dir, "d1")}, 2, "-euler-steps 0: want 1 to 10000"},
		{[]string{"demo", "-data", "checkerboard-discrete", "-batch", "65537", "-out", filepath.Join(dir, "d1")}, 2, "-batch 65537: want 1 to 65536"},
		{[]string{"train", "-data", "8gaussians-discrete", "-steps", "100000001", "-out", filepath.Join(dir, "x.safetensors")}, 2, "-steps 100000001: want 1 to 100000000"},
		{[]string{"demo", "-data", "checkerboard-discrete", "-out", filepath.Join(missing, "d")}, 2, "folder " + missing + " does not exist"},

		// Manifold checkpoints and data.
		{[]string{"sample", "-checkpoint", sph, "-out", csv, "-n", "0"}, 2, "-n 0: want 1 to 1000000"},
		{[]string{"sample", "-checkpoint", sph, "-out", csv, "-ode-steps", "0"}, 2, "-ode-steps 0: want 1 to 100000"},
		{[]string{"sample", "-checkpoint", sph, "-out", csv, "-threads", "0"}, 2, "-threads 0: want 1 to 64"},
		{[]string{"sample", "-checkpoint", sph, "-out", filepath.Join(dir, "s.txt")}, 2, "want a file name ending in .csv or .npy"},
		{[]string{"loglik", "-checkpoint", sph}, 2, "missing required flag(s) -data"},
		{[]string{"loglik", "-checkpoint", sph, "-data", "sphere-vmf", "-n", "1"}, 2, "-n 1: want 2 to 2000000"},
		{[]string{"loglik", "-checkpoint", sph, "-data", "sphere-vmf", "-tol", "0"}, 2, "-tol 0: want a tolerance in (0, 1)"},
		{[]string{"loglik", "-checkpoint", sph, "-data", "sphere-vmf", "-out", filepath.Join(missing, "lp.csv")}, 2, "folder " + missing + " does not exist"},
		{[]string{"loglik", "-checkpoint", sph, "-data", "sphere-vmf", "-n", "0"}, 2, "-n 0 (all rows) needs a file"},
		{[]string{"plot", "-checkpoint", sph, "-out", filepath.Join(dir, "p2"), "-n", "1"}, 2, "-n 1: want 2 to 100000"},
		{[]string{"plot", "-checkpoint", sph, "-out", filepath.Join(missing, "pics")}, 2, "folder " + missing + " does not exist"},
		{[]string{"plot", "-checkpoint", sph, "-out", filepath.Join(dir, "p3"), "-data", "torus-vonmises"}, 1, "-data torus-vonmises lives on torus:2 but the model on sphere:2"},
		{[]string{"train", "-data", "sphere-vmf"}, 2, "missing required flag(s) -out"},
		{[]string{"train", "-data", "sphere-vmf", "-steps", "0", "-out", filepath.Join(dir, "x.safetensors")}, 2, "-steps 0: want 1 to 100000000"},
		{[]string{"train", "-data", "sphere-vmf", "-lr", "0", "-out", filepath.Join(dir, "x.safetensors")}, 2, "-lr 0: want a positive, finite learning rate"},
		{[]string{"train", "-data", "sphere-vmf", "-act", "gelu", "-out", filepath.Join(dir, "x.safetensors")}, 2, `-act "gelu": want silu, tanh, relu, elu or softplus`},
		{[]string{"train", "-data", "sphere-vmf", "-out", filepath.Join(dir, "x.pt")}, 2, "want a file name ending in .safetensors"},
		{[]string{"demo", "-data", "sphere-vmf", "-width", "0", "-out", filepath.Join(dir, "d2")}, 2, "-width 0: want 1 to 4096"},
		{[]string{"demo", "-data", "sphere-vmf", "-steps", "100000001", "-out", filepath.Join(dir, "d2")}, 2, "-steps 100000001: want 1 to 100000000"},

		// Images.
		{[]string{"sample", "-checkpoint", img}, 2, "missing required flag(s) -out"},
		{[]string{"sample", "-checkpoint", img, "-out", csv, "-n", "0"}, 2, "-n 0: want 1 to 100000"},
		{[]string{"sample", "-checkpoint", img, "-out", csv, "-scale", "65"}, 2, "-scale 65: want 0 to 64"},
		{[]string{"sample", "-checkpoint", img, "-out", csv, "-threads", "0"}, 2, "-threads 0: want 1 to 64"},
		{[]string{"sample", "-checkpoint", img, "-out", csv, "-solver", "rk5"}, 2, `-solver "rk5"`},
		{[]string{"sample", "-checkpoint", img, "-out", filepath.Join(dir, "g.gif")}, 2, "want a file name ending in .png or .csv or .npy"},
		{[]string{"train", "-data", "mnist14"}, 2, "missing required flag(s) -out"},
		{[]string{"train", "-data", "mnist14", "-steps", "0", "-out", filepath.Join(dir, "x.safetensors")}, 2, "-steps 0: want 1 to 100000000"},
		{[]string{"train", "-data", "mnist14", "-out", filepath.Join(dir, "x.pt")}, 2, "want a file name ending in .safetensors"},
		{[]string{"demo", "-data", "mnist14", "-ode-steps", "0", "-out", filepath.Join(dir, "d3")}, 2, "-ode-steps 0: want 1 to 10000"},
		{[]string{"sample", "-checkpoint", filepath.Join(dir, "none.safetensors"), "-class", "3", "-out", csv}, 1, "none.safetensors: no such file (train or demo writes one"},

		// A checkpoint that is missing or a folder.
		{[]string{"sample", "-checkpoint", filepath.Join(dir, "none.safetensors"), "-out", csv}, 1, "none.safetensors: no such file (train or demo writes one"},
		{[]string{"loglik", "-checkpoint", filepath.Join(dir, "none.safetensors"), "-data", "moons"}, 1, "none.safetensors: no such file"},
		{[]string{"plot", "-checkpoint", dir, "-out", filepath.Join(dir, "p4")}, 1, "is a folder; want the .safetensors file that train or demo wrote"},
	} {
		code, stdout, errs := call(c.args...)
		require.Equal(t, c.code, code, "%v: %s", c.args, errs)
		require.Contains(t, errs, c.want, "%v", c.args)
		require.Equal(t, 1, strings.Count(errs, "\n"), "%v: one line, got %q", c.args, errs)
		require.Empty(t, stdout, "%v", c.args)
	}
	for _, d := range []string{"p1", "p2", "p3", "p4", "d1", "d2", "d3", "missing-dir", "s.csv", "s.txt", "g.gif", "x.pt", "x.safetensors"} {
		require.NoFileExists(t, filepath.Join(dir, d), "nothing is created before the inputs are checked")
		require.NoDirExists(t, filepath.Join(dir, d), "nothing is created before the inputs are checked")
	}
}

// TestLoglikLine: the pieces of loglik's output that the Euclidean and the
// manifold forms share. meanNLL is the mean of −log p and its standard
// error √(Σ(vᵢ − v̄)²/(n − 1)/n) (here √2/√2 = 1); klText's standard error
// of NLL − H is √(se² + se_H²), 0.05 from 0.03 and 0.04 (the manifold's
// exact entropy, se_H = 0, gives se itself: the control); writeLogp writes
// the columns x0, x1, logp, and nothing without a file.
func TestLoglikLine(t *testing.T) {
	mean, se := meanNLL([]float64{-1, -3})
	require.InDelta(t, 2, mean, 1e-15)
	require.InDelta(t, 1, se, 1e-15)
	require.Equal(t, " entropy=1.2000 kl=0.3000±0.0500", klText(1.5, 0.03, 1.2, 0.04, true))
	require.Equal(t, " entropy=1.2000 kl=0.3000±0.0300", klText(1.5, 0.03, 1.2, 0, true))
	require.Equal(t, " (entropy of the data unknown: no KL)", klText(1.5, 0.03, 0, 0, false))

	dir := t.TempDir()
	file := filepath.Join(dir, "lp.csv")
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	require.NoError(t, writeLogp(file, x, []float64{-0.5, -1.5}))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, "x0,x1,logp\n1,2,-0.5\n3,4,-1.5\n", string(b))
	require.NoError(t, writeLogp("", x, []float64{-0.5, -1.5}))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no -out: no file")
}

// TestUsage_Forms: the -h of every form of demo, train, sample, loglik and
// plot says that each kind of data or checkpoint has its own flags and how
// to see them; 'flowmatch help CMD' is 'flowmatch CMD -h'; a command
// without -out does not print the output policy.
func TestUsage_Forms(t *testing.T) {
	for _, args := range [][]string{
		{"train", "-h"}, {"train", "-data", "mnist14", "-h"}, {"train", "-data", "sphere-vmf", "-h"},
		{"demo", "-data", "checkerboard-discrete", "-h"}, {"help", "demo"},
	} {
		code, _, errs := call(args...)
		require.Equal(t, 0, code, "%v", args)
		require.Contains(t, errs, "Each kind of data has flags of its own", "%v", args)
		require.Contains(t, errs, "mnist14", "%v", args)
		require.Contains(t, errs, "-data NAME -h' shows those of NAME", "%v", args)
	}
	for _, cmd := range []string{"sample", "loglik", "plot"} {
		code, _, errs := call("help", cmd)
		require.Equal(t, 0, code, cmd)
		require.Contains(t, errs, "Usage: flowmatch "+cmd+" -checkpoint", cmd)
		require.Contains(t, errs, "'flowmatch "+cmd+" -checkpoint FILE -h' shows those of FILE", cmd)
	}
	code, _, errs := call("datasets", "-h")
	require.Equal(t, 0, code)
	require.NotContains(t, errs, "Outputs:", "datasets writes no file")
	require.NotContains(t, errs, "Each kind")
	code, _, errs = call("help")
	require.Equal(t, 0, code)
	require.Contains(t, errs, "  playground  build the browser playground", "the summaries line up")
}

// TestTrain_EMAAndSchedule: train -ema 0.9 -lr-schedule cosine saves, bit
// for bit, the weight average of the same run made here with the library
// (nn.NewVelocityMLP from the seed's stream 2, fm.Train with nn.NewEMA and
// fm.CosineSchedule, then EMA.CopyTo). Controls: the last weights (no
// average copied) and a constant rate give other weights.
func TestTrain_EMAAndSchedule(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "m.safetensors")
	mustRun(t, "train", "-data", "moons", "-hidden", "16,16", "-steps", "30", "-batch", "32", "-ema", "0.9", "-lr-schedule", "cosine", "-threads", "1", "-out", ckpt)
	got, _, err := nn.LoadVelocityMLP(ckpt)
	require.NoError(t, err)

	fit := func(schedule func(step, steps int) float64, average bool) []*ag.Tensor {
		moons, err := data.Lookup("moons")
		require.NoError(t, err)
		m := nn.NewVelocityMLP(2, []int{16, 16}, ag.ActSiLU, newRand(0, 2))
		ema := nn.NewEMA(m.Params(), 0.9)
		nn.SetThreads(1)
		_, err = fm.Train(m, fm.TrainConfig{Path: fm.CondOT{SigmaMin: 1e-4}, Data: moons.Sample, Coupling: fm.Independent{}, Fused: true,
			BatchSize: 32, Steps: 30, LR: 1e-3, LRSchedule: schedule, EMA: ema, Seed: 0})
		require.NoError(t, err)
		if average {
			ema.CopyTo(m.Params())
		}
		return m.Params()
	}
	same := func(a, b []*ag.Tensor) bool {
		for i := range a {
			if !slices.Equal(a[i].Data, b[i].Data) {
				return false
			}
		}
		return true
	}
	require.True(t, same(got.Params(), fit(fm.CosineSchedule, true)), "the command's weights are the library run's average")
	require.False(t, same(got.Params(), fit(fm.CosineSchedule, false)), "control: the last weights")
	require.False(t, same(got.Params(), fit(nil, true)), "control: a constant rate")
}

// TestCommands_Forms: the forms of commands route by one flag, in any of
// its spellings (-data x, --data x, -data=x, likewise -checkpoint), before
// the form parses the rest: image, discrete and manifold data to their
// demo and train, a discrete, manifold or image checkpoint (or -class) to
// their sample, and a manifold -data to loglik and plot. Controls: 2-D
// data, a file and a 2-D checkpoint stay with the command's own body.
func TestCommands_Forms(t *testing.T) {
	dir := t.TempDir()
	disc, sph, img := filepath.Join(dir, "d.safetensors"), filepath.Join(dir, "s.safetensors"), filepath.Join(dir, "i.safetensors")
	mustRun(t, "train", "-data", "checkerboard-discrete", "-bins", "8", "-steps", "1", "-batch", "4", "-out", disc)
	mustRun(t, "train", "-data", "sphere-vmf", "-hidden", "4", "-steps", "1", "-batch", "4", "-out", sph)
	mustRun(t, "train", "-data", "mnist14", "-hidden", "4", "-steps", "1", "-batch", "4", "-threads", "1", "-out", img)
	flat := filepath.Join(dir, "f.safetensors")
	require.NoError(t, nn.SaveVelocityMLP(flat, nn.NewVelocityMLP(2, []int{4}, ag.ActSiLU, newRand(0, 1)), nil))
	for _, c := range []struct {
		args []string
		want runFunc
	}{
		{[]string{"demo", "-data=8gaussians-discrete"}, runDiscreteDemo},
		{[]string{"demo", "--data", "checkerboard-discrete"}, runDiscreteDemo},
		{[]string{"demo", "-data=torus-vonmises"}, runManifoldDemo},
		{[]string{"demo", "-steps", "3", "--data", "torus-checkerboard"}, runManifoldDemo},
		{[]string{"demo", "-data", "mnist14"}, runMNISTDemo},
		{[]string{"demo", "-data", "moons"}, runDemo},
		{[]string{"demo"}, runDemo},
		{[]string{"train", "-data", "mnist"}, runCondTrain},
		{[]string{"train", "-data", "8gaussians-discrete"}, runDiscreteTrain},
		{[]string{"train", "-data", "sphere-vmf"}, runManifoldTrain},
		{[]string{"train", "-data", "pts.csv"}, runTrain},
		{[]string{"sample", "-checkpoint", img}, runCondSample},
		{[]string{"sample", "-class", "3", "-checkpoint", flat}, runCondSample},
		{[]string{"sample", "-class", "3", "-checkpoint", disc}, runDiscreteSample},
		{[]string{"sample", "-guidance", "2", "-checkpoint", sph}, runManifoldSample},
		{[]string{"sample", "-checkpoint=" + disc}, runDiscreteSample},
		{[]string{"sample", "--checkpoint", sph}, runManifoldSample},
		{[]string{"sample", "-checkpoint", flat}, runSample},
		{[]string{"loglik", "-checkpoint", disc}, runDiscreteLoglik},
		{[]string{"loglik", "-checkpoint", sph}, runManifoldLoglik},
		{[]string{"loglik", "-checkpoint", flat, "-data", "sphere-vmf"}, runManifoldLoglik},
		{[]string{"loglik", "-checkpoint", flat, "-data", "moons"}, runLoglik},
		{[]string{"plot", "-checkpoint", disc}, runDiscretePlot},
		{[]string{"plot", "-checkpoint", sph}, runManifoldPlot},
		{[]string{"plot", "-checkpoint", flat}, runPlot},
	} {
		i := slices.IndexFunc(commands, func(cmd command) bool { return cmd.name == c.args[0] })
		require.GreaterOrEqual(t, i, 0, c.args[0])
		got := commands[i].body(c.args[1:])
		require.Equal(t, reflect.ValueOf(c.want).Pointer(), reflect.ValueOf(got).Pointer(), "%v", c.args)
	}
}
