// Tutorial 07: the Flow Matching and Conditional Flow Matching losses
// (Lipman et al. 2022, arXiv:2210.02747, eqs. 5 and 9, Theorem 2).
//
// L_FM regresses the model on the marginal field u_t(x), which needs the
// whole data set at every point; L_CFM regresses it on the conditional field
// u_t(x|x₁) of one data point, which is free. Theorem 2: the two differ by a
// constant that does not depend on the model, so their gradients are equal
// and minimizing L_CFM minimizes L_FM. The constant is the loss floor
//
//	floor = E‖u_t(x_t|x₁) − u_t(x_t)‖² > 0,
//
// which is why a CFM training loss settles above 0. The tutorial measures
// all three claims with common random numbers, then trains a small model
// and watches L_CFM approach the floor from above while L_FM goes to 0.
//
//	go run ./tutorials/07-fm-vs-cfm [-out DIR]
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
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run.
type Config struct {
	Out     string // directory for the pictures ("" writes none)
	Eval    int    // size of the common evaluation batch
	Batches int    // batches for the gradient comparison
	Steps   int    // training steps
	Seed    uint64
}

// Model is one row of the loss table: a random network θ on the common batch.
type Model struct {
	CFM, FM  float64 // L_CFM(θ), L_FM(θ)
	Gap, SE  float64 // mean and SE of the per-sample L_CFM − L_FM − ‖u_c − u_m‖²
	Constant float64 // L_CFM − L_FM
}

// Checkpoint is the state of training on the evaluation batch.
type Checkpoint struct {
	Step                 int
	CFMMinusFloor, CFMSE float64 // L_CFM − floor (per-sample, paired with the floor)
	FM, FMSE             float64
}

// Result holds every number main prints.
type Result struct {
	Floor, FloorSE float64 // E‖u_t(x_t|x₁) − u_t(x_t)‖² on the evaluation batch
	OnePointFloor  float64 // the floor for a data set of one point
	Models         []Model

	// Gradients averaged over Batches batches, one model.
	GradWorst    float64 // worst |mean ∂(L_CFM − L_FM)/∂θⱼ|/SE over coordinates
	GradWrong    float64 // the same with the common slip of weights without qᵢ
	GradCosine   float64 // cosine of the averaged ∇L_CFM and ∇L_FM
	GradRelDiff  float64 // ‖mean ∇L_CFM − mean ∇L_FM‖/‖mean ∇L_FM‖
	GradRelNoise float64 // √(Σⱼ SEⱼ²)/‖mean ∇L_FM‖: what GradRelDiff is if the means are equal
	NoiseRatio   float64 // mean per-coordinate variance of ∇L_CFM over that of ∇L_FM
	Params       int

	Checkpoints []Checkpoint
	TailCFM     float64 // mean training loss over the last 10% of steps
	TailSE      float64
	StepCFM     []float64 // per step: L_CFM and L_FM on the same training batch
	StepFM      []float64
}

var path = fm.CondOT{SigmaMin: 0.05}

// circle is 12 points on two circles with weights 1, 4, 16 repeating.
func circle() *fm.Empirical {
	e := &fm.Empirical{}
	for i := 0; i < 12; i++ {
		a := 2 * math.Pi * float64(i) / 12
		r := 1.5 + 0.5*float64(i%2)
		e.Points = append(e.Points, []float64{r * math.Cos(a), r * math.Sin(a)})
		e.Weights = append(e.Weights, math.Pow(4, float64(i%3)))
	}
	return e
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "07-fm-vs-cfm"), Eval: 20000, Batches: 40, Steps: 1500, Seed: 7}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.IntVar(&cfg.Steps, "steps", cfg.Steps, "training steps")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("data: 12 points on two circles, weights 1:4:16; path CondOT, σ_min = 0.05")
	fmt.Printf("floor E‖u_t(x_t|x₁) − u_t(x_t)‖² = %.4f ± %.4f (for a single data point it is %g)\n", r.Floor, r.FloorSE, r.OnePointFloor)
	fmt.Printf("Theorem 2 on one common batch of %d (t, x₀, x₁), four random networks θ:\n", cfg.Eval)
	fmt.Println("   θ    L_CFM     L_FM      L_CFM − L_FM   per-sample gap (should be 0)")
	for i, m := range r.Models {
		fmt.Printf("   %d  %8.4f  %8.4f   %8.4f       %+.4f ± %.4f\n", i, m.CFM, m.FM, m.Constant, m.Gap, m.SE)
	}
	fmt.Printf("gradients, averaged over %d batches of 256 (%d parameters):\n", cfg.Batches, r.Params)
	fmt.Printf("   worst |mean ∂(L_CFM − L_FM)/∂θⱼ|/SE = %.2f (with weights without qᵢ: %.1f)\n", r.GradWorst, r.GradWrong)
	fmt.Printf("   cosine(∇L_CFM, ∇L_FM) = %.4f, relative difference %.3f (batch noise alone predicts %.3f)\n", r.GradCosine, r.GradRelDiff, r.GradRelNoise)
	fmt.Printf("   one batch's ∇L_CFM is noisier: variance ratio %.1f (the price of the free target)\n", r.NoiseRatio)
	fmt.Printf("training a 2×64 SiLU network with Adam, batch 256, %d steps (evaluation batch of %d):\n", cfg.Steps, cfg.Eval)
	fmt.Println("   step   L_CFM − floor        L_FM")
	for _, c := range r.Checkpoints {
		fmt.Printf("   %4d   %.4f ± %.4f    %.4f ± %.4f\n", c.Step, c.CFMMinusFloor, c.CFMSE, c.FM, c.FMSE)
	}
	fmt.Printf("   mean training loss over the last 10%% of steps: %.4f ± %.4f (floor %.4f): L_CFM stays above the floor, never near 0\n", r.TailCFM, r.TailSE, r.Floor)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

// batch is one draw of (t, x₀, x₁) and what follows from it.
type batch struct {
	t, x0, x1, xt, uc, um *autograd.Tensor
}

func newBatch(q *fm.Empirical, mg fm.Marginal, n int, rng *rand.Rand) batch {
	var b batch
	b.x1 = q.Sample(n, rng)
	b.x0 = autograd.Normal(n, 2, 0, 1, rng)
	b.t = autograd.Uniform(n, 1, 0, 1, rng)
	b.xt = fm.FlowBatch(path, b.t, b.x0, b.x1)
	b.uc = fm.CondFieldBatch(path, b.t, b.xt, b.x1)
	b.um = fm.MarginalFieldBatch(mg, b.t, b.xt)
	return b
}

// rowSq returns ‖aᵢ − bᵢ‖² for every row.
func rowSq(a, b *autograd.Tensor) []float64 {
	out := make([]float64, a.Rows)
	for i := range out {
		for j := 0; j < a.Cols; j++ {
			d := a.At(i, j) - b.At(i, j)
			out[i] += d * d
		}
	}
	return out
}

func run(cfg Config) (Result, error) {
	var r Result
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	q := circle()
	mg := fm.EmpiricalMarginal{Path: path, Data: q}
	ev := newBatch(q, mg, cfg.Eval, rng)
	floorRow := rowSq(ev.uc, ev.um)
	r.Floor, r.FloorSE = metrics.MeanStdErr(floorRow)
	one := &fm.Empirical{Points: q.Points[:1]}
	r.OnePointFloor, _ = fm.CFMFloor(path, fm.EmpiricalMarginal{Path: path, Data: one}, one.Sample, 1000, rng)

	// Theorem 2, values: per sample,
	// ‖v − u_c‖² − ‖v − u_m‖² − ‖u_c − u_m‖² = −2(v − u_m)·(u_c − u_m),
	// whose mean is 0 because E[u_c | x_t] = u_m.
	for k := 0; k < 4; k++ {
		model := nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActSiLU, rand.New(rand.NewPCG(cfg.Seed, uint64(100+k)))).Frozen()
		v := model.Forward(ev.t, ev.xt)
		a, b := rowSq(v, ev.uc), rowSq(v, ev.um)
		gap := make([]float64, len(a))
		for i := range gap {
			gap[i] = a[i] - b[i] - floorRow[i]
		}
		m := Model{CFM: fm.CFMLoss(model.Forward, path, ev.t, ev.x0, ev.x1).Item(), FM: fm.FMLoss(model.Forward, mg, ev.t, ev.xt).Item()}
		m.Constant = m.CFM - m.FM
		m.Gap, m.SE = metrics.MeanStdErr(gap)
		r.Models = append(r.Models, m)
	}

	// Theorem 2, gradients: the same model and batches for ∇L_CFM and ∇L_FM.
	model := nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActSiLU, rand.New(rand.NewPCG(cfg.Seed, 200)))
	noQ := fm.EmpiricalMarginal{Path: path, Data: &fm.Empirical{Points: q.Points}}
	grads := func(mgl fm.Marginal, seed uint64) (cfm, fml [][]float64) {
		rb := rand.New(rand.NewPCG(seed, 8))
		for k := 0; k < cfg.Batches; k++ {
			b := newBatch(q, mgl, 256, rb)
			cfm = append(cfm, flat(autograd.Grad(fm.CFMLoss(model.Forward, path, b.t, b.x0, b.x1), nil, model.Params()...)))
			fml = append(fml, flat(autograd.Grad(fm.FMLoss(model.Forward, mgl, b.t, b.xt), nil, model.Params()...)))
		}
		return cfm, fml
	}
	gc, gf := grads(mg, cfg.Seed)
	r.Params = len(gc[0])
	r.GradWorst = worstZ(gc, gf)
	gcw, gfw := grads(noQ, cfg.Seed)
	r.GradWrong = worstZ(gcw, gfw)
	mc, mf := colMeans(gc), colMeans(gf)
	gd := diff(gc, gf)
	var dot, nc, nf, nd, vc, vf, vd float64
	for j := range mc {
		dot, nc, nf = dot+mc[j]*mf[j], nc+mc[j]*mc[j], nf+mf[j]*mf[j]
		nd += (mc[j] - mf[j]) * (mc[j] - mf[j])
		vc += colVar(gc, j)
		vf += colVar(gf, j)
		vd += colVar(gd, j) / float64(len(gc))
	}
	r.GradCosine, r.GradRelDiff, r.NoiseRatio = dot/math.Sqrt(nc*nf), math.Sqrt(nd/nf), vc/vf
	r.GradRelNoise = math.Sqrt(vd / nf)

	// Training: fm.Train's loop (Lipman et al. Algorithm 1) written out, so
	// that L_FM can be evaluated on the same batch as L_CFM at every step.
	net := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, rand.New(rand.NewPCG(cfg.Seed, 300)))
	opt := nn.NewAdam(net.Params(), 2e-3)
	rt := rand.New(rand.NewPCG(cfg.Seed, 9))
	checkpoint := func(step int) {
		v := net.Frozen().Forward(ev.t, ev.xt)
		a, b := rowSq(v, ev.uc), rowSq(v, ev.um)
		for i := range a {
			a[i] -= floorRow[i]
		}
		c := Checkpoint{Step: step}
		c.CFMMinusFloor, c.CFMSE = metrics.MeanStdErr(a)
		c.FM, c.FMSE = metrics.MeanStdErr(b)
		r.Checkpoints = append(r.Checkpoints, c)
	}
	checkpoint(0)
	for step := 1; step <= cfg.Steps; step++ {
		x1 := q.Sample(256, rt)
		x0 := autograd.Normal(256, 2, 0, 1, rt)
		t := autograd.Uniform(256, 1, 0, 1, rt)
		loss := fm.CFMLoss(net.Forward, path, t, x0, x1)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		fml := fm.FMLoss(net.Frozen().Forward, mg, t, fm.FlowBatch(path, t, x0, x1))
		r.StepCFM, r.StepFM = append(r.StepCFM, loss.Item()), append(r.StepFM, fml.Item())
		if step == cfg.Steps/10 || step == cfg.Steps/3 || step == cfg.Steps {
			checkpoint(step)
		}
	}
	r.TailCFM, r.TailSE = metrics.MeanStdErr(r.StepCFM[cfg.Steps*9/10:])

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	floor := make([]float64, cfg.Steps)
	for i := range floor {
		floor[i] = r.Floor
	}
	return r, plot.LossCurves(filepath.Join(cfg.Out, "figure.png"), "L_CFM stays above the floor while L_FM falls toward 0 (same batches)",
		map[string][]float64{"L_CFM (training batch)": r.StepCFM, "L_FM (same batch)": r.StepFM, "floor E‖u(x|x₁) − u(x)‖²": floor}, 25,
		plot.Order("L_CFM (training batch)", "L_FM (same batch)", "floor E‖u(x|x₁) − u(x)‖²"))
}

func flat(gs []*autograd.Tensor) []float64 {
	var out []float64
	for _, g := range gs {
		out = append(out, g.Data...)
	}
	return out
}

// diff returns a − b row by row.
func diff(a, b [][]float64) [][]float64 {
	out := make([][]float64, len(a))
	for i := range a {
		out[i] = make([]float64, len(a[i]))
		for j := range a[i] {
			out[i][j] = a[i][j] - b[i][j]
		}
	}
	return out
}

func colMeans(rows [][]float64) []float64 {
	m := make([]float64, len(rows[0]))
	for _, r := range rows {
		for j, v := range r {
			m[j] += v / float64(len(rows))
		}
	}
	return m
}

func colVar(rows [][]float64, j int) float64 {
	col := make([]float64, len(rows))
	for i := range rows {
		col[i] = rows[i][j]
	}
	_, se := metrics.MeanStdErr(col)
	return se * se * float64(len(col))
}

// worstZ returns the worst |mean(a − b)|/SE over coordinates, the
// differences paired by batch.
func worstZ(a, b [][]float64) float64 {
	worst := 0.0
	d := make([]float64, len(a))
	for j := range a[0] {
		for i := range a {
			d[i] = a[i][j] - b[i][j]
		}
		mean, se := metrics.MeanStdErr(d)
		if se > 0 {
			worst = max(worst, math.Abs(mean)/se)
		}
	}
	return worst
}
