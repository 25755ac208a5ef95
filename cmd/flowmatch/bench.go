package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/flowmatch/flowmatch/nn"
)

// runBench runs the workload of the PyTorch peer bench/peers/torch_fm.py
// (in this repository; scripts/bench-vs-torch runs both) and prints one
// metric a line in the same key=value form, so the two programs can be
// compared by a script. Its -threads defaults to 1, as the peer's
// torch.set_num_threads does. Two lines starting with "# " come first: the
// CPU (model, ISA, caches; internal/cpu) and the kernels chosen for it
// (autograd.Kernels), which scripts/bench-vs-torch records with every result.
//
// -what gemm times C = A·B for square sizes (-gemm-sizes) on one thread
// with the kernel and blocking chosen for this CPU; with -tune it instead
// measures every candidate kernel and blocking (autograd.TuneGemm), prints
// them as a table and the row to add to the source for this processor
// model (docs/PERFORMANCE.md, "Contributing a tuned row"), with the load
// average, since a loaded machine lowers every figure.
//
// -what scaling times the training step on 1 and on -threads threads (2 if
// -threads is 1) and as many single-thread copies of it at once, and prints
// both ratios (runScaling).
func runBench(args []string, stdout, stderr io.Writer) error {
	if benchCondArg(args) {
		return runCondBench(args, stdout, stderr) // cond_bench.go
	}
	fs := newFlagSet("bench", "[flags]", stderr)
	what := fs.String("what", "train,sample,loglik", "comma list of: train, sample, loglik, gemm, scaling")
	tune := fs.Bool("tune", false, "with -what gemm: measure every kernel and blocking and print the row for this CPU")
	gemmSizes := fs.String("gemm-sizes", "256,512", "with -what gemm: comma list of square sizes n (C = A·B, n×n)")
	tuneTrial := fs.Float64("tune-trial", 0.1, "with -tune: seconds per candidate, size and round")
	tuneRounds := fs.Int("tune-rounds", 3, "with -tune: rounds over all candidates (the fastest time counts)")
	batch := fs.Int("batch", 256, "training batch size")
	threads := fs.Int("threads", 1, "cores to use, 1 to 64 (1 like the peer; results do not depend on it)")
	minTime := fs.Float64("min-time", 2, "seconds of timed training")
	warmup := fs.Int("warmup-steps", 20, "untimed training steps first")
	samplePoints := fs.Int("sample-points", 10000, "points for the sampling benchmark")
	loglikPoints := fs.Int("loglik-points", 1000, "points for the log-likelihood benchmark")
	odeSteps := fs.Int("ode-steps", 100, "Euler steps for sampling and log-likelihood")
	seed := fs.Uint64("seed", 0, "random seed")
	rounds := fs.Int("rounds", 3, "with -what scaling: rounds of the three measurements in turn (the best of each counts)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	for _, c := range []struct {
		name  string
		v, lo int
		hi    int
	}{{"batch", *batch, 1, 1 << 16}, {"warmup-steps", *warmup, 0, 1_000_000}, {"sample-points", *samplePoints, 1, maxPoints},
		{"loglik-points", *loglikPoints, 1, maxPoints}, {"ode-steps", *odeSteps, 1, 1_000_000}, {"rounds", *rounds, 1, 100}} {
		if err := checkCount(c.name, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	if !(*minTime > 0 && *minTime <= 3600) {
		return usagef("-min-time %g: want seconds in (0, 3600]", *minTime)
	}
	for _, w := range strings.Split(*what, ",") {
		if w := strings.TrimSpace(w); w != "train" && w != "sample" && w != "loglik" && w != "gemm" && w != "scaling" {
			return usagef("-what %q: want a comma list of train, sample, loglik, gemm, scaling", w)
		}
	}
	sizes, err := parseGemmSizes(*gemmSizes)
	if err != nil {
		return err
	}
	if *tune && strings.TrimSpace(*what) != "gemm" {
		return usagef("-tune measures GEMM kernels only: use it with -what gemm")
	}
	if !(*tuneTrial > 0 && *tuneTrial <= 60) {
		return usagef("-tune-trial %g: want seconds in (0, 60]", *tuneTrial)
	}
	if err := checkCount("tune-rounds", *tuneRounds, 1, 100); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# cpu: %s\n# kernels: %s\n", cpu.Detect(), autograd.Kernels())
	if *tune {
		runTune(stdout, sizes, time.Duration(*tuneTrial*float64(time.Second)), *tuneRounds)
		return nil
	}
	suffix := fmt.Sprintf("dtype=float64 threads=%d impl=flowmatch data=8gaussians act=silu", *threads)
	model := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRand(*seed, 2))
	draw := data.EightGaussians().Sample
	p := fm.CondOT{SigmaMin: 1e-4}
	for _, w := range strings.Split(*what, ",") {
		switch strings.TrimSpace(w) {
		case "train":
			step, err := newTrainer(model, p, draw, *batch, 1e-3, *seed)
			if err != nil {
				return err
			}
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
			if _, err := sample(model, p, *samplePoints, opts, newRand(*seed, 3), 0, *threads, nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sample_points_per_s=%.1f points=%d ode_steps=%d %s\n", float64(*samplePoints)/time.Since(start).Seconds(), *samplePoints, *odeSteps, suffix)
		case "loglik":
			opts, _ := solveOptions("euler", *odeSteps, 0)
			x := draw(*loglikPoints, newRand(*seed, 4))
			start := time.Now()
			if _, _, err := logLikelihood(model, p, x, opts, *threads, nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "loglik_points_per_s=%.1f points=%d ode_steps=%d %s\n", float64(*loglikPoints)/time.Since(start).Seconds(), *loglikPoints, *odeSteps, suffix)
		case "gemm":
			for _, n := range sizes {
				g, cpuTime := autograd.TimeGemm(n, time.Duration(*minTime*float64(time.Second)))
				clock := "wall"
				if cpuTime {
					clock = "thread-cpu"
				}
				fmt.Fprintf(stdout, "gemm_gflops=%.2f n=%d clock=%s dtype=float64 threads=%d impl=flowmatch\n", g, n, clock, *threads)
			}
		case "scaling": // bench_scaling.go
			sp := scalingSpec{batch: *batch, threads: *threads, warmup: *warmup, rounds: *rounds,
				min: time.Duration(*minTime * float64(time.Second)), seed: *seed}
			if err := runScaling(stdout, sp, "dtype=float64 impl=flowmatch data=8gaussians act=silu"); err != nil {
				return err
			}
		default:
			return usagef("-what %q: want a comma list of train, sample, loglik, gemm, scaling", w)
		}
	}
	return nil
}

// newTrainer returns one CFM training step of the workload as the PyTorch
// peer times it: x₁ drawn with replacement from a pool of 2¹⁷ data points,
// x₀ ~ N(0, I), t ~ U[0, 1], x_t = (1 − (1 − σ_min)t)x₀ + t·x₁ and
// u = x₁ − (1 − σ_min)x₀ written into preallocated buffers, then the fused
// loss and gradient (nn.TrainStep) and an Adam step: no allocation per step.
func newTrainer(model *nn.VelocityMLP, p fm.CondOT, draw fm.Sampler, batch int, lr float64, seed uint64) (func(), error) {
	rng := newRand(seed, 11)
	pool := draw(1<<17, rng)
	opt := nn.NewAdam(model.Params(), lr)
	step, err := nn.NewTrainStep(model, batch)
	if err != nil {
		return nil, err
	}
	d := model.Dim()
	xt, t, u := make([]float64, d*batch), make([]float64, batch), make([]float64, d*batch)
	c := 1 - p.SigmaMin
	return func() {
		for i := range batch {
			x1 := pool.Row(rng.IntN(pool.Rows))
			ti := rng.Float64()
			t[i] = ti
			for j := range d {
				x0 := rng.NormFloat64()
				xt[d*i+j] = (1-c*ti)*x0 + ti*x1[j]
				u[d*i+j] = x1[j] - c*x0
			}
		}
		opt.ZeroGrad()
		step.LossGrad(t, xt, u)
		opt.Step()
	}, nil
}

// parseGemmSizes reads -gemm-sizes: square sizes from 8 to 4096.
func parseGemmSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 8 || n > 4096 {
			return nil, usagef("-gemm-sizes %q: want a comma list of sizes from 8 to 4096", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// runTune prints autograd.TuneGemm's trials, best first, and the row to add
// to the source, with the load average (Linux's /proc/loadavg) when known.
func runTune(w io.Writer, sizes []int, trial time.Duration, rounds int) {
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	fmt.Fprintf(w, "# tune: one thread, %d rounds over every candidate, %.2f s each per size; load average before: %s\n", rounds, trial.Seconds(), load)
	trials, best := autograd.TuneGemm(sizes, trial, rounds)
	order := make([]int, len(trials))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return trials[order[a]].Score > trials[order[b]].Score })
	fmt.Fprintf(w, "%-24s %5s %5s %5s", "kernel", "mc", "kc", "nc")
	for _, n := range sizes {
		fmt.Fprintf(w, " %9s", fmt.Sprintf("%d³", n))
	}
	fmt.Fprintf(w, " %9s\n", "geomean")
	for _, i := range order {
		t := trials[i]
		fmt.Fprintf(w, "%-24s %5d %5d %5d", t.Kernel, t.MC, t.KC, t.NC)
		for _, g := range t.GFLOPS {
			fmt.Fprintf(w, " %9.2f", g)
		}
		mark := ""
		if t.Default {
			mark = "  (the plan in use)"
		}
		fmt.Fprintf(w, " %9.2f%s\n", t.Score, mark)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	unit := "GFLOP/s (wall clock)"
	if trials[best].CPUTime {
		unit = "GFLOP per second of this thread's CPU time"
	}
	fmt.Fprintf(w, "# %s, fastest of the rounds; load average after: %s\n", unit, load)
	fmt.Fprintf(w, "# row for tunedPlans in autograd/internal/kernels/gemm_plan.go:\n\t%s\n", autograd.TunedRow(trials[best], sizes))
}
