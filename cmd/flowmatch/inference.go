package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/progress"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
	"path/filepath"
)

// runSample is sample for a Euclidean checkpoint; image, discrete and
// manifold checkpoints are its other forms (main.go: commands).
func runSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sample", "-checkpoint model.safetensors -out samples.csv|.npy [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	n := fs.Int("n", 1000, fmt.Sprintf("number of samples, 1 to %d", maxPoints))
	solver := addSolverFlags(fs, "rk4", 100)
	seed := fs.Uint64("seed", 0, "random seed of the noise")
	out := fs.String("out", "", "output file (.csv or .npy; its folder must exist)")
	sde := fs.Float64("sde", 0, "g > 0: sample by the SDE dX = [v + (g²/2)∇log p] dt + g dW (Euler–Maruyama, -ode-steps steps, one thread)")
	schedule := fs.String("schedule", "", "sample along another schedule (cosine, polyN, condot; vp and linear-vp need -solver euler: their time change is infinite at t = 1) by the scale–time transformation (one thread)")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.required("checkpoint", "out")
	c.count("n", *n, 1, maxPoints)
	c.threads(*threads)
	opts := checkValue(c, solverFlags.options, solver)
	c.outFile("out", *out, ".csv", ".npy")
	if c.err != nil {
		return c.err
	}
	m, p, _, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	if most := 2 * maxPoints / m.Dim(); *n > most {
		return usagef("-n %d: want at most %d for this %d-dimensional model (%d values a run)", *n, most, m.Dim(), 2*maxPoints)
	}
	if *sde != 0 || *schedule != "" {
		x, nfe, err := sampleGaussian(m, p, *n, *sde, *schedule, opts, newRand(*seed, 3))
		if err != nil {
			return err
		}
		if err := writePoints(*out, x); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sample: wrote %d points to %s (sde g = %g, schedule %q, NFE %d a point)\n", x.Rows, *out, *sde, *schedule, nfe)
		return nil
	}
	bar := progress.New(stderr, "sample", *n, "points")
	s, err := sample(m, p, *n, opts, newRand(*seed, 3), 0, *threads, bar)
	bar.Done()
	if err != nil {
		return err
	}
	if err := writePoints(*out, s.X); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: wrote %d points to %s (%s, NFE %d a point)\n", s.X.Rows, *out, *solver.method, s.Stats.NFE)
	return nil
}

// runLoglik is loglik for a Euclidean checkpoint; discrete and manifold
// checkpoints (or manifold data) are its other forms (main.go: commands).
func runLoglik(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("loglik", "-checkpoint model.safetensors -data name|file [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "dataset name (fresh held-out draws; see 'flowmatch datasets') or a .csv/.npy file")
	n := fs.Int("n", 1000, fmt.Sprintf("points to evaluate, 2 to %d (for a file: the first n rows; 0 = all)", maxPoints))
	solver := addSolverFlags(fs, "dopri5", 100)
	seed := fs.Uint64("seed", 1, "random seed of the held-out draws")
	out := fs.String("out", "", "optional per-point output (.csv or .npy; its folder must exist): x0, x1, …, logp")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.required("checkpoint", "data")
	if *n != 0 {
		c.count("n", *n, 2, maxPoints)
	}
	c.threads(*threads)
	opts := checkValue(c, solverFlags.options, solver)
	if *out != "" {
		c.outFile("out", *out, ".csv", ".npy")
	}
	if c.err != nil {
		return c.err
	}
	src, err := openData("data", *dataSpec)
	if err != nil {
		return err
	}
	if *n == 0 && src.Toy != nil {
		return usagef("-n 0 (all rows) needs a file; for the built-in %s give -n 2 to %d", *dataSpec, maxPoints)
	}
	m, p, _, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	if src.Dim() != m.Dim() {
		return fmt.Errorf("-data %s has %d columns but the model %s is %d-dimensional", *dataSpec, src.Dim(), *ckpt, m.Dim())
	}
	x := src.Points(*n, newRand(*seed, 4))
	if err := checkMeanRows(*dataSpec, x); err != nil {
		return err
	}
	entropy := src.Entropy()
	bar := progress.New(stderr, "loglik", x.Rows, "points")
	lp, st, err := logLikelihood(m, p, x, opts, *threads, bar)
	bar.Done()
	if err != nil {
		return err
	}
	mean, se := meanNLL(lp)
	h, hse, ok := entropy()
	fmt.Fprintf(stdout, "loglik: n=%d nll=%.4f±%.4f nats (NFE %d)%s\n", len(lp), mean, se, st.NFE, klText(mean, se, h, hse, ok))
	return writeLogp(*out, x, lp)
}

// checkMeanRows checks that the points x of -data (spec) are enough for
// a mean and its standard error.
func checkMeanRows(spec string, x *ag.Tensor) error {
	if x.Rows < 2 {
		return fmt.Errorf("-data %s: %d row; want at least 2 for a mean and its standard error", spec, x.Rows)
	}
	return nil
}

// meanNLL returns the mean negative log-likelihood −(1/n) Σᵢ log p(xᵢ) of
// the values lp = log p(xᵢ) and its standard error (stats.MeanStdErr).
func meanNLL(lp []float64) (mean, se float64) {
	nll := make([]float64, len(lp))
	for i, v := range lp {
		nll[i] = -v
	}
	return stats.MeanStdErr(nll)
}

// klText is the end of loglik's line: with the data's entropy h known (ok),
// h and KL(data ‖ model) ≈ NLL − h with the standard error √(se² + hse²)
// of independent estimates; otherwise a note that there is no KL.
func klText(nll, se, h, hse float64, ok bool) string {
	if !ok {
		return " (entropy of the data unknown: no KL)"
	}
	return fmt.Sprintf(" entropy=%.4f kl=%.4f±%.4f", h, nll-h, math.Hypot(se, hse))
}

// writeLogp writes loglik's per-point output to path (nothing when path is
// ""): a row per point, its coordinates x0, x1, … and its logp.
func writeLogp(path string, x *ag.Tensor, lp []float64) error {
	if path == "" {
		return nil
	}
	rows := ag.Zeros(x.Rows, x.Cols+1)
	header := make([]string, 0, x.Cols+1)
	for i := 0; i < x.Rows; i++ {
		copy(rows.Row(i), x.Row(i))
		rows.Row(i)[x.Cols] = lp[i]
	}
	for j := 0; j < x.Cols; j++ {
		header = append(header, fmt.Sprintf("x%d", j))
	}
	return writePoints(path, rows, append(header, "logp")...)
}

// runPlot is plot for a Euclidean checkpoint; discrete and manifold
// checkpoints (or manifold data) are its other forms (main.go: commands).
func runPlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "-checkpoint model.safetensors -out dir [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "dataset name or file to draw beside the samples (default: the training data)")
	n := fs.Int("n", 2000, fmt.Sprintf("samples to draw, 2 to %d", maxPoints))
	grid := fs.Int("grid", 40, fmt.Sprintf("density grid points per axis, 2 to %d (each costs one log-likelihood)", maxGrid))
	ext := fs.String("format", "png", "picture format: png or svg")
	times := fs.String("times", "0,0.5,1", "times t in [0, 1] at which to draw the velocity field")
	seed := fs.Uint64("seed", 0, "random seed")
	out := fs.String("out", "", "output folder (created if missing; its parent must exist)")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.required("checkpoint", "out")
	c.count("n", *n, 2, maxPoints)
	c.count("grid", *grid, 2, maxGrid)
	c.usage(*ext != "png" && *ext != "svg", "-format %q: want png or svg", *ext)
	ts := checkValue(c, parseTimes, *times)
	c.threads(*threads)
	c.outDir("out", *out)
	if c.err != nil {
		return c.err
	}
	m, p, meta, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	if m.Dim() != 2 {
		return fmt.Errorf("plot draws 2-D models; %s is %d-dimensional", *ckpt, m.Dim())
	}
	if *dataSpec == "" {
		*dataSpec = meta[metaData]
	}
	var ref *ag.Tensor
	if *dataSpec != "" {
		src, err := openData("data", *dataSpec)
		if err != nil {
			return err
		}
		if src.Dim() != 2 {
			return fmt.Errorf("-data %s has %d columns but the model %s is 2-dimensional", *dataSpec, src.Dim(), *ckpt)
		}
		ref = src.Points(*n, newRand(*seed, 6))
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	bar := progress.New(stderr, "sample", *n, "points")
	s, err := sample(m, p, *n, picSolver, newRand(*seed, 5), 150, *threads, bar)
	bar.Done()
	if err != nil {
		return err
	}
	files, err := drawAll(m, p, ref, s, *out, *ext, *grid, ts, *threads, stderr)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "plot: wrote", f)
	}
	return nil
}

// maxGrid bounds -grid: a grid of g×g points costs g² log-likelihoods.
const maxGrid = 400

// picSolver integrates the samples and trajectories drawn in pictures and
// demo's sample-quality measures: RK4 with 25 steps. On demo's trained
// model (seed 0) its samples differ from RK4 with 200 steps by at most
// 1.4e-4 (rms 5e-6), far below the statistical error of W2 on 2,000 points
// (compare W2 with its floor in report.md); the solver's error falls as
// h⁴ (16 steps: 7.6e-4, 50 steps: 9.5e-6).
var picSolver, _ = solveOptions("rk4", 25, 0)

// densitySolver integrates the log-likelihoods of a density picture: RK4
// with 12 steps. On demo's trained model its log p₁ differs from dopri5 at
// rtol = atol = 1e-7 by at most 0.0045 nats where log p₁ > −8 (0.012
// anywhere on the 40×40 grid), far below what a colour map shows; 8 steps
// give 0.038, 25 steps 1.7e-4.
var densitySolver, _ = solveOptions("rk4", 12, 0)

// drawAll draws the samples s against the reference points ref (nil: the
// samples alone), their trajectories, the model density on a grid×grid grid
// and the field at the given times into dir, and returns the files written.
func drawAll(m *nn.VelocityMLP, p fm.Path, ref *ag.Tensor, s sampled, dir, ext string, grid int, times []float64, threads int, w io.Writer) ([]string, error) {
	var files []string
	name := func(s string) string {
		f := filepath.Join(dir, s+"."+ext)
		files = append(files, f)
		return f
	}
	x := s.X
	if ref != nil {
		if err := plot.Samples(name("samples"), "model samples vs data", ref, x); err != nil {
			return nil, err
		}
	} else if err := plot.Samples(name("samples"), "samples", x, x); err != nil {
		return nil, err
	}
	if err := plot.Trajectories(name("trajectories"), "trajectories from noise (t = 0) to data (t = 1)", subsample(s.Traj, 150)); err != nil {
		return nil, err
	}
	lo, hi := bounds(x, ref)
	pts := ag.Zeros(grid*grid, 2)
	cell := (hi - lo) / float64(grid)
	for iy := 0; iy < grid; iy++ {
		for ix := 0; ix < grid; ix++ {
			r := pts.Row(iy*grid + ix)
			r[0], r[1] = lo+(float64(ix)+0.5)*cell, lo+(float64(iy)+0.5)*cell
		}
	}
	bar := progress.New(w, "density", grid*grid, "points")
	lp, _, err := logLikelihood(m, p, pts, densitySolver, threads, bar)
	bar.Done()
	if err != nil {
		return nil, err
	}
	g := make([][]float64, grid)
	for iy := range g {
		g[iy] = lp[iy*grid : (iy+1)*grid]
	}
	if err := plot.DensityGrid(name("density"), "model density p₁(x)", g, lo, hi, lo, hi); err != nil {
		return nil, err
	}
	vel := velocityOf(m, p) // gaussian.go: -param
	t0, t1 := timeSpan(p)
	for _, t := range times {
		t := min(max(t, t0), t1)
		v := func(a, b float64) (float64, float64) {
			out := vel(ag.Scalar(t), ag.FromSlice(1, 2, []float64{a, b}).NoGraph())
			return out.Data[0], out.Data[1]
		}
		title := fmt.Sprintf("velocity field v(t = %g, x)", t)
		if err := plot.VectorField(name(fmt.Sprintf("field_t%03.0f", t*100)), title, v, lo, hi, lo, hi, 21); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// subsample keeps the first k rows of every state of a trajectory.
func subsample(traj []*ag.Tensor, k int) []*ag.Tensor {
	out := make([]*ag.Tensor, len(traj))
	for i, x := range traj {
		r := min(k, x.Rows)
		out[i] = ag.FromSlice(r, x.Cols, x.Data[:r*x.Cols])
	}
	return out
}

// bounds returns a square window holding every finite coordinate of the
// points within ±50 (stray samples far out do not shrink the picture),
// padded by 10%.
func bounds(xs ...*ag.Tensor) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if x == nil {
			continue
		}
		for _, v := range x.Data {
			if !math.IsNaN(v) && math.Abs(v) < 50 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo >= hi {
		return -4, 4
	}
	pad := 0.1 * (hi - lo)
	return lo - pad, hi + pad
}

// parseTimes reads a comma-separated list of times in [0, 1].
func parseTimes(s string) ([]float64, error) {
	var ts []float64
	for _, f := range strings.Split(s, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || t < 0 || t > 1 {
			return nil, usagef("-times %q: want comma-separated times in [0, 1], e.g. 0,0.5,1", s)
		}
		ts = append(ts, t)
	}
	return ts, nil
}
