// Tutorial 11: maximum-likelihood training of a continuous normalizing flow
// against flow matching (Chen et al. 2018, arXiv:1806.07366; Grathwohl
// et al. 2018, arXiv:1810.01367; Lipman et al. 2022, arXiv:2210.02747, eq. 9).
//
// The same small network v_θ(t, x) is trained twice on the same data: once
// by maximizing the log-likelihood, which integrates the ODE and its
// divergence through a solver and backpropagates through every step; once
// by Conditional Flow Matching, which regresses v_θ on a known target at a
// random time — one forward and one backward pass, no solver. The tutorial
// measures the wall time of a step of each and follows the held-out
// negative log-likelihood of both models over steps and over time.
//
//	go run ./tutorials/11-likelihood-vs-fm [-out DIR] [-ml N] [-fm N]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run.
type Config struct {
	Out     string // directory for the pictures ("" writes none)
	MLSteps int    // maximum-likelihood training steps
	FMSteps int    // flow-matching training steps
	Checks  int    // held-out evaluations per run (evenly spaced)
	Eval    int    // held-out points
	Seed    uint64
}

// Run is the record of one training method.
type Run struct {
	Name    string
	Steps   []int       // the steps at which the held-out NLL was measured (0 = initial)
	Seconds []float64   // training wall time up to that step
	NLL, SE []float64   // held-out NLL (nats), mean ± SE
	Rows    [][]float64 // per held-out point, at the first and the last check
	PerStep float64     // wall time per training step (s)
	NFE     int         // ODE evaluations in one training step (0 for flow matching)
}

// Result holds every number main prints.
type Result struct {
	ML, FM    Run
	H, HSE    float64 // the data entropy (nats), the floor of E[NLL]
	FinalDiff float64 // NLL(ML, last) − NLL(FM, last), paired, mean
	FinalSE   float64
	TimeRatio float64 // ML time per step / FM time per step (measured, not asserted)
}

const dataset = "moons" // FFJORD's moons

// solve is the fixed grid the maximum-likelihood loss integrates on: 10 RK4
// steps, 40 evaluations of the augmented field per training step.
var solve = cnf.SolveOptions{Method: cnf.RK4, Steps: 10}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "11-likelihood-vs-fm"), MLSteps: 200, FMSteps: 2000, Checks: 10, Eval: 1000, Seed: 11}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.IntVar(&cfg.MLSteps, "ml", cfg.MLSteps, "maximum-likelihood training steps")
	flag.IntVar(&cfg.FMSteps, "fm", cfg.FMSteps, "flow-matching training steps")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("data: %s (entropy H = %.3f ± %.3f nats); model 3→32→32→2 SiLU, Adam 2e-3, batch 128, the same initial weights\n", dataset, r.H, r.HSE)
	fmt.Printf("maximum likelihood: RK4 %d steps (%d field evaluations, each with an exact divergence) + backprop through the solve\n", solve.Steps, r.ML.NFE)
	fmt.Println("flow matching: one forward and one backward pass of the network, CondOT target, no solver")
	fmt.Printf("measured wall time per step: ML %.1f ms, FM %.3f ms — ratio ≈ %.0f (machine-dependent)\n", 1e3*r.ML.PerStep, 1e3*r.FM.PerStep, r.TimeRatio)
	fmt.Printf("held-out NLL (nats, %d points, Dopri5 rtol 1e-5):\n", cfg.Eval)
	for _, ru := range []Run{r.ML, r.FM} {
		fmt.Printf("   %s\n", ru.Name)
		for i := range ru.Steps {
			fmt.Printf("      step %5d  (%6.2f s)  NLL %.3f ± %.3f\n", ru.Steps[i], ru.Seconds[i], ru.NLL[i], ru.SE[i])
		}
	}
	fmt.Printf("at the end, paired on the same points: NLL(ML) − NLL(FM) = %.3f ± %.3f; both above H = %.3f\n", r.FinalDiff, r.FinalSE, r.H)
	fmt.Printf("flow matching did %d steps in %.2f s; maximum likelihood needed %.2f s for %d\n",
		cfg.FMSteps, r.FM.Seconds[len(r.FM.Seconds)-1], r.ML.Seconds[len(r.ML.Seconds)-1], cfg.MLSteps)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func run(cfg Config) (Result, error) {
	var r Result
	var err error
	if r.H, r.HSE, err = data.Entropy(dataset); err != nil {
		return r, err
	}
	toy, err := data.Lookup(dataset)
	if err != nil {
		return r, err
	}
	held := toy.Sample(cfg.Eval, rand.New(rand.NewPCG(cfg.Seed, 1)))

	newModel := func() *nn.VelocityMLP {
		return nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActSiLU, rand.New(rand.NewPCG(cfg.Seed, 2)))
	}
	// nll evaluates the held-out NLL of the model's current weights.
	nll := func(m *nn.VelocityMLP) ([]float64, error) {
		lk, _, err := cnf.LogLikelihood(cnf.FastField(m, 1024), held.NoGraph(), 1, 0, cnf.StandardNormalLogProb,
			cnf.FastDivergence(m, 1024), cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-5, ATol: 1e-5})
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(lk.LogP1.Data))
		for i, v := range lk.LogP1.Data {
			out[i] = -v
		}
		return out, nil
	}
	// train runs steps of step(), timing only the training, and evaluates
	// the held-out NLL at Checks evenly spaced steps.
	train := func(name string, m *nn.VelocityMLP, steps int, step func(rng *rand.Rand) error) (Run, error) {
		ru := Run{Name: name}
		rng := rand.New(rand.NewPCG(cfg.Seed, 3))
		var elapsed time.Duration
		record := func(s int) error {
			rows, err := nll(m)
			if err != nil {
				return err
			}
			mean, se := metrics.MeanStdErr(rows)
			ru.Steps, ru.Seconds = append(ru.Steps, s), append(ru.Seconds, elapsed.Seconds())
			ru.NLL, ru.SE = append(ru.NLL, mean), append(ru.SE, se)
			if s == 0 || s == steps {
				ru.Rows = append(ru.Rows, rows)
			}
			return nil
		}
		if err := record(0); err != nil {
			return ru, err
		}
		for s := 1; s <= steps; s++ {
			start := time.Now()
			if err := step(rng); err != nil {
				return ru, fmt.Errorf("%s, step %d: %w", name, s, err)
			}
			elapsed += time.Since(start)
			if s*cfg.Checks%steps == 0 {
				if err := record(s); err != nil {
					return ru, err
				}
			}
		}
		ru.PerStep = elapsed.Seconds() / float64(steps)
		return ru, nil
	}

	// Maximum likelihood: −mean log p₁(x) through the solver (cnf.MaxLikelihoodLoss).
	ml := newModel()
	optML := nn.NewAdam(ml.Params(), 2e-3)
	nfe := 0
	r.ML, err = train("maximum likelihood (through the solver)", ml, cfg.MLSteps, func(rng *rand.Rand) error {
		loss, st, err := cnf.MaxLikelihoodLoss(cnf.FieldOf(ml), toy.Sample(128, rng), cnf.StandardNormalLogProb, nil, solve)
		if err != nil {
			return err
		}
		nfe = st.NFE
		optML.ZeroGrad()
		loss.Backward()
		optML.Step()
		return nil
	})
	if err != nil {
		return r, err
	}
	r.ML.NFE = nfe

	// Flow matching: the CFM loss with the CondOT path (fm.Train's step).
	fmm := newModel()
	optFM := nn.NewAdam(fmm.Params(), 2e-3)
	path := fm.CondOT{SigmaMin: 1e-4}
	r.FM, err = train("flow matching (CondOT)", fmm, cfg.FMSteps, func(rng *rand.Rand) error {
		x1 := toy.Sample(128, rng)
		loss := fm.CFMLoss(fmm.Forward, path, autograd.Uniform(128, 1, 0, 1, rng), autograd.Normal(128, 2, 0, 1, rng), x1)
		optFM.ZeroGrad()
		loss.Backward()
		optFM.Step()
		return nil
	})
	if err != nil {
		return r, err
	}
	r.TimeRatio = r.ML.PerStep / r.FM.PerStep
	d := make([]float64, cfg.Eval)
	for i := range d {
		d[i] = r.ML.Rows[1][i] - r.FM.Rows[1][i]
	}
	r.FinalDiff, r.FinalSE = metrics.MeanStdErr(d)

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	curves := func(x func(ru Run) []float64) []plot.Curve {
		var cs []plot.Curve
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, ru := range []Run{r.ML, r.FM} {
			xs := x(ru)
			cs = append(cs, plot.Curve{Name: ru.Name, X: xs, Y: ru.NLL, Dots: true})
			lo, hi = min(lo, slices.Min(xs)), max(hi, slices.Max(xs))
		}
		// One segment across both runs (not a line drawn back and forth over each run's x).
		return append(cs, plot.Curve{Name: "entropy H (the floor)", X: []float64{lo, hi}, Y: []float64{r.H, r.H}, Dashed: true})
	}
	a, b := filepath.Join(cfg.Out, "nll-vs-step.png"), filepath.Join(cfg.Out, "nll-vs-time.png")
	if err := plot.Lines(a, "held-out NLL against training steps", plot.Axes{X: "step (0 drawn at 1)", Y: "NLL (nats)", LogX: true},
		curves(func(ru Run) []float64 {
			xs := make([]float64, len(ru.Steps))
			for i, s := range ru.Steps {
				xs[i] = max(float64(s), 1)
			}
			return xs
		}), plot.NoLegend()); err != nil { // one legend, on the second panel
		return r, err
	}
	if err := plot.Lines(b, "held-out NLL against training time", plot.Axes{X: "seconds of training (0 drawn at 1 ms)", Y: "NLL (nats)", LogX: true},
		curves(func(ru Run) []float64 {
			xs := make([]float64, len(ru.Seconds))
			for i, s := range ru.Seconds {
				xs[i] = max(s, 1e-3)
			}
			return xs
		})); err != nil {
		return r, err
	}
	return r, plot.Montage(filepath.Join(cfg.Out, "figure.png"), a, b)
}
