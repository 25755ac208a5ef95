// Tutorial 04: continuous flows and ODE solvers (Chen et al. 2018,
// arXiv:1806.07366, §2–3).
//
// A continuous normalizing flow moves points along dx/dt = v(t, x) from
// t = 0 to t = 1; sampling is solving that ODE. This tutorial measures what
// a solver costs and what it buys: on a problem with a known solution it
// fits the order of Euler, midpoint, Heun and RK4 from their errors, counts
// evaluations of the field (NFE), runs the adaptive Dopri5 at several
// tolerances, and then draws the trajectories of a 2-D flow.
//
//	go run ./tutorials/04-ode-solvers [-out DIR]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run.
type Config struct {
	Out    string // directory for the pictures ("" writes none)
	Points int    // points of the 2-D flow
	Seed   uint64
}

// Fixed is one fixed-step method's measurements.
type Fixed struct {
	Method cnf.Method
	Order  float64   // the theoretical order p
	Steps  []int     // N
	NFE    []int     // evaluations of the field
	Errs   []float64 // max-norm error at t = 1
	Fit    float64   // least-squares slope of log err against log h
}

// Adaptive is one Dopri5 run.
type Adaptive struct {
	Tol                     float64
	NFE, Accepted, Rejected int
	Err                     float64
}

// Result holds every number main prints.
type Result struct {
	Fixed    []Fixed
	Dopri5   []Adaptive
	EulerEnd float64 // 2-D flow: max distance of Euler-4 endpoints from a Dopri5 (tol 1e-10) reference
	RK4End   float64 // … of RK4-4 endpoints (the same 16 evaluations as Euler with 16 steps)
	Euler16  float64 // … of Euler with 16 steps
}

// The test problem: dx/dt = (1 + t)·A·x with A = −½I + 2J (J the rotation
// by 90°), so x(1) = exp(A·s)x(0) with s = ∫₀¹(1 + t)dt = 3/2, and
// exp(A·s) = e^{−s/2}·R(2s), R a rotation. The factor (1 + t) makes the
// stage times cᵢ of a method matter.
func field(t float64, x *autograd.Tensor) *autograd.Tensor {
	A := autograd.FromRows([][]float64{{-0.5, 2}, {-2, -0.5}}) // rows: x·Aᵀ
	return autograd.Scale(autograd.MatMul(x, A), 1+t)
}

func exact(x0 []float64) []float64 {
	const s = 1.5
	c, sn, k := math.Cos(2*s), math.Sin(2*s), math.Exp(-s/2)
	return []float64{k * (c*x0[0] - sn*x0[1]), k * (sn*x0[0] + c*x0[1])}
}

// flow2D is the field of the picture: it splits N(0, I) into two arms while
// turning it: v = (2·tanh(3x₁), −x₂) + 0.5·(−x₂, x₁).
func flow2D(_ float64, x *autograd.Tensor) *autograd.Tensor {
	x1, x2 := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
	return autograd.Concat(
		autograd.Sub(autograd.Scale(autograd.Tanh(autograd.Scale(x1, 3)), 2), autograd.Scale(x2, 0.5)),
		autograd.Add(autograd.Scale(x2, -1), autograd.Scale(x1, 0.5)))
}

func maxErr(got *autograd.Tensor, want []float64) float64 {
	e := 0.0
	for i, v := range got.Data {
		e = max(e, math.Abs(v-want[i]))
	}
	return e
}

// slope fits log err = p·log h + c by least squares.
func slope(hs, errs []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(hs))
	for i := range hs {
		x, y := math.Log(hs[i]), math.Log(errs[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "04-ode-solvers"), Points: 300, Seed: 4}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.IntVar(&cfg.Points, "points", cfg.Points, "points of the 2-D flow")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("dx/dt = (1 + t)·A·x, A = [[−½, −2], [2, −½]] (decay and rotation), x(0) = (1, 0): x(1) = e^{−3/4}·R(3)·x(0) exactly")
	fmt.Println("fixed steps: error at t = 1 (NFE)")
	for _, f := range r.Fixed {
		fmt.Printf("  %-8s", f.Method)
		for i := range f.Steps {
			fmt.Printf("  N=%-3d %.1e (%3d)", f.Steps[i], f.Errs[i], f.NFE[i])
		}
		fmt.Printf("   measured order %.2f (theory %g)\n", f.Fit, f.Order)
	}
	fmt.Println("Dopri5 (adaptive, rtol = atol = tol): NFE = 2 + 6·(accepted + rejected)")
	for _, d := range r.Dopri5 {
		fmt.Printf("  tol %.0e: error %.1e, NFE %3d = 2 + 6·(%d + %d)\n", d.Tol, d.Err, d.NFE, d.Accepted, d.Rejected)
	}
	fmt.Printf("2-D flow, distance of the endpoints from a tight Dopri5 solve: Euler 4 steps %.3f, Euler 16 steps %.3f, RK4 4 steps (16 NFE) %.4f\n", r.EulerEnd, r.Euler16, r.RK4End)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func run(cfg Config) (Result, error) {
	var r Result
	x0 := autograd.FromRows([][]float64{{1, 0}}).NoGraph()
	want := exact(x0.Data)
	for _, m := range []struct {
		method cnf.Method
		order  float64
	}{{cnf.Euler, 1}, {cnf.Midpoint, 2}, {cnf.Heun, 2}, {cnf.RK4, 4}} {
		f := Fixed{Method: m.method, Order: m.order}
		var hs []float64
		for _, n := range []int{8, 16, 32, 64} {
			x1, st, err := cnf.Integrate(field, x0, 0, 1, cnf.SolveOptions{Method: m.method, Steps: n})
			if err != nil {
				return r, err
			}
			f.Steps, f.NFE, f.Errs = append(f.Steps, n), append(f.NFE, st.NFE), append(f.Errs, maxErr(x1, want))
			hs = append(hs, 1/float64(n))
		}
		f.Fit = slope(hs, f.Errs)
		r.Fixed = append(r.Fixed, f)
	}
	for _, tol := range []float64{1e-3, 1e-5, 1e-7, 1e-9} {
		x1, st, err := cnf.Integrate(field, x0, 0, 1, cnf.SolveOptions{Method: cnf.Dopri5, RTol: tol, ATol: tol})
		if err != nil {
			return r, err
		}
		r.Dopri5 = append(r.Dopri5, Adaptive{Tol: tol, NFE: st.NFE, Accepted: st.Accepted, Rejected: st.Rejected, Err: maxErr(x1, want)})
	}

	// The 2-D flow: trajectories, and what a coarse solver does to them.
	rng := rand.New(rand.NewPCG(cfg.Seed, 4))
	start := autograd.Normal(cfg.Points, 2, 0, 1, rng).NoGraph()
	ref, _, err := cnf.Sample(flow2D, start, cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	if err != nil {
		return r, err
	}
	dist := func(m cnf.Method, n int) (float64, error) {
		x, _, err := cnf.Sample(flow2D, start, cnf.SolveOptions{Method: m, Steps: n})
		if err != nil {
			return 0, err
		}
		d := 0.0
		for i := 0; i < x.Rows; i++ {
			d = max(d, math.Hypot(x.At(i, 0)-ref.At(i, 0), x.At(i, 1)-ref.At(i, 1)))
		}
		return d, nil
	}
	if r.EulerEnd, err = dist(cnf.Euler, 4); err != nil {
		return r, err
	}
	if r.Euler16, err = dist(cnf.Euler, 16); err != nil {
		return r, err
	}
	if r.RK4End, err = dist(cnf.RK4, 4); err != nil {
		return r, err
	}

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	var cs []plot.Curve
	for _, f := range r.Fixed {
		c := plot.Curve{Name: string(f.Method), Dots: true}
		for i := range f.Steps {
			c.X, c.Y = append(c.X, float64(f.NFE[i])), append(c.Y, f.Errs[i])
		}
		cs = append(cs, c)
	}
	c := plot.Curve{Name: "dopri5", Dots: true, Dashed: true}
	for _, d := range r.Dopri5 {
		c.X, c.Y = append(c.X, float64(d.NFE)), append(c.Y, d.Err)
	}
	cs = append(cs, c)
	if err := plot.Lines(filepath.Join(cfg.Out, "work-precision.png"), "error at t = 1 against evaluations of the field",
		plot.Axes{X: "NFE", Y: "max error", LogX: true, LogY: true}, cs); err != nil {
		return r, err
	}
	var traj []*autograd.Tensor
	cb := func(_ float64, x *autograd.Tensor) { traj = append(traj, x.Clone()) }
	if _, _, err := cnf.Sample(flow2D, start, cnf.SolveOptions{Method: cnf.RK4, Steps: 40, Callback: cb}); err != nil {
		return r, err
	}
	return r, plot.Trajectories(filepath.Join(cfg.Out, "trajectories.png"), "a 2-D flow from N(0, I) (RK4, 40 steps)", traj)
}
