// Tutorial 17: flow matching against score matching, ODE against SDE (Song
// et al. 2021, arXiv:2011.13456; Lipman et al. 2022, arXiv:2210.02747, §4;
// Lipman et al. 2024, arXiv:2412.06264, §4.8).
//
// On an affine Gaussian path the velocity and the score are each other's
// (fm.VelocityScore), so one trained field defines the probability-flow ODE
// and a whole family of SDEs dX = [u + (g²/2)∇log p_t] dt + g dW with the
// same marginals. This tutorial samples the exact 8-Gaussian field on the
// VP path by the ODE and by the SDE for several g, and measures the
// Euler–Maruyama error against the solver error of the ODE; the comparison
// of trained FM and DSM models is quoted from examples/gaussianpaths.
//
//	go run ./tutorials/17-fm-vs-score-matching [-out DIR]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/plot"
)

// Row is one sampler's cross-entropy −E log q(X) (mean ± standard error
// over its samples) at several step counts.
type Row struct {
	Name   string
	CE, SE []float64 // at Steps
}

// Result holds every number main prints.
type Result struct {
	H, HSE float64 // −E log q(X) over data samples: the entropy, the value of exact samples
	Steps  []int
	Rows   []Row
	// ZeroIsODE is max |SampleSDE(g = 0) − Euler| over all coordinates.
	ZeroIsODE float64
}

// Points is the sample size of every row of main's run.
const Points = 2000

func main() {
	out := flag.String("out", "", "directory for figure.png (empty: no picture)")
	flag.Parse()
	r, err := run(*out, Points)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Exact 8-Gaussian field on the VP path, %d samples: −E log q(X) ± s.e. (data itself: %.4f ± %.4f)\n", Points, r.H, r.HSE)
	fmt.Printf("  %-22s", "steps")
	for _, s := range r.Steps {
		fmt.Printf(" %16d", s)
	}
	fmt.Println()
	for _, row := range r.Rows {
		fmt.Printf("  %-22s", row.Name)
		for i := range row.CE {
			fmt.Printf("  %7.4f ± %.4f", row.CE[i], row.SE[i])
		}
		fmt.Println()
	}
	fmt.Printf("SDE with g = 0 against Euler on the ODE: max difference %.1e\n", r.ZeroIsODE)
	if *out != "" {
		fmt.Println("wrote", filepath.Join(*out, "figure.png"))
	}
}

// eightGaussians is data.EightGaussians as an fm.Mixture.
func eightGaussians() *fm.Mixture {
	m := &fm.Mixture{}
	for k := range 8 {
		s, c := math.Sincos(math.Pi * float64(k) / 4)
		m.Means = append(m.Means, []float64{4 * c / math.Sqrt2, 4 * s / math.Sqrt2})
		m.Stds = append(m.Stds, 0.5/math.Sqrt2)
		m.Weights = append(m.Weights, 1)
	}
	return m
}

// velocity is the exact marginal field of m as an fm.Velocity (t [n, 1]).
func velocity(m fm.MixtureMarginal) fm.Velocity {
	return func(t, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := range x.Rows {
			copy(out.Row(i), m.Field(t.Data[i%t.Rows], x.Row(i)))
		}
		return out
	}
}

// crossEntropy returns the mean of −log q(x) over the rows of x and its
// standard error (q = p₁ of the VP path, which has σ₁ = 0).
func crossEntropy(m fm.MixtureMarginal, x *autograd.Tensor) (float64, float64) {
	v := make([]float64, x.Rows)
	for i := range v {
		v[i] = -m.LogProb(1, x.Row(i))
	}
	return stats.MeanStdErr(v)
}

func run(out string, n int) (Result, error) {
	q := eightGaussians()
	p := fm.VP{}
	m := fm.MixtureMarginal{Path: p, Data: q}
	v := velocity(m)
	ref := q.Sample(n, fm.NewRand(1))
	r := Result{Steps: []int{25, 100, 400}}
	r.H, r.HSE = crossEntropy(m, ref)
	x0 := fm.SampleSource(p, n, 2, fm.NewRand(3))
	beta := func(t float64) float64 { return math.Sqrt(0.1 + 19.9*(1-t)) } // √β(1 − t): the reverse SDE of VP
	gs := []struct {
		name string
		g    func(float64) float64
	}{
		{"SDE g = 0.5", func(float64) float64 { return 0.5 }},
		{"SDE g = 1", func(float64) float64 { return 1 }},
		{"SDE g = 2", func(float64) float64 { return 2 }},
		{"SDE g = √β (reverse)", beta},
	}
	samples := map[string]*autograd.Tensor{}
	ode := Row{Name: "ODE, Euler"}
	for _, steps := range r.Steps {
		x, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.Euler, Steps: steps})
		if err != nil {
			return r, err
		}
		ce, se := crossEntropy(m, x)
		ode.CE, ode.SE = append(ode.CE, ce), append(ode.SE, se)
		samples["ODE"] = x
	}
	r.Rows = append(r.Rows, ode)
	for k, c := range gs {
		row := Row{Name: c.name}
		for _, steps := range r.Steps {
			x, err := fm.SampleSDE(v, p, c.g, x0, steps, fm.NewRand(uint64(10+k)))
			if err != nil {
				return r, err
			}
			ce, se := crossEntropy(m, x)
			row.CE, row.SE = append(row.CE, ce), append(row.SE, se)
			samples[c.name] = x
		}
		r.Rows = append(r.Rows, row)
	}
	xe, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.Euler, Steps: 25})
	if err != nil {
		return r, err
	}
	xz, err := fm.SampleSDE(v, p, nil, x0, 25, nil)
	if err != nil {
		return r, err
	}
	for i, a := range xe.Data {
		r.ZeroIsODE = max(r.ZeroIsODE, math.Abs(a-xz.Data[i]))
	}

	if out != "" {
		tmp, err := os.MkdirTemp("", "tutorial17")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(tmp)
		var files []string
		for _, name := range []string{"ODE", "SDE g = 1", "SDE g = √β (reverse)"} {
			f := filepath.Join(tmp, fmt.Sprintf("%d.png", len(files)))
			if err := plot.Samples(f, fmt.Sprintf("%s, %d steps", name, r.Steps[len(r.Steps)-1]), ref, samples[name]); err != nil {
				return r, err
			}
			files = append(files, f)
		}
		if err := plot.Montage(filepath.Join(out, "figure.png"), files...); err != nil {
			return r, err
		}
	}
	return r, nil
}
