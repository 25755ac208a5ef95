package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm/discrete"
	"github.com/flowmatch/flowmatch/plot"
)

// discreteDataArg reports whether args ask demo for a discrete dataset
// (-data checkerboard-discrete or 8gaussians-discrete, data.DiscreteNames),
// which runDiscreteDemo serves.
func discreteDataArg(args []string) bool {
	for k, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "data="); ok {
			return slices.Contains(data.DiscreteNames(), v)
		}
		if a == "data" && k+1 < len(args) && strings.HasPrefix(args[k], "-") {
			return slices.Contains(data.DiscreteNames(), args[k+1])
		}
	}
	return false
}

// discreteReport is what the discrete demo measures (report.json).
type discreteReport struct {
	Dataset      string   `json:"dataset"`
	Bins         int      `json:"bins"`
	Source       string   `json:"source"`
	Scheduler    string   `json:"scheduler"`
	Loss         string   `json:"loss"`
	Steps        int      `json:"steps"`
	Batch        int      `json:"batch"`
	Seed         uint64   `json:"seed"`
	FinalLoss    float64  `json:"final_loss"`
	TrainSeconds float64  `json:"train_seconds"`
	EulerSteps   int      `json:"euler_steps"`
	NLL          float64  `json:"nll"`     // exact: −Σ q log π over the whole grid, π the Euler sampler's law
	Entropy      float64  `json:"entropy"` // exact discrete entropy of q
	KL           float64  `json:"kl"`      // exact KL(q ‖ π) = NLL − H
	NegELBO      float64  `json:"neg_elbo"`
	NegELBOErr   float64  `json:"neg_elbo_stderr"`
	Seconds      float64  `json:"seconds"`
	Files        []string `json:"files"`
}

// runDiscreteDemo is demo for the discrete datasets: it trains a
// discrete.PosteriorMLP on the grid's tokens with a mixture path, computes
// the Euler sampler's exact law on all bins² cells
// (discrete.EulerDistribution), hence the exact NLL, entropy and KL, and a
// Monte-Carlo negative ELBO of the CTMC run to 1 − 1/euler-steps and then
// a draw from p_θ (discrete.ELBOEstimate), draws the data's and the
// model's cell probabilities (data.png, model.png) and writes report.json.
func runDiscreteDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "-data checkerboard-discrete|8gaussians-discrete [-out dir] [flags]", stderr)
	out := fs.String("out", "flowmatch-demo", "output folder for data.png, model.png and report.json (created if missing; its parent must exist)")
	dataSpec := fs.String("data", "checkerboard-discrete", "discrete dataset: "+strings.Join(data.DiscreteNames(), " or "))
	bins := fs.Int("bins", 64, "grid cells per axis (a multiple of 4, at most 128)")
	steps := fs.Int("steps", 3000, "training steps")
	batch := fs.Int("batch", 256, "batch size")
	euler := fs.Int("euler-steps", 64, "steps of the Euler sampler whose exact law is evaluated")
	source := fs.String("source", "mask", "source distribution: mask or uniform")
	loss := fs.String("loss", "ce", "training loss: ce or gkl")
	seed := fs.Uint64("seed", 0, "random seed")
	threads := addThreadsFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if err := checkCount("bins", *bins, 4, 128); err != nil {
		return err
	}
	if err := checkCount("steps", *steps, 1, 1_000_000); err != nil {
		return err
	}
	if err := checkCount("batch", *batch, 1, 65536); err != nil {
		return err
	}
	if err := checkCount("euler-steps", *euler, 1, 10_000); err != nil {
		return err
	}
	var src discrete.Source
	switch *source {
	case "mask":
		src = discrete.Mask
	case "uniform":
		src = discrete.Uniform
	default:
		return usagef("-source %q: want mask or uniform", *source)
	}
	if *loss != "ce" && *loss != "gkl" {
		return usagef("-loss %q: want ce or gkl", *loss)
	}
	if err := checkOutDir("out", *out); err != nil {
		return err
	}
	q, err := data.DiscreteToy(*dataSpec, *bins)
	if err != nil {
		return usagef("-data: %v", err)
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	start := time.Now()
	p := discrete.Path{Sched: discrete.Linear{}, Source: src, V: *bins, D: 2}
	m := discrete.NewPosteriorMLP(p, 32, []int{128, 128}, ag.ActSiLU, newRand(*seed, 21))
	r := discreteReport{Dataset: *dataSpec, Bins: *bins, Source: src.String(), Scheduler: p.Sched.String(), Loss: *loss,
		Steps: *steps, Batch: *batch, Seed: *seed, EulerSteps: *euler}
	fmt.Fprintf(stdout, "demo: training a discrete posterior MLP (embeddings 32, hidden [128 128]) on %s (%d×%d cells), %s source, linear κ, %s loss, %d steps of batch %d\n",
		*dataSpec, *bins, *bins, src, *loss, *steps, *batch)
	losses, err := discrete.Train(m, discrete.TrainConfig{Data: q.Sampler(), Loss: discrete.Loss(*loss), Batch: *batch, Steps: *steps, LR: 2e-3, Seed: *seed,
		Callback: func(step int, l float64) {
			if step%500 == 0 || step == *steps {
				fmt.Fprintf(stderr, "train: step %d/%d loss %.4f\n", step, *steps, l)
			}
		}})
	if err != nil {
		return err
	}
	r.FinalLoss, r.TrainSeconds = meanTail(losses, 100), time.Since(start).Seconds()
	pi := discrete.EulerDistribution(m, p, *euler)
	r.NLL, r.Entropy = discrete.NLL(p, q, pi)
	r.KL = r.NLL - r.Entropy
	// Pictures: the data's cell probabilities and the sampler's exact law,
	// row iy of the grid holding the cells with second token iy.
	sp := discrete.SpaceOf(p)
	qcell := make([]float64, sp.Size())
	for j, x := range q.X {
		qcell[sp.Index(x)] = q.W[j]
	}
	for _, pic := range []struct {
		file, title string
		law         []float64
	}{{"data.png", *dataSpec + ": cell probabilities q", qcell},
		{"model.png", fmt.Sprintf("exact law of the Euler sampler (%d steps), kl = %.4f", *euler, r.KL), pi}} {
		grid := make([][]float64, *bins)
		for iy := range grid {
			grid[iy] = make([]float64, *bins)
			for ix := range grid[iy] {
				grid[iy][ix] = math.Log(pic.law[sp.Index([]int{ix, iy})])
			}
		}
		file := filepath.Join(*out, pic.file)
		if err := plot.DensityGrid(file, pic.title, grid, -4, 4, -4, 4); err != nil {
			return err
		}
		r.Files = append(r.Files, file)
	}
	// The ELBO's chain runs to 1 − h and then draws from p_θ, as Euler's last step does.
	elbo, se := discrete.ELBOEstimate(m, p, q.Sampler()(20000, newRand(*seed+1, 22)), 1-1/float64(*euler), newRand(*seed+1, 23))
	r.NegELBO, r.NegELBOErr = -elbo, se
	r.Seconds = time.Since(start).Seconds()
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := data.WriteFileAtomic(filepath.Join(*out, "report.json"), append(js, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: the exact NLL is that of the Euler sampler's law (%d steps) over all %d cells; −ELBO (the CTMC to 1 − 1/%d, then a draw from p_θ; Monte Carlo, 20,000 draws) = %.4f ± %.4f\n",
		*euler, *bins**bins, *euler, r.NegELBO, r.NegELBOErr)
	fmt.Fprintf(stdout, "demo: dataset=%s steps=%d nll=%.4f entropy=%.4f kl=%.4f seconds=%.1f\n", *dataSpec, *steps, r.NLL, r.Entropy, r.KL, r.Seconds)
	return nil
}

// discreteDatasets lists the discrete toys of demo with their exact
// discrete entropies at the default 64 × 64 cells.
func discreteDatasets(w io.Writer) {
	fmt.Fprintln(w, "\nDiscrete datasets (demo -data NAME; 2 tokens on a 64×64 grid; H is the exact discrete entropy):")
	for _, name := range data.DiscreteNames() {
		q, err := data.DiscreteToy(name, 64)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "  %-22s H = %.4f nats (exact)\n", name, data.DiscreteEntropy(q))
	}
}
