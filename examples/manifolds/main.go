// Command manifolds trains a flow on the sphere or the flat torus with
// package fm/riemann (Chen & Lipman 2023, arXiv:2302.03660) and measures it
// like flowmatch demo: the held-out negative log-likelihood through the
// ODE with the Riemannian divergence, the data's exact entropy H, and
// kl = nll − H, an estimate of KL(data‖model). It ends with one line such as
//
//	demo: dataset=sphere-vmf steps=4000 nll=1.3515 entropy=1.2892 kl=0.0624 seconds=45.9
//
//	go run ./examples/manifolds -data sphere-vmf
//	go run ./examples/manifolds -data torus-vonmises -out pics
//	go run ./examples/manifolds -data torus-vonmises -base wrapped-normal:1
//
// The data sets are riemann.DatasetNames(). Samples are drawn with RK4 and
// the retraction, and the output reports how far they are from the sphere.
// With -out dir it also draws, into dir: samples.png (data in grey, model
// samples in blue) and density.png (the model's density) on the sphere's
// equal-area map (Lambert's cylindrical projection, longitude φ against
// z = sin(latitude), where area is dφ·dz, so a density per unit area is a
// density on the map) or on the torus's periodic square [0, 2π)²;
// data-density.png (the exact density); trajectories.png (ODE paths from
// the uniform law, unwrapped on the torus, on the map on the sphere,
// leaving out paths that cross the map's edge φ = ±π); and, on the sphere,
// ortho.png, the samples on the hemisphere x > 0 seen from +x. The same run
// is `flowmatch demo -data sphere-vmf` (internal/manifolddemo).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/internal/manifolddemo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "manifolds:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifolds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := manifolddemo.Config{}
	fs.StringVar(&cfg.Data, "data", "sphere-vmf", "data set: "+strings.Join(riemann.DatasetNames(), ", "))
	fs.IntVar(&cfg.Steps, "steps", 4000, "training steps")
	fs.IntVar(&cfg.Batch, "batch", 256, "batch size")
	fs.IntVar(&cfg.Width, "width", 128, "units in each of the 3 hidden layers")
	fs.IntVar(&cfg.N, "n", 2000, "held-out points for the NLL")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed")
	fs.StringVar(&cfg.Out, "out", "", "folder for the pictures (must exist; empty: no pictures)")
	fs.StringVar(&cfg.Base, "base", "uniform", "law of x₀: uniform, or on the torus wrapped-normal:σ")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := riemann.Dataset(cfg.Data)
	if err != nil {
		return err
	}
	if _, err := riemann.ParseBase(d.Manifold(), cfg.Base); err != nil {
		return err
	}
	for _, c := range []struct {
		flag string
		v    int
	}{{"steps", cfg.Steps}, {"batch", cfg.Batch}, {"width", cfg.Width}, {"n", cfg.N}} {
		if c.v < 1 || c.v > 1_000_000 {
			return fmt.Errorf("-%s %d: want 1 to 1,000,000", c.flag, c.v)
		}
	}
	_, err = manifolddemo.Run(cfg, stdout, stderr)
	return err
}
