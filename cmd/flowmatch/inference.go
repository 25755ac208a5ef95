package main

import (
	"fmt"
	"github.com/flowmatch/flowmatch/fm"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

func runSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sample", "-checkpoint model.safetensors -out samples.csv|.npy [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	n := fs.Int("n", 1000, "number of samples")
	solver := addSolverFlags(fs, "rk4")
	seed := fs.Uint64("seed", 0, "random seed of the noise")
	out := fs.String("out", "", "output file (.csv or .npy)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "checkpoint", "out"); err != nil {
		return err
	}
	if *n <= 0 {
		return usagef("-n %d: want a positive number of samples", *n)
	}
	opts, err := solver.options()
	if err != nil {
		return err
	}
	m, p, _, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	x, st, err := sample(m, p, *n, opts, newRand(*seed, 3), nil)
	if err != nil {
		return err
	}
	if err := writePoints(*out, x); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: wrote %d points to %s (%s, NFE %d)\n", x.Rows, *out, *solver.method, st.NFE)
	return nil
}

func runLoglik(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("loglik", "-checkpoint model.safetensors -data name|file [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "dataset name (fresh held-out draws) or a .csv/.npy file")
	n := fs.Int("n", 1000, "points to evaluate (for a file: the first n rows; 0 = all)")
	solver := addSolverFlags(fs, "dopri5")
	seed := fs.Uint64("seed", 1, "random seed of the held-out draws")
	out := fs.String("out", "", "optional per-point output (.csv or .npy): x, y, …, logp")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "checkpoint", "data"); err != nil {
		return err
	}
	opts, err := solver.options()
	if err != nil {
		return err
	}
	m, p, _, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	x, err := loadData(*dataSpec, *n, newRand(*seed, 4))
	if err != nil {
		return err
	}
	if x.Cols != m.Dim() {
		return fmt.Errorf("data %s has %d columns but the model %s is %d-dimensional", *dataSpec, x.Cols, *ckpt, m.Dim())
	}
	lp, st, err := logLikelihood(m, p, x, opts)
	if err != nil {
		return err
	}
	nll := make([]float64, len(lp))
	for i, v := range lp {
		nll[i] = -v
	}
	mean, se := metrics.MeanStdErr(nll)
	fmt.Fprintf(stdout, "loglik: n=%d nll=%.4f±%.4f nats (NFE %d)", len(nll), mean, se, st.NFE)
	if h, hse, err := data.Entropy(*dataSpec); err == nil {
		kl, klse := metrics.ExcessNLL(nll, h, hse)
		fmt.Fprintf(stdout, " entropy=%.4f kl=%.4f±%.4f", h, kl, klse)
	}
	fmt.Fprintln(stdout)
	if *out != "" {
		rows := ag.Zeros(x.Rows, x.Cols+1)
		for i := 0; i < x.Rows; i++ {
			copy(rows.Row(i), x.Row(i))
			rows.Row(i)[x.Cols] = lp[i]
		}
		header := []string{}
		for j := 0; j < x.Cols; j++ {
			header = append(header, fmt.Sprintf("x%d", j))
		}
		if err := writePoints(*out, rows, append(header, "logp")...); err != nil {
			return err
		}
	}
	return nil
}

func runPlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "-checkpoint model.safetensors -out dir [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint written by train or demo")
	dataSpec := fs.String("data", "", "dataset name or file to draw beside the samples (default: the training data)")
	n := fs.Int("n", 2000, "samples to draw")
	grid := fs.Int("grid", 60, "density grid points per axis (each costs one log-likelihood)")
	ext := fs.String("format", "png", "picture format: png or svg")
	times := fs.String("times", "0,0.5,1", "times t in [0, 1] at which to draw the velocity field")
	seed := fs.Uint64("seed", 0, "random seed")
	out := fs.String("out", "", "output directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "checkpoint", "out"); err != nil {
		return err
	}
	if *ext != "png" && *ext != "svg" {
		return usagef("-format %q: want png or svg", *ext)
	}
	m, p, meta, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	if *dataSpec == "" {
		*dataSpec = meta[metaData]
	}
	ts, err := parseTimes(*times)
	if err != nil {
		return err
	}
	files, err := drawAll(m, p, *dataSpec, *out, *ext, *n, *grid, *seed, ts)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "plot: wrote", f)
	}
	return nil
}

// drawAll draws samples against data, trajectories, the model density on a
// grid and the field at the given times into dir, and returns the files
// written.
func drawAll(m *nn.VelocityMLP, p fm.Path, dataSpec, dir, ext string, n, grid int, seed uint64, times []float64) ([]string, error) {
	if m.Dim() != 2 {
		return nil, fmt.Errorf("plot draws 2-D models; this one is %d-dimensional", m.Dim())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	name := func(s string) string {
		f := filepath.Join(dir, s+"."+ext)
		files = append(files, f)
		return f
	}
	opts, _ := solveOptions("rk4", 100, 0)
	var traj []*ag.Tensor
	x, _, err := sample(m, p, n, opts, newRand(seed, 5), &traj)
	if err != nil {
		return nil, err
	}
	var ref *ag.Tensor
	if dataSpec != "" {
		if ref, err = loadData(dataSpec, n, newRand(seed, 6)); err != nil {
			return nil, err
		}
		if err := plot.Samples(name("samples"), "model samples vs data", ref, x); err != nil {
			return nil, err
		}
	} else if err := plot.Samples(name("samples"), "samples", x, x); err != nil {
		return nil, err
	}
	if err := plot.Trajectories(name("trajectories"), "trajectories from noise (t = 0) to data (t = 1)", subsample(traj, 150)); err != nil {
		return nil, err
	}
	lo, hi := bounds(x, ref)
	if grid > 0 {
		pts := ag.Zeros(grid*grid, 2)
		cell := (hi - lo) / float64(grid)
		for iy := 0; iy < grid; iy++ {
			for ix := 0; ix < grid; ix++ {
				r := pts.Row(iy*grid + ix)
				r[0], r[1] = lo+(float64(ix)+0.5)*cell, lo+(float64(iy)+0.5)*cell
			}
		}
		lopts, _ := solveOptions("rk4", 25, 0) // a picture: 25 RK4 steps are plenty
		lp, _, err := logLikelihood(m, p, pts, lopts)
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
	}
	for _, t := range times {
		v := func(a, b float64) (float64, float64) {
			out := m.Forward(ag.Scalar(t), ag.FromSlice(1, 2, []float64{a, b}).NoGraph())
			return out.Data[0], out.Data[1]
		}
		title := fmt.Sprintf("velocity field v(x, t = %g)", t)
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
