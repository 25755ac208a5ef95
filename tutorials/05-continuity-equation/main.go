// Tutorial 05: the continuity equation (Lipman et al. 2022, arXiv:2210.02747,
// §2; Villani 2009).
//
// A field v generates a density path p_t exactly when
//
//	∂ₜp_t(x) + div(p_t·v_t)(x) = 0   for all t and x.
//
// The tutorial takes a Gaussian path whose field is known (the CondOT path
// of Lipman et al. 2022, §4.1 eq. 21, towards a single point), evaluates the
// residual by central differences and watches it vanish like h² as the step h shrinks, while for
// a wrong field it stays put. Then it integrates the log-density along the
// ODE (cnf.LogLikelihood, the instantaneous change of variables) and finds
// the exact Gaussian log-density, with the exact divergence and with
// Hutchinson's estimator.
//
//	go run ./tutorials/05-continuity-equation [-out DIR]
package main

import (
	"flag"
	"fmt"
	"github.com/flowmatch/flowmatch/plot"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/metrics"
)

// Config sets the size of the run.
type Config struct {
	Out     string // directory for the pictures ("" writes none)
	Points  int    // random (t, x) for the residual
	Repeats int    // Hutchinson solves per point
	Seed    uint64
}

// Result holds every number main prints.
type Result struct {
	Hs []float64 // finite-difference steps h
	// Median of |r|/scale over the random points, for each h.
	RightRel, WrongRel []float64
	// Points where the halving test |r(h/2)| ≤ ⅔|r(h) − r(h/2)| + rounding passes.
	RightPass, WrongPass int

	// Likelihood through the ODE at samples of p₁ = N(m, s²I).
	LikMaxErr      float64 // max |LogLikelihood − log N(x; m, s²I)| (Dopri5, exact divergence)
	LikBound       float64 // the solver bound it is held to
	LikWrongMinErr float64 // min over points of the same error with the wrong field
	NFE            int
	// Hutchinson: one probe per solve, Repeats solves at point 0.
	RademacherSpread       float64 // max − min over solves (0: J is a multiple of I)
	GaussMean, GaussSE     float64 // mean of the Gaussian-probe estimates and its standard error
	GaussExact             float64 // the exact log-density there
	GaussSolveErr          float64 // the solver bound for one solve
	ResidualMaxAlongLineOK float64 // picture: max |∂ₜp + div(p u)| on the drawn line
}

// The path: p_t = N(t·m, σ_t²·I), σ_t = 1 − (1 − s)·t, from N(0, I) at t = 0 to
// N(m, s²I) at t = 1. Its field (Lipman et al. 2022, eq. 21, with x₁ = m and
// σ_min = s) is
//
//	u_t(x) = (m − (1 − s)·x) / σ_t.
var (
	m = []float64{1.5, -1}
	s = 0.3
)

func sigma(t float64) float64 { return 1 - (1-s)*t }

func logp(t float64, x []float64) float64 {
	st, q := sigma(t), 0.0
	for i := range x {
		d := (x[i] - t*m[i]) / st
		q += d * d
	}
	return -0.5*q - float64(len(x))*(math.Log(st)+0.5*math.Log(2*math.Pi))
}

func right(t float64, x []float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = (m[i] - (1-s)*x[i]) / sigma(t)
	}
	return out
}

// wrong moves the mean correctly (v = m) but never narrows the density.
func wrong(_ float64, x []float64) []float64 { return append([]float64(nil), m...) }

// rightField and wrongField are the same two fields on batches, for the solver.
func rightField(t float64, x *autograd.Tensor) *autograd.Tensor {
	return autograd.AddRow(autograd.Scale(x, -(1-s)/sigma(t)), autograd.FromRows([][]float64{{m[0] / sigma(t), m[1] / sigma(t)}}))
}

func wrongField(_ float64, x *autograd.Tensor) *autograd.Tensor {
	return autograd.AddRow(autograd.Scale(x, 0), autograd.FromRows([][]float64{m}))
}

func median(xs []float64) float64 {
	ys := append([]float64(nil), xs...)
	sort.Float64s(ys)
	return ys[len(ys)/2]
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "05-continuity-equation"), Points: 200, Repeats: 400, Seed: 5}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("path p_t = N(t·m, σ_t²I), σ_t = 1 − 0.7t, m = (1.5, −1); field u_t(x) = (m − 0.7x)/σ_t; wrong field v = m")
	fmt.Printf("relative residual |∂ₜp + div(p·v)|/scale by central differences, median over %d random (t, x):\n", cfg.Points)
	for i, h := range r.Hs {
		fmt.Printf("  h = %.4f: right field %.1e, wrong field %.3f\n", h, r.RightRel[i], r.WrongRel[i])
	}
	fmt.Printf("the residual is pure O(h²) difference error (shrinks 4× per halving) at %d/%d points for the right field, %d/%d for the wrong one\n",
		r.RightPass, cfg.Points, r.WrongPass, cfg.Points)
	fmt.Printf("log p₁ through the ODE (Dopri5, exact divergence, NFE %d): max error %.1e against log N(m, 0.3²I) (bound %.1e)\n", r.NFE, r.LikMaxErr, r.LikBound)
	fmt.Printf("  the wrong field misses by at least %.2f nats at every point\n", r.LikWrongMinErr)
	fmt.Printf("Hutchinson, one probe per solve, %d solves at one point (exact %.6f):\n", cfg.Repeats, r.GaussExact)
	fmt.Printf("  Rademacher probes: spread %.1e (∂u/∂x is a multiple of I, so εᵀJε = tr J for every ε = ±1)\n", r.RademacherSpread)
	fmt.Printf("  Gaussian probes: mean %.4f ± %.4f (unbiased; each solve is noisy)\n", r.GaussMean, r.GaussSE)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func run(cfg Config) (Result, error) {
	var r Result
	rng := rand.New(rand.NewPCG(cfg.Seed, 5))
	r.Hs = []float64{1e-2, 5e-3, 2.5e-3}
	relRight, relWrong := make([][]float64, len(r.Hs)), make([][]float64, len(r.Hs))
	const eps = 0x1p-52
	// halving reports whether the residual at (t, x) behaves like pure
	// central-difference error c·h²: then r(h/2) ≈ (r(h) − r(h/2))/3, and we
	// allow twice that plus rounding ~1e3·ε·scale/h.
	halving := func(v func(float64, []float64) []float64, t float64, x []float64) bool {
		const h = 1e-3
		r1, _ := cnf.ContinuityResidual(logp, v, t, x, h)
		r2, sc := cnf.ContinuityResidual(logp, v, t, x, h/2)
		return math.Abs(r2) <= 2*math.Abs(r1-r2)/3+1e3*eps*sc/(h/2)
	}
	for k := 0; k < cfg.Points; k++ {
		t := 0.05 + 0.9*rng.Float64()
		x := []float64{t*m[0] + sigma(t)*rng.NormFloat64(), t*m[1] + sigma(t)*rng.NormFloat64()}
		for i, h := range r.Hs {
			rr, sc := cnf.ContinuityResidual(logp, right, t, x, h)
			relRight[i] = append(relRight[i], math.Abs(rr)/sc)
			rw, sw := cnf.ContinuityResidual(logp, wrong, t, x, h)
			relWrong[i] = append(relWrong[i], math.Abs(rw)/sw)
		}
		if halving(right, t, x) {
			r.RightPass++
		}
		if halving(wrong, t, x) {
			r.WrongPass++
		}
	}

	for i := range r.Hs {
		r.RightRel, r.WrongRel = append(r.RightRel, median(relRight[i])), append(r.WrongRel, median(relWrong[i]))
	}

	// The likelihood through the ODE at samples of p₁.
	n := 50
	x1 := autograd.Zeros(n, 2)
	for i := 0; i < n; i++ {
		x1.Data[2*i], x1.Data[2*i+1] = m[0]+s*rng.NormFloat64(), m[1]+s*rng.NormFloat64()
	}
	const tol = 1e-9
	opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: tol, ATol: tol}
	lk, st, err := cnf.LogLikelihood(rightField, x1.NoGraph(), 1, 0, cnf.StandardNormalLogProb, nil, opts)
	if err != nil {
		return r, err
	}
	r.NFE = st.NFE
	// Solver bound: accepted steps × local tolerance × (1 + |state|), carried
	// by e^{L}, L = max_t (1 − s)/σ_t = (1 − s)/s; |state| ≤ 6 here; ×6 margin
	// for the log-density row, whose error grows with the x rows' error.
	lip := (1 - s) / s
	r.LikBound = 6 * float64(st.Accepted) * tol * (1 + 6) * math.Exp(lip)
	lw, _, err := cnf.LogLikelihood(wrongField, x1.NoGraph(), 1, 0, cnf.StandardNormalLogProb, nil, opts)
	if err != nil {
		return r, err
	}
	r.LikWrongMinErr = math.Inf(1)
	for i := 0; i < n; i++ {
		want := logp(1, x1.Row(i))
		r.LikMaxErr = max(r.LikMaxErr, math.Abs(lk.LogP1.Data[i]-want))
		r.LikWrongMinErr = min(r.LikWrongMinErr, math.Abs(lw.LogP1.Data[i]-want))
	}

	// Hutchinson: one probe per solve, fixed along the solve (so Dopri5 sees
	// a deterministic ODE), fresh for the next solve.
	pt := autograd.FromSlice(1, 2, append([]float64(nil), x1.Row(0)...)).NoGraph()
	r.GaussExact = logp(1, x1.Row(0))
	r.GaussSolveErr = r.LikBound
	var gauss []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for k := 0; k < cfg.Repeats; k++ {
		v, _, err := cnf.LogLikelihood(rightField, pt, 1, 0, cnf.StandardNormalLogProb, cnf.Hutchinson(cnf.Rademacher, 1, rng, false), opts)
		if err != nil {
			return r, err
		}
		lo, hi = min(lo, v.LogP1.Item()), max(hi, v.LogP1.Item())
		g, _, err := cnf.LogLikelihood(rightField, pt, 1, 0, cnf.StandardNormalLogProb, cnf.Hutchinson(cnf.Gaussian, 1, rng, false), opts)
		if err != nil {
			return r, err
		}
		gauss = append(gauss, g.LogP1.Item())
	}
	r.RademacherSpread = hi - lo
	r.GaussMean, r.GaussSE = metrics.MeanStdErr(gauss)

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	// Along the line x₂ = t·m₂ at t = ½: ∂ₜp against −div(p·v) for both
	// fields; the continuity equation says the curves coincide.
	const t, h = 0.5, 1e-4
	var xs, dtp, divRight, divWrong []float64
	for i := 0; i <= 200; i++ {
		x := []float64{-2.5 + 6*float64(i)/200, t * m[1]}
		d := (math.Exp(logp(t+h, x)) - math.Exp(logp(t-h, x))) / (2 * h)
		rr, _ := cnf.ContinuityResidual(logp, right, t, x, h)
		rw, _ := cnf.ContinuityResidual(logp, wrong, t, x, h)
		xs, dtp = append(xs, x[0]), append(dtp, d)
		divRight, divWrong = append(divRight, -(rr-d)), append(divWrong, -(rw-d))
		r.ResidualMaxAlongLineOK = max(r.ResidualMaxAlongLineOK, math.Abs(rr))
	}
	return r, plot.Lines(filepath.Join(cfg.Out, "continuity.png"), "t = ½, along x₂ = t·m₂: ∂p/∂t must equal −div(p·v)", plot.Axes{X: "x₁"},
		[]plot.Curve{
			{Name: "∂p/∂t", X: xs, Y: dtp},
			{Name: "−div(p·u), right field", X: xs, Y: divRight, Dashed: true},
			{Name: "−div(p·v), wrong field v = m", X: xs, Y: divWrong},
		})
}
