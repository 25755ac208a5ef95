package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// runBench runs the workload of ../shared/bench/peers/torch_fm.py and prints
// one metric a line in the same key=value form, so the two programs can be
// compared by a script.
func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "[flags]", stderr)
	what := fs.String("what", "train,sample,loglik", "comma list of: train, sample, loglik")
	batch := fs.Int("batch", 256, "training batch size")
	threads := fs.Int("threads", 1, "threads for the kernels")
	minTime := fs.Float64("min-time", 2, "seconds of timed training")
	warmup := fs.Int("warmup-steps", 20, "untimed training steps first")
	samplePoints := fs.Int("sample-points", 10000, "points for the sampling benchmark")
	loglikPoints := fs.Int("loglik-points", 1000, "points for the log-likelihood benchmark")
	odeSteps := fs.Int("ode-steps", 100, "Euler steps for sampling and log-likelihood")
	seed := fs.Uint64("seed", 0, "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := setThreads(*threads); err != nil {
		return err
	}
	suffix := fmt.Sprintf("dtype=float64 threads=%d impl=flowmatch data=8gaussians act=silu", *threads)
	model := nn.NewVelocityMLP(2, []int{256, 256, 256}, nn.ActSiLU, newRand(*seed, 2))
	draw, _, err := sampler("8gaussians", newRand(*seed, 1))
	if err != nil {
		return err
	}
	p := fm.CondOT{SigmaMin: 1e-4}
	for _, w := range strings.Split(*what, ",") {
		switch strings.TrimSpace(w) {
		case "train":
			step := newTrainer(model, p, draw, *batch, 1e-3, *seed)
			for range *warmup {
				step()
			}
			n, start := 0, time.Now()
			for time.Since(start).Seconds() < *minTime {
				step()
				n++
			}
			fmt.Fprintf(stdout, "train_steps_per_s=%.2f batch=%d %s\n", float64(n)/time.Since(start).Seconds(), *batch, suffix)
		case "sample":
			opts, _ := solveOptions("euler", *odeSteps, 0)
			start := time.Now()
			if _, _, err := sample(model, p, *samplePoints, opts, newRand(*seed, 3), nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sample_points_per_s=%.1f points=%d ode_steps=%d %s\n", float64(*samplePoints)/time.Since(start).Seconds(), *samplePoints, *odeSteps, suffix)
		case "loglik":
			opts, _ := solveOptions("euler", *odeSteps, 0)
			x := draw(*loglikPoints, newRand(*seed, 4))
			start := time.Now()
			if _, _, err := logLikelihood(model, p, x, opts); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "loglik_points_per_s=%.1f points=%d ode_steps=%d %s\n", float64(*loglikPoints)/time.Since(start).Seconds(), *loglikPoints, *odeSteps, suffix)
		default:
			return usagef("-what %q: want a comma list of train, sample, loglik", w)
		}
	}
	return nil
}

// newTrainer returns one CFM training step of the workload (data, noise,
// t, target, forward, backward, Adam), as the PyTorch peer times it.
func newTrainer(model *nn.VelocityMLP, p fm.Path, draw fm.Sampler, batch int, lr float64, seed uint64) func() {
	rng := newRand(seed, 11)
	opt := nn.NewAdam(model.Params(), lr)
	return func() {
		x1 := draw(batch, rng)
		x0 := ag.Normal(batch, x1.Cols, 0, 1, rng)
		t := ag.Uniform(batch, 1, 0, 1, rng)
		loss := fm.CFMLoss(model.Forward, p, t, x0, x1)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
	}
}

// setThreads sets the kernels' thread count (1 until parallel kernels land).
func setThreads(n int) error {
	if n != 1 {
		return usagef("-threads %d: only 1 is supported so far", n)
	}
	return nil
}
