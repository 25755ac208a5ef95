package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/internal/progress"
)

// datasetInfo is a one-line description of each built-in dataset of the
// data package (its constructors' doc comments give the formulas).
// TestDatasets_EveryNameDescribed checks that every name data.Names
// returns has one.
var datasetInfo = map[string]string{
	"8gaussians":    "8 Gaussians (std 0.35) on a circle of radius 2√2 (FFJORD)",
	"gaussian":      "the standard normal N(0, I₂)",
	"checkerboard":  "uniform on the 8 black squares of a 4×4 board on [−4, 4)² (FFJORD)",
	"moons":         "two half-moons, make_moons(noise 0.1)·2 + (−1, −0.2) (FFJORD)",
	"moons-sklearn": "two half-moons, make_moons(noise 0.1) unscaled (flow_matching's 2-D example)",
	"moons-peer":    "two half-moons, 2·make_moons(noise 0.05) − (1, 0.25) (the PyTorch peer's)",
	"circles":       "two circles of radius 3 and 1.5, noise 0.24 (FFJORD)",
	"rings":         "four circles of radius 3, 2.25, 1.5 and 0.75, noise 0.08 (FFJORD)",
	"2spirals":      "two interleaved spirals (FFJORD)",
	"swissroll":     "scikit-learn's swiss roll seen from its side, ÷5 (FFJORD)",
	"pinwheel":      "five curved arms (FFJORD)",
}

// moonsNote says how the three moons differ.
const moonsNote = `moons, moons-sklearn and moons-peer are all scikit-learn's make_moons (two interleaved
half circles plus Gaussian noise); they differ in noise and scale: moons is FFJORD's
(noise 0.1, scaled by 2 and shifted), moons-sklearn is unscaled with noise 0.1 (the
setting of facebookresearch/flow_matching's 2-D examples), and moons-peer has half the
noise (0.05), scaled by 2 like FFJORD's. Scaling by 2 adds 2 ln 2 = 1.386 nats to H.`

func runDatasets(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("datasets", "[-threads n]", stderr)
	threads := addThreadsFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	names := data.Names()
	lines := make([]string, len(names))
	bar := progress.New(stderr, "entropies", len(names), "datasets")
	var wg sync.WaitGroup
	next := make(chan int)
	for range *threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				lines[i] = datasetLine(names[i])
				bar.Add(1)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	bar.Done()
	fmt.Fprintln(stdout, "Built-in datasets (use the name with -data; H is the differential entropy, the floor of the NLL):")
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintln(stdout, "\n"+moonsNote)
	discreteDatasets(stdout) // discrete.go
	manifoldDatasets(stdout) // manifold.go
	mnistDatasets(stdout)    // mnist.go
	return nil
}

// datasetLine is the line of the dataset called name: its name, its
// description and its entropy H where it is known (exact, or Monte Carlo
// with its standard error, from data.Entropy).
func datasetLine(name string) string {
	toy, _ := data.Lookup(name)
	h, se, err := data.Entropy(name)
	ent := "H unknown"
	switch {
	case err == nil && se == 0:
		ent = fmt.Sprintf("H = %.4f nats (exact)", h)
	case err == nil:
		ent = fmt.Sprintf("H = %.4f ± %.4f nats (Monte Carlo)", h, se)
	}
	return fmt.Sprintf("  %-13s %dD  %-76s %s", name, toy.Dim(), datasetInfo[name], ent)
}
