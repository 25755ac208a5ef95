package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/internal/manifolddemo"
	"github.com/flowmatch/flowmatch/internal/progress"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// train, sample, loglik and plot on the sphere and the torus (fm/riemann,
// Chen & Lipman 2023, arXiv:2302.03660): train is routed here by -data
// (manifoldDataArg), the others by a checkpoint whose metadata hold
// riemann.MetaManifold (manifoldCheckpointArg) or by a manifold -data. The
// checkpoint is riemann.SaveCheckpoint's: the model (an nn.VelocityMLP on
// the sphere, a riemann.TorusMLP on the torus) with the manifold
// ("sphere:2", "torus:2") and the base law ("uniform",
// "wrapped-normal:σ") in its metadata, and the data set under metaData.
// TestManifoldCommands.

// checkpointArg returns the value of -checkpoint in args ("" if absent).
func checkpointArg(args []string) string {
	v, _ := flagArg(args, "checkpoint")
	return v
}

// manifoldCheckpointArg reports whether args name (-checkpoint) a manifold
// checkpoint (riemann.IsCheckpoint). A file that cannot be read is left to
// the Euclidean command, whose error names it.
func manifoldCheckpointArg(args []string) bool {
	path := checkpointArg(args)
	if path == "" {
		return false
	}
	f, err := safetensors.Read(path)
	return err == nil && riemann.IsCheckpoint(f.Metadata)
}

// manifoldArg reports whether loglik or plot is asked about a manifold: a
// manifold checkpoint or a manifold -data.
func manifoldArg(args []string) bool { return manifoldCheckpointArg(args) || manifoldDataArg(args) }

var trainNotOnManifold = map[string]string{
	"path":        "the conditional path is the geodesic x_t = Exp_{x₀}(t·Log_{x₀}(x₁)) (Chen & Lipman 2023, §3.3)",
	"coupling":    "x₀ and x₁ are drawn independently (no OT coupling on a manifold here)",
	"sigma-min":   "the geodesic path has no σ_min",
	"sigma-max":   "the geodesic path has no σ_max",
	"lr-schedule": "the learning rate follows the cosine schedule",
	"ema":         "no weight averaging on a manifold",
	"param":       "the model predicts the velocity",
}

func runManifoldTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "-data "+strings.Join(riemann.DatasetNames(), "|")+" -out model.safetensors [flags]", stderr)
	name := fs.String("data", "sphere-vmf", "manifold data set: "+strings.Join(riemann.DatasetNames(), ", "))
	base := fs.String("base", "uniform", "law of x₀: uniform, or on the torus wrapped-normal:σ (mode (π, π), e.g. wrapped-normal:1)")
	hidden := fs.String("hidden", "128,128,128", "hidden layer widths of the velocity MLP (an MLP on ℝ³ projected on the sphere; on (cos θ, sin θ, t) on the torus)")
	act := fs.String("act", "silu", "activation: silu, tanh, relu, elu or softplus")
	steps := fs.Int("steps", 4000, "training steps")
	batch := fs.Int("batch", 256, "batch size")
	lr := fs.Float64("lr", manifolddemo.LR, "Adam learning rate (cosine schedule)")
	seed := fs.Uint64("seed", 0, "random seed (the same seed gives the same model)")
	out := fs.String("out", "", "checkpoint to write (.safetensors; its folder must exist)")
	threads := addThreadsFlag(fs)
	ck := checkFormFlags(fs, args, "on a manifold", trainNotOnManifold)
	ck.required("out")
	ck.threads(*threads)
	d, b := checkManifoldData(ck, *name, *base)
	sizes := checkValue(ck, parseSizes, *hidden)
	a, err := ag.ParseActivation(*act)
	ck.usage(err != nil, "-act %q: want silu, tanh, relu, elu or softplus", *act)
	ck.count("steps", *steps, 1, maxSteps)
	ck.count("batch", *batch, 1, maxBatch)
	ck.usage(!(*lr > 0 && !math.IsInf(*lr, 1)), "-lr %g: want a positive, finite learning rate, e.g. 2e-3", *lr)
	ck.outFile("out", *out, ".safetensors")
	if ck.err != nil {
		return ck.err
	}
	nn.SetThreads(*threads)
	start := time.Now()
	fmt.Fprintf(stderr, "train: %d steps of %d on %s (%s, base %s)…\n", *steps, *batch, *name, riemann.ManifoldSpec(d.Manifold()), b)
	c, losses, err := manifolddemo.Train(d, b, sizes, a, *steps, *batch, *lr, *seed)
	if err != nil {
		return err
	}
	meta := map[string]string{metaData: *name, metaSteps: fmt.Sprint(*steps), metaSeed: fmt.Sprint(*seed)}
	if err := riemann.SaveCheckpoint(*out, c, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: %s on %s, %d steps in %.1f s, final loss %.4f (mean of the last 100); wrote %s\n",
		*name, riemann.ManifoldSpec(c.M), *steps, time.Since(start).Seconds(), meanTail(losses, 100), *out)
	return nil
}

// checkManifoldData checks -data (a manifold data set) and -base (a base
// law on its manifold) after the checks c, and returns them.
func checkManifoldData(c *flagCheck, name, base string) (riemann.Distribution, riemann.Base) {
	if c.err != nil {
		return nil, nil
	}
	d, err := riemann.Dataset(name)
	if err != nil {
		c.err = usagef("-data: %v", err)
		return nil, nil
	}
	b, err := riemann.ParseBase(d.Manifold(), base)
	if err != nil {
		c.err = usagef("-base: %v", err)
	}
	return d, b
}

// loadManifold loads a manifold checkpoint and its training data set
// (metaData), which is nil when the metadata do not name one.
func loadManifold(ckpt string) (riemann.Checkpoint, riemann.Distribution, error) {
	c, meta, err := riemann.LoadCheckpoint(ckpt)
	if err != nil {
		return c, nil, err
	}
	name, ok := meta[metaData]
	if !ok {
		return c, nil, nil
	}
	d, err := riemann.Dataset(name)
	if err != nil {
		return c, nil, &safetensors.Error{Path: ckpt, Err: &safetensors.MetadataError{Key: metaData, Value: name, Reason: err.Error()}}
	}
	if riemann.ManifoldSpec(d.Manifold()) != riemann.ManifoldSpec(c.M) {
		return c, nil, &safetensors.Error{Path: ckpt, Err: &safetensors.MetadataError{Key: metaData, Value: name,
			Reason: fmt.Sprintf("lives on %s, the model on %s", riemann.ManifoldSpec(d.Manifold()), riemann.ManifoldSpec(c.M))}}
	}
	return c, d, nil
}

var sampleNotOnManifold = map[string]string{
	"class":    "the model is unconditional",
	"guidance": "the model is unconditional",
	"sde":      "the sampler solves the ODE on the manifold",
	"schedule": "the geodesic path has no schedule to change",
	"tol":      "the samplers are the fixed-step geodesic Euler and RK4 with retraction",
}

func runManifoldSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sample", "-checkpoint model.safetensors -out samples.csv|.npy [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "manifold checkpoint written by train or demo")
	n := fs.Int("n", 1000, fmt.Sprintf("number of samples, 1 to %d", maxPoints/2))
	solver := fs.String("solver", "rk4", "rk4 (then the retraction: order 4) or euler (the geodesic step Exp_x(h·v): order 1)")
	steps := fs.Int("ode-steps", manifolddemo.SampleSteps, "steps of the solver")
	seed := fs.Uint64("seed", 0, "random seed of the base draws")
	out := fs.String("out", "", "output file (.csv or .npy; its folder must exist): points of ℝ³ on S² (|‖x‖ − 1| ≤ 1e-12), or angles in [0, 2π) on the torus")
	threads := addThreadsFlag(fs)
	ck := checkFormFlags(fs, args, "on a manifold", sampleNotOnManifold)
	ck.required("checkpoint", "out")
	ck.count("n", *n, 1, maxPoints/2)
	ck.count("ode-steps", *steps, 1, 100_000)
	ck.usage(*solver != string(cnf.RK4) && *solver != string(cnf.Euler), "-solver %q: want rk4 or euler on a manifold", *solver)
	ck.threads(*threads)
	ck.outFile("out", *out, ".csv", ".npy")
	if ck.err != nil {
		return ck.err
	}
	c, _, err := loadManifold(*ckpt)
	if err != nil {
		return err
	}
	nn.SetThreads(*threads)
	x, err := riemann.Integrate(c.M, c.Field(), c.Base.Sample(*n, newRand(*seed, 3)), 0, 1, *steps, cnf.Method(*solver), nil)
	if err != nil {
		return err
	}
	if _, ok := c.M.(riemann.Torus); ok { // the RK4 state is a lift: report the angles
		for i, v := range x.Data {
			x.Data[i] = riemann.Wrap(v)
		}
	}
	if err := writePoints(*out, x); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: wrote %d points on %s to %s (%s, %d steps", x.Rows, riemann.ManifoldSpec(c.M), *out, *solver, *steps)
	if _, ok := c.M.(riemann.Sphere); ok {
		fmt.Fprintf(stdout, "; max |‖x‖ − 1| = %.2g", manifolddemo.SphereDrift(c.M, x))
	}
	fmt.Fprintln(stdout, ")")
	return nil
}

// manifoldPoints returns n points of -data on the manifold of c: fresh
// draws of a data set (which must live on the same manifold), or the first
// n rows of a .csv/.npy file (n ≤ 0: all), whose rows must lie on the
// manifold (on the sphere within 10⁻⁶ of norm 1; they are then
// normalized). The Distribution is nil for a file.
func manifoldPoints(spec string, c riemann.Checkpoint, n int, seed uint64) (*ag.Tensor, riemann.Distribution, error) {
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".csv", ".npy":
		src, err := openData("data", spec)
		if err != nil {
			return nil, nil, err
		}
		if src.Rows.Cols != c.M.Ambient() {
			return nil, nil, fmt.Errorf("-data %s has %d columns; a point of %s has %d", spec, src.Rows.Cols, riemann.ManifoldSpec(c.M), c.M.Ambient())
		}
		x := src.Points(n, nil).Clone()
		if _, ok := c.M.(riemann.Sphere); ok {
			for i := 0; i < x.Rows; i++ {
				r := x.Row(i)
				nr := 0.0
				for _, v := range r {
					nr += v * v
				}
				if nr = math.Sqrt(nr); !(math.Abs(nr-1) <= 1e-6) {
					return nil, nil, fmt.Errorf("-data %s: row %d has norm %g; points of the sphere have norm 1 (within 1e-6)", spec, i+1, nr)
				}
				copy(r, c.M.Retract(r))
			}
		}
		return x, nil, nil
	}
	d, err := riemann.Dataset(spec)
	if err != nil {
		return nil, nil, usagef("-data: %v (or a .csv/.npy file of points on the manifold)", err)
	}
	if riemann.ManifoldSpec(d.Manifold()) != riemann.ManifoldSpec(c.M) {
		return nil, nil, fmt.Errorf("-data %s lives on %s but the model on %s", spec, riemann.ManifoldSpec(d.Manifold()), riemann.ManifoldSpec(c.M))
	}
	if n <= 0 {
		return nil, nil, usagef("-n 0 (all rows) needs a file; for the built-in %s give -n 2 to %d", spec, maxPoints)
	}
	return d.Sample(n, newRand(seed, 4)), d, nil
}

var loglikNotOnManifold = map[string]string{
	"solver":    "the likelihood uses dopri5 (set -tol)",
	"ode-steps": "the likelihood uses dopri5 (set -tol)",
}

func runManifoldLoglik(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("loglik", "-checkpoint model.safetensors -data name|file [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "manifold checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "manifold data set (fresh held-out draws) or a .csv/.npy file of points on the manifold")
	n := fs.Int("n", 1000, fmt.Sprintf("points to evaluate, 2 to %d (for a file: the first n rows; 0 = all)", maxPoints))
	tol := fs.Float64("tol", 1e-5, "rtol = atol of dopri5 (the exact Riemannian divergence is integrated with the ODE)")
	seed := fs.Uint64("seed", 1, "random seed of the held-out draws")
	out := fs.String("out", "", "optional per-point output (.csv or .npy; its folder must exist): x0, x1, …, logp")
	threads := addThreadsFlag(fs)
	ck := checkFormFlags(fs, args, "on a manifold", loglikNotOnManifold)
	ck.required("checkpoint", "data")
	if *n != 0 {
		ck.count("n", *n, 2, maxPoints)
	}
	ck.usage(!(*tol > 0 && *tol < 1), "-tol %g: want a tolerance in (0, 1), e.g. 1e-5", *tol)
	ck.threads(*threads)
	if *out != "" {
		ck.outFile("out", *out, ".csv", ".npy")
	}
	if ck.err != nil {
		return ck.err
	}
	c, _, err := loadManifold(*ckpt)
	if err != nil {
		return err
	}
	x, d, err := manifoldPoints(*dataSpec, c, *n, *seed)
	if err != nil {
		return err
	}
	if err := checkMeanRows(*dataSpec, x); err != nil {
		return err
	}
	nn.SetThreads(*threads)
	bar := progress.New(stderr, "loglik", x.Rows, "points")
	lp := make([]float64, x.Rows)
	nfe := 0
	const chunk = 250
	for lo := 0; lo < x.Rows; lo += chunk {
		hi := min(lo+chunk, x.Rows)
		part := ag.FromSlice(hi-lo, x.Cols, x.Data[lo*x.Cols:hi*x.Cols]).NoGraph()
		lik, st, err := riemann.LogLikelihoodFrom(c.M, c.Base, c.Field(), part, nil, cnf.SolveOptions{Method: cnf.Dopri5, RTol: *tol, ATol: *tol, MaxSteps: 100000})
		if err != nil {
			return err
		}
		copy(lp[lo:hi], lik.LogP1.Data)
		nfe = max(nfe, st.NFE)
		bar.Set(hi, "")
	}
	bar.Done()
	mean, se := meanNLL(lp)
	h := 0.0 // the data set's entropy is exact: no standard error
	if d != nil {
		h = d.Entropy()
	}
	fmt.Fprintf(stdout, "loglik: n=%d nll=%.4f±%.4f nats on %s, base %s (Riemannian divergence, dopri5 %g, NFE %d)%s\n",
		len(lp), mean, se, riemann.ManifoldSpec(c.M), c.Base, *tol, nfe, klText(mean, se, h, 0, d != nil))
	return writeLogp(*out, x, lp)
}

func runManifoldPlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "-checkpoint model.safetensors -out dir [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "manifold checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "manifold data set to draw beside the samples (default: the training data)")
	n := fs.Int("n", 2000, "samples to draw, 2 to 100000")
	seed := fs.Uint64("seed", 0, "random seed")
	out := fs.String("out", "", "output folder (created if missing; its parent must exist)")
	threads := addThreadsFlag(fs)
	ck := checkFlags(fs, args)
	ck.required("checkpoint", "out")
	ck.count("n", *n, 2, 100_000)
	ck.threads(*threads)
	ck.outDir("out", *out)
	if ck.err != nil {
		return ck.err
	}
	c, d, err := loadManifold(*ckpt)
	if err != nil {
		return err
	}
	if *dataSpec != "" {
		if d, err = riemann.Dataset(*dataSpec); err != nil {
			return usagef("-data: %v", err)
		}
		if riemann.ManifoldSpec(d.Manifold()) != riemann.ManifoldSpec(c.M) {
			return fmt.Errorf("-data %s lives on %s but the model on %s", *dataSpec, riemann.ManifoldSpec(d.Manifold()), riemann.ManifoldSpec(c.M))
		}
	}
	if d == nil {
		return usagef("%s does not name its training data: give -data (one of %s)", *ckpt, strings.Join(riemann.DatasetNames(), ", "))
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	nn.SetThreads(*threads)
	x := d.Sample(*n, newRand(*seed, 6))
	s, err := riemann.Integrate(c.M, c.Field(), c.Base.Sample(*n, newRand(*seed, 5)), 0, 1, manifolddemo.SampleSteps, cnf.RK4, nil)
	if err != nil {
		return err
	}
	files, err := manifolddemo.Draw(*out, d, c, x, s, newRand(*seed, 7))
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "plot: wrote", f)
	}
	return nil
}

// saveDemoModel writes the manifold demo's model as model.safetensors in
// dir, for sample, loglik and plot, and returns the file.
func saveDemoModel(dir string, r manifolddemo.Report) (string, error) {
	file := filepath.Join(dir, "model.safetensors")
	return file, riemann.SaveCheckpoint(file, r.Model, map[string]string{metaData: r.Dataset, metaSteps: fmt.Sprint(r.Steps), metaSeed: fmt.Sprint(r.Seed)})
}
