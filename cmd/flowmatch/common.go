package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// newRand returns the generator used for every random draw of a run.
func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb^stream))
}

// loadData returns n points of a built-in dataset, or the whole of a CSV or
// .npy file (n ≤ 0 or n larger than the file keeps every row). It says which
// names exist when the name is neither a dataset nor a readable file.
func loadData(spec string, n int, rng *rand.Rand) (*ag.Tensor, error) {
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".csv", ".npy":
		var x *ag.Tensor
		var err error
		if strings.EqualFold(filepath.Ext(spec), ".csv") {
			x, err = data.ReadCSV(spec)
		} else {
			x, err = data.ReadNPY(spec)
		}
		if err != nil {
			return nil, err
		}
		if n > 0 && n < x.Rows {
			x = ag.FromSlice(n, x.Cols, x.Data[:n*x.Cols])
		}
		return x, nil
	}
	if _, err := os.Stat(spec); err == nil {
		return nil, fmt.Errorf("data file %s: unknown format (use .csv or .npy)", spec)
	}
	return data.Sample(spec, n, rng)
}

// sampler returns a fm.Sampler drawing from a dataset name or, for a file,
// rows of the file with replacement.
func sampler(spec string, rng *rand.Rand) (fm.Sampler, int, error) {
	if ext := strings.ToLower(filepath.Ext(spec)); ext == ".csv" || ext == ".npy" {
		x, err := loadData(spec, 0, rng)
		if err != nil {
			return nil, 0, err
		}
		if x.Rows == 0 {
			return nil, 0, fmt.Errorf("data file %s has no rows", spec)
		}
		return func(n int, rng *rand.Rand) *ag.Tensor {
			out := ag.Zeros(n, x.Cols)
			for i := 0; i < n; i++ {
				copy(out.Row(i), x.Row(rng.IntN(x.Rows)))
			}
			return out
		}, x.Cols, nil
	}
	toy, err := data.Lookup(spec)
	if err != nil {
		return nil, 0, err
	}
	return toy.Sample, toy.Dim(), nil
}

// pathSpec is a probability path chosen on the command line.
type pathSpec struct {
	Name               string
	SigmaMin, SigmaMax float64
}

func (p pathSpec) build() (fm.Path, error) {
	switch p.Name {
	case "condot", "ot":
		if p.SigmaMin < 0 || p.SigmaMin >= 1 {
			return nil, usagef("-sigma-min %g: CondOT needs 0 ≤ σ_min < 1", p.SigmaMin)
		}
		return fm.CondOT{SigmaMin: p.SigmaMin}, nil
	case "ve":
		if !(0 < p.SigmaMin && p.SigmaMin < p.SigmaMax) {
			return nil, usagef("-sigma-min %g -sigma-max %g: VE needs 0 < σ_min < σ_max", p.SigmaMin, p.SigmaMax)
		}
		return fm.VE{SigmaMin: p.SigmaMin, SigmaMax: p.SigmaMax}, nil
	case "vp":
		return fm.VP{}, nil
	}
	return nil, usagef("-path %q: want condot, ve or vp", p.Name)
}

func coupling(name string) (fm.Coupling, error) {
	switch name {
	case "independent", "":
		return fm.Independent{}, nil
	case "ot", "exact-ot":
		return fm.ExactOT{}, nil
	case "sinkhorn":
		return fm.SinkhornOT{Reg: 0.05}, nil
	}
	return nil, usagef("-coupling %q: want independent, ot or sinkhorn", name)
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, usagef("-hidden %q: want positive comma-separated layer widths, e.g. 256,256,256", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// solverFlags are the -solver, -ode-steps and -tol flags of a command.
type solverFlags struct {
	method *string
	steps  *int
	tol    *float64
}

func addSolverFlags(fs *flag.FlagSet, method string) solverFlags {
	return solverFlags{
		method: fs.String("solver", method, "ODE solver: euler, midpoint, heun, rk4 or dopri5"),
		steps:  fs.Int("ode-steps", 100, "steps of a fixed-step solver"),
		tol:    fs.Float64("tol", 1e-5, "rtol = atol of dopri5"),
	}
}

func (s solverFlags) options() (cnf.SolveOptions, error) {
	return solveOptions(*s.method, *s.steps, *s.tol)
}

// solveOptions builds solver options from the -solver and -ode-steps flags.
func solveOptions(method string, steps int, tol float64) (cnf.SolveOptions, error) {
	m := cnf.Method(method)
	switch m {
	case cnf.Dopri5:
		return cnf.SolveOptions{Method: m, RTol: tol, ATol: tol, MaxSteps: 100000}, nil
	case cnf.Euler, cnf.Midpoint, cnf.Heun, cnf.RK4:
		if steps <= 0 {
			return cnf.SolveOptions{}, usagef("-ode-steps %d: a fixed-step solver needs a positive step count", steps)
		}
		return cnf.SolveOptions{Method: m, Steps: steps}, nil
	}
	return cnf.SolveOptions{}, usagef("-solver %q: want euler, midpoint, heun, rk4 or dopri5", method)
}

// logLikelihood evaluates log p₁(x) under the model in chunks of rows.
func logLikelihood(m *nn.VelocityMLP, p fm.Path, x *ag.Tensor, opts cnf.SolveOptions) ([]float64, cnf.Stats, error) {
	field, div := fastPair(m)
	out := make([]float64, 0, x.Rows)
	var total cnf.Stats
	for lo := 0; lo < x.Rows; lo += 1000 {
		hi := min(lo+1000, x.Rows)
		chunk := ag.FromSlice(hi-lo, x.Cols, x.Data[lo*x.Cols:hi*x.Cols]).NoGraph()
		lp, st, err := cnf.LogLikelihood(field, chunk, cnf.NormalLogProb(p.SourceStd()), div, opts)
		if err != nil {
			return nil, total, fmt.Errorf("log-likelihood of rows %d–%d: %w", lo, hi-1, err)
		}
		total.NFE += st.NFE
		total.Accepted += st.Accepted
		total.Rejected += st.Rejected
		out = append(out, lp.Data...)
	}
	return out, total, nil
}

// sample integrates the model's ODE from n source draws at t = 0 to t = 1.
// With traj non-nil it also records the states at every step.
func sample(m *nn.VelocityMLP, p fm.Path, n int, opts cnf.SolveOptions, rng *rand.Rand, traj *[]*ag.Tensor) (*ag.Tensor, cnf.Stats, error) {
	x0 := fm.SampleSource(p, n, m.Dim(), rng).NoGraph()
	field, _ := fastPair(m)
	if traj != nil {
		opts.Callback = func(_ float64, x *ag.Tensor) { *traj = append(*traj, x.Clone()) }
	}
	return cnf.Sample(field, x0, opts)
}

// fastPair returns the model's field and exact divergence for inference,
// on the fused, allocation-free path (cnf.FastField, cnf.FastDivergence; the
// same values as the autograd path, see their tests). Sampling runs in
// chunks of 512 rows, divergences in chunks of 128 (the fastest sizes
// measured here: the tangent buffers stay in cache).
func fastPair(m *nn.VelocityMLP) (cnf.Field, cnf.DivergenceFunc) {
	return cnf.FastField(m, 512), cnf.FastDivergence(m, 128)
}

// writePoints writes x to a .csv or .npy file chosen by the extension.
func writePoints(path string, x *ag.Tensor, header ...string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return data.WriteNPY(path, x)
	case ".csv":
		return data.WriteCSV(path, x, header...)
	}
	return usagef("-out %s: want a .csv or .npy file name", path)
}
