package main

import (
	"fmt"
	"io"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/progress"
	"github.com/flowmatch/flowmatch/nn"
)

// trainSpec is everything that determines a training run.
type trainSpec struct {
	Data     *dataSource
	Path     pathSpec
	Coupling string
	Hidden   []int
	Act      string
	Steps    int
	Batch    int
	LR       float64
	Schedule string  // "constant" or "cosine"
	EMA      float64 // decay of an exponential moving average of the weights (0: none); the model returned holds the average
	Seed     uint64
	Param    fm.Param // what the model predicts (-param; gaussian.go)
	Weight   string   // -param-weight: cfm or unit (gaussian.go)
}

// check validates the spec after the checks c, before any work, naming
// train's flags. Demo fixes the path, coupling, activation and learning
// rate, so only its own -steps, -batch, -ema and -lr-schedule can fail
// (TestUsageErrors: no demo message names -lr).
func (s trainSpec) check(c *flagCheck) {
	checkValue(c, pathSpec.build, s.Path)
	checkValue(c, coupling, s.Coupling)
	_, err := autograd.ParseActivation(s.Act)
	c.usage(err != nil, "-act %q: want silu, tanh, relu, elu or softplus", s.Act)
	c.count("steps", s.Steps, 1, maxSteps)
	c.count("batch", s.Batch, 1, maxBatch)
	c.usage(!(s.LR > 0 && !math.IsInf(s.LR, 1)), "-lr %g: want a positive, finite learning rate, e.g. 1e-3", s.LR)
	c.usage(!(s.EMA >= 0 && s.EMA < 1), "-ema %g: want a decay in [0, 1), e.g. 0.999 (0: off)", s.EMA)
	c.usage(s.Schedule != "constant" && s.Schedule != "cosine", "-lr-schedule %q: want constant or cosine", s.Schedule)
	c.then(func() error { return checkParam(s) }) // gaussian.go
}

// trainModel builds a velocity MLP and trains it by conditional flow
// matching (fm.Train: Lipman et al. 2022, arXiv:2210.02747, eq. 9 and
// Algorithm 1), showing progress on w. SiLU and tanh models train on the
// fused step (fm.TrainConfig.Fused: the same loss and gradients, several
// times faster), the other activations through autograd. A diverging run
// is an error naming the step. The spec must have passed check.
func trainModel(spec trainSpec, threads int, w io.Writer) (*nn.VelocityMLP, []float64, error) {
	if spec.Param != fm.ParamVelocity {
		return trainParamModel(spec, threads, w) // gaussian.go
	}
	path, _ := spec.Path.build()
	coup, _ := coupling(spec.Coupling)
	return fitMLP(spec, threads, w, func(model *nn.VelocityMLP, run mlpRun) ([]float64, error) {
		_, fusedErr := nn.NewTrainStep(model, spec.Batch)
		return fm.Train(model, fm.TrainConfig{
			Path: path, Data: spec.Data.Sampler(), Coupling: coup, Fused: fusedErr == nil,
			BatchSize: spec.Batch, Steps: spec.Steps, LR: spec.LR, LRSchedule: run.Schedule, EMA: run.EMA, Seed: spec.Seed,
			Callback: run.Callback,
		})
	})
}

// mlpRun is what fitMLP hands its training loop: the learning-rate schedule
// (nil: constant), the weight average (nil: none) and the callback that
// shows progress.
type mlpRun struct {
	Schedule func(step, steps int) float64
	EMA      *nn.EMA
	Callback func(step int, loss float64)
}

// fitMLP builds the spec's velocity MLP (its widths and activation, drawn
// from the seed's stream 2), sets the threads, and trains it by fit (fm.Train
// or fm.TrainParam) with the spec's schedule and weight average, showing
// progress on w; the average, if any, is copied into the model at the end.
// The spec must have passed check.
func fitMLP(spec trainSpec, threads int, w io.Writer, fit func(*nn.VelocityMLP, mlpRun) ([]float64, error)) (*nn.VelocityMLP, []float64, error) {
	act, _ := autograd.ParseActivation(spec.Act)
	model := nn.NewVelocityMLP(spec.Data.Dim(), spec.Hidden, act, newRand(spec.Seed, 2))
	var run mlpRun
	if spec.Schedule == "cosine" {
		run.Schedule = fm.CosineSchedule
	}
	if spec.EMA > 0 {
		run.EMA = nn.NewEMA(model.Params(), spec.EMA)
	}
	nn.SetThreads(threads)
	bar := progress.New(w, "train", spec.Steps, "steps")
	run.Callback = func(step int, loss float64) { bar.Set(step, fmt.Sprintf("loss %.4f", loss)) }
	losses, err := fit(model, run)
	bar.Done()
	if err != nil {
		return nil, nil, err
	}
	if run.EMA != nil {
		run.EMA.CopyTo(model.Params())
	}
	return model, losses, nil
}

// runTrain is train on 2-D (or any Euclidean) data; images, discrete and
// manifold data are its other forms (main.go: commands).
func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "-data name|file -out model.safetensors [flags]", stderr)
	dataSpec := fs.String("data", "8gaussians", "dataset name (see 'flowmatch datasets') or a .csv/.npy file of points (one per row)")
	pathName := fs.String("path", "condot", "probability path: condot, ve, vp, cosine, linear-vp or polyN (α = tᴺ, σ = 1 − tᴺ, e.g. poly2)")
	sigmaMin := fs.Float64("sigma-min", 1e-4, "σ_min of the path (CondOT: the data-end std; VE: the smallest noise)")
	sigmaMax := fs.Float64("sigma-max", 5, "σ_max of the VE path (the noise scale at t = 0)")
	coup := fs.String("coupling", "independent", "pairing of noise and data in a batch: independent, ot or sinkhorn")
	hidden := fs.String("hidden", "256,256,256", "hidden layer widths of the velocity MLP")
	act := fs.String("act", "silu", "activation: silu, tanh (both train on the fused step), relu, elu or softplus (autograd)")
	steps := fs.Int("steps", 3000, "training steps")
	batch := fs.Int("batch", 256, "batch size")
	lr := fs.Float64("lr", 1e-3, "Adam learning rate")
	schedule := fs.String("lr-schedule", "constant", "learning-rate schedule: constant or cosine (decay to 0 over the run)")
	ema := fs.Float64("ema", 0, "decay of an exponential moving average of the weights saved instead of the last ones (0: off; e.g. 0.999)")
	seed := fs.Uint64("seed", 0, "random seed (the same seed gives the same model)")
	param := fs.String("param", "velocity", "what the model predicts: velocity, data (x̂₁), noise (x̂₀) or score; sample and loglik convert it to a velocity")
	weight := fs.String("param-weight", "cfm", "loss of -param data|noise|score: cfm (the CFM loss in that parametrization) or unit (its plain squared error, e.g. DDPM's ε-loss)")
	out := fs.String("out", "", "checkpoint to write (.safetensors; its folder must exist)")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.required("out")
	c.threads(*threads)
	spec := trainSpec{Path: pathSpec{*pathName, *sigmaMin, *sigmaMax}, Coupling: *coup, Hidden: checkValue(c, parseSizes, *hidden),
		Act: *act, Steps: *steps, Batch: *batch, LR: *lr, Schedule: *schedule, EMA: *ema, Seed: *seed, Weight: *weight}
	var err error
	spec.Param, err = fm.ParseParam(*param)
	c.usage(err != nil, "-param %q: want velocity, data, noise or score", *param)
	spec.check(c)
	c.outFile("out", *out, ".safetensors")
	if c.err != nil {
		return c.err
	}
	if spec.Data, err = openData("data", *dataSpec); err != nil {
		return err
	}
	model, losses, err := trainModel(spec, *threads, stderr)
	if err != nil {
		return err
	}
	meta, err := pathMeta(spec.Path, spec.Data.Spec)
	if err != nil {
		return err
	}
	meta[metaSteps] = fmt.Sprint(spec.Steps)
	meta[metaSeed] = fmt.Sprint(spec.Seed)
	meta[fm.MetaParam] = spec.Param.String()
	if err := nn.SaveVelocityMLP(*out, model, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: wrote %s (final loss %.4f)\n", *out, losses[len(losses)-1])
	return nil
}
