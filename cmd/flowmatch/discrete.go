package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm/discrete"
)

// discreteDataArg reports whether args ask demo for a discrete dataset
// (-data checkerboard-discrete or 8gaussians-discrete, data.DiscreteNames),
// which runDiscreteDemo serves.
func discreteDataArg(args []string) bool {
	return dataArgIn(args, data.DiscreteNames())
}

// dataArgIn reports whether the -data flag in args (-data x, --data x or
// -data=x) names one of names; the commands use it to route a dataset family
// (discrete, manifold) before parsing their own flags.
func dataArgIn(args, names []string) bool {
	v, ok := flagArg(args, "data")
	return ok && slices.Contains(names, v)
}

// flagArg returns the value given to the flag -name (or --name) in args,
// as -name=v or -name v, and whether it is there: the routes choose a
// command by one flag before that command parses them all.
// TestFlagArg.
func flagArg(args []string, name string) (string, bool) {
	for k, a := range args {
		t := strings.TrimLeft(a, "-")
		if t == a {
			continue
		}
		if v, ok := strings.CutPrefix(t, name+"="); ok {
			return v, true
		}
		if t == name && k+1 < len(args) {
			return args[k+1], true
		}
	}
	return "", false
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
// model's cell probabilities (data.png, model.png) and writes the model
// (model.safetensors, for sample, loglik and plot) and report.json.
func runDiscreteDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "-data checkerboard-discrete|8gaussians-discrete [-out dir] [flags]", stderr)
	out := fs.String("out", "flowmatch-demo", "output folder for data.png, model.png, model.safetensors and report.json (created if missing; its parent must exist)")
	df := addDiscreteFlags(fs)
	euler := fs.Int("euler-steps", 64, "steps of the Euler sampler whose exact law is evaluated")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.threads(*threads)
	c.count("euler-steps", *euler, 1, maxEulerSteps)
	q, p, _ := df.check(c)
	c.outDir("out", *out)
	if c.err != nil {
		return c.err
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	start := time.Now()
	r := discreteReport{Dataset: *df.data, Bins: *df.bins, Source: p.Source.String(), Scheduler: p.Sched.String(), Loss: *df.loss,
		Steps: *df.steps, Batch: *df.batch, Seed: *df.seed, EulerSteps: *euler}
	fmt.Fprintf(stdout, "demo: training a discrete posterior MLP (embeddings 32, hidden [128 128]) on %s (%d×%d cells), %s source, linear κ, %s loss, %d steps of batch %d\n",
		*df.data, *df.bins, *df.bins, p.Source, *df.loss, *df.steps, *df.batch)
	m, losses, err := df.train(q, p, stderr)
	if err != nil {
		return err
	}
	r.FinalLoss, r.TrainSeconds = meanTail(losses, 100), time.Since(start).Seconds()
	ckpt := filepath.Join(*out, "model.safetensors")
	if err := discrete.SavePosteriorMLP(ckpt, m, map[string]string{metaDiscreteData: *df.data}); err != nil {
		return err
	}
	r.Files = append(r.Files, ckpt)
	pi := discrete.EulerDistribution(m, p, *euler)
	r.NLL, r.Entropy = discrete.NLL(p, q, pi)
	r.KL = r.NLL - r.Entropy
	files, err := drawLaws(*out, *df.data, p, q, pi, fmt.Sprintf("exact law of the Euler sampler (%d steps), kl = %.4f", *euler, r.KL))
	if err != nil {
		return err
	}
	r.Files = append(r.Files, files...)
	// The ELBO's chain runs to 1 − h and then draws from p_θ, as Euler's last step does.
	elbo, se := discrete.ELBOEstimate(m, p, q.Sampler()(20000, newRand(*df.seed+1, 22)), 1-1/float64(*euler), newRand(*df.seed+1, 23))
	r.NegELBO, r.NegELBOErr = -elbo, se
	r.Seconds = time.Since(start).Seconds()
	if _, err := writeReportJSON(*out, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: the exact NLL is that of the Euler sampler's law (%d steps) over all %d cells; −ELBO (the CTMC to 1 − 1/%d, then a draw from p_θ; Monte Carlo, 20,000 draws) = %.4f ± %.4f\n",
		*euler, *df.bins**df.bins, *euler, r.NegELBO, r.NegELBOErr)
	fmt.Fprintf(stdout, "demo: dataset=%s steps=%d nll=%.4f entropy=%.4f kl=%.4f seconds=%.1f\n", *df.data, *df.steps, r.NLL, r.Entropy, r.KL, r.Seconds)
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
