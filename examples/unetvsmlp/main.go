// Command unetvsmlp compares, at equal wall time, a small U-Net velocity
// field (nn.UNet) with the conditional velocity MLP of flowmatch demo -data
// mnist14 (nn.NewLabelVelocityMLP(196, 10, [512, 512, 512], SiLU)) on
// label-conditioned MNIST at 14×14, by the measures of metrics/classify at
// the same classifier-free guidance weight w.
//
// Every model is trained by fm.Train on the conditional flow-matching loss
// (Lipman et al. 2022, arXiv:2210.02747, eq. 9; CondOT σ_min = 0, §4.1)
// with label dropout 0.1 (Ho & Salimans 2022, arXiv:2207.12598,
// Algorithm 1), Adam 1e-3, no schedule, for the same wall-clock budget: the
// models take turns on the same machine and the same thread count, and
// training stops after the first step that ends past the budget. The MLP
// takes the fused step (TrainConfig.Fused, batch 128, as the demo); a U-Net
// takes the autograd step (its batch is a flag). Then each model draws n
// images (n/10 of each class) from the same noise by Euler's method in 50
// steps along the guided field fm.Guided at each w, and the evaluation
// classifier (metrics/classify: an MLP 196 → 256 → 256 → 10 trained 3
// epochs on the training images) scores them: class accuracy, the Fréchet
// distance of its penultimate features to the test images' (Heusel et al.
// 2017, arXiv:1706.08500, eq. 6, in this classifier's features) and the
// floor of that distance (n training images against the test set).
//
// Run it with
//
//	go run ./examples/unetvsmlp                          # budget 180 s a model, U-Nets Ch 8 (batch 64) and Ch 16 (batch 32)
//	go run ./examples/unetvsmlp -budget 20s -n 200      # a quick look
//
// It ends with one line per model and w. Measured with the defaults (MLP
// first; 2-core AMD EPYC (Zen 5, family 26), shared, load average 4–6;
// 12 min wall in all; classifier test accuracy 0.9755):
//
//	model  w  steps  images  train_s  cpu_s  acc  fd  fd_floor
//	MLP_512³  1  8797  1126016  180.0  106.5  0.785  12.99  2.16
//	MLP_512³  2  8797  1126016  180.0  106.5  0.977  42.18  2.16
//	U-Net_Ch_8  1  877  56128  180.0  117.4  0.360  34.82  2.16
//	U-Net_Ch_8  2  877  56128  180.0  117.4  0.602  26.14  2.16
//	U-Net_Ch_16  1  1013  32416  180.0  138.2  0.497  21.87  2.16
//	U-Net_Ch_16  2  1013  32416  180.0  138.2  0.786  15.56  2.16
//
// Again with -mlp-last (U-Nets first; load average 1–3): U-Net Ch 8 1,578
// steps, w = 1 acc 0.528 FD 17.53, w = 2 0.800 / 23.53; U-Net Ch 16 1,577
// steps, 0.602 / 12.59, 0.882 / 20.24; MLP 16,168 steps, 0.832 / 8.00,
// 0.988 / 48.36. In both rounds the MLP wins on accuracy at both weights
// and on Fréchet distance at w = 1; the U-Net Ch 16 on Fréchet distance at
// w = 2. The table and what
// it means are in tutorials/13-convolution/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/metrics/classify"
	"github.com/flowmatch/flowmatch/nn"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "unetvsmlp:", err)
		os.Exit(1)
	}
}

// spec is one contender: the MLP (Ch = 0) or a U-Net of Ch channels.
type spec struct {
	Name  string
	Ch    int // 0: the demo's MLP
	Batch int
}

// result is what a contender scored.
type result struct {
	spec
	Params         int
	Steps          int
	TrainS, CPUS   float64
	Load           float64 // 1-minute load average at the end of training
	Acc, AccSE, FD []float64
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("unetvsmlp", flag.ContinueOnError)
	budget := fs.Duration("budget", 180*time.Second, "wall-clock training budget of each model")
	unets := fs.String("unet", "8:64,16:32", "U-Nets to train, as Ch:batch pairs (4 GroupNorm groups, time embedding 64)")
	n := fs.Int("n", 1000, "images drawn per model and w, a multiple of 10")
	ws := fs.String("w", "1,2", "guidance weights")
	odeSteps := fs.Int("ode-steps", 50, "Euler steps from noise to image")
	threads := fs.Int("threads", 1, "GEMM threads (the same for every model)")
	seed := fs.Uint64("seed", 1, "random seed")
	mlpLast := fs.Bool("mlp-last", false, "train the MLP after the U-Nets (to alternate the order between runs)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the U-Nets' training to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		profile = f
	}
	if *n < 10 || *n%10 != 0 {
		return fmt.Errorf("-n %d: want a positive multiple of 10", *n)
	}
	weights, err := parseFloats(*ws)
	if err != nil {
		return fmt.Errorf("-w %q: %v", *ws, err)
	}
	specs := []spec{{Name: "MLP 512³", Batch: 128}}
	for _, p := range strings.Split(*unets, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		a, b, ok := strings.Cut(p, ":")
		ch, err1 := strconv.Atoi(a)
		batch, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || ch < 4 || ch%4 != 0 || batch < 1 {
			return fmt.Errorf("-unet %q: want Ch:batch pairs with Ch a multiple of 4, e.g. 8:64", p)
		}
		specs = append(specs, spec{Name: fmt.Sprintf("U-Net Ch %d", ch), Ch: ch, Batch: batch})
	}
	if *mlpLast {
		specs = append(specs[1:], specs[0])
	}
	nn.SetThreads(*threads)

	train, err := mnist.Load("mnist14", mnist.Train)
	if err != nil {
		return err
	}
	test, err := mnist.Load("mnist14", mnist.Test)
	if err != nil {
		return err
	}
	clf, err := classify.Train(train.X, train.Labels, classify.Config{Classes: mnist.Classes, Seed: *seed})
	if err != nil {
		return err
	}
	clfAcc, _, err := clf.Accuracy(test.X, test.Labels)
	if err != nil {
		return err
	}
	testFeat := clf.Features(test.X)
	sub := train.Subset(fm.NewRand(*seed + 14).Perm(train.Len())[:*n])
	floor, err := metrics.FrechetDistance(clf.Features(sub.X), testFeat)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "classifier test accuracy %.4f; FD floor (%d training images vs test) %.3f\n", clfAcc, *n, floor)

	labels := make([]int, *n)
	for i := range labels {
		labels[i] = i / (*n / mnist.Classes)
	}
	null := nn.LabelContext([]int{nn.NullLabel}, mnist.Classes)
	var results []result
	for _, s := range specs {
		r, model, err := trainFor(s, train, null, *budget, *seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (%d parameters, batch %d): %d steps in %.1f s wall, %.1f s CPU, load %.1f\n", s.Name, r.Params, s.Batch, r.Steps, r.TrainS, r.CPUS, r.Load)
		for _, w := range weights {
			x, err := sample(model, labels, null, w, *odeSteps, *seed)
			if err != nil {
				return err
			}
			acc, se, err := clf.Accuracy(x, labels)
			if err != nil {
				return err
			}
			fd, err := metrics.FrechetDistance(clf.Features(x), testFeat)
			if err != nil {
				return err
			}
			r.Acc, r.AccSE, r.FD = append(r.Acc, acc), append(r.AccSE, se), append(r.FD, fd)
			fmt.Fprintf(stdout, "  w = %g: accuracy %.3f ± %.3f, FD %.2f\n", w, acc, se, fd)
		}
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "\nbudget %s a model, %d threads, n = %d, Euler %d steps\n", *budget, *threads, *n, *odeSteps)
	fmt.Fprintln(stdout, "model  w  steps  images  train_s  cpu_s  acc  fd  fd_floor")
	for _, r := range results {
		for i, w := range weights {
			fmt.Fprintf(stdout, "%s  %g  %d  %d  %.1f  %.1f  %.3f  %.2f  %.2f\n",
				strings.ReplaceAll(r.Name, " ", "_"), w, r.Steps, r.Steps*r.Batch, r.TrainS, r.CPUS, r.Acc[i], r.FD[i], floor)
		}
	}
	return nil
}

// profile, if not nil, receives the CPU profile of the first U-Net's training.
var profile io.Writer

// errBudget stops fm.Train from its callback once the budget is spent.
var errBudget = errors.New("budget spent")

// trainFor trains the contender s on set for the wall-clock budget: fm.Train
// with a step count it will not reach, stopped by a panic from the callback
// after the first step that ends past the budget (the steps done so far
// have updated the model in place).
func trainFor(s spec, set *mnist.Set, null *ag.Tensor, budget time.Duration, seed uint64) (r result, model fm.Model, err error) {
	rng := fm.NewRand(seed + 2)
	if s.Ch == 0 {
		model = nn.NewLabelVelocityMLP(set.Dim(), mnist.Classes, []int{512, 512, 512}, ag.ActSiLU, rng)
	} else {
		model = nn.NewUNet(nn.UNetConfig{C: 1, H: set.Side, W: set.Side, Ch: s.Ch, Groups: 4, Emb: 64,
			Ctx: mnist.Classes + 1, Classes: mnist.Classes}, rng)
	}
	r.spec = s
	for _, p := range model.Params() {
		r.Params += len(p.Data)
	}
	if profile != nil && s.Ch > 0 {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return r, nil, err
		}
		defer pprof.StopCPUProfile()
	}
	start, cpu := time.Now(), cpuSeconds()
	cfg := fm.TrainConfig{Path: fm.CondOT{}, Cond: set.CondSampler(), CondDrop: 0.1, Null: null,
		BatchSize: s.Batch, Steps: 1 << 20, LR: 1e-3, Seed: seed, Fused: s.Ch == 0,
		Callback: func(step int, _ float64) {
			r.Steps = step
			if time.Since(start) >= budget {
				panic(errBudget)
			}
		}}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errBudget {
				panic(p)
			}
		}()
		_, err = fm.Train(model, cfg)
	}()
	r.TrainS, r.CPUS, r.Load = time.Since(start).Seconds(), cpuSeconds()-cpu, loadAverage()
	return r, model, err
}

// sample draws len(labels) images from x₀ ~ N(0, I) (the same noise for
// every model, from seed) by Euler's method along the guided field
// fm.Guided(model.ForwardCond, c, null, w), in chunks of 250.
func sample(model fm.Model, labels []int, null *ag.Tensor, w float64, steps int, seed uint64) (*ag.Tensor, error) {
	const chunk = 250
	n, d := len(labels), model.Dim()
	x0 := ag.Normal(n, d, 0, 1, fm.NewRand(seed+8))
	out := ag.Zeros(n, d)
	for i0 := 0; i0 < n; i0 += chunk {
		k := min(chunk, n-i0)
		c := nn.LabelContext(labels[i0:i0+k], mnist.Classes)
		v := fm.Guided(fm.CondVelocity(model.ForwardCond), c, null, w)
		x, _, err := cnf.Sample(cnf.FieldOf(v), ag.FromSlice(k, d, x0.Data[i0*d:(i0+k)*d]), cnf.SolveOptions{Method: cnf.Euler, Steps: steps})
		if err != nil {
			return nil, err
		}
		copy(out.Data[i0*d:], x.Data)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// cpuSeconds is the CPU time (user + system) of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadAverage is the 1-minute load average from /proc/loadavg (0 if unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
