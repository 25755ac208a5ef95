// Tutorial 06: conditional and marginal probability paths (Lipman et al.
// 2022, arXiv:2210.02747, §3.1, eqs. 6–8, Theorem 1).
//
// Each data point x₁ⁱ has its own Gaussian path p_t(x|x₁ⁱ) and field
// u_t(x|x₁ⁱ). Mixing the paths over the data distribution q gives the
// marginal path p_t(x), and averaging the fields with the posterior weights
// wᵢ(x) ∝ qᵢ·p_t(x|x₁ⁱ) gives the marginal field u_t(x). The tutorial
// checks, with numbers, that
//
//  1. p_t is the law of x_t = ψ_t(x₀) with x₁ ~ q (moments by quadrature
//     against samples);
//
//  2. u_t(x) is the conditional mean E[u_t(x_t|x₁) | x_t = x] (the error
//     u_t(x_t|x₁) − u_t(x_t) is orthogonal to functions of x_t);
//
//  3. the pair (p_t, u_t) satisfies the continuity equation (Theorem 1),
//     and two plausible wrong fields do not;
//
//  4. integrating dx/dt = u_t(x) from noise lands on the data, each point
//     hit with its probability qᵢ.
//
//     go run ./tutorials/06-marginal-paths [-out DIR]
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
	Out       string // directory for the pictures ("" writes none)
	Samples   int    // Monte Carlo samples for the moment and orthogonality checks
	Points    int    // random (t, x) for the continuity residual
	Transport int    // noise points pushed through the exact marginal field
	Seed      uint64
}

// Check is one continuity-equation experiment: how many of the random
// points pass the finite-difference test, for the right field and for two
// wrong ones.
type Check struct {
	Right, NoQ, Hard int
	Resolution       float64 // worst tol/scale: how small a relative residual the test can see
}

// Result holds every number main prints.
type Result struct {
	T float64 // the time of the moment checks

	// 1. Moments of x_t: E[x₁], E[x₂], E‖x‖² from the formula for p_t
	// (quadrature) and from samples of ψ_t(x₀) (mean ± SE).
	Mass                 float64    // ∫p_t dx by quadrature
	QuadErr              float64    // |Q(Δ) − Q(Δ/2)|, the quadrature's own error scale
	Quad, Sample, SE     [3]float64 // the three moments
	MomentZ              float64    // worst |sample − quadrature|/SE
	OrthoRight, OrthoNoQ float64    // 2. worst |E[(u_c − u)·g]|/SE over 6 checks

	// 3. Continuity residual, finite data set and Gaussian mixture.
	Empirical, Mixture Check

	// 4. Transport by the exact marginal field.
	Hits      []float64 // fraction of endpoints nearest to each data point
	HitSE     []float64 // binomial standard errors √(q(1−q)/n)
	Q         []float64 // the data weights qᵢ
	Spread    float64   // mean ‖x − nearest point‖²/σ_min², expected 2 (χ²₂)
	SpreadSE  float64
	NFE       int
	SolverTol float64
}

// path is CondOT with a small σ_min, so p₁ = Σ qᵢ N(x₁ⁱ, σ_min² I) has a
// density and the field stays finite at t = 1.
var path = fm.CondOT{SigmaMin: 0.05}

// points is a finite data set of five points with weights 1:1:2:4:8.
func points() *fm.Empirical {
	e := &fm.Empirical{Weights: []float64{1, 1, 2, 4, 8}}
	for i := 0; i < 5; i++ {
		a := 2*math.Pi*float64(i)/5 + 0.3
		e.Points = append(e.Points, []float64{2 * math.Cos(a), 2 * math.Sin(a)})
	}
	return e
}

// bumps is a Gaussian mixture with three unequal components.
func bumps() *fm.Mixture {
	return &fm.Mixture{Means: [][]float64{{-2, 0}, {1.5, 1}, {0.5, -2}}, Stds: []float64{0.3, 0.5, 0.2}, Weights: []float64{0.6, 0.3, 0.1}}
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "06-marginal-paths"), Samples: 20000, Points: 200, Transport: 2000, Seed: 6}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("data: 5 points on a circle of radius 2, weights q = 1:1:2:4:8; path CondOT, σ_min = 0.05")
	fmt.Printf("1. p_t(x) = Σ qᵢ N(x; t·x₁ⁱ, σ_t² I) is the law of x_t = ψ_t(x₀), at t = %.1f:\n", r.T)
	fmt.Printf("   ∫p_t dx = %.9f by quadrature (grid-halving change %.1e)\n", r.Mass, r.QuadErr)
	for i, name := range []string{"E[x₁]", "E[x₂]", "E‖x‖²"} {
		fmt.Printf("   %-6s formula %8.4f   samples %8.4f ± %.4f\n", name, r.Quad[i], r.Sample[i], r.SE[i])
	}
	fmt.Printf("   worst |difference|/SE = %.2f\n", r.MomentZ)
	fmt.Printf("2. u_t(x) = E[u_t(x_t|x₁) | x_t = x]: worst |E[(u_t(x_t|x₁) − u_t(x_t))·g(x_t)]|/SE over g ∈ {1, x₁, x₂} = %.2f\n", r.OrthoRight)
	fmt.Printf("   with the common slip (weights without qᵢ) it is %.1f\n", r.OrthoNoQ)
	fmt.Printf("3. Theorem 1, ∂ₜp_t + div(p_t u_t) = 0 within the finite-difference error at %d random (t, x):\n", cfg.Points)
	for _, c := range []struct {
		name string
		c    Check
	}{{"5 points", r.Empirical}, {"mixture", r.Mixture}} {
		fmt.Printf("   %-8s marginal field passes at %d, no-q weights at %d, hard assignment (field of the likeliest x₁ only) at %d (resolution %.0e)\n",
			c.name, c.c.Right, c.c.NoQ, c.c.Hard, c.c.Resolution)
	}
	fmt.Printf("4. dx/dt = u_t(x) from N(0, I) (Dopri5, rtol %.0e, NFE %d), %d points:\n", r.SolverTol, r.NFE, cfg.Transport)
	for i := range r.Q {
		fmt.Printf("   point %d: q = %.4f, hit %.4f ± %.4f\n", i, r.Q[i], r.Hits[i], r.HitSE[i])
	}
	fmt.Printf("   mean ‖x − nearest x₁ⁱ‖²/σ_min² = %.3f ± %.3f (χ²₂ has mean 2)\n", r.Spread, r.SpreadSE)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func run(cfg Config) (Result, error) {
	r := Result{T: 0.6}
	rng := rand.New(rand.NewPCG(cfg.Seed, 6))
	q := points()
	m := fm.EmpiricalMarginal{Path: path, Data: q}
	noQ := fm.EmpiricalMarginal{Path: path, Data: &fm.Empirical{Points: q.Points}}
	for _, lw := range q.LogWeights() {
		r.Q = append(r.Q, math.Exp(lw))
	}

	// 1. Moments: quadrature of the formula on two grids, and samples.
	quad := func(cells int) (mass float64, mom [3]float64) {
		const lo, hi = -5.0, 5.0
		d := (hi - lo) / float64(cells)
		for i := 0; i < cells; i++ {
			for j := 0; j < cells; j++ {
				x := []float64{lo + (float64(i)+0.5)*d, lo + (float64(j)+0.5)*d}
				p := math.Exp(m.LogProb(r.T, x)) * d * d
				mass += p
				mom[0], mom[1], mom[2] = mom[0]+p*x[0], mom[1]+p*x[1], mom[2]+p*(x[0]*x[0]+x[1]*x[1])
			}
		}
		return mass, mom
	}
	mass, mom := quad(200)
	mass2, _ := quad(400)
	r.Mass, r.Quad, r.QuadErr = mass, mom, math.Abs(mass-mass2)
	n := cfg.Samples
	x1 := q.Sample(n, rng)
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	xt := fm.FlowBatch(path, autograd.Full(n, 1, r.T), x0, x1)
	cols := [3][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	for i := 0; i < n; i++ {
		a, b := xt.At(i, 0), xt.At(i, 1)
		cols[0][i], cols[1][i], cols[2][i] = a, b, a*a+b*b
	}
	for k := range cols {
		r.Sample[k], r.SE[k] = metrics.MeanStdErr(cols[k])
		r.MomentZ = max(r.MomentZ, math.Abs(r.Sample[k]-r.Quad[k])/r.SE[k])
	}

	// 2. Orthogonality: E[(u_c − u_m)·g(x_t)] = 0 for g = 1, x₁, x₂, with
	// t ~ U[0, 1) per sample.
	tt := autograd.Uniform(n, 1, 0, 1, rng)
	xs := fm.FlowBatch(path, tt, x0, x1)
	uc := fm.CondFieldBatch(path, tt, xs, x1)
	ortho := func(mg fm.Marginal) float64 {
		um := fm.MarginalFieldBatch(mg, tt, xs)
		worst := 0.0
		for j := 0; j < 2; j++ {
			for g := 0; g < 3; g++ {
				v := make([]float64, n)
				for i := range v {
					w := 1.0
					if g > 0 {
						w = xs.At(i, g-1)
					}
					v[i] = (uc.At(i, j) - um.At(i, j)) * w
				}
				mean, se := metrics.MeanStdErr(v)
				worst = max(worst, math.Abs(mean)/se)
			}
		}
		return worst
	}
	r.OrthoRight, r.OrthoNoQ = ortho(m), ortho(noQ)

	// 3. Continuity residual at random points, for both data sets.
	r.Empirical = continuity(m, noQ, hard(m), q.Sample, cfg.Points, rng)
	b := bumps()
	mm := fm.MixtureMarginal{Path: path, Data: b}
	mNoQ := fm.MixtureMarginal{Path: path, Data: &fm.Mixture{Means: b.Means, Stds: b.Stds}}
	r.Mixture = continuity(mm, mNoQ, hardMixture(mm), b.Sample, cfg.Points, rng)

	// 4. Transport: the exact marginal field as an ODE field.
	field := func(t float64, x *autograd.Tensor) *autograd.Tensor {
		return fm.MarginalFieldBatch(m, autograd.Full(x.Rows, 1, t), x).NoGraph()
	}
	r.SolverTol = 1e-7
	var traj []*autograd.Tensor
	start := autograd.Normal(cfg.Transport, 2, 0, 1, rng).NoGraph()
	end, st, err := cnf.Integrate(field, start, 0, 1, cnf.SolveOptions{Method: cnf.Dopri5, RTol: r.SolverTol, ATol: r.SolverTol,
		Callback: func(_ float64, x *autograd.Tensor) { traj = append(traj, x.Clone()) }})
	if err != nil {
		return r, err
	}
	r.NFE = st.NFE
	counts := make([]float64, len(q.Points))
	spread := make([]float64, end.Rows)
	for i := 0; i < end.Rows; i++ {
		best, bi := math.Inf(1), 0
		for k, p := range q.Points {
			d0, d1 := end.At(i, 0)-p[0], end.At(i, 1)-p[1]
			if d := d0*d0 + d1*d1; d < best {
				best, bi = d, k
			}
		}
		counts[bi]++
		spread[i] = best / (path.SigmaMin * path.SigmaMin)
	}
	for k := range counts {
		f := counts[k] / float64(end.Rows)
		r.Hits = append(r.Hits, f)
		r.HitSE = append(r.HitSE, math.Sqrt(r.Q[k]*(1-r.Q[k])/float64(end.Rows)))
	}
	r.Spread, r.SpreadSE = metrics.MeanStdErr(spread)

	if cfg.Out == "" {
		return r, nil
	}
	return r, pictures(cfg.Out, m, traj)
}

// continuity counts the random points (t, x ~ p_t) at which the
// continuity residual of p_t with the right field, the no-q field and the
// hard-assignment field vanishes within its derived finite-difference
// error.
func continuity(m, noQ fm.Marginal, hard func(t float64, x []float64) []float64, data fm.Sampler, points int, rng *rand.Rand) Check {
	var c Check
	x1s := data(points, rng)
	for i := 0; i < points; i++ {
		t := 0.05 + 0.9*rng.Float64()
		x := fm.Flow(path, t, []float64{rng.NormFloat64(), rng.NormFloat64()}, x1s.Row(i))
		s, _ := path.Std(t, nil)
		h := 1e-3 * min(1, s) // resolve the narrowest Gaussian in x and in t
		ok, res := vanishes(m, m.Field, t, x, h)
		c.Resolution = max(c.Resolution, res)
		if ok {
			c.Right++
		}
		if ok, _ := vanishes(m, noQ.Field, t, x, h); ok {
			c.NoQ++
		}
		if ok, _ := vanishes(m, hard, t, x, h); ok {
			c.Hard++
		}
	}
	return c
}

// vanishes evaluates r = ∂ₜp + div(p·v) at (t, x) by central differences
// (cnf.ContinuityResidual) and reports whether |r| is within the
// difference error: r(h) = r + c·h² + O(h⁴) + rounding, with the truncation
// estimated by Richardson, |r(2h) − r(h)|/3 (a true residual cancels in that
// difference), and rounding as 64ε·(d+1)·p·(1 + ‖v‖₁)/h; tol is 4× their sum.
// It also returns tol/scale.
func vanishes(m fm.Marginal, v func(t float64, x []float64) []float64, t float64, x []float64, h float64) (bool, float64) {
	const eps = 0x1p-52
	r1, scale := cnf.ContinuityResidual(m.LogProb, v, t, x, h)
	r2, _ := cnf.ContinuityResidual(m.LogProb, v, t, x, 2*h)
	un := 0.0
	for _, a := range v(t, x) {
		un += math.Abs(a)
	}
	tol := 4 * (math.Abs(r2-r1)/3 + 64*eps*float64(len(x)+1)*math.Exp(m.LogProb(t, x))*(1+un)/h)
	return math.Abs(r1) <= tol, tol / scale
}

// hard is a plausible wrong field: the conditional field of the single most
// likely data point, instead of the posterior average.
func hard(m fm.EmpiricalMarginal) func(t float64, x []float64) []float64 {
	return func(t float64, x []float64) []float64 {
		w := m.Posterior(t, x)
		k := argmax(w)
		return fm.CondField(m.Path, t, x, m.Data.Points[k])
	}
}

// hardMixture is hard for a mixture: the field of the most responsible
// component, v′ₖ/(2vₖ)·(x − a_t mₖ) + a′_t mₖ (see fm/marginal.go).
func hardMixture(m fm.MixtureMarginal) func(t float64, x []float64) []float64 {
	return func(t float64, x []float64) []float64 {
		k := argmax(m.Posterior(t, x))
		one := fm.MixtureMarginal{Path: m.Path, Data: &fm.Mixture{Means: m.Data.Means[k : k+1], Stds: m.Data.Stds[k : k+1]}}
		return one.Field(t, x)
	}
}

func argmax(w []float64) int {
	k := 0
	for i := range w {
		if w[i] > w[k] {
			k = i
		}
	}
	return k
}

// pictures writes the marginal density and field at t = 0.7, the
// trajectories of the exact marginal field, and figure.png with all three.
func pictures(out string, m fm.EmpiricalMarginal, traj []*autograd.Tensor) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	const t = 0.7
	dens, field, tr := filepath.Join(out, "density.png"), filepath.Join(out, "field.png"), filepath.Join(out, "trajectories.png")
	if err := plot.Density(dens, "marginal p_t, t = 0.7", func(x, y float64) float64 { return m.LogProb(t, []float64{x, y}) },
		-3, 3, -3, 3, 120); err != nil {
		return err
	}
	if err := plot.VectorField(field, "marginal field u_t, t = 0.7", func(x, y float64) (float64, float64) {
		u := m.Field(t, []float64{x, y})
		return u[0], u[1]
	}, -3, 3, -3, 3, 17); err != nil {
		return err
	}
	if err := plot.Trajectories(tr, "dx/dt = u_t(x): noise to the 5 points", traj); err != nil {
		return err
	}
	return plot.Montage(filepath.Join(out, "figure.png"), dens, field, tr)
}
