// Command unetvsmlp compares, at equal wall time on one quiet core, a small
// U-Net velocity field (nn.UNet) with the conditional velocity MLP of
// flowmatch demo -data mnist14 (nn.NewLabelVelocityMLP(196, 10, [512, 512,
// 512], SiLU)), or of -data mnist (784 inputs), on label-conditioned MNIST
// at 14×14 or 28×28, by the measures of metrics/classify at the same
// classifier-free guidance weight w.
//
// Every model is trained by fm.Train on the conditional flow-matching loss
// (Lipman et al. 2022, arXiv:2210.02747, eq. 9; CondOT σ_min = 0, §4.1)
// with label dropout 0.1 (Ho & Salimans 2022, arXiv:2207.12598,
// Algorithm 1), Adam (10⁻³ unless -mlp-lr or the -unet spec says
// otherwise), no schedule, for the same budget. The budget is measured, by
// default (-clock cpu), as the process's CPU seconds with GOMAXPROCS 1 and
// one GEMM thread: on a machine shared with other jobs, wall time is not
// equal between models, CPU time is, and on a quiet core the two are the
// same; the garbage collector's work counts against the model that causes
// it. -clock wall is the wall-clock budget of the first rounds. Training
// stops after the first step that ends past the budget. With -ema d the
// images are drawn from an exponential moving average of the weights
// (fm.TrainConfig.EMA, decay min(d, (1 + k)/(10 + k)) at update k); -eval-at
// also evaluates earlier budgets from snapshots of the same runs, and
// -eval-raw the raw weights beside the average (at the weights -snap-w).
// -save writes every snapshot as a checkpoint (nn.SaveUNet or
// nn.SaveVelocityMLP, with the run's numbers in its metadata) and -load
// evaluates such checkpoints without training, so that training and the
// sampling passes can run as separate processes; -classifier keeps the
// evaluation classifier in a file (classify.LoadOrTrain). -load c -rows a:b
// -w w -samples-out p draws only the images a…b−1 of one checkpoint (from
// the same noise rows as a whole run) and -combine p1,p2,… scores the parts
// together, so that one sampling pass can be spread over processes. The MLP
// takes the fused step (TrainConfig.Fused, batch 128, as the demo); a U-Net
// takes the autograd step (its batch is a flag; -mult its channel
// multipliers per resolution level, nn.UNetConfig.Mult, two levels by
// default; 14×14 images allow two levels only, 28×28 three). Then each model draws n
// images (n/10 of each class) from the same noise with the same
// fixed-step solver (-method euler|midpoint|heun, -nfe field evaluations,
// Euler 50 by default) along the guided field fm.Guided at each w, and the evaluation
// classifier (metrics/classify: an MLP 196 (or 784) → 256 → 256 → 10 trained 3
// epochs on the training images) scores them: class accuracy, the Fréchet
// distance of its penultimate features to the test images' (Heusel et al.
// 2017, arXiv:1706.08500, eq. 6, in this classifier's features) and the
// floor of that distance (n training images against the test set).
//
// Run it with
//
//	go run ./examples/unetvsmlp                          # 180 CPU-s a model, EMA 0.999, U-Nets Ch 8 (batch 64) and Ch 16 (batch 32)
//	go run ./examples/unetvsmlp -budget 20s -n 200      # a quick look
//	go run ./examples/unetvsmlp -data mnist -unet 16:32  # 28×28
//	go run ./examples/unetvsmlp -data mnist -unet 8:32 -mult 1,2,4  # 28×28, three levels (28 → 14 → 7)
//
// It ends with one line per model, snapshot and w. The first rounds, on
// the wall clock (-clock wall -budget 180s, Euler 50, no EMA; MLP first;
// 2-core AMD EPYC (Zen 5, family 26), shared, load average 4–6; 12 min wall
// in all; classifier test accuracy 0.9755):
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
// w = 2.
//
// Round 3, on the CPU clock with an EMA of the weights (the defaults:
// -clock cpu -ema 0.999 -budget 180s, Euler 50, n = 1,000; -eval-raw for
// the raw weights), each model in its own process side by side (-save
// -eval=false, then the sampling passes spread over processes with -load
// -rows and scored with -combine); 2-core AMD EPYC (Zen 5, family 26),
// shared, load average 9–41, 1,600–2,300 s of wall time for each model's
// 180 CPU-seconds; U-Net Ch 16 batch 32 built at commit 198f302 (with the
// fused GroupNorm–SiLU and one-sample convolutions):
//
//	data     model        steps   w=1 acc  FD      w=2 acc  FD      w=1 FD raw
//	mnist14  MLP 512³     11707   0.820    7.98    0.987    46.83   11.08
//	mnist14  U-Net Ch 16   2844   0.760    6.18    0.967    19.14
//	mnist    MLP 512³      4434   0.696   28.60    0.952   100.37   38.26
//	mnist    U-Net Ch 16    826   0.174  128.60   0.236   108.52
//
// (FD floors 2.17 and 6.20.) At -budget 300s on mnist14, later on a quiet
// machine (load average about 2): MLP 24,589 steps, w = 1 0.834 / 13.08,
// w = 2 0.983 / 39.55; U-Net 5,810 steps, 0.788 / 7.65, 0.983 / 14.38. On
// mnist14 the U-Net wins on Fréchet distance
// at both weights and the MLP on accuracy; on mnist, at this budget, the
// two-level U-Net loses both.
//
// Round 4, on mnist with a third resolution (-unet 8:32 -mult 1,2,4: 8, 16
// and 32 channels at 28, 14 and 7 pixels, nn.UNetConfig.Mult), the defaults
// of round 3, one training process at a time (-save -eval=false, then -load;
// load average 3.6–12, 2-core AMD EPYC (Zen 5, family 26), shared):
//
//	model                      seed  steps   w=1 acc  FD      w=2 acc  FD
//	MLP 512³                   1      6879   0.739    25.03   0.962    92.11
//	MLP 512³                   2      7622   0.735    25.71   0.960    84.38
//	MLP 512³                   3      7096   0.728    24.90   0.955    89.04
//	U-Net Ch 8 mult 1-2-4      1      1361   0.648    35.19   0.886    38.98
//	U-Net Ch 8 mult 1-2-4      2      1597   0.709    27.25   0.930    42.17
//	U-Net Ch 8 mult 1-2-4      3      1591   0.658    30.19   0.916    54.25
//
// (seed 3 later, on the machine alone, load 1.0–1.3.) The third level took
// the U-Net from FD 128.6 / 108.5 (two levels, Ch 16, round 3) to 27–35 /
// 39–54. At w = 2 it now wins on Fréchet distance: means of the three
// seeds 45.1 against 88.5, every U-Net run better than every MLP run; at
// w = 1 every MLP run beats every U-Net run (means 25.2 against 30.9, 2.4
// standard errors apart); the MLP keeps the accuracy. The tables, the older build's runs and what they mean are in
// tutorials/13-convolution/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
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
	"github.com/flowmatch/flowmatch/nn/safetensors"
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
	Ch    int   // 0: the demo's MLP
	Mult  []int // the U-Net's channel multipliers per level (nn.UNetConfig.Mult; nil: 1,2)
	Batch int
	LR    float64
}

// snapshot is the sampling weights of a model (its EMA, or its parameters
// without one) when the clock passed At seconds, after Steps steps.
type snapshot struct {
	At      float64
	Steps   int
	Raw     bool    // the raw parameters of a model trained with an EMA
	Clock   float64 // the clock's reading at the snapshot (≥ At)
	Weights [][]float64
}

// score is what one snapshot scored at one guidance weight.
type score struct {
	At             float64
	Steps          int
	Raw            bool
	W              float64
	Acc, AccSE, FD float64
}

// result is what a contender scored.
type result struct {
	spec
	Params       int
	Steps        int
	TrainS, CPUS float64
	Load         float64 // 1-minute load average at the end of training
	Loss         float64 // mean batch loss of the last tenth of the steps
	Scores       []score
}

// options are the settings shared by every contender.
type options struct {
	Clock    string // "cpu" or "wall"
	Budget   time.Duration
	EvalAt   []float64 // earlier budgets (seconds on the clock) also evaluated
	EMA      float64   // EMA decay; 0: sample with the raw parameters
	EvalRaw  bool      // with an EMA, also evaluate the raw parameters
	Groups   int
	Method   cnf.Method
	NFE      int
	CondDrop float64
	Seed     uint64
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("unetvsmlp", flag.ContinueOnError)
	dataName := fs.String("data", "mnist14", "data set: mnist14 (14×14) or mnist (28×28)")
	clock := fs.String("clock", "cpu", "budget clock: cpu (the process's CPU seconds, GOMAXPROCS 1 and 1 GEMM thread) or wall")
	budget := fs.Duration("budget", 180*time.Second, "training budget of each model on -clock")
	evalAt := fs.String("eval-at", "", "earlier budgets also evaluated, from snapshots of the same runs (e.g. 60s,120s)")
	withMLP := fs.Bool("mlp", true, "train the demo's MLP 512³ (fused step, batch 128)")
	mlpLR := fs.Float64("mlp-lr", 1e-3, "the MLP's Adam learning rate")
	unets := fs.String("unet", "8:64,16:32", "U-Nets to train, as Ch:batch or Ch:batch:lr (Adam lr 1e-3 by default)")
	groups := fs.Int("groups", 4, "GroupNorm groups of every U-Net")
	mult := fs.String("mult", "", "channel multipliers per resolution level of every U-Net (nn.UNetConfig.Mult), e.g. 1,2,4 for 28→14→7; empty: 1,2")
	ema := fs.Float64("ema", 0.999, "EMA decay of the weights used for sampling (warm-up min(decay, (1+k)/(10+k)) at update k); 0: none")
	evalRaw := fs.Bool("eval-raw", false, "with -ema, also evaluate the raw (not averaged) weights of the same runs")
	n := fs.Int("n", 1000, "images drawn per model and w, a multiple of 10")
	ws := fs.String("w", "1,2", "guidance weights")
	snapWs := fs.String("snap-w", "", "guidance weights for the -eval-at and -eval-raw snapshots (default: -w)")
	method := fs.String("method", "euler", "sampler: euler, midpoint or heun (fixed steps)")
	nfe := fs.Int("nfe", 50, "field evaluations per sample (Euler: steps; midpoint, heun: 2 a step)")
	condDrop := fs.Float64("cond-drop", 0.1, "label dropout")
	threads := fs.Int("threads", 1, "GEMM threads (the same for every model; 1 with -clock cpu)")
	seed := fs.Uint64("seed", 1, "random seed")
	mlpLast := fs.Bool("mlp-last", false, "train the MLP after the U-Nets (to alternate the order between runs)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the U-Nets' training to this file")
	saveDir := fs.String("save", "", "write every snapshot's weights to this folder (nn.SaveUNet, nn.SaveVelocityMLP), for -load")
	load := fs.String("load", "", "evaluate these checkpoints written by -save (comma-separated) instead of training")
	doEval := fs.Bool("eval", true, "evaluate after training (-eval=false with -save: train only)")
	rows := fs.String("rows", "", "with one -load checkpoint and one -w: draw only the images a:b of the n and write them to -samples-out (no scoring)")
	samplesOut := fs.String("samples-out", "", "the file -rows writes (safetensors)")
	combine := fs.String("combine", "", "score the images of these -samples-out files together (comma-separated parts covering 0:n)")
	clfPath := fs.String("classifier", "", "load the evaluation classifier from this file, or train it and save it there (classify.LoadOrTrain)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	side, ok := mnist.Side(*dataName)
	if !ok {
		return fmt.Errorf("-data %q: want mnist14 or mnist", *dataName)
	}
	if *n < 10 || *n%10 != 0 {
		return fmt.Errorf("-n %d: want a positive multiple of 10", *n)
	}
	weights, err := parseFloats(*ws)
	if err != nil {
		return fmt.Errorf("-w %q: %v", *ws, err)
	}
	extraWeights := weights
	if *snapWs != "" {
		if extraWeights, err = parseFloats(*snapWs); err != nil {
			return fmt.Errorf("-snap-w %q: %v", *snapWs, err)
		}
	}
	opt := options{Clock: *clock, Budget: *budget, EMA: *ema, EvalRaw: *evalRaw, Groups: *groups, Method: cnf.Method(*method), NFE: *nfe, CondDrop: *condDrop, Seed: *seed}
	switch {
	case opt.Clock != "cpu" && opt.Clock != "wall":
		return fmt.Errorf("-clock %q: want cpu or wall", opt.Clock)
	case opt.Clock == "cpu" && *threads != 1:
		return fmt.Errorf("-threads %d with -clock cpu: the CPU clock counts one thread's work; use -threads 1 or -clock wall", *threads)
	case *budget <= 0:
		return fmt.Errorf("-budget %s: want a positive duration", *budget)
	case opt.EMA < 0 || opt.EMA >= 1:
		return fmt.Errorf("-ema %g: want a decay in [0, 1)", opt.EMA)
	case opt.Groups < 1:
		return fmt.Errorf("-groups %d: want ≥ 1", opt.Groups)
	case opt.CondDrop <= 0 || opt.CondDrop >= 1:
		return fmt.Errorf("-cond-drop %g: want a probability in (0, 1) (guidance needs the null label)", opt.CondDrop)
	}
	if opt.EvalAt, err = parseDurations(*evalAt, *budget); err != nil {
		return fmt.Errorf("-eval-at %q: %v", *evalAt, err)
	}
	evals := map[cnf.Method]int{cnf.Euler: 1, cnf.Midpoint: 2, cnf.Heun: 2}[opt.Method]
	if evals == 0 || opt.NFE < evals || opt.NFE%evals != 0 {
		return fmt.Errorf("-method %s -nfe %d: want euler, midpoint or heun, and an NFE that is a positive multiple of the evaluations per step", *method, opt.NFE)
	}
	if *rows != "" {
		return drawRows(*load, *rows, *samplesOut, side, weights, *n, opt)
	}
	var specs []spec
	if *load != "" || *combine != "" {
		*withMLP, *unets = false, ""
	}
	if *withMLP {
		specs = append(specs, spec{Name: "MLP 512³", Batch: 128, LR: *mlpLR})
	}
	us, err := parseUNets(*unets, opt.Groups, *mult)
	if err != nil {
		return err
	}
	if *mlpLast {
		specs = append(us, specs...)
	} else {
		specs = append(specs, us...)
	}
	if len(specs) == 0 && *load == "" && *combine == "" {
		return errors.New("no model to train: give -unet or -mlp")
	}
	if !*doEval && *saveDir == "" {
		return errors.New("-eval=false without -save would throw the models away")
	}
	// The outputs are checked before minutes of work go into them.
	if *saveDir != "" {
		if err := prepareOutDir(*saveDir); err != nil {
			return fmt.Errorf("-save %s: %v", *saveDir, err)
		}
	}
	if *samplesOut != "" {
		if err := prepareOutDir(filepath.Dir(*samplesOut)); err != nil {
			return fmt.Errorf("-samples-out %s: %v", *samplesOut, err)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		profile = f
	}
	if opt.Clock == "cpu" {
		// One P: the garbage collector's work counts against the model
		// that causes it, and CPU seconds equal one quiet core's seconds.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	nn.SetThreads(*threads)

	train, err := mnist.Load(*dataName, mnist.Train)
	if err != nil {
		return err
	}
	test, err := mnist.Load(*dataName, mnist.Test)
	if err != nil {
		return err
	}
	var clf *classify.Classifier
	var testFeat *ag.Tensor
	var floor float64
	if *doEval {
		cfg := classify.Config{Classes: mnist.Classes, Seed: *seed}
		if *clfPath != "" {
			clf, _, err = classify.LoadOrTrain(*clfPath, train.X, train.Labels, cfg, map[string]string{"data": *dataName})
		} else {
			clf, err = classify.Train(train.X, train.Labels, cfg)
		}
		if err != nil {
			return err
		}
		clfAcc, _, err := clf.Accuracy(test.X, test.Labels)
		if err != nil {
			return err
		}
		testFeat = clf.Features(test.X)
		sub := train.Subset(fm.NewRand(*seed + 14).Perm(train.Len())[:*n])
		if floor, err = metrics.FrechetDistance(clf.Features(sub.X), testFeat); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: classifier test accuracy %.4f; FD floor (%d training images vs test) %.3f\n", *dataName, clfAcc, *n, floor)
	}

	labels := make([]int, *n)
	for i := range labels {
		labels[i] = i / (*n / mnist.Classes)
	}
	null := nn.LabelContext([]int{nn.NullLabel}, mnist.Classes)
	var results []result
	type job struct {
		r     result
		model fm.Model
		snaps []snapshot
	}
	var jobs []job
	for _, path := range strings.Split(*load, ",") {
		if path = strings.TrimSpace(path); path == "" {
			continue
		}
		r, model, sn, err := loadSnapshot(path, side)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s, %d steps, batch %d, lr %g, at %g s%s\n", path, r.Name, sn.Steps, r.Batch, r.LR, sn.At, rawNote(sn.Raw))
		jobs = append(jobs, job{r, model, []snapshot{sn}})
	}
	for _, s := range specs {
		r, model, snaps, err := trainFor(s, train, null, side, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (%d parameters, batch %d, lr %g): %d steps in %.1f s wall, %.1f s CPU, load %.1f, loss %.4f\n",
			s.Name, r.Params, s.Batch, s.LR, r.Steps, r.TrainS, r.CPUS, r.Load, r.Loss)
		if *saveDir != "" {
			for _, sn := range snaps {
				path, err := saveSnapshot(*saveDir, *dataName, r, model, sn)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "  wrote %s\n", path)
			}
		}
		if *doEval {
			jobs = append(jobs, job{r, model, snaps})
		}
	}
	if !*doEval {
		return nil
	}
	if *combine != "" {
		r, w, x, err := combineRows(*combine, *n, side)
		if err != nil {
			return err
		}
		sc, err := scoreImages(clf, x, labels, testFeat)
		if err != nil {
			return err
		}
		r.Scores[0].Acc, r.Scores[0].AccSE, r.Scores[0].FD = sc[0].Acc, sc[0].AccSE, sc[0].FD
		fmt.Fprintf(stdout, "  %s at %g s (%d steps%s), w = %g: accuracy %.3f ± %.3f, FD %.2f\n", r.Name, r.Scores[0].At, r.Steps, rawNote(r.Scores[0].Raw), w, r.Scores[0].Acc, r.Scores[0].AccSE, r.Scores[0].FD)
		results = append(results, r)
	}
	for _, j := range jobs {
		r, model, snaps := j.r, j.model, j.snaps
		for _, sn := range snaps {
			for i, p := range model.Params() {
				copy(p.Data, sn.Weights[i])
			}
			ws := weights
			if sn.Raw || sn.At < opt.Budget.Seconds() {
				ws = extraWeights
			}
			for _, w := range ws {
				x, err := sample(model, labels, null, w, opt, *seed, 0, len(labels))
				if err != nil {
					return err
				}
				sc, err := scoreImages(clf, x, labels, testFeat)
				if err != nil {
					return err
				}
				acc, se, fd := sc[0].Acc, sc[0].AccSE, sc[0].FD
				r.Scores = append(r.Scores, score{At: sn.At, Steps: sn.Steps, Raw: sn.Raw, W: w, Acc: acc, AccSE: se, FD: fd})
				fmt.Fprintf(stdout, "  at %g s (%d steps%s), w = %g: accuracy %.3f ± %.3f, FD %.2f\n", sn.At, sn.Steps, rawNote(sn.Raw), w, acc, se, fd)
			}
		}
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "\n%s, budget %s a model on the %s clock, EMA %g, %s NFE %d, n = %d, %s\n",
		*dataName, *budget, opt.Clock, opt.EMA, opt.Method, opt.NFE, *n, cpuLine())
	fmt.Fprintln(stdout, "model  batch  lr  budget_s  w  steps  images  train_s  cpu_s  loss  acc  fd  fd_floor")
	for _, r := range results {
		for _, sc := range r.Scores {
			fmt.Fprintf(stdout, "%s%s  %d  %g  %g  %g  %d  %d  %.1f  %.1f  %.4f  %.3f  %.2f  %.2f\n",
				strings.ReplaceAll(r.Name, " ", "_"), rawNote(sc.Raw), r.Batch, r.LR, sc.At, sc.W, sc.Steps, sc.Steps*r.Batch, r.TrainS, r.CPUS, r.Loss, sc.Acc, sc.FD, floor)
		}
	}
	return nil
}

// parseUNets reads -unet: Ch:batch or Ch:batch:lr pairs, each with the
// channel multipliers of -mult ("" is nil, two levels).
func parseUNets(s string, groups int, mult string) ([]spec, error) {
	var out []spec
	var ms []int
	suffix := ""
	if mult = strings.TrimSpace(mult); mult != "" {
		for _, f := range strings.Split(mult, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k < 1 {
				return nil, fmt.Errorf("-mult %q: want positive multipliers such as 1,2,4", mult)
			}
			ms = append(ms, k)
		}
		if len(ms) < 2 {
			return nil, fmt.Errorf("-mult %q: want at least two levels, such as 1,2", mult)
		}
		suffix = " mult " + strings.ReplaceAll(mult, ",", "-")
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		f := strings.Split(p, ":")
		lr := 1e-3
		var err1, err2, err3 error
		var ch, batch int
		if len(f) == 2 || len(f) == 3 {
			ch, err1 = strconv.Atoi(f[0])
			batch, err2 = strconv.Atoi(f[1])
			if len(f) == 3 {
				lr, err3 = strconv.ParseFloat(f[2], 64)
			}
		}
		if len(f) < 2 || len(f) > 3 || err1 != nil || err2 != nil || err3 != nil || ch < 1 || ch%groups != 0 || batch < 1 || !(lr > 0) {
			return nil, fmt.Errorf("-unet %q: want Ch:batch or Ch:batch:lr with Ch a multiple of -groups %d, e.g. 16:32 or 16:32:2e-3", p, groups)
		}
		out = append(out, spec{Name: fmt.Sprintf("U-Net Ch %d%s", ch, suffix), Ch: ch, Mult: ms, Batch: batch, LR: lr})
	}
	return out, nil
}

// profile, if not nil, receives the CPU profile of the first U-Net's training.
var profile io.Writer

// errBudget stops fm.Train from its callback once the budget is spent.
var errBudget = errors.New("budget spent")

// emaDecay is the decay of the k-th EMA update (k = 1, 2, …) with warm-up,
// min(decay, (1 + k)/(10 + k)): early updates forget the random
// initialization fast, later ones average over about 1/(1 − decay) steps.
// TestEMADecay.
func emaDecay(decay float64, k int) float64 {
	return min(decay, float64(1+k)/float64(10+k))
}

// trainFor trains the contender s on set for opt's budget on opt's clock:
// fm.Train with a step count it will not reach, stopped by a panic from the
// callback after the first step that ends past the budget (the steps done
// so far have updated the model in place). It returns the snapshots of the
// sampling weights at opt.EvalAt and at the budget.
func trainFor(s spec, set *mnist.Set, null *ag.Tensor, side int, opt options) (r result, model fm.Model, snaps []snapshot, err error) {
	rng := fm.NewRand(opt.Seed + 2)
	if s.Ch == 0 {
		model = nn.NewLabelVelocityMLP(set.Dim(), mnist.Classes, []int{512, 512, 512}, ag.ActSiLU, rng)
	} else {
		model = nn.NewUNet(nn.UNetConfig{C: 1, H: side, W: side, Ch: s.Ch, Groups: opt.Groups, Emb: 64,
			Ctx: mnist.Classes + 1, Classes: mnist.Classes, Mult: s.Mult}, rng)
	}
	r.spec = s
	for _, p := range model.Params() {
		r.Params += len(p.Data)
	}
	var ema *nn.EMA
	if opt.EMA > 0 {
		ema = nn.NewEMA(model.Params(), emaDecay(opt.EMA, 1))
	}
	take := func(at, clock float64, steps int) {
		for _, raw := range []bool{false, true} {
			src := model.Params()
			switch {
			case ema != nil && !raw:
				src = ema.Params()
			case raw && (ema == nil || !opt.EvalRaw):
				continue
			}
			sn := snapshot{At: at, Clock: clock, Steps: steps, Raw: raw}
			for _, p := range src {
				sn.Weights = append(sn.Weights, slices.Clone(p.Data))
			}
			snaps = append(snaps, sn)
		}
	}
	if profile != nil && s.Ch > 0 {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return r, nil, nil, err
		}
		defer pprof.StopCPUProfile()
		profile = nil
	}
	start, cpu := time.Now(), cpuSeconds()
	elapsed := func() float64 {
		if opt.Clock == "cpu" {
			return cpuSeconds() - cpu
		}
		return time.Since(start).Seconds()
	}
	var losses []float64
	budget, next := opt.Budget.Seconds(), 0
	cfg := fm.TrainConfig{Path: fm.CondOT{}, Cond: set.CondSampler(), CondDrop: opt.CondDrop, Null: null,
		BatchSize: s.Batch, Steps: 1 << 30, LR: s.LR, Seed: opt.Seed, Fused: s.Ch == 0, EMA: ema,
		Callback: func(step int, loss float64) {
			r.Steps = step
			losses = append(losses, loss)
			if ema != nil {
				ema.Decay = emaDecay(opt.EMA, step+1)
			}
			e := elapsed()
			for ; next < len(opt.EvalAt) && e >= opt.EvalAt[next]; next++ {
				take(opt.EvalAt[next], e, step)
			}
			if e >= budget {
				take(budget, e, step)
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
	if k := len(losses); k > 0 {
		tail := losses[k-max(1, k/10):]
		for _, l := range tail {
			r.Loss += l / float64(len(tail))
		}
	}
	return r, model, snaps, err
}

// sample draws len(labels) images from x₀ ~ N(0, I) (the same noise for
// every model, from seed) with opt's fixed-step solver along the guided
// field fm.Guided(model.ForwardCond, c, null, w), in chunks of 250.
// Only the images a…b−1 are drawn (out has b − a rows), from the same
// noise rows as a full run.
func sample(model fm.Model, labels []int, null *ag.Tensor, w float64, opt options, seed uint64, a, b int) (*ag.Tensor, error) {
	const chunk = 250
	n, d := len(labels), model.Dim()
	steps := opt.NFE
	if opt.Method != cnf.Euler {
		steps /= 2
	}
	x0 := ag.Normal(n, d, 0, 1, fm.NewRand(seed+8))
	out := ag.Zeros(b-a, d)
	for i0 := a; i0 < b; i0 += chunk {
		k := min(chunk, b-i0)
		c := nn.LabelContext(labels[i0:i0+k], mnist.Classes)
		v := fm.Guided(fm.CondVelocity(model.ForwardCond), c, null, w)
		x, _, err := cnf.Sample(cnf.FieldOf(v), ag.FromSlice(k, d, x0.Data[i0*d:(i0+k)*d]), cnf.SolveOptions{Method: opt.Method, Steps: steps})
		if err != nil {
			return nil, err
		}
		copy(out.Data[(i0-a)*d:], x.Data)
	}
	return out, nil
}

// scoreImages scores images x drawn for labels: one score with the class
// accuracy (± its standard error) and the Fréchet distance of clf's
// features to testFeat.
func scoreImages(clf *classify.Classifier, x *ag.Tensor, labels []int, testFeat *ag.Tensor) ([]score, error) {
	acc, se, err := clf.Accuracy(x, labels)
	if err != nil {
		return nil, err
	}
	fd, err := metrics.FrechetDistance(clf.Features(x), testFeat)
	if err != nil {
		return nil, err
	}
	return []score{{Acc: acc, AccSE: se, FD: fd}}, nil
}

// drawRows draws the images a:b (of n) of one checkpoint at one guidance
// weight and writes them to out with the checkpoint's metadata and the
// rows, n and w, for -combine.
func drawRows(load, rows, out string, side int, ws []float64, n int, opt options) error {
	a, b, err := parseRows(rows, n)
	if err != nil {
		return fmt.Errorf("-rows %q: %v", rows, err)
	}
	if len(ws) != 1 || strings.Contains(load, ",") || load == "" || out == "" {
		return fmt.Errorf("-rows takes one -load checkpoint, one -w and -samples-out")
	}
	_, model, _, err := loadSnapshot(load, side)
	if err != nil {
		return err
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i / (n / mnist.Classes)
	}
	null := nn.LabelContext([]int{nn.NullLabel}, mnist.Classes)
	x, err := sample(model, labels, null, ws[0], opt, opt.Seed, a, b)
	if err != nil {
		return err
	}
	f, err := safetensors.Read(load)
	if err != nil {
		return err
	}
	meta := map[string]string{}
	for k, v := range f.Metadata {
		if strings.HasPrefix(k, metaPrefix) {
			meta[k] = v
		}
	}
	meta[metaPrefix+"rows"], meta[metaPrefix+"n"], meta[metaPrefix+"w"] = rows, strconv.Itoa(n), fmt.Sprint(ws[0])
	meta[metaPrefix+"sampler"] = fmt.Sprintf("%s %d", opt.Method, opt.NFE)
	return safetensors.Write(out, []safetensors.Named{{Name: "x", T: x}}, meta)
}

// parseRows reads a:b with 0 ≤ a < b ≤ n.
func parseRows(s string, n int) (a, b int, err error) {
	x, y, ok := strings.Cut(s, ":")
	a, err1 := strconv.Atoi(x)
	b, err2 := strconv.Atoi(y)
	if !ok || err1 != nil || err2 != nil || a < 0 || b <= a || b > n {
		return 0, 0, fmt.Errorf("want a:b with 0 ≤ a < b ≤ n = %d", n)
	}
	return a, b, nil
}

// combineRows reads the parts written by drawRows (one checkpoint, one w)
// and returns the run's result, w and the n images in row order. Parts
// that overlap, leave a gap, or come from different checkpoints, weights
// or n are errors.
func combineRows(list string, n, side int) (r result, w float64, x *ag.Tensor, err error) {
	d := side * side
	x = ag.Zeros(n, d)
	covered := make([]bool, n)
	var first map[string]string
	var firstPath string
	for _, path := range strings.Split(list, ",") {
		path = strings.TrimSpace(path)
		f, err := safetensors.Read(path)
		if err != nil {
			return r, 0, nil, err
		}
		m := f.Metadata
		if first == nil {
			first, firstPath = m, path
		}
		for _, k := range []string{"name", "at", "raw", "steps", "lr", "batch", "w", "n", "sampler"} {
			if m[metaPrefix+k] != first[metaPrefix+k] {
				return r, 0, nil, fmt.Errorf("%s: %s%s = %q, the first part has %q", path, metaPrefix, k, m[metaPrefix+k], first[metaPrefix+k])
			}
		}
		if m[metaPrefix+"n"] != strconv.Itoa(n) {
			return r, 0, nil, fmt.Errorf("%s: drawn for n = %s, want -n %d", path, m[metaPrefix+"n"], n)
		}
		a, b, err := parseRows(m[metaPrefix+"rows"], n)
		t := f.Tensors["x"]
		if err != nil || t == nil || t.Rows != b-a || t.Cols != d {
			return r, 0, nil, fmt.Errorf("%s: not a -samples-out part of %d-pixel images (rows %q)", path, d, m[metaPrefix+"rows"])
		}
		for i := a; i < b; i++ {
			if covered[i] {
				return r, 0, nil, fmt.Errorf("%s: row %d drawn twice", path, i)
			}
			covered[i] = true
		}
		copy(x.Data[a*d:], t.Data)
	}
	for i, c := range covered {
		if !c {
			return r, 0, nil, fmt.Errorf("-combine: row %d of %d is in no part", i, n)
		}
	}
	r, sn, err := readRunMeta(firstPath, first)
	if err != nil {
		return r, 0, nil, err
	}
	if w, err = strconv.ParseFloat(first[metaPrefix+"w"], 64); err != nil {
		return r, 0, nil, fmt.Errorf("%s: %sw = %q is not a number", firstPath, metaPrefix, first[metaPrefix+"w"])
	}
	r.Scores = []score{{At: sn.At, Steps: r.Steps, Raw: sn.Raw, W: w}}
	return r, w, x, nil
}

// prepareOutDir makes the folder dir if it is missing (with its parents)
// and checks that it can hold a new file, so that -save and -samples-out
// fail before the training or sampling they would keep, not after.
// TestPrepareOutDir.
func prepareOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".unetvsmlp-check*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// readRunMeta reads the run's numbers that -save writes into a checkpoint's
// unetvsmlp.* metadata (see saveSnapshot): the model's name, batch, lr,
// train_s, cpu_s, loss, steps, and the snapshot's at and raw. A missing name
// or a value that does not parse is an error naming the file and the key.
func readRunMeta(path string, meta map[string]string) (r result, sn snapshot, err error) {
	get := func(k string) string { return meta[metaPrefix+k] }
	if r.Name = get("name"); r.Name == "" {
		return r, sn, fmt.Errorf("%s: no %sname metadata: not written by unetvsmlp -save", path, metaPrefix)
	}
	num := func(k string, dst *float64) {
		if v, e := strconv.ParseFloat(get(k), 64); e != nil && err == nil {
			err = fmt.Errorf("%s: %s%s = %q is not a number", path, metaPrefix, k, get(k))
		} else {
			*dst = v
		}
	}
	var batch, steps float64
	num("batch", &batch)
	num("lr", &r.LR)
	num("train_s", &r.TrainS)
	num("cpu_s", &r.CPUS)
	num("loss", &r.Loss)
	num("steps", &steps)
	num("at", &sn.At)
	r.Batch, r.Steps, sn.Steps = int(batch), int(steps), int(steps)
	sn.Raw = get("raw") == "true"
	return r, sn, err
}

// Checkpoint metadata of the snapshots written by -save.
const (
	metaPrefix = "unetvsmlp."
)

// saveSnapshot writes the snapshot's weights, in model's architecture, to
// dir with the run's numbers as metadata, and returns the file's path.
func saveSnapshot(dir, data string, r result, model fm.Model, sn snapshot) (string, error) {
	name := strings.ToLower(strings.NewReplacer(" ", "", "³", "", "-", "").Replace(r.Name))
	name = fmt.Sprintf("%s-%s-b%d-lr%g-%gs", data, name, r.Batch, r.LR, sn.At)
	if sn.Raw {
		name += "-raw"
	}
	path := filepath.Join(dir, name+".safetensors")
	for i, p := range model.Params() {
		copy(p.Data, sn.Weights[i])
	}
	meta := map[string]string{}
	for k, v := range map[string]string{"name": r.Name, "batch": strconv.Itoa(r.Batch), "lr": fmt.Sprint(r.LR),
		"at": fmt.Sprint(sn.At), "raw": strconv.FormatBool(sn.Raw), "steps": strconv.Itoa(sn.Steps),
		"train_s": fmt.Sprintf("%.1f", r.TrainS), "cpu_s": fmt.Sprintf("%.1f", r.CPUS), "loss": fmt.Sprintf("%.4f", r.Loss), "data": data} {
		meta[metaPrefix+k] = v
	}
	switch m := model.(type) {
	case *nn.UNet:
		return path, nn.SaveUNet(path, m, meta)
	case *nn.VelocityMLP:
		return path, nn.SaveVelocityMLP(path, m, meta)
	}
	return "", fmt.Errorf("cannot save a %T", model)
}

// loadSnapshot reads a checkpoint written by saveSnapshot.
func loadSnapshot(path string, side int) (r result, model fm.Model, sn snapshot, err error) {
	u, meta, err := nn.LoadUNet(path)
	if err != nil {
		var v *nn.VelocityMLP
		if v, meta, err = nn.LoadVelocityMLP(path); err != nil {
			return r, nil, sn, fmt.Errorf("%s: neither a U-Net nor a velocity MLP checkpoint: %w", path, err)
		}
		model = v
	} else {
		model = u
	}
	if model.Dim() != side*side || model.Ctx() != mnist.Classes+1 {
		return r, nil, sn, fmt.Errorf("%s: a model of %d pixels and context %d, want %d and %d (-data)", path, model.Dim(), model.Ctx(), side*side, mnist.Classes+1)
	}
	if r, sn, err = readRunMeta(path, meta); err != nil {
		return r, nil, sn, err
	}
	for _, p := range model.Params() {
		r.Params += len(p.Data)
		sn.Weights = append(sn.Weights, p.Data)
	}
	return r, model, sn, nil
}

// rawNote marks the raw weights of a model trained with an EMA.
func rawNote(raw bool) string {
	if raw {
		return ",raw"
	}
	return ""
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

// parseDurations reads a list of increasing durations below budget, in
// seconds ("" is none).
func parseDurations(s string, budget time.Duration) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, err
		}
		if d <= 0 || d >= budget || (len(out) > 0 && d.Seconds() <= out[len(out)-1]) {
			return nil, fmt.Errorf("%s: want increasing durations in (0, budget %s)", d, budget)
		}
		out = append(out, d.Seconds())
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

// cpuLine names the machine's CPU as /proc/cpuinfo does ("" if unknown).
func cpuLine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU unknown"
	}
	var name, fam string
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
		case k == "model name" && name == "":
			name = v
		case k == "cpu family" && fam == "":
			fam = v
		}
	}
	return fmt.Sprintf("%s (family %s), %d CPUs", name, fam, runtime.NumCPU())
}
