package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/internal/manifolddemo"
	"github.com/flowmatch/flowmatch/nn"
)

// manifoldDataArg reports whether args ask demo for a manifold data set
// (-data sphere-vmf, torus-vonmises or torus-checkerboard,
// riemann.DatasetNames), which runManifoldDemo handles.
func manifoldDataArg(args []string) bool {
	return dataArgIn(args, riemann.DatasetNames())
}

// runManifoldDemo is demo on a manifold data set (fm/riemann, Chen &
// Lipman 2023, arXiv:2302.03660): internal/manifolddemo trains a flow,
// measures the held-out NLL with the Riemannian divergence against the
// exact entropy, draws samples, densities and paths on the sphere's
// equal-area map or the torus's periodic square, and report.json holds the
// numbers; model.safetensors (riemann.SaveCheckpoint) is the model, for
// sample, loglik and plot. TestDemo_Manifold.
func runManifoldDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "-data "+strings.Join(riemann.DatasetNames(), "|")+" [-out dir] [flags]", stderr)
	cfg := manifolddemo.Config{}
	out := fs.String("out", "flowmatch-demo", "output folder for the pictures and report.json (created if missing; its parent must exist)")
	fs.StringVar(&cfg.Data, "data", "sphere-vmf", "manifold data set: "+strings.Join(riemann.DatasetNames(), ", "))
	fs.IntVar(&cfg.Steps, "steps", 4000, "training steps")
	fs.IntVar(&cfg.Batch, "batch", 256, "batch size")
	fs.IntVar(&cfg.Width, "width", 128, "units in each of the 3 hidden layers")
	fs.IntVar(&cfg.N, "n", 2000, "held-out points for the NLL, and model samples")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed")
	fs.StringVar(&cfg.Base, "base", "uniform", "law of x₀: uniform, or on the torus wrapped-normal:σ (e.g. wrapped-normal:1)")
	threads := addThreadsFlag(fs)
	c := checkFlags(fs, args)
	c.threads(*threads)
	c.count("steps", cfg.Steps, 1, maxSteps)
	c.count("batch", cfg.Batch, 1, maxBatch)
	c.count("width", cfg.Width, 1, 4096)
	c.count("n", cfg.N, 1, 100_000)
	checkManifoldData(c, cfg.Data, cfg.Base)
	c.outDir("out", *out)
	if c.err != nil {
		return c.err
	}
	if err := makeOutDir(*out, stderr); err != nil {
		return err
	}
	cfg.Out = *out
	nn.SetThreads(*threads)
	r, err := manifolddemo.Run(cfg, stdout, stderr)
	if err != nil {
		return err
	}
	ckpt, err := saveDemoModel(*out, r)
	if err != nil {
		return err
	}
	r.Files = append(r.Files, ckpt)
	file, err := writeReportJSON(*out, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s, %s and %d pictures\n", file, ckpt, len(r.Files)-1)
	return nil
}

// manifoldDatasets lists the manifold data sets of fm/riemann for the
// datasets command, with their exact entropies (with respect to area on S²
// and dθ₁dθ₂ on T²) and the uniform law's, ln vol(M). TestDatasets_ListsManifolds.
func manifoldDatasets(w io.Writer) {
	fmt.Fprintln(w, "\nManifold datasets (demo or train -data NAME; fm/riemann; H is the entropy on the manifold):")
	for _, name := range riemann.DatasetNames() {
		d, err := riemann.Dataset(name)
		if err != nil {
			continue
		}
		m := d.Manifold()
		fmt.Fprintf(w, "  %-20s on the %-6s H = %.4f nats (exact; uniform: %.4f)\n", name, m.Name(), d.Entropy(), m.LogVolume())
	}
}
