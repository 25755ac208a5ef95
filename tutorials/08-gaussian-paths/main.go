// Tutorial 08: Gaussian conditional probability paths and Theorem 3 (Lipman
// et al. 2022, arXiv:2210.02747, §4, eqs. 10–15; §4.1, eqs. 16–23).
//
// A Gaussian path p_t(x|x₁) = N(μ_t(x₁), σ_t(x₁)² I) is the law of
// ψ_t(x₀) = σ_t(x₁)·x₀ + μ_t(x₁) with x₀ ~ N(0, I). Theorem 3 says the field
// that moves every point along ψ_t is
//
//	u_t(x|x₁) = σ′_t(x₁)/σ_t(x₁) · (x − μ_t(x₁)) + μ′_t(x₁).
//
// The tutorial checks d/dt ψ_t(x₀) = u_t(ψ_t(x₀)|x₁) by central differences
// for four paths (CondOT, VE, VP, and one whose σ depends on x₁), checks
// that ψ_t pushes N(0, I) to N(μ_t, σ_t² I), integrates the field with RK4
// and finds ψ₁, and shows that only CondOT moves along straight lines at
// constant speed — one Euler step is exact for it.
//
//	go run ./tutorials/08-gaussian-paths [-out DIR]
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
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run.
type Config struct {
	Out     string // directory for the pictures ("" writes none)
	Points  int    // random (t, x₀, x₁) per path for the derivative check
	Samples int    // samples for the push-forward check
	Seed    uint64
}

// PathResult is what the tutorial measures for one path.
type PathResult struct {
	Name string
	// Worst |D(h) − u|/tol over the random points (≤ 1: Theorem 3 holds
	// within the finite-difference error), and the same with σ′ flipped.
	Derivative, Flipped float64
	// RK4 from ψ_{t0}(x₀) to t1 (0 to 1; 0.001 to 0.99 for VP, singular at 1) with
	// rk4Steps and twice as many steps: max error against ψ_{t1}(x₀); their
	// ratio is 2⁴ = 16 for a fourth-order method (or rounding, when the
	// field is exact for RK4).
	RK4Err1, RK4Err2 float64
	// One Euler step over the same span: max error against ψ₁(x₀).
	Euler1Err float64
	// Straightness gap of the exact trajectories ψ_t(x₀), t on a grid
	// (metrics.PathEnergy): 0 for straight lines at constant speed.
	Gap float64
}

// Result holds every number main prints.
type Result struct {
	Paths []PathResult
	// Closed-form CondOT field (x₁ − (1 − σ_min)x)/(1 − (1 − σ_min)t) against
	// the generic formula: max relative difference.
	ClosedForm float64
	// Push-forward at t = 0.5 for the x₁-dependent path: sample mean and
	// standard deviation of ψ_t(x₀) per coordinate against μ_t and σ_t, in
	// standard errors (worst).
	PushZ float64
}

// xDependent is a path whose data-end width depends on the data point and
// whose schedule is not affine in t: with a_t = sin(πt/2),
//
//	μ_t = a_t·x₁,  σ_t(x₁) = 1 − (1 − s(x₁))·a_t,  s(x₁) = 0.05 + 0.1·|x₁,₁|
//
// (points far out on the first axis end blurrier). Its ψ_t(x₀) =
// x₀ + a_t·(x₁ − (1 − s)x₀) runs along a straight line, but not at
// constant speed.
var xDependent = fm.FuncPath{
	MeanFunc: func(t float64, x1 []float64) (mu, dmu []float64) {
		a, da := math.Sin(math.Pi*t/2), math.Pi/2*math.Cos(math.Pi*t/2)
		mu, dmu = make([]float64, len(x1)), make([]float64, len(x1))
		for j, v := range x1 {
			mu[j], dmu[j] = a*v, da*v
		}
		return mu, dmu
	},
	StdFunc: func(t float64, x1 []float64) (float64, float64) {
		a, da := math.Sin(math.Pi*t/2), math.Pi/2*math.Cos(math.Pi*t/2)
		s := 0.05 + 0.1*math.Abs(x1[0])
		return 1 - (1-s)*a, -(1 - s) * da
	},
}

// rk4Steps is the coarser RK4 grid: fine enough for the stiff end of VP,
// where σ_{0.99} ≈ 0.045 and the field changes on the time scale 1 − t.
const rk4Steps = 400

type named struct {
	name   string
	p      fm.Path
	t0, t1 float64 // the span used for integration (VP is singular at t = 1)
}

func paths() []named {
	return []named{
		{"CondOT σ_min=0.05", fm.CondOT{SigmaMin: 0.05}, 0, 1},
		{"x₁-dependent σ", xDependent, 0, 1},
		{"VE σ 0.05→5", fm.VE{SigmaMin: 0.05, SigmaMax: 5}, 0, 1},
		{"VP β 0.1→20", fm.VP{}, 0.001, 0.99},
	}
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "08-gaussian-paths"), Points: 200, Samples: 20000, Seed: 8}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Theorem 3: d/dt ψ_t(x₀) = u_t(ψ_t(x₀)|x₁), central differences at %d random (t, x₀, x₁) per path\n", cfg.Points)
	fmt.Printf("   path                 worst |D−u|/tol  σ′ flipped   RK4 err %d/%d steps (ratio)   1 Euler step   straightness gap\n", rk4Steps, 2*rk4Steps)
	for _, p := range r.Paths {
		fmt.Printf("   %-20s %8.2f        %7.1e    %.1e / %.1e (%5.1f)   %9.1e       %8.1e\n",
			p.Name, p.Derivative, p.Flipped, p.RK4Err1, p.RK4Err2, p.RK4Err1/p.RK4Err2, p.Euler1Err, p.Gap)
	}
	fmt.Printf("CondOT closed form (x₁ − (1 − σ_min)x)/(1 − (1 − σ_min)t) vs the generic formula: max relative difference %.1e\n", r.ClosedForm)
	fmt.Printf("ψ_t pushes N(0, I) to N(μ_t, σ_t² I) (x₁-dependent path, t = 0.5, %d samples): worst |sample − exact|/SE = %.2f\n", cfg.Samples, r.PushZ)
	fmt.Println("only CondOT (μ_t, σ_t affine in t) moves on straight lines at constant speed: one Euler step is exact and the gap is 0")
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

// flip returns p with the sign of σ′ flipped: same μ and σ, wrong field.
func flip(p fm.Path) fm.Path {
	return fm.FuncPath{MeanFunc: p.Mean, StdFunc: func(t float64, x1 []float64) (float64, float64) {
		s, ds := p.Std(t, x1)
		return s, -ds
	}, Start: p.SourceStd()}
}

// derivativeWorst returns the worst |D(h) − u|/tol of the check
// d/dt ψ_t(x₀) = u_t(ψ_t(x₀)|x₁) under the field of q (p's field, or a
// wrong one) with the flow of p. D(h) is the central difference of ψ in t;
// its error h²ψ‴/6 is estimated by Richardson, |D(2h) − D(h)|/3, plus
// rounding 64ε·|ψ|/h, and tol is 4× their sum.
func derivativeWorst(p, q fm.Path, t0, t1 float64, points int, rng *rand.Rand) float64 {
	const eps, h = 0x1p-52, 1e-4
	worst := 0.0
	for k := 0; k < points; k++ {
		t := t0 + 2*h + (t1-t0-4*h)*rng.Float64()
		x0 := []float64{rng.NormFloat64(), rng.NormFloat64()}
		x1 := []float64{1.5 * rng.NormFloat64(), 1.5 * rng.NormFloat64()}
		psi := func(s float64) []float64 { return fm.Flow(p, s, x0, x1) }
		u := fm.CondField(q, t, psi(t), x1)
		p1, m1, p2, m2 := psi(t+h), psi(t-h), psi(t+2*h), psi(t-2*h)
		for j := range u {
			d1 := (p1[j] - m1[j]) / (2 * h)
			d2 := (p2[j] - m2[j]) / (4 * h)
			size := max(math.Abs(p1[j]), math.Abs(m1[j]), math.Abs(p2[j]), math.Abs(m2[j]))
			tol := 4 * (math.Abs(d2-d1)/3 + 64*eps*(1+size)/h)
			worst = max(worst, math.Abs(d1-u[j])/tol)
		}
	}
	return worst
}

func run(cfg Config) (Result, error) {
	var r Result
	rng := rand.New(rand.NewPCG(cfg.Seed, 8))
	// Start points and data points for the integration checks and pictures.
	const n = 40
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	x1 := autograd.Zeros(n, 2)
	targets := [][]float64{{2, 1}, {-1.5, 1.5}, {0.5, -2}, {-2, -1}}
	for i := 0; i < n; i++ {
		copy(x1.Row(i), targets[i%len(targets)])
	}
	trajs := map[string][]*autograd.Tensor{}
	for _, np := range paths() {
		pr := PathResult{Name: np.name}
		pr.Derivative = derivativeWorst(np.p, np.p, np.t0, np.t1, cfg.Points, rng)
		pr.Flipped = derivativeWorst(np.p, flip(np.p), np.t0, np.t1, cfg.Points, rng)

		// The conditional field as an ODE field; each row has its own x₁.
		field := func(t float64, x *autograd.Tensor) *autograd.Tensor {
			return fm.CondFieldBatch(np.p, autograd.Full(x.Rows, 1, t), x, x1).NoGraph()
		}
		start := fm.FlowBatch(np.p, autograd.Full(n, 1, np.t0), x0, x1).NoGraph()
		want := fm.FlowBatch(np.p, autograd.Full(n, 1, np.t1), x0, x1)
		maxErr := func(got *autograd.Tensor) float64 {
			e := 0.0
			for i := range got.Data {
				e = max(e, math.Abs(got.Data[i]-want.Data[i]))
			}
			return e
		}
		for _, steps := range []int{rk4Steps, 2 * rk4Steps} {
			got, _, err := cnf.Integrate(field, start, np.t0, np.t1, cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
			if err != nil {
				return r, err
			}
			if steps == rk4Steps {
				pr.RK4Err1 = maxErr(got)
			} else {
				pr.RK4Err2 = maxErr(got)
			}
		}
		got, _, err := cnf.Integrate(field, start, np.t0, np.t1, cnf.SolveOptions{Method: cnf.Euler, Steps: 1})
		if err != nil {
			return r, err
		}
		pr.Euler1Err = maxErr(got)

		// Exact trajectories ψ_t(x₀) on a grid of 64 steps.
		var traj []*autograd.Tensor
		var times []float64
		for k := 0; k <= 64; k++ {
			t := np.t0 + (np.t1-np.t0)*float64(k)/64
			times = append(times, t)
			traj = append(traj, fm.FlowBatch(np.p, autograd.Full(n, 1, t), x0, x1).NoGraph())
		}
		_, gap, err := metrics.PathEnergy(traj, times)
		if err != nil {
			return r, err
		}
		pr.Gap = gap
		trajs[np.name] = traj
		r.Paths = append(r.Paths, pr)
	}

	// The CondOT closed form against the generic Theorem-3 formula.
	ot := fm.CondOT{SigmaMin: 0.05}
	for k := 0; k < cfg.Points; k++ {
		t := rng.Float64()
		x, y := []float64{3 * rng.NormFloat64(), 3 * rng.NormFloat64()}, []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
		a, b := ot.Field(t, x, y), fm.CondField(ot, t, x, y)
		for j := range a {
			r.ClosedForm = max(r.ClosedForm, math.Abs(a[j]-b[j])/(1+math.Abs(b[j])))
		}
	}

	// Push-forward: ψ_t(x₀) for one x₁ has mean μ_t and std σ_t.
	const t = 0.5
	y := []float64{1.8, -0.7}
	mu, _ := xDependent.Mean(t, y)
	sg, _ := xDependent.Std(t, y)
	cols := [2][]float64{}
	for i := 0; i < cfg.Samples; i++ {
		s := fm.SampleCond(xDependent, t, y, rng)
		cols[0], cols[1] = append(cols[0], s[0]), append(cols[1], s[1])
	}
	for j := range cols {
		m, se := metrics.MeanStdErr(cols[j])
		r.PushZ = max(r.PushZ, math.Abs(m-mu[j])/se)
		// The sample variance s² has SE ≈ σ²·√(2/(n−1)) for a Gaussian.
		v := 0.0
		for _, a := range cols[j] {
			v += (a - m) * (a - m)
		}
		v /= float64(len(cols[j]) - 1)
		r.PushZ = max(r.PushZ, math.Abs(v-sg*sg)/(sg*sg*math.Sqrt(2/float64(len(cols[j])-1))))
	}

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	a, b := filepath.Join(cfg.Out, "condot.png"), filepath.Join(cfg.Out, "vp.png")
	if err := plot.Trajectories(a, "CondOT: ψ_t(x₀) are straight lines", trajs[paths()[0].name], plot.NoLegend()); err != nil {
		return r, err
	}
	if err := plot.Trajectories(b, "VP: the same x₀ and x₁, curved paths", trajs[paths()[3].name]); err != nil {
		return r, err
	}
	return r, plot.Montage(filepath.Join(cfg.Out, "figure.png"), a, b)
}
