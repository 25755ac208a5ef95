package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/data"
)

// call runs the command line and returns its exit code, stdout and stderr.
// The writers are not terminals, so progress comes as plain lines.
func call(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustRun runs the command line, requires exit code 0 and returns stdout
// and stderr.
func mustRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	code, out, errs := call(args...)
	require.Equal(t, 0, code, "%v: stderr: %s", args, errs)
	return out, errs
}

// mustFail runs the command line and requires a failure: exit code code
// and want in stderr.
func mustFail(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, _, errs := call(args...)
	require.Equal(t, code, got, "%v: stderr: %s", args, errs)
	require.Contains(t, errs, want, "%v", args)
}

// trip is a train → sample → loglik → plot round trip in a folder: the
// checkpoint NAME.safetensors, the samples NAME.csv and the pictures'
// folder NAME-pics. Its methods run each command with the flags that name
// these files and the given ones, require exit code 0 and return stdout
// and stderr (trip.run). TestTrainSampleLoglikPlot_RoundTrip, TestDiscreteCommands and
// TestManifoldCommands run one for each kind of model.
type trip struct {
	t                    *testing.T
	ckpt, samples, plots string
}

func newTrip(t *testing.T, dir, name string) trip {
	return trip{t, filepath.Join(dir, name+".safetensors"), filepath.Join(dir, name+".csv"), filepath.Join(dir, name+"-pics")}
}

// run runs cmd (train, sample, loglik or plot) with the flags that name the
// trip's files, then args.
func (r trip) run(cmd string, args ...string) (string, string) {
	r.t.Helper()
	files := map[string][]string{
		"train":  {"-out", r.ckpt},
		"sample": {"-checkpoint", r.ckpt, "-out", r.samples},
		"loglik": {"-checkpoint", r.ckpt},
		"plot":   {"-checkpoint", r.ckpt, "-out", r.plots},
	}[cmd]
	require.NotNil(r.t, files, "trip runs train, sample, loglik or plot, not %s", cmd)
	return mustRun(r.t, append(append([]string{cmd}, files...), args...)...)
}

// readJSON reads the JSON file (a demo's report.json) into v.
func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// trained returns a small checkpoint trained on moons, shared by the tests.
func trained(t *testing.T) string {
	t.Helper()
	ckpt := filepath.Join(t.TempDir(), "m.safetensors")
	mustRun(t, "train", "-data", "moons", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", ckpt)
	return ckpt
}

// writeCSV writes rows×cols points (row i, column j: i + j/10) to a file.
func writeCSV(t *testing.T, dir string, rows, cols int) string {
	t.Helper()
	var b strings.Builder
	for i := range rows {
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%g", float64(i%17)/4-2+float64(j)/10)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, fmt.Sprintf("pts%dx%d.csv", rows, cols))
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

func TestDemo_Small(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new") // a missing folder whose parent exists is created
	out, errs := mustRun(t, "demo", "-out", dir, "-steps", "30", "-n", "64", "-grid", "8")
	require.Regexp(t, regexp.MustCompile(`^demo: dataset=8gaussians steps=30 nll=[-0-9.]+ entropy=2\.83[0-9]+ kl=[-0-9.]+ w2=[0-9.]+ seconds=[0-9.]+$`), lastLine(out))
	for _, f := range []string{"model.safetensors", "report.json", "report.md", "samples.png", "trajectories.png", "density.png", "loss.png", "field_t050.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Positive(t, st.Size(), f)
	}
	var r demoReport
	readJSON(t, filepath.Join(dir, "report.json"), &r)
	require.Equal(t, 30, r.Steps)
	require.NotNil(t, r.KL)
	require.InDelta(t, r.NLL-*r.Entropy, *r.KL, 1e-12)
	require.Contains(t, out, fmt.Sprintf("w2=%.4f", r.W2), "the final line's w2 is W₂, the distance")
	require.Contains(t, out, fmt.Sprintf("W2 = %.4f (two data samples of 64 points: %.4f)", r.W2, r.W2Floor))
	require.Positive(t, r.W2Floor)
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	require.NotContains(t, string(md), "../", "nothing points outside the repository")
	require.Contains(t, string(md), "bench/peers/torch_fm.py")
	// Progress of every phase, as plain lines (stderr is not a terminal).
	for _, phase := range []string{"train  done: 30 steps", "nll  done: 64 points", "sample  done: 64 points", "density  done: 64 points"} {
		require.Contains(t, errs, phase)
	}
	require.NotContains(t, errs, "\r")
}

// TestDemo_File: with a user's file demo holds out a fifth of the rows
// (saying how many), never trains on them, and, the entropy being unknown,
// prints no KL.
func TestDemo_File(t *testing.T) {
	dir := t.TempDir()
	file := writeCSV(t, dir, 100, 2)
	out := filepath.Join(dir, "out")
	stdout, _ := mustRun(t, "demo", "-data", file, "-out", out, "-steps", "20", "-n", "64", "-grid", "4")
	require.Contains(t, stdout, "has 100 rows: training on 80, holding out 20 for evaluation")
	require.Contains(t, stdout, "is unknown, so no KL")
	require.Regexp(t, regexp.MustCompile(`^demo: dataset=\S+pts100x2.csv steps=20 nll=[-0-9.]+ entropy=unknown w2=[0-9.]+ seconds=[0-9.]+$`), lastLine(stdout))
	require.NotContains(t, stdout, "kl=")
	require.NotContains(t, stdout, "KL ≈")
	var r demoReport
	readJSON(t, filepath.Join(out, "report.json"), &r)
	require.Nil(t, r.KL)
	require.Nil(t, r.Entropy)
	require.Equal(t, 80, r.TrainRows)
	require.Equal(t, 20, r.EvalPoints)

	// The split itself: the held-out rows and the training rows are
	// disjoint and together are the file.
	src, err := openData("data", file)
	require.NoError(t, err)
	train, held, err := src.holdOut(64, newRand(0, 12))
	require.NoError(t, err)
	require.Equal(t, 80, train.Rows)
	require.Equal(t, 20, held.Rows)
	count := map[[2]float64]int{}
	for i := range src.Rows.Rows {
		count[[2]float64(src.Rows.Row(i))]++
	}
	for _, x := range []*[]float64{&train.Data, &held.Data} {
		for i := 0; i < len(*x); i += 2 {
			count[[2]float64((*x)[i:i+2])]--
		}
	}
	for k, c := range count {
		require.Zero(t, c, "row %v", k)
	}
}

// TestTrainSampleLoglikPlot_RoundTrip: on moons, train writes a checkpoint
// that sample reads (.csv and .npy), loglik scores (a file without an
// entropy: no KL; a built-in dataset: the KL) and plot draws, each showing
// its progress.
func TestTrainSampleLoglikPlot_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := newTrip(t, dir, "moons")
	r.run("train", "-data", "moons", "-hidden", "16,16", "-steps", "20", "-batch", "32")
	_, errs := r.run("sample", "-n", "50", "-ode-steps", "10")
	require.Contains(t, errs, "sample  done: 50 points")
	b, err := os.ReadFile(r.samples)
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSpace(string(b)), "\n"), 50)
	mustRun(t, "sample", "-checkpoint", r.ckpt, "-n", "20", "-solver", "euler", "-ode-steps", "5", "-out", filepath.Join(dir, "s.npy"))

	out, errs := r.run("loglik", "-data", r.samples, "-solver", "rk4", "-ode-steps", "10", "-out", filepath.Join(dir, "lp.csv"))
	require.Contains(t, out, "loglik: n=50 nll=")
	require.Contains(t, out, "entropy of the data unknown: no KL")
	require.Contains(t, errs, "loglik  done: 50 points")
	out, _ = r.run("loglik", "-data", "moons", "-n", "40", "-solver", "rk4", "-ode-steps", "10")
	require.Contains(t, out, "kl=", "a built-in dataset with a known entropy gives the KL")

	out, errs = r.run("plot", "-n", "40", "-grid", "6", "-format", "svg", "-times", "0.25,0.75")
	require.Contains(t, out, "samples.svg")
	require.Contains(t, out, "field_t025.svg")
	require.Contains(t, errs, "density  done: 36 points")
}

// TestThreads_SameResults: -threads changes the cores used, not the
// results: the chunks of rows do not depend on it (dopri5 chooses its steps
// per chunk, so other chunks would change the log-likelihoods).
func TestThreads_SameResults(t *testing.T) {
	ckpt := trained(t)
	dir := t.TempDir()
	var files []string
	var nll []string
	for _, th := range []string{"1", "2", "3"} {
		f := filepath.Join(dir, "s"+th+".csv")
		mustRun(t, "sample", "-checkpoint", ckpt, "-n", "1100", "-ode-steps", "4", "-threads", th, "-out", f)
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		files = append(files, string(b))
		out, _ := mustRun(t, "loglik", "-checkpoint", ckpt, "-data", "moons", "-n", "600", "-solver", "dopri5", "-tol", "1e-3", "-threads", th)
		nll = append(nll, out)
	}
	require.Equal(t, files[0], files[1])
	require.Equal(t, files[0], files[2])
	require.Equal(t, nll[0], nll[1])
	require.Equal(t, nll[0], nll[2])
}

// TestUsageErrors: each misuse is one line on stderr that names the
// command's own flag and what it accepts, exit code 2, and nothing is
// created.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	ckpt := trained(t)
	file3 := writeCSV(t, dir, 20, 3)
	missing := filepath.Join(dir, "missing-dir")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nosuchcmd"}, 2, `flowmatch: unknown command "nosuchcmd"; run 'flowmatch -h' for the list`},
		{[]string{"train"}, 2, "missing required flag(s) -out"},
		{[]string{"train", "-out", "x.safetensors", "-path", "bogus"}, 2, `-path "bogus": want condot, ve, vp, cosine, linear-vp or polyN (e.g. poly2)`},
		{[]string{"train", "-out", filepath.Join(dir, "x.safetensors"), "-data", "nosuchset"}, 2, `-data "nosuchset": not a built-in dataset (run 'flowmatch datasets'`},
		{[]string{"train", "-out", filepath.Join(dir, "z.pt")}, 2, "-out " + filepath.Join(dir, "z.pt") + ": want a file name ending in .safetensors"},
		{[]string{"train", "-out", filepath.Join(missing, "m.safetensors")}, 2, "folder " + missing + " does not exist"},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-threads", "0"}, 2, "-threads 0: want 1 to 64"},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-lr", "-1"}, 2, "-lr -1: want a positive, finite learning rate"},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-ema", "1"}, 2, "-ema 1: want a decay in [0, 1)"},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-lr-schedule", "step"}, 2, `-lr-schedule "step": want constant or cosine`},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-act", "gelu"}, 2, `-act "gelu": want silu, tanh, relu, elu or softplus`},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-coupling", "best"}, 2, `-coupling "best": want independent, ot or sinkhorn`},
		{[]string{"train", "-out", filepath.Join(dir, "m.safetensors"), "-batch", "0"}, 2, "-batch 0: want 1 to 65536"},
		{[]string{"sample", "-checkpoint", "/nonexistent/m.safetensors", "-out", filepath.Join(dir, "s.csv")}, 1, "/nonexistent/m.safetensors"},
		{[]string{"sample", "-checkpoint", "m", "-out", "s.csv", "-solver", "rk5"}, 2, `-solver "rk5"`},
		{[]string{"sample", "-checkpoint", ckpt, "-out", filepath.Join(dir, "s.csv"), "-n", "1000000000"}, 2, "-n 1000000000: want 1 to 2000000"},
		{[]string{"sample", "-checkpoint", ckpt, "-out", filepath.Join(dir, "s.csv"), "-n", "99999999999999"}, 2, "-n 99999999999999: want 1 to 2000000"},
		{[]string{"sample", "-checkpoint", ckpt, "-out", filepath.Join(dir, "s.txt")}, 2, "want a file name ending in .csv or .npy"},
		{[]string{"sample", "-checkpoint", ckpt, "-out", filepath.Join(missing, "s.csv")}, 2, "does not exist"},
		{[]string{"sample", "-checkpoint", ckpt, "-out", filepath.Join(dir, "s.csv"), "-n", "abc"}, 2, `invalid value "abc" for flag -n`},
		{[]string{"loglik", "-checkpoint", ckpt, "-data", "moons", "-n", "1"}, 2, "-n 1: want 2 to 2000000"},
		{[]string{"loglik", "-checkpoint", ckpt, "-data", "moons", "-out", filepath.Join(missing, "lp.csv")}, 2, "does not exist"},
		{[]string{"loglik", "-checkpoint", ckpt, "-data", file3}, 1, "has 3 columns but the model " + ckpt + " is 2-dimensional"},
		{[]string{"plot", "-checkpoint", ckpt, "-out", filepath.Join(dir, "p1"), "-grid", "0"}, 2, "-grid 0: want 2 to 400"},
		{[]string{"plot", "-checkpoint", ckpt, "-out", filepath.Join(dir, "p2"), "-n", "0"}, 2, "-n 0: want 2 to 2000000"},
		{[]string{"plot", "-checkpoint", ckpt, "-out", filepath.Join(dir, "p3"), "-times", "2"}, 2, `-times "2"`},
		{[]string{"plot", "-checkpoint", ckpt, "-out", filepath.Join(missing, "pics")}, 2, "folder " + missing + " does not exist"},
		{[]string{"plot", "-checkpoint", ckpt, "-out", filepath.Join(dir, "p4"), "-data", file3}, 1, "has 3 columns but the model " + ckpt + " is 2-dimensional"},
		{[]string{"demo", "-steps", "0", "-out", filepath.Join(dir, "d1")}, 2, "-steps 0: want 1 to 100000000"},
		{[]string{"demo", "-data", "nope", "-out", filepath.Join(dir, "d2")}, 2, `-data "nope": not a built-in dataset`},
		{[]string{"demo", "-data", file3, "-out", filepath.Join(dir, "d3")}, 1, "has 3 columns; demo draws 2-D data"},
		{[]string{"demo", "-grid", "0", "-out", filepath.Join(dir, "d4")}, 2, "-grid 0: want 2 to 400"},
		{[]string{"demo", "-ema", "1", "-out", filepath.Join(dir, "d4")}, 2, "-ema 1: want a decay in [0, 1)"},
		{[]string{"demo", "-lr-schedule", "step", "-out", filepath.Join(dir, "d4")}, 2, `-lr-schedule "step": want constant or cosine`},
		{[]string{"demo", "-out", filepath.Join(missing, "demo")}, 2, "folder " + missing + " does not exist"},
		{[]string{"demo", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"bench", "-what", "dance"}, 2, `-what "dance"`},
		{[]string{"bench", "-sample-points", "0"}, 2, "-sample-points 0: want 1 to 2000000"},
		{[]string{"bench", "-min-time", "0"}, 2, "-min-time 0: want seconds in (0, 3600]"},
		{[]string{"loglik", "-checkpoint", ckpt, "-data", "moons", "-tol", "0"}, 2, "-tol 0: want a tolerance in (0, 1)"},
		{[]string{"datasets", "-threads", "65"}, 2, "-threads 65: want 1 to 64"},
	} {
		code, stdout, errs := call(c.args...)
		require.Equal(t, c.code, code, "%v: %s", c.args, errs)
		require.Contains(t, errs, c.want, "%v", c.args)
		require.Equal(t, 1, strings.Count(errs, "\n"), "%v: one line, got %q", c.args, errs)
		require.Empty(t, stdout, "%v", c.args)
		if c.args[0] == "demo" {
			require.NotRegexp(t, `-(lr|act) `, errs, "%v: demo has no -lr or -act", c.args)
		}
	}
	for _, d := range []string{"p1", "p2", "p3", "p4", "d1", "d2", "d3", "d4", "missing-dir", "s.csv", "z.pt", "m.safetensors"} {
		require.NoFileExists(t, filepath.Join(dir, d), "nothing is created before the inputs are checked")
		require.NoDirExists(t, filepath.Join(dir, d), "nothing is created before the inputs are checked")
	}
	code, _, errs := call("train", "-h")
	require.Equal(t, 0, code)
	require.Contains(t, errs, "-coupling")
	require.Contains(t, errs, "a file's folder must already exist")
	code, _, errs = call()
	require.Equal(t, 2, code)
	require.Contains(t, errs, "Usage: flowmatch <command>")
}

// TestTrain_Diverges: a learning rate that makes the loss NaN stops
// training with one line naming the step (fm.Train's error), not a panic,
// and writes nothing.
func TestTrain_Diverges(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, errs := call("train", "-hidden", "8", "-steps", "20", "-batch", "16", "-lr", "1e300", "-out", out)
	require.Equal(t, 1, code, errs)
	require.Regexp(t, regexp.MustCompile(`flowmatch train: fm\.Train: step \d+: .*diverged`), errs)
	require.Equal(t, 1, strings.Count(lastLine(errs)+"\n", "\n"))
	require.NotContains(t, errs, "goroutine", "no panic")
	require.Empty(t, stdout)
	require.NoFileExists(t, out)
}

func TestDatasets(t *testing.T) {
	out, errs := mustRun(t, "datasets")
	for _, name := range data.Names() {
		require.Regexp(t, regexp.MustCompile(`(?m)^  `+regexp.QuoteMeta(name)+` +2D  .+ H = [0-9.]+ (± [0-9.]+ nats \(Monte Carlo\)|nats \(exact\))$`), out)
	}
	require.Contains(t, out, "H = 3.4657 nats (exact)", "checkerboard: ln 32")
	require.Contains(t, out, "moons, moons-sklearn and moons-peer")
	require.Contains(t, errs, "entropies  done: 11 datasets")
}

// TestDatasets_EveryNameDescribed: a dataset added to the data package
// without a line in datasetInfo fails here.
func TestDatasets_EveryNameDescribed(t *testing.T) {
	for _, name := range data.Names() {
		require.NotEmpty(t, datasetInfo[name], name)
	}
	require.Len(t, datasetInfo, len(data.Names()), "no description of a dataset that does not exist")
}

// TestOutDir_Policy: an output folder is created when its parent exists,
// refused when it does not, and a file is refused as a folder.
func TestOutDir_Policy(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, checkOutDir("out", filepath.Join(dir, "new")))
	require.NoDirExists(t, filepath.Join(dir, "new"), "checking creates nothing")
	var note bytes.Buffer
	require.NoError(t, makeOutDir(filepath.Join(dir, "new"), &note))
	require.Equal(t, "created folder "+filepath.Join(dir, "new")+"\n", note.String(), "creating a folder is said")
	note.Reset()
	require.NoError(t, makeOutDir(filepath.Join(dir, "new"), &note))
	require.Empty(t, note.String(), "an existing folder is used as it is")
	require.DirExists(t, filepath.Join(dir, "new"))
	require.NoError(t, checkOutDir("out", filepath.Join(dir, "new")), "an existing folder is fine")
	require.ErrorContains(t, checkOutDir("out", filepath.Join(dir, "a", "b")), "does not exist")
	f := filepath.Join(dir, "f.csv")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	require.ErrorContains(t, checkOutDir("out", f), "is a file; want a folder")
	require.ErrorContains(t, checkOutFile("out", dir+"/x", ".csv"), "want a file name ending in .csv")
	require.NoError(t, checkOutFile("out", f, ".csv"), "an existing file is replaced")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "the write checks leave no temporary file")
}

// TestW2Pair_Distance: w2Pair returns W₂, the distance: a translation by c
// of the same points is at W₂ = |c| exactly (the identity matching is
// optimal), here 0.5, where W₂² would be 0.25; and the floor of a set
// against itself is 0.
func TestW2Pair_Distance(t *testing.T) {
	y := data.EightGaussians().Sample(50, newRand(1, 1))
	x := y.Clone()
	for i := range x.Rows {
		x.Row(i)[0] += 0.3
		x.Row(i)[1] += 0.4
	}
	for _, threads := range []int{1, 2} {
		w2, floor, err := w2Pair(x, y, y, threads)
		require.NoError(t, err)
		require.InDelta(t, 0.5, w2, 1e-12, "threads %d", threads)
		require.InDelta(t, 0, floor, 1e-12)
	}
}

// TestSample_LimitScalesWithDim: sample holds at most 2·maxPoints values,
// so a 5-D model allows 800,000 samples a run, and says so before any work.
func TestSample_LimitScalesWithDim(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m5.safetensors")
	mustRun(t, "train", "-data", writeCSV(t, dir, 30, 5), "-hidden", "8", "-steps", "2", "-batch", "8", "-out", ckpt)
	out := filepath.Join(dir, "s.npy")
	mustFail(t, 2, "-n 800001: want at most 800000 for this 5-dimensional model", "sample", "-checkpoint", ckpt, "-n", "800001", "-out", out)
	require.NoFileExists(t, out)
	mustRun(t, "sample", "-checkpoint", ckpt, "-n", "10", "-ode-steps", "2", "-out", out)
	x, err := data.ReadNPY(out)
	require.NoError(t, err)
	require.Equal(t, [2]int{10, 5}, x.Shape())
}
