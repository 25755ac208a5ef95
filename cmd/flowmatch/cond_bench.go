package main

import (
	"fmt"
	"io"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/flowmatch/flowmatch/nn"
)

// benchCondArg reports whether bench is asked for the conditional MNIST
// training step (-what train-cond), which runCondBench times.
func benchCondArg(args []string) bool {
	v, _ := flagArg(args, "what")
	return v == "train-cond"
}

// runCondBench is bench -what train-cond: the training step of demo -data
// mnist14 as the PyTorch peer times it (bench/peers/torch_fm.py --what
// train-cond, in this repository): random images of MNIST14's shape
// (uniform on [−1, 1]¹⁹⁶, a pool of 2¹⁴ with labels y ~ U{0, …, 9}),
// x₀ ~ N(0, I), t ~ U[0, 1], CondOT with σ_min = 0 (x_t = (1 − t)x₀ + t·x₁,
// u = x₁ − x₀), each label replaced by the null label with probability
// 0.1, the one-hot contexts (nn.LabelContext's layout) written into
// preallocated buffers, then the fused nn.TrainStep.LossGradCond on the
// model (x, t, onehot(y)) ∈ ℝ²⁰⁸ → 512 → 512 → 512 → 196 (SiLU) and an
// Adam step: nothing is allocated per step. It prints
// train_cond_steps_per_s=… with the context of the peer's line.
// TestBench_TrainCond.
func runCondBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "-what train-cond [flags]", stderr)
	fs.String("what", "train-cond", "train-cond: the conditional MNIST14 training step")
	batch := fs.Int("batch", 128, "training batch size")
	hidden := fs.Int("hidden", 512, "width of the three hidden layers")
	threads := fs.Int("threads", 1, "cores to use, 1 to 64 (1 like the peer; results do not depend on it)")
	minTime := fs.Float64("min-time", 2, "seconds of timed training")
	warmup := fs.Int("warmup-steps", 20, "untimed training steps first")
	drop := fs.Float64("cond-drop", 0.1, "label dropout probability")
	seed := fs.Uint64("seed", 0, "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if err := checkCount("batch", *batch, 1, 1<<16); err != nil {
		return err
	}
	if err := checkCount("hidden", *hidden, 1, 1<<14); err != nil {
		return err
	}
	if err := checkCount("warmup-steps", *warmup, 0, 1_000_000); err != nil {
		return err
	}
	if !(*minTime > 0 && *minTime <= 3600) {
		return usagef("-min-time %g: want seconds in (0, 3600]", *minTime)
	}
	if !(*drop >= 0 && *drop < 1) {
		return usagef("-cond-drop %g: want a probability in [0, 1)", *drop)
	}
	fmt.Fprintf(stdout, "# cpu: %s\n# kernels: %s\n", cpu.Detect(), ag.Kernels())
	const dim, classes = 14 * 14, mnist.Classes
	ctx := classes + 1
	rng := newRand(*seed, 11)
	model := nn.NewLabelVelocityMLP(dim, classes, []int{*hidden, *hidden, *hidden}, ag.ActSiLU, newRand(*seed, 2))
	step, err := nn.NewTrainStep(model, *batch)
	if err != nil {
		return err
	}
	opt := nn.NewAdam(model.Params(), 1e-3)
	const poolN = 1 << 14
	pool := ag.Uniform(poolN, dim, -1, 1, rng)
	poolLabels := make([]int, poolN)
	for i := range poolLabels {
		poolLabels[i] = rng.IntN(classes)
	}
	b := *batch
	xt, t, u, c := make([]float64, dim*b), make([]float64, b), make([]float64, dim*b), make([]float64, ctx*b)
	one := func() {
		clear(c)
		for i := range b {
			k := rng.IntN(poolN)
			x1 := pool.Row(k)
			ti := rng.Float64()
			t[i] = ti
			for j := range dim {
				x0 := rng.NormFloat64()
				xt[dim*i+j] = (1-ti)*x0 + ti*x1[j]
				u[dim*i+j] = x1[j] - x0
			}
			y := poolLabels[k]
			if rng.Float64() < *drop {
				y = classes // the null label's column
			}
			c[ctx*i+y] = 1
		}
		opt.ZeroGrad()
		step.LossGradCond(t, xt, c, u)
		opt.Step()
	}
	for range *warmup {
		one()
	}
	n, start := 0, time.Now()
	for time.Since(start).Seconds() < *minTime {
		one()
		n++
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "train_cond_steps_per_s=%.2f batch=%d steps=%d elapsed_s=%.3f dim=%d ctx=%d hidden=%d cond_drop=%g dtype=float64 threads=%d impl=flowmatch data=mnist14-shape act=silu\n",
		float64(n)/el, b, n, el, dim, ctx, *hidden, *drop, *threads)
	return nil
}
