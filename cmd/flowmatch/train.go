package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// trainSpec is everything that determines a training run.
type trainSpec struct {
	Data     string
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
}

// trainModel builds a velocity MLP and trains it by conditional flow
// matching, printing progress to w every tenth of the run. It fails if the
// loss becomes NaN or ±Inf, naming the step.
func trainModel(spec trainSpec, w io.Writer) (*nn.VelocityMLP, []float64, error) {
	path, err := spec.Path.build()
	if err != nil {
		return nil, nil, err
	}
	coup, err := coupling(spec.Coupling)
	if err != nil {
		return nil, nil, err
	}
	act, err := autograd.ParseActivation(spec.Act)
	if err != nil {
		return nil, nil, usagef("-act: %v", err)
	}
	if spec.Steps <= 0 || spec.Batch <= 0 || !(spec.LR > 0) {
		return nil, nil, usagef("-steps %d -batch %d -lr %g: all must be positive", spec.Steps, spec.Batch, spec.LR)
	}
	var schedule func(step, steps int) float64
	switch spec.Schedule {
	case "constant", "":
	case "cosine":
		schedule = fm.CosineSchedule
	default:
		return nil, nil, usagef("-lr-schedule %q: want constant or cosine", spec.Schedule)
	}
	draw, dim, err := sampler(spec.Data, newRand(spec.Seed, 1))
	if err != nil {
		return nil, nil, err
	}
	model := nn.NewVelocityMLP(dim, spec.Hidden, act, newRand(spec.Seed, 2))
	var ema *nn.EMA
	if spec.EMA > 0 {
		if spec.EMA >= 1 {
			return nil, nil, usagef("-ema %g: want a decay in (0, 1), e.g. 0.999", spec.EMA)
		}
		ema = nn.NewEMA(model.Params(), spec.EMA)
	}
	start := time.Now()
	var bad error
	every := max(spec.Steps/10, 1)
	losses := fm.Train(model, fm.TrainConfig{
		Path: path, Data: draw, Coupling: coup,
		BatchSize: spec.Batch, Steps: spec.Steps, LR: spec.LR, LRSchedule: schedule, EMA: ema, Seed: spec.Seed,
		Callback: func(step int, loss float64) {
			if bad == nil && (math.IsNaN(loss) || math.IsInf(loss, 0)) {
				bad = fmt.Errorf("training diverged: loss %v at step %d (lower -lr?)", loss, step)
			}
			if w != nil && (step%every == 0 || step == spec.Steps) {
				fmt.Fprintf(w, "step %6d/%d  loss %.4f  %.1f steps/s\n", step, spec.Steps, loss, float64(step)/time.Since(start).Seconds())
			}
		},
	})
	if bad != nil {
		return nil, nil, bad
	}
	if ema != nil {
		ema.CopyTo(model.Params())
	}
	return model, losses, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "-data name|file -out model.safetensors [flags]", stderr)
	dataSpec := fs.String("data", "8gaussians", "dataset name or a .csv/.npy file of points (one per row)")
	pathName := fs.String("path", "condot", "probability path: condot, ve or vp")
	sigmaMin := fs.Float64("sigma-min", 1e-4, "σ_min of the path (CondOT: the data-end std; VE: the smallest noise)")
	sigmaMax := fs.Float64("sigma-max", 5, "σ_max of the VE path (the noise scale at t = 0)")
	coup := fs.String("coupling", "independent", "pairing of noise and data in a batch: independent, ot or sinkhorn")
	hidden := fs.String("hidden", "256,256,256", "hidden layer widths of the velocity MLP")
	act := fs.String("act", "silu", "activation: silu, tanh, relu, elu or softplus")
	steps := fs.Int("steps", 3000, "training steps")
	batch := fs.Int("batch", 256, "batch size")
	lr := fs.Float64("lr", 1e-3, "Adam learning rate")
	schedule := fs.String("lr-schedule", "constant", "learning-rate schedule: constant or cosine (decay to 0 over the run)")
	ema := fs.Float64("ema", 0, "decay of an exponential moving average of the weights saved instead of the last ones (0: off; e.g. 0.999)")
	seed := fs.Uint64("seed", 0, "random seed (the same seed gives the same model)")
	out := fs.String("out", "", "checkpoint to write (.safetensors)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	sizes, err := parseSizes(*hidden)
	if err != nil {
		return err
	}
	spec := trainSpec{Data: *dataSpec, Path: pathSpec{*pathName, *sigmaMin, *sigmaMax}, Coupling: *coup,
		Hidden: sizes, Act: *act, Steps: *steps, Batch: *batch, LR: *lr, Schedule: *schedule, EMA: *ema, Seed: *seed}
	model, losses, err := trainModel(spec, stdout)
	if err != nil {
		return err
	}
	meta, err := pathMeta(spec.Path, spec.Data)
	if err != nil {
		return err
	}
	meta["flowmatch.steps"] = fmt.Sprint(spec.Steps)
	meta["flowmatch.seed"] = fmt.Sprint(spec.Seed)
	if err := nn.SaveVelocityMLP(*out, model, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: wrote %s (final loss %.4f)\n", *out, losses[len(losses)-1])
	return nil
}
