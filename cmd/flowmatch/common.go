package main

import (
	"flag"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
)

// newRand returns the generator used for every random draw of a run.
func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb^stream))
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
	case "cosine":
		return fm.Cosine{}, nil
	case "linear-vp":
		return fm.LinearVP{}, nil
	}
	if e, ok := strings.CutPrefix(p.Name, "poly"); ok {
		n, err := strconv.ParseFloat(e, 64)
		if err != nil || !(n > 0) || math.IsInf(n, 0) {
			return nil, usagef("-path %q: polyN needs a finite exponent N > 0 (e.g. poly2)", p.Name)
		}
		return fm.Polynomial{N: n}, nil
	}
	return nil, usagef("-path %q: want condot, ve, vp, cosine, linear-vp or polyN (e.g. poly2)", p.Name)
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

// addSolverFlags registers -solver (default method), -ode-steps (default
// steps) and -tol.
func addSolverFlags(fs *flag.FlagSet, method string, steps int) solverFlags {
	return solverFlags{
		method: fs.String("solver", method, "ODE solver: euler, midpoint, heun, rk4 or dopri5"),
		steps:  fs.Int("ode-steps", steps, "steps of a fixed-step solver"),
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
		if !(tol > 0 && tol < 1) {
			return cnf.SolveOptions{}, usagef("-tol %g: want a tolerance in (0, 1), e.g. 1e-5", tol)
		}
		return cnf.SolveOptions{Method: m, RTol: tol, ATol: tol, MaxSteps: 100000}, nil
	case cnf.Euler, cnf.Midpoint, cnf.Heun, cnf.RK4:
		if steps <= 0 {
			return cnf.SolveOptions{}, usagef("-ode-steps %d: a fixed-step solver needs a positive step count", steps)
		}
		return cnf.SolveOptions{Method: m, Steps: steps}, nil
	}
	return cnf.SolveOptions{}, usagef("-solver %q: want euler, midpoint, heun, rk4 or dopri5", method)
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
