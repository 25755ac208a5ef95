package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm/discrete"
	"github.com/flowmatch/flowmatch/nn/safetensors"
	"github.com/flowmatch/flowmatch/plot"
)

// train, sample, loglik and plot for the discrete datasets: train is routed
// here by -data (discreteDataArg), the others by a checkpoint whose
// metadata name a discrete.PosteriorMLP (discreteCheckpointArg).

// discreteCheckpointArg reports whether args name (-checkpoint) a
// discrete.PosteriorMLP checkpoint. A file that cannot be read is left to
// the continuous command, whose error names it.
func discreteCheckpointArg(args []string) bool {
	path := checkpointArg(args)
	if path == "" {
		return false
	}
	f, err := safetensors.Read(path)
	return err == nil && discrete.IsPosteriorMLP(f.Metadata)
}

const metaDiscreteData = "flowmatch.data"

// maxEulerSteps bounds -euler-steps of the discrete commands.
const maxEulerSteps = 10_000

// discreteFlags are the training flags shared by train and demo.
type discreteFlags struct {
	data, source, loss *string
	bins, steps, batch *int
	seed               *uint64
}

func addDiscreteFlags(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
	Uint64(string, uint64, string) *uint64
}) discreteFlags {
	return discreteFlags{
		data:   fs.String("data", "checkerboard-discrete", "discrete dataset: "+strings.Join(data.DiscreteNames(), " or ")),
		bins:   fs.Int("bins", 64, "grid cells per axis (a multiple of 4, at most 128)"),
		steps:  fs.Int("steps", 3000, "training steps"),
		batch:  fs.Int("batch", 256, "batch size"),
		source: fs.String("source", "mask", "source distribution: mask or uniform"),
		loss:   fs.String("loss", "ce", "training loss: ce or gkl"),
		seed:   fs.Uint64("seed", 0, "random seed"),
	}
}

// check validates the flags after the command's checks c and returns the
// data and the path, or c's first failure.
func (f discreteFlags) check(c *flagCheck) (discrete.Dist, discrete.Path, error) {
	c.count("bins", *f.bins, 4, 128)
	c.count("steps", *f.steps, 1, maxSteps)
	c.count("batch", *f.batch, 1, maxBatch)
	p := discrete.Path{Sched: discrete.Linear{}, V: *f.bins, D: 2}
	switch *f.source {
	case "mask":
		p.Source = discrete.Mask
	case "uniform":
		p.Source = discrete.Uniform
	default:
		c.usage(true, "-source %q: want mask or uniform", *f.source)
	}
	c.usage(*f.loss != "ce" && *f.loss != "gkl", "-loss %q: want ce or gkl", *f.loss)
	if c.err != nil {
		return discrete.Dist{}, p, c.err
	}
	q, err := data.DiscreteToy(*f.data, *f.bins)
	c.usage(err != nil, "-data: %v", err)
	return q, p, c.err
}

// train trains the demo's PosteriorMLP (embeddings 32, hidden [128 128]).
func (f discreteFlags) train(q discrete.Dist, p discrete.Path, stderr io.Writer) (*discrete.PosteriorMLP, []float64, error) {
	m := discrete.NewPosteriorMLP(p, 32, []int{128, 128}, ag.ActSiLU, newRand(*f.seed, 21))
	losses, err := discrete.Train(m, discrete.TrainConfig{Data: q.Sampler(), Loss: discrete.Loss(*f.loss), Batch: *f.batch, Steps: *f.steps, LR: 2e-3, Seed: *f.seed,
		Callback: func(step int, l float64) {
			if step%500 == 0 || step == *f.steps {
				fmt.Fprintf(stderr, "train: step %d/%d loss %.4f\n", step, *f.steps, l)
			}
		}})
	return m, losses, err
}

// trainNotDiscrete are the flags of train on 2-D data that have no meaning
// for a discrete model, and why (checkFormFlags).
var trainNotDiscrete = map[string]string{
	"path":         "the path is the mixture path with a linear κ (choose its source with -source mask|uniform)",
	"sigma-min":    "the mixture path has no σ",
	"sigma-max":    "the mixture path has no σ",
	"coupling":     "tokens and source are drawn independently",
	"hidden":       "the posterior MLP is fixed: embeddings 32, hidden 128,128, SiLU",
	"act":          "the posterior MLP is fixed: embeddings 32, hidden 128,128, SiLU",
	"lr":           "the learning rate is 2e-3",
	"lr-schedule":  "the learning rate is constant",
	"ema":          "no weight averaging for a discrete model",
	"param":        "the model predicts the posterior over tokens (choose its loss with -loss ce|gkl)",
	"param-weight": "the model predicts the posterior over tokens (choose its loss with -loss ce|gkl)",
}

func runDiscreteTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "-data checkerboard-discrete|8gaussians-discrete -out model.safetensors [flags]", stderr)
	df := addDiscreteFlags(fs)
	out := fs.String("out", "", "checkpoint file (.safetensors; its folder must exist)")
	threads := addThreadsFlag(fs)
	c := checkFormFlags(fs, args, "to a discrete model", trainNotDiscrete)
	c.required("out")
	c.threads(*threads)
	c.outFile("out", *out, ".safetensors")
	q, p, err := df.check(c)
	if err != nil {
		return err
	}
	start := time.Now()
	m, losses, err := df.train(q, p, stderr)
	if err != nil {
		return err
	}
	if err := discrete.SavePosteriorMLP(*out, m, map[string]string{metaDiscreteData: *df.data}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: %s, %d steps in %.1f s, final loss %.4f; wrote %s\n", *df.data, *df.steps, time.Since(start).Seconds(), meanTail(losses, 100), *out)
	return nil
}

// loadDiscrete loads a discrete checkpoint and its training data set.
func loadDiscrete(ckpt string) (*discrete.PosteriorMLP, discrete.Dist, string, error) {
	m, meta, err := discrete.LoadPosteriorMLP(ckpt)
	if err != nil {
		return nil, discrete.Dist{}, "", err
	}
	name := meta[metaDiscreteData]
	q, err := data.DiscreteToy(name, m.Path.V)
	if err != nil {
		return nil, discrete.Dist{}, "", fmt.Errorf("%s: metadata %s: %w", ckpt, metaDiscreteData, err)
	}
	return m, q, name, nil
}

// cellCentres maps token pairs to the centres of their cells in [−4, 4)².
func cellCentres(xs [][]int, bins int) *ag.Tensor {
	w := 8 / float64(bins)
	t := ag.Zeros(len(xs), 2)
	for k, x := range xs {
		t.Data[2*k], t.Data[2*k+1] = -4+(float64(x[0])+0.5)*w, -4+(float64(x[1])+0.5)*w
	}
	return t
}

// sampleNotDiscrete, loglikNotDiscrete and plotNotDiscrete are the flags
// of sample, loglik and plot on a 2-D (or image) checkpoint that have no
// meaning for a discrete one, and why (checkFormFlags).
var (
	sampleNotDiscrete = map[string]string{
		"solver":    "the sampler is the discrete Euler jump process (set -euler-steps)",
		"ode-steps": "the sampler is the discrete Euler jump process (set -euler-steps)",
		"tol":       "the discrete Euler sampler takes fixed steps (-euler-steps)",
		"sde":       "the sampler is a jump process already",
		"schedule":  "the mixture path's schedule is linear",
		"class":     "the model is unconditional",
		"guidance":  "the model is unconditional",
	}
	loglikNotDiscrete = map[string]string{
		"data":      "the NLL is exact, over every cell of the data set the checkpoint names",
		"n":         "the NLL is exact, over every cell: no points are drawn",
		"seed":      "the NLL is exact, over every cell: no points are drawn",
		"out":       "the NLL is exact, over every cell: there are no per-point values",
		"solver":    "the likelihood is the exact law of the Euler sampler (set -euler-steps)",
		"ode-steps": "the likelihood is the exact law of the Euler sampler (set -euler-steps)",
		"tol":       "the likelihood is the exact law of the Euler sampler (set -euler-steps)",
	}
	plotNotDiscrete = map[string]string{
		"data":   "the pictures show the data set the checkpoint names",
		"n":      "the pictures are exact laws over every cell: nothing is sampled",
		"seed":   "the pictures are exact laws over every cell: nothing is sampled",
		"grid":   "the grid is the model's cells (train's -bins)",
		"times":  "the pictures are the data's law and the Euler sampler's",
		"format": "the pictures are PNG",
	}
)

func runDiscreteSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sample", "-checkpoint model.safetensors -out samples.csv|.npy [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "discrete checkpoint written by train or demo")
	n := fs.Int("n", 1000, fmt.Sprintf("number of samples, 1 to %d", maxPoints))
	euler := fs.Int("euler-steps", 64, "steps of the discrete Euler sampler")
	seed := fs.Uint64("seed", 0, "random seed")
	out := fs.String("out", "", "output file (.csv or .npy; its folder must exist): the centres of the sampled cells in [−4, 4)²")
	threads := addThreadsFlag(fs)
	c := checkFormFlags(fs, args, "to a discrete model", sampleNotDiscrete)
	c.required("checkpoint", "out")
	c.count("n", *n, 1, maxPoints)
	c.count("euler-steps", *euler, 1, maxEulerSteps)
	c.threads(*threads)
	c.outFile("out", *out, ".csv", ".npy")
	if c.err != nil {
		return c.err
	}
	m, _, _, err := loadDiscrete(*ckpt)
	if err != nil {
		return err
	}
	rng := newRand(*seed, 24)
	xs := discrete.Euler(m, m.Path, m.Path.SampleSource(*n, rng), *euler, rng)
	if err := writePoints(*out, cellCentres(xs, m.Path.V)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: %d samples by discrete Euler (%d steps) written to %s\n", *n, *euler, *out)
	return nil
}

func runDiscreteLoglik(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("loglik", "-checkpoint model.safetensors [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "discrete checkpoint written by train or demo")
	euler := fs.Int("euler-steps", 64, "steps of the Euler sampler whose exact law is evaluated")
	threads := addThreadsFlag(fs)
	c := checkFormFlags(fs, args, "to a discrete model", loglikNotDiscrete)
	c.required("checkpoint")
	c.count("euler-steps", *euler, 1, maxEulerSteps)
	c.threads(*threads)
	if c.err != nil {
		return c.err
	}
	m, q, name, err := loadDiscrete(*ckpt)
	if err != nil {
		return err
	}
	nll, h := discrete.NLL(m.Path, q, discrete.EulerDistribution(m, m.Path, *euler))
	fmt.Fprintf(stdout, "loglik: %s, exact over all %d cells (the Euler sampler's law, %d steps): nll=%.4f entropy=%.4f kl=%.4f\n",
		name, m.Path.V*m.Path.V, *euler, nll, h, nll-h)
	return nil
}

// drawLaws draws the data's cell probabilities and the law pi as data.png
// and model.png in dir and returns the files.
func drawLaws(dir, name string, p discrete.Path, q discrete.Dist, pi []float64, title string) ([]string, error) {
	sp := discrete.SpaceOf(p)
	qcell := make([]float64, sp.Size())
	for j, x := range q.X {
		qcell[sp.Index(x)] = q.W[j]
	}
	var files []string
	for _, pic := range []struct {
		file, title string
		law         []float64
	}{{"data.png", name + ": cell probabilities q", qcell}, {"model.png", title, pi}} {
		grid := make([][]float64, p.V)
		for iy := range grid {
			grid[iy] = make([]float64, p.V)
			for ix := range grid[iy] {
				grid[iy][ix] = math.Log(pic.law[sp.Index([]int{ix, iy})])
			}
		}
		file := filepath.Join(dir, pic.file)
		if err := plot.DensityGrid(file, pic.title, grid, -4, 4, -4, 4); err != nil {
			return files, err
		}
		files = append(files, file)
	}
	return files, nil
}

func runDiscretePlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "-checkpoint model.safetensors -out dir [flags]", stderr)
	ckpt := fs.String("checkpoint", "", "discrete checkpoint written by train or demo")
	out := fs.String("out", "", "output folder (created if missing; its parent must exist)")
	euler := fs.Int("euler-steps", 64, "steps of the Euler sampler whose exact law is drawn")
	threads := addThreadsFlag(fs)
	c := checkFormFlags(fs, args, "to a discrete model", plotNotDiscrete)
	c.required("checkpoint", "out")
	c.count("euler-steps", *euler, 1, maxEulerSteps)
	c.threads(*threads)
	c.outDir("out", *out)
	if c.err != nil {
		return c.err
	}
	m, q, name, err := loadDiscrete(*ckpt)
	if err != nil {
		return err
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	pi := discrete.EulerDistribution(m, m.Path, *euler)
	nll, h := discrete.NLL(m.Path, q, pi)
	files, err := drawLaws(*out, name, m.Path, q, pi, fmt.Sprintf("exact law of the Euler sampler (%d steps), kl = %.4f", *euler, nll-h))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "plot: wrote %s\n", strings.Join(files, ", "))
	return nil
}
