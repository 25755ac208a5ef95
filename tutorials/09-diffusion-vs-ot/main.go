// Tutorial 09: diffusion paths (VE, VP) against the optimal-transport path
// (Lipman et al. 2022, arXiv:2210.02747, §4.1, eqs. 16–23, and Table 1).
//
// The same small network is trained by Conditional Flow Matching with three
// Gaussian paths on the same 2-D data, for the same number of steps. The
// tutorial then compares, on the same held-out points and noise: the
// trajectories (how straight), the cost of sampling with an adaptive solver
// (NFE of Dopri5 at one tolerance) and the held-out negative
// log-likelihood, which is bounded below by the data entropy.
//
//	go run ./tutorials/09-diffusion-vs-ot [-out DIR] [-steps N]
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

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
	Out   string // directory for the pictures ("" writes none)
	Steps int    // training steps per path
	Eval  int    // held-out points and noise points
	Seed  uint64
}

// PathResult is what the tutorial measures for one path.
type PathResult struct {
	Name       string
	Losses     []float64 // the CFM loss of every training step
	FinalLoss  float64   // mean over the last 10% of steps
	NFE        int       // Dopri5 evaluations to sample Eval points
	NLL, NLLSE float64   // held-out NLL (nats), mean ± SE
	NLLRows    []float64 // per held-out point, for paired comparisons
}

// Result holds every number main prints.
type Result struct {
	Paths  []PathResult
	H, HSE float64 // the data entropy (nats), the floor of E[NLL]
	Tol    float64 // Dopri5 rtol = atol
	// Paired differences of the per-point NLL, mean ± SE.
	VPMinusOT, VPMinusOTSE, VEMinusVP, VEMinusVPSE float64
}

// The paths. VE starts from N(0, σ_max² I), so its σ_max must dwarf the
// data (moons spans about ±2.5); VP with the usual β 0.1 → 20; CondOT with
// a small σ_min.
func paths() []struct {
	name string
	p    fm.Path
} {
	return []struct {
		name string
		p    fm.Path
	}{
		{"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 6}},
		{"VP", fm.VP{}},
		{"CondOT", fm.CondOT{SigmaMin: 1e-4}},
	}
}

const dataset = "moons" // FFJORD's moons: noise 0.1, ×2, shifted

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "09-diffusion-vs-ot"), Steps: 600, Eval: 1000, Seed: 9}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.IntVar(&cfg.Steps, "steps", cfg.Steps, "training steps per path")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("data: %s (entropy H = %.3f ± %.3f nats); model 3→64→64→2 SiLU, Adam 2e-3, batch 256, %d steps per path\n", dataset, r.H, r.HSE, cfg.Steps)
	fmt.Printf("sampling and likelihood with Dopri5 (rtol = atol = %.0e), %d held-out points\n", r.Tol, cfg.Eval)
	fmt.Println("   path     final CFM loss   NFE to sample   held-out NLL (nats)   NLL − H")
	for _, p := range r.Paths {
		fmt.Printf("   %-7s  %12.3f   %12d   %9.3f ± %.3f   %7.3f\n", p.Name, p.FinalLoss, p.NFE, p.NLL, p.NLLSE, p.NLL-r.H)
	}
	fmt.Println("   (CFM losses of different paths are not comparable: each path has its own floor)")
	fmt.Println("every NLL is above the entropy, as E[NLL] = H + KL(q‖p_θ) requires")
	fmt.Printf("paired on the same held-out points: NLL(VP) − NLL(CondOT) = %.3f ± %.3f, NLL(VE) − NLL(VP) = %.3f ± %.3f\n",
		r.VPMinusOT, r.VPMinusOTSE, r.VEMinusVP, r.VEMinusVPSE)
	fmt.Println("after the same training, CondOT fits best; VE, whose source N(0, σ_max² I) is far wider than the data, fits worst and costs the most to sample")
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func run(cfg Config) (Result, error) {
	var r Result
	var err error
	r.Tol = 1e-5
	if r.H, r.HSE, err = data.Entropy(dataset); err != nil {
		return r, err
	}
	toy, err := data.Lookup(dataset)
	if err != nil {
		return r, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 9))
	held := toy.Sample(cfg.Eval, rng)
	var trajFiles []string
	for i, np := range paths() {
		pr := PathResult{Name: np.name}
		model := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, rand.New(rand.NewPCG(cfg.Seed, 100)))
		if pr.Losses, err = fm.Train(model, fm.TrainConfig{Path: np.p, Data: toy.Sample, BatchSize: 256, Steps: cfg.Steps, LR: 2e-3,
			Seed: cfg.Seed + uint64(i), Fused: true}); err != nil {
			return r, fmt.Errorf("%s: training: %w", np.name, err)
		}
		pr.FinalLoss, _ = metrics.MeanStdErr(pr.Losses[len(pr.Losses)*9/10:])

		field := cnf.FastField(model, 1024)
		opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: r.Tol, ATol: r.Tol}
		// Every path samples from its own source: N(0, s² I), s = SourceStd.
		x0 := fm.SampleSource(np.p, cfg.Eval, 2, rand.New(rand.NewPCG(cfg.Seed, 200))).NoGraph()
		var traj []*autograd.Tensor
		opts.Callback = func(_ float64, x *autograd.Tensor) { traj = append(traj, x.Clone()) }
		_, st, err := cnf.Sample(field, x0, opts)
		if err != nil {
			return r, fmt.Errorf("%s: sampling: %w", np.name, err)
		}
		opts.Callback = nil
		pr.NFE = st.NFE

		// Held-out NLL: log p₁(x) = log p₀(x(0)) − ∫₀¹ div v dt, with the
		// source density of this path.
		s := np.p.SourceStd()
		logp0 := cnf.NormalLogProb(s)

		lk, _, err := cnf.LogLikelihood(field, held.NoGraph(), 1, 0, logp0, cnf.FastDivergence(model, 1024), opts)
		if err != nil {
			return r, fmt.Errorf("%s: likelihood: %w", np.name, err)
		}
		for _, v := range lk.LogP1.Data {
			pr.NLLRows = append(pr.NLLRows, -v)
		}
		pr.NLL, pr.NLLSE = metrics.MeanStdErr(pr.NLLRows)

		r.Paths = append(r.Paths, pr)

		if cfg.Out != "" {
			if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
				return r, err
			}
			f := filepath.Join(cfg.Out, "trajectories-"+np.name+".png")
			var opts []plot.Option // one legend, on the last panel of the montage
			if i < len(paths())-1 {
				opts = append(opts, plot.NoLegend())
			}
			if err := plot.Trajectories(f, fmt.Sprintf("%s: NFE %d, NLL %.2f", np.name, pr.NFE, pr.NLL), traj, opts...); err != nil {
				return r, err
			}
			trajFiles = append(trajFiles, f)
		}
	}
	paired := func(a, b []float64) (float64, float64) {
		d := make([]float64, len(a))
		for i := range d {
			d[i] = a[i] - b[i]
		}
		return metrics.MeanStdErr(d)
	}
	r.VPMinusOT, r.VPMinusOTSE = paired(r.Paths[1].NLLRows, r.Paths[2].NLLRows)
	r.VEMinusVP, r.VEMinusVPSE = paired(r.Paths[0].NLLRows, r.Paths[1].NLLRows)
	if cfg.Out == "" {
		return r, nil
	}
	series := map[string][]float64{}
	for _, p := range r.Paths {
		series[p.Name] = p.Losses
	}
	if err := plot.LossCurves(filepath.Join(cfg.Out, "losses.png"), "CFM training loss (each path has its own floor)", series, 25); err != nil {
		return r, err
	}
	return r, plot.Montage(filepath.Join(cfg.Out, "figure.png"), trajFiles...)
}
