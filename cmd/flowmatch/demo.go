package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/progress"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

// demoReport is what demo measures; it is written as report.json and
// report.md. Entropy and KL are null when the data's entropy is unknown
// (a user's file).
type demoReport struct {
	Dataset      string   `json:"dataset"`
	TrainRows    int      `json:"train_rows,omitempty"` // rows of a user's file trained on (the others are held out)
	Path         string   `json:"path"`
	SigmaMin     float64  `json:"sigma_min"`
	Hidden       []int    `json:"hidden"`
	Steps        int      `json:"steps"`
	Batch        int      `json:"batch"`
	Seed         uint64   `json:"seed"`
	Threads      int      `json:"threads"`
	FinalLoss    float64  `json:"final_loss"`
	TrainSeconds float64  `json:"train_seconds"`
	StepsPerSec  float64  `json:"train_steps_per_s"`
	EvalPoints   int      `json:"eval_points"` // held-out points for the NLL, and model samples for W2
	Solver       string   `json:"loglik_solver"`
	NLL          float64  `json:"nll"`
	NLLStdErr    float64  `json:"nll_stderr"`
	Entropy      *float64 `json:"entropy"`
	EntropyErr   *float64 `json:"entropy_stderr"`
	KL           *float64 `json:"kl"`
	KLStdErr     *float64 `json:"kl_stderr"`
	LoglikNFE    int      `json:"loglik_nfe"`
	SampleSolver string   `json:"sample_solver"`
	W2           float64  `json:"w2"`       // 2-Wasserstein distance W₂ (not squared) between model samples and held-out data
	W2Floor      float64  `json:"w2_floor"` // W₂ between two independent data samples of the same size: what a perfect model scores
	SlicedW2     float64  `json:"sliced_w2"`
	MMD2         float64  `json:"mmd2"`
	PathEnergy   float64  `json:"path_energy"`
	Straightness float64  `json:"straightness"`
	Seconds      float64  `json:"seconds"`
	Files        []string `json:"files"`
}

// runDemo is demo on 2-D data; images, discrete and manifold data are its
// other forms (main.go: commands).
func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[-out dir] [flags]", stderr)
	out := fs.String("out", "flowmatch-demo", "output folder for the pictures, the report and the checkpoint (created if missing; its parent must exist)")
	steps := fs.Int("steps", 3000, "training steps (3,000 like the PyTorch peer, bench/peers/torch_fm.py)")
	batch := fs.Int("batch", 256, "batch size")
	evalN := fs.Int("n", 2000, "held-out points for the NLL, and model samples for W2 and MMD (for a file: at most a fifth of its rows)")
	grid := fs.Int("grid", 40, fmt.Sprintf("density picture grid points per axis, 2 to %d", maxGrid))
	seed := fs.Uint64("seed", 0, "random seed")
	schedule := fs.String("lr-schedule", "constant", "learning-rate schedule: constant or cosine")
	ema := fs.Float64("ema", 0, "EMA decay of the weights (0: off)")
	dataSpec := fs.String("data", "8gaussians", "dataset (see 'flowmatch datasets'; one with a known entropy gives the KL) or a .csv/.npy file")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.threads(*threads)
	c.count("n", *evalN, 2, maxPoints)
	c.count("grid", *grid, 2, maxGrid)
	spec := trainSpec{Path: pathSpec{Name: "condot", SigmaMin: 1e-4}, Coupling: "independent",
		Hidden: []int{256, 256, 256}, Act: "silu", Steps: *steps, Batch: *batch, LR: 1e-3, Schedule: *schedule, EMA: *ema, Seed: *seed}
	spec.check(c)
	c.outDir("out", *out)
	if c.err != nil {
		return c.err
	}
	src, err := openData("data", *dataSpec)
	if err != nil {
		return err
	}
	if src.Dim() != 2 {
		return fmt.Errorf("-data %s has %d columns; demo draws 2-D data (use train, sample and loglik for other dimensions)", *dataSpec, src.Dim())
	}
	// Held-out data: fresh draws of a built-in set; rows of a file that
	// training never sees.
	var held *ag.Tensor
	r := demoReport{Dataset: *dataSpec, Path: spec.Path.Name, SigmaMin: spec.Path.SigmaMin, Hidden: spec.Hidden,
		Steps: spec.Steps, Batch: spec.Batch, Seed: spec.Seed, Threads: *threads}
	if src.Toy != nil {
		held = src.Toy.Sample(*evalN, newRand(*seed+1, 7))
	} else {
		var train *ag.Tensor
		if train, held, err = src.holdOut(*evalN, newRand(*seed, 12)); err != nil {
			return err
		}
		r.TrainRows = train.Rows
		fmt.Fprintf(stdout, "demo: %s has %d rows: training on %d, holding out %d for evaluation\n", src.Spec, src.Rows.Rows, train.Rows, held.Rows)
		src = &dataSource{Spec: src.Spec, Rows: train}
	}
	spec.Data = src
	r.EvalPoints = held.Rows
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}

	start := time.Now()
	fmt.Fprintf(stdout, "demo: training a %v SiLU velocity MLP on %s with the CondOT path (σ_min = %g), %d steps of batch %d, %d threads\n",
		spec.Hidden, spec.Data.Spec, spec.Path.SigmaMin, spec.Steps, spec.Batch, *threads)
	model, losses, err := trainModel(spec, *threads, stderr)
	if err != nil {
		return err
	}
	r.FinalLoss, r.TrainSeconds = meanTail(losses, 100), time.Since(start).Seconds()
	r.StepsPerSec = float64(spec.Steps) / r.TrainSeconds
	ckpt := filepath.Join(*out, "model.safetensors")
	meta, err := pathMeta(spec.Path, spec.Data.Spec)
	if err != nil {
		return err
	}
	if err := nn.SaveVelocityMLP(ckpt, model, meta); err != nil {
		return err
	}
	r.Files = append(r.Files, ckpt)

	// Held-out negative log-likelihood, exactly (dopri5, exact divergence).
	p, _ := spec.Path.build()
	opts, _ := solveOptions("dopri5", 0, 1e-5)
	r.Solver = "dopri5 rtol=atol=1e-5, exact divergence"
	entropy := src.Entropy()
	bar := progress.New(stderr, "nll", held.Rows, "points")
	lp, st, err := logLikelihood(model, p, held, opts, *threads, bar)
	bar.Done()
	if err != nil {
		return err
	}
	r.LoglikNFE = st.NFE
	nll := make([]float64, len(lp))
	for i, v := range lp {
		nll[i] = -v
	}
	r.NLL, r.NLLStdErr = stats.MeanStdErr(nll)
	if h, hse, ok := entropy(); ok {
		kl, klse := r.NLL-h, math.Hypot(r.NLLStdErr, hse)
		r.Entropy, r.EntropyErr, r.KL, r.KLStdErr = &h, &hse, &kl, &klse
		fmt.Fprintf(stdout, "demo: held-out NLL %.4f ± %.4f nats, entropy %.4f ± %.4f, KL ≈ NLL − H = %.4f ± %.4f (NFE %d)\n",
			r.NLL, r.NLLStdErr, h, hse, kl, klse, r.LoglikNFE)
	} else {
		fmt.Fprintf(stdout, "demo: held-out NLL %.4f ± %.4f nats (NFE %d); the entropy of %s is unknown, so no KL\n",
			r.NLL, r.NLLStdErr, r.LoglikNFE, src.Spec)
	}

	// Sample quality: exact W2 between model samples and held-out data,
	// beside the W2 of two independent data samples of the same size (the
	// finite-sample floor a perfect model would score).
	r.SampleSolver = "rk4, 25 steps"
	bar = progress.New(stderr, "sample", held.Rows, "points")
	s, err := sample(model, p, held.Rows, picSolver, newRand(*seed, 8), 500, *threads, bar)
	bar.Done()
	if err != nil {
		return err
	}
	twin := src.Sampler()(held.Rows, newRand(*seed, 13))
	if r.W2, r.W2Floor, err = w2Pair(s.X, held, twin, *threads); err != nil {
		return err
	}
	sw2, err := metrics.SlicedW2Squared(s.X, held, 200, newRand(*seed, 9))
	if err != nil {
		return err
	}
	r.SlicedW2 = math.Sqrt(sw2)
	if r.MMD2, err = metrics.MMD2(s.X, held, 0); err != nil {
		return err
	}
	ps, err := fm.TrajectoryStats(s.Traj, s.Times)
	if err != nil {
		return err
	}
	r.PathEnergy, r.Straightness = ps.Energy, ps.Straightness
	fmt.Fprintf(stdout, "demo: W2 = %.4f (two data samples of %d points: %.4f), sliced W2 = %.4f, MMD² = %.2e, path energy %.3f (straightness gap %.3f)\n",
		r.W2, held.Rows, r.W2Floor, r.SlicedW2, r.MMD2, r.PathEnergy, r.Straightness)

	times := []float64{0, 0.5, 1}
	files, err := drawAll(model, p, held, s, *out, "png", *grid, times, *threads, stderr)
	if err != nil {
		return err
	}
	lossFile := filepath.Join(*out, "loss.png")
	if err := plot.LossCurves(lossFile, "CFM training loss (it cannot reach 0: see fm.CFMFloor)", map[string][]float64{"CFM loss": losses}, 50); err != nil {
		return err
	}
	r.Files = append(r.Files, append(files, lossFile)...)
	r.Seconds = time.Since(start).Seconds()
	if err := writeReport(*out, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: wrote %d files to %s\n", len(r.Files)+2, *out)
	fmt.Fprintln(stdout, finalLine(r))
	return nil
}

// w2Pair returns the exact 2-Wasserstein distances (not squared)
//
//	W₂(x, y) = √(min over permutations σ of (1/n) Σᵢ ‖xᵢ − y_σ(i)‖²)
//
// of the model samples x and of an independent data sample twin to the
// held-out data y (metrics.W2Squared, both at once on 2 threads). W₂ of
// twin is the finite-sample floor: what a perfect model would score with
// this many points. TestW2Pair_Distance.
func w2Pair(x, y, twin *ag.Tensor, threads int) (w2, floor float64, err error) {
	var floorErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); floor, floorErr = metrics.W2Squared(twin, y) }()
	if threads == 1 {
		wg.Wait()
	}
	w2, err = metrics.W2Squared(x, y)
	wg.Wait()
	if err == nil {
		err = floorErr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("W2: %w", err)
	}
	return math.Sqrt(w2), math.Sqrt(floor), nil
}

// finalLine is demo's last line: the dataset, the held-out NLL, the
// entropy and KL when the entropy is known, W2 (the distance, not its
// square) and the seconds taken.
func finalLine(r demoReport) string {
	s := fmt.Sprintf("demo: dataset=%s steps=%d nll=%.4f", r.Dataset, r.Steps, r.NLL)
	if r.Entropy != nil {
		s += fmt.Sprintf(" entropy=%.4f kl=%.4f", *r.Entropy, *r.KL)
	} else {
		s += " entropy=unknown"
	}
	return s + fmt.Sprintf(" w2=%.4f seconds=%.1f", r.W2, r.Seconds)
}

// meanTail is the mean of the last k values (the end-of-training loss,
// averaged over batches).
func meanTail(xs []float64, k int) float64 {
	k = min(k, len(xs))
	s := 0.0
	for _, v := range xs[len(xs)-k:] {
		s += v
	}
	return s / float64(k)
}

// writeReport writes demo's report r as report.json and report.md in dir.
func writeReport(dir string, r demoReport) error {
	if _, err := writeReportJSON(dir, r); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# flowmatch demo\n\n")
	fmt.Fprintf(&b, "A velocity MLP %v (SiLU) trained by conditional flow matching (Lipman et al. 2022, arXiv:2210.02747, eq. 9 and Algorithm 1) on **%s** with the CondOT path (σ_min = %g, §4.1): %d Adam steps of batch %d, seed %d, %d threads, %.1f s (%.0f steps/s).\n\n",
		r.Hidden, r.Dataset, r.SigmaMin, r.Steps, r.Batch, r.Seed, r.Threads, r.TrainSeconds, r.StepsPerSec)
	if r.TrainRows > 0 {
		fmt.Fprintf(&b, "Training used %d rows of the file; the %d other rows were held out for evaluation.\n\n", r.TrainRows, r.EvalPoints)
	}
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| final CFM loss (mean of last 100 batches) | %.4f |\n", r.FinalLoss)
	fmt.Fprintf(&b, "| held-out NLL (%d points, %s) | %.4f ± %.4f nats |\n", r.EvalPoints, r.Solver, r.NLL, r.NLLStdErr)
	if r.Entropy != nil {
		fmt.Fprintf(&b, "| data entropy H | %.4f ± %.4f nats |\n", *r.Entropy, *r.EntropyErr)
		fmt.Fprintf(&b, "| KL(data ‖ model) ≈ NLL − H | %.4f ± %.4f nats |\n", *r.KL, *r.KLStdErr)
	} else {
		fmt.Fprintf(&b, "| data entropy H | unknown (so no KL) |\n")
	}
	fmt.Fprintf(&b, "| exact W₂, model samples vs held-out data (%s) | %.4f |\n", r.SampleSolver, r.W2)
	fmt.Fprintf(&b, "| exact W₂ of two independent data samples of the same size (the floor) | %.4f |\n", r.W2Floor)
	fmt.Fprintf(&b, "| sliced W₂ (200 directions) | %.4f |\n", r.SlicedW2)
	fmt.Fprintf(&b, "| MMD² (RBF, median bandwidth) | %.2e |\n", r.MMD2)
	fmt.Fprintf(&b, "| path energy E∫‖v‖²dt / straightness gap (500 paths) | %.3f / %.3f |\n", r.PathEnergy, r.Straightness)
	fmt.Fprintf(&b, "| log-likelihood NFE | %d |\n| total seconds | %.1f |\n\n", r.LoglikNFE, r.Seconds)
	fmt.Fprintf(&b, "W₂ is the 2-Wasserstein distance (the square root of the optimal mean squared matching distance), not its square. ")
	fmt.Fprintf(&b, "The PyTorch peer of this workload, bench/peers/torch_fm.py in the repository (the same model, data, path, optimizer, batch and 3,000 steps), reaches NLL − H ≈ 0.12 nats.\n\n")
	for _, f := range r.Files {
		if strings.HasSuffix(f, ".png") {
			fmt.Fprintf(&b, "![%s](%s)\n", filepath.Base(f), filepath.Base(f))
		}
	}
	return data.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(b.String()))
}
