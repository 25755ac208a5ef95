// Tutorial 16: one path, many schedules and parametrizations (Lipman et al.
// 2024, The Flow Matching Guide and Code, arXiv:2412.06264, §4.8).
//
// An affine Gaussian path x_t = α_t x₁ + σ_t x₀ is fixed by its scheduler
// (α_t, σ_t). This tutorial compares the schedulers of package fm, converts
// the exact velocity of the 8-Gaussian mixture into the three other
// predictions a network may be trained on (x̂₁, x̂₀ and the score) and
// checks them against independent closed forms, and changes the schedule of
// a field after the fact (CondOT → Cosine) without changing its marginals.
//
//	go run ./tutorials/16-schedules-and-parametrizations [-out DIR]
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
	"github.com/flowmatch/flowmatch/plot"
)

// Sched is one scheduler's values at t = ½ and its signal-to-noise ratio
// α/σ at t = 0.1 and 0.9.
type Sched struct {
	Name            string
	Alpha, Sigma    float64 // at t = ½
	SNRLow, SNRHigh float64 // α/σ at t = 0.1 and 0.9
	SourceStd       float64 // the std of the noise samplers start from
}

// Result holds every number main prints.
type Result struct {
	Scheds []Sched
	// Conversions of the exact velocity at t = 0.1, 0.5, 0.9 on 64 points,
	// worst relative error against the independent closed forms
	// (MixtureMarginal.DataMean, NoiseMean and Score), and of the round trip
	// velocity → data → noise → score → velocity.
	ConvData, ConvNoise, ConvScore, RoundTrip float64
	// The exact CondOT field carried to the Cosine schedule by the
	// scale–time change, against the exact Cosine field (worst relative
	// error), and the rms distance between RK4 endpoints of the two.
	ChangeField, ChangeEnds float64
	// W₂² to the data of 10-step Euler samples of the exact field under
	// CondOT and under Cosine (same noise), and with RK4 200 steps.
	EulerCondOT, EulerCosine, Converged float64
}

func main() {
	out := flag.String("out", "", "directory for figure.png (empty: no picture)")
	flag.Parse()
	r, err := run(*out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Schedulers (α_t, σ_t at t = ½; signal-to-noise α/σ at t = 0.1 and 0.9; source std)")
	for _, s := range r.Scheds {
		fmt.Printf("  %-9s α = %.4f  σ = %.4f   α/σ: %8.4f → %9.4f   s = %g\n", s.Name, s.Alpha, s.Sigma, s.SNRLow, s.SNRHigh, s.SourceStd)
	}
	fmt.Println("Exact 8-Gaussian field converted (worst relative error against closed forms)")
	fmt.Printf("  velocity → x̂₁ %.1e   → x̂₀ %.1e   → score %.1e   round trip %.1e\n", r.ConvData, r.ConvNoise, r.ConvScore, r.RoundTrip)
	fmt.Println("Schedule change CondOT → Cosine (scale–time transformation)")
	fmt.Printf("  field: worst relative error %.1e   RK4 endpoints: rms %.1e\n", r.ChangeField, r.ChangeEnds)
	fmt.Printf("  10 Euler steps: W₂² %.4f (CondOT) vs %.4f (Cosine); converged %.4f\n", r.EulerCondOT, r.EulerCosine, r.Converged)
	if *out != "" {
		fmt.Println("wrote", filepath.Join(*out, "figure.png"))
	}
}

// eightGaussians is data.EightGaussians as an fm.Mixture: 8 components of
// std 0.5/√2 at 4(cos πk/4, sin πk/4)/√2.
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

// relErr returns max |a − b|/(1 + |b|).
func relErr(a, b []float64) float64 {
	w := 0.0
	for i := range a {
		w = max(w, math.Abs(a[i]-b[i])/(1+math.Abs(b[i])))
	}
	return w
}

// field turns an exact per-point field into a cnf.Field.
func field(f func(t float64, x []float64) []float64) cnf.Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := range x.Rows {
			copy(out.Row(i), f(t, x.Row(i)))
		}
		return out
	}
}

func w2(a, b *autograd.Tensor) float64 {
	_, tot := fm.Assignment(fm.SquaredDistances(a, b))
	return tot / float64(a.Rows)
}

func run(out string) (Result, error) {
	var r Result
	q := eightGaussians()
	scheds := []struct {
		name string
		p    fm.AffinePath
	}{{"CondOT", fm.CondOT{}}, {"Poly2", fm.Polynomial{N: 2}}, {"Cosine", fm.Cosine{}}, {"LinearVP", fm.LinearVP{}}, {"VP", fm.VP{}}, {"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 5}}}
	var curves []plot.Curve
	for _, s := range scheds {
		a, _, sg, _ := s.p.Schedule(0.5)
		lo, _ := fm.SNR(s.p, 0.1)
		hi, _ := fm.SNR(s.p, 0.9)
		r.Scheds = append(r.Scheds, Sched{Name: s.name, Alpha: a, Sigma: sg, SNRLow: lo, SNRHigh: hi, SourceStd: s.p.SourceStd()})
		if s.name == "VE" || s.name == "Poly2" {
			continue
		}
		var ts, as, ss []float64
		for i := range 101 {
			t := float64(i) / 100
			a, _, sg, _ := s.p.Schedule(t)
			ts, as, ss = append(ts, t), append(as, a), append(ss, sg)
		}
		curves = append(curves, plot.Curve{Name: "α " + s.name, X: ts, Y: as}, plot.Curve{Name: "σ " + s.name, X: ts, Y: ss, Dashed: true})
	}

	// Conversions of the exact velocity (fm.Convert) against closed forms.
	rng := fm.NewRand(1)
	pts := autograd.Normal(64, 2, 0, 2, rng)
	for _, s := range []fm.AffinePath{fm.CondOT{}, fm.Cosine{}, fm.VP{}} {
		m := fm.MixtureMarginal{Path: s, Data: q}
		for _, t := range []float64{0.1, 0.5, 0.9} {
			for i := range pts.Rows {
				x := pts.Row(i)
				v := m.Field(t, x)
				d := fm.Convert(s, t, fm.ParamVelocity, fm.ParamData, x, v)
				n := fm.Convert(s, t, fm.ParamVelocity, fm.ParamNoise, x, v)
				sc := fm.Convert(s, t, fm.ParamVelocity, fm.ParamScore, x, v)
				r.ConvData = max(r.ConvData, relErr(d, m.DataMean(t, x)))
				r.ConvNoise = max(r.ConvNoise, relErr(n, m.NoiseMean(t, x)))
				r.ConvScore = max(r.ConvScore, relErr(sc, m.Score(t, x)))
				back := fm.Convert(s, t, fm.ParamScore, fm.ParamVelocity, x, fm.Convert(s, t, fm.ParamNoise, fm.ParamScore, x, fm.Convert(s, t, fm.ParamData, fm.ParamNoise, x, d)))
				r.RoundTrip = max(r.RoundTrip, relErr(back, v))
			}
		}
	}

	// Schedule change CondOT → Cosine: σ_min = 0 so both reach σ = 0.
	from, to := fm.CondOT{}, fm.Cosine{}
	mf, mt := fm.MixtureMarginal{Path: from, Data: q}, fm.MixtureMarginal{Path: to, Data: q}
	changed := fm.ScheduleChange{From: from, To: to}.Field(mf.Field)
	for _, t := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		for i := range pts.Rows {
			r.ChangeField = max(r.ChangeField, relErr(changed(t, pts.Row(i)), mt.Field(t, pts.Row(i))))
		}
	}
	x0 := autograd.Normal(500, 2, 0, 1, fm.NewRand(2))
	ref := q.Sample(500, fm.NewRand(3))
	solve := func(f cnf.Field, o cnf.SolveOptions) (*autograd.Tensor, error) {
		x, _, err := cnf.Integrate(f, x0, 0, 1, o)
		return x, err
	}
	var trajOT, trajCos []*autograd.Tensor
	keep := func(dst *[]*autograd.Tensor) func(float64, *autograd.Tensor) {
		return func(_ float64, x *autograd.Tensor) {
			*dst = append(*dst, autograd.FromSlice(100, 2, append([]float64(nil), x.Data[:200]...)))
		}
	}
	eOT, err := solve(field(mf.Field), cnf.SolveOptions{Method: cnf.Euler, Steps: 10, Callback: keep(&trajOT)})
	if err != nil {
		return r, err
	}
	eCos, err := solve(field(changed), cnf.SolveOptions{Method: cnf.Euler, Steps: 10, Callback: keep(&trajCos)})
	if err != nil {
		return r, err
	}
	rOT, err := solve(field(mf.Field), cnf.SolveOptions{Method: cnf.RK4, Steps: 200})
	if err != nil {
		return r, err
	}
	rCos, err := solve(field(changed), cnf.SolveOptions{Method: cnf.RK4, Steps: 200})
	if err != nil {
		return r, err
	}
	ss := 0.0
	for i, v := range rOT.Data {
		ss += (v - rCos.Data[i]) * (v - rCos.Data[i])
	}
	r.ChangeEnds = math.Sqrt(ss / float64(rOT.Rows))
	r.EulerCondOT, r.EulerCosine, r.Converged = w2(eOT, ref), w2(eCos, ref), w2(rOT, ref)

	if out != "" {
		tmp, err := os.MkdirTemp("", "tutorial16")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(tmp)
		a, b, c := filepath.Join(tmp, "a.png"), filepath.Join(tmp, "b.png"), filepath.Join(tmp, "c.png")
		if err := plot.Lines(a, "schedulers: α_t (solid), σ_t (dashed)", plot.Axes{X: "t", Y: "α_t, σ_t"}, curves); err != nil {
			return r, err
		}
		if err := plot.Trajectories(b, "exact field, CondOT, 10 Euler steps", trajOT); err != nil {
			return r, err
		}
		if err := plot.Trajectories(c, "the same field changed to Cosine", trajCos); err != nil {
			return r, err
		}
		if err := plot.Montage(filepath.Join(out, "figure.png"), a, b, c); err != nil {
			return r, err
		}
	}
	return r, nil
}
