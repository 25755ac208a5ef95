// Tutorial 12: conditional flow matching and classifier-free guidance.
//
// A labelled Gaussian mixture has exact class-conditional fields u_t(x|c)
// (Theorem 1 of Lipman et al. 2022, arXiv:2210.02747, on the components of
// class c) and an exact unconditional field u_t(x). This tutorial checks,
// with those exact fields, what a trained conditional model can only
// approximate: that each field is linear in its score with coefficients
// that do not depend on the data (u_t = a_t·x + b_t·∇log p_t, fm.VelocityScore),
// that the guided field ṽ = (1 − w)·u_t(x) + w·u_t(x|c) (fm.Guided) is
// therefore the field of the guided score w·∇log p_t(x|c) + (1 − w)·∇log p_t(x),
// and what integrating it does: at w = 1 the flow ends at q(x|c), at w = 0
// at q(x), and w > 1 pushes the samples further into their class.
//
//	go run ./tutorials/12-conditional-guidance [-out DIR]
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
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run.
type Config struct {
	Out   string // directory for figure.png ("" writes none)
	N     int    // samples per guidance weight (exact W₂ costs O(N³))
	Steps int    // RK4 steps from t = 0 to t = 1
	Twins int    // independent data samples for the W₂ floor
	Seed  uint64
}

// Guide is what integrating the exact guided field of class Class with
// weight W gives.
type Guide struct {
	W        float64
	InClass  float64 // fraction of samples whose Bayes class at t = 1 is Class
	W2ToCond float64 // W₂² between the samples and a fresh sample of q(x|Class)
	W2ToData float64 // W₂² between the samples and a fresh sample of q(x)
}

// Result holds every number main prints.
type Result struct {
	Class        int
	ScoreErr     float64   // max |u_t(x|c) − (a_t·x + b_t·∇log p_t(x|c))| over t, x, c (and c = ∅)
	GuidedErr    float64   // max |ṽ − (a_t·x + b_t·(w·∇log p_t(x|c) + (1 − w)·∇log p_t(x)))| over t, x, w
	BayesAcc     float64   // fraction of exact draws of q(x|Class) whose Bayes class is Class
	Sweep        []Guide   // w = 0, 1, 2, 4
	Wrong        Guide     // negative control: guided with w = 2 towards the neighbouring class
	FloorCond    []float64 // W₂² between two independent samples of q(x|Class), Twins times
	FloorData    []float64 // the same for q(x)
	FloorCondMSE [2]float64
	FloorDataMSE [2]float64
}

// Mixture is the labelled mixture of the tutorial on the CondOT path with
// σ_min = 0 (x_t = t·x₁ + (1 − t)·x₀, Lipman et al. 2022, §4.1): eight
// Gaussians of standard deviation 0.5 on the circle of radius 2, component
// k at angle πk/4, labelled c = ⌊k/2⌋ (four classes of two neighbours
// each, equally likely). Classes overlap (neighbours are 1.53 apart, three
// standard deviations), so the Bayes classifier is not perfect and guidance
// has something to do. Its exact fields come from fm.LabelledMixture:
// Class(c) is p_t(x|c), u_t(x|c); Marginal() is p_t(x), u_t(x); and
// CondVelocity() is v(t, x, c) with c the one-hot row of a class, null
// label ∅ last (nn.LabelContext's layout), as a trained model would be.
func Mixture() *fm.LabelledMixture {
	classes := make([]fm.Mixture, 4)
	for k := range 8 {
		a := math.Pi * float64(k) / 4
		c := &classes[k/2]
		c.Means = append(c.Means, []float64{2 * math.Cos(a), 2 * math.Sin(a)})
		c.Stds = append(c.Stds, 0.5)
	}
	return &fm.LabelledMixture{Path: fm.CondOT{}, Classes: classes}
}

// OneHot is the context row of class c among classes (c = nn.NullLabel:
// the null label): nn.LabelContext of one label.
func OneHot(c, classes int) *autograd.Tensor { return nn.LabelContext([]int{c}, classes) }

// score returns ∇log p(x) by central differences with step h: error
// O(h²·∂³log p) plus rounding O(ε·|log p|/h).
func score(logp func(x []float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	y := append([]float64(nil), x...)
	for j := range x {
		y[j] = x[j] + h
		up := logp(y)
		y[j] = x[j] - h
		g[j] = (up - logp(y)) / (2 * h)
		y[j] = x[j]
	}
	return g
}

// scoreStep is the central-difference step: with log p_t of unit-scale
// curvature its truncation error h²/6·|∂³log p| and rounding ε/h balance
// near h = 1e-5, both below 1e-9.
const scoreStep = 1e-5

// BayesClass returns argmax_c q(c|x), the class of x under the data
// (fm.LabelledMixture.BayesPosterior).
func BayesClass(m *fm.LabelledMixture, x []float64) int {
	post := m.BayesPosterior(x)
	arg := 0
	for c, p := range post {
		if p > post[arg] {
			arg = c
		}
	}
	return arg
}

func main() {
	cfg := Config{N: 500, Steps: 50, Twins: 10}
	flag.StringVar(&cfg.Out, "out", "", "directory for figure.png (must exist)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "random seed")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	report(r)
}

func report(r Result) {
	fmt.Println("Exact fields of the labelled mixture (8 Gaussians, 4 classes), CondOT σ_min = 0")
	fmt.Printf("  u_t(x|c) = a_t·x + b_t·∇log p_t(x|c)          max error %.1e (score by central differences)\n", r.ScoreErr)
	fmt.Printf("  guided field = field of the guided score       max error %.1e (w = 0, 1, 2, 4)\n", r.GuidedErr)
	fmt.Printf("Guided samples of class %d (RK4, exact fields; the Bayes classifier labels exact draws of q(x|%d) correctly %.1f%% of the time)\n", r.Class, r.Class, 100*r.BayesAcc)
	m, s := r.FloorCondMSE[0], r.FloorCondMSE[1]
	fmt.Printf("  floor: W₂² of two samples of q(x|%d) %.4f ± %.4f (sd over %d), of q(x) %.4f ± %.4f\n", r.Class, m, s, len(r.FloorCond), r.FloorDataMSE[0], r.FloorDataMSE[1])
	fmt.Println("     w   in class   W₂² to q(x|c)   W₂² to q(x)")
	for _, g := range append(r.Sweep, r.Wrong) {
		name := fmt.Sprintf("%4g", g.W)
		if g == r.Wrong {
			name = "  ✗ " // the negative control
		}
		fmt.Printf("  %s   %6.1f%%   %13.4f   %11.4f\n", name, 100*g.InClass, g.W2ToCond, g.W2ToData)
	}
	fmt.Println("  ✗: w = 2 towards the neighbouring class (the negative control)")
}

func run(cfg Config) (Result, error) {
	lm := Mixture()
	classes := lm.NumClasses()
	const target = 0
	r := Result{Class: target}
	rng := fm.NewRand(cfg.Seed)
	v := lm.CondVelocity()
	null := OneHot(nn.NullLabel, classes)
	pooled := lm.Marginal()

	// 1. Velocity–score identity, per class and unconditionally, and the
	// guided field as the field of the guided score.
	for _, t := range []float64{0.1, 0.4, 0.7, 0.95} {
		a, b := fm.VelocityScore(lm.Path, t)
		x := lm.Pooled().Sample(50, rng)
		for i := 0; i < x.Rows; i++ {
			xi := x.Row(i)
			xi[0], xi[1] = t*xi[0]+(1-t)*rng.NormFloat64(), t*xi[1]+(1-t)*rng.NormFloat64() // a point of p_t
			sData := score(func(y []float64) float64 { return pooled.LogProb(t, y) }, xi, scoreStep)
			for c := -1; c < classes; c++ {
				m := pooled
				if c >= 0 {
					m = lm.Class(c)
				}
				s := sData
				if c >= 0 {
					s = score(func(y []float64) float64 { return m.LogProb(t, y) }, xi, scoreStep)
				}
				u := m.Field(t, xi)
				for j := range u {
					r.ScoreErr = math.Max(r.ScoreErr, math.Abs(u[j]-(a*xi[j]+b*s[j])))
				}
				if c < 0 {
					continue
				}
				for _, w := range []float64{0, 1, 2, 4} {
					g := fm.Guided(v, OneHot(c, classes), null, w)(autograd.Scalar(t), autograd.FromSlice(1, 2, xi))
					for j := range s {
						want := a*xi[j] + b*(w*s[j]+(1-w)*sData[j])
						r.GuidedErr = math.Max(r.GuidedErr, math.Abs(g.Data[j]-want))
					}
				}
			}
		}
	}

	// 2. Integrate the guided field from N(0, I) and look at where it ends.
	cond := &lm.Classes[target]
	q := lm.Pooled()
	acc := 0
	ref := cond.Sample(cfg.N, rng)
	for i := 0; i < ref.Rows; i++ {
		if BayesClass(lm, ref.Row(i)) == target {
			acc++
		}
	}
	r.BayesAcc = float64(acc) / float64(ref.Rows)
	refData := q.Sample(cfg.N, rng)
	for range cfg.Twins {
		fc, err := metrics.W2Squared(cond.Sample(cfg.N, rng), cond.Sample(cfg.N, rng))
		if err != nil {
			return r, err
		}
		fd, err := metrics.W2Squared(q.Sample(cfg.N, rng), q.Sample(cfg.N, rng))
		if err != nil {
			return r, err
		}
		r.FloorCond, r.FloorData = append(r.FloorCond, fc), append(r.FloorData, fd)
	}
	r.FloorCondMSE, r.FloorDataMSE = meanSD(r.FloorCond), meanSD(r.FloorData)
	opts := cnf.SolveOptions{Method: cnf.RK4, Steps: cfg.Steps}
	var pics []string
	tmp := ""
	if cfg.Out != "" {
		var err error
		if tmp, err = os.MkdirTemp(cfg.Out, ".panels"); err != nil {
			return r, err
		}
		defer os.RemoveAll(tmp)
	}
	guide := func(w float64, c int) (Guide, *autograd.Tensor, error) {
		g := Guide{W: w}
		f := cnf.FieldOf(fm.Guided(v, OneHot(c, classes), null, w))
		x, _, err := cnf.Sample(f, autograd.Normal(cfg.N, 2, 0, 1, rng), opts)
		if err != nil {
			return g, nil, err
		}
		in := 0
		for i := 0; i < x.Rows; i++ {
			if BayesClass(lm, x.Row(i)) == target {
				in++
			}
		}
		g.InClass = float64(in) / float64(x.Rows)
		if g.W2ToCond, err = metrics.W2Squared(x, ref); err != nil {
			return g, nil, err
		}
		if g.W2ToData, err = metrics.W2Squared(x, refData); err != nil {
			return g, nil, err
		}
		return g, x, nil
	}
	for _, w := range []float64{0, 1, 2, 4} {
		g, x, err := guide(w, target)
		if err != nil {
			return r, err
		}
		r.Sweep = append(r.Sweep, g)
		if cfg.Out != "" {
			file := filepath.Join(tmp, fmt.Sprintf("guided_w%g.png", w))
			title := fmt.Sprintf("w = %g: class %d (blue) over q(x) (grey)", w, target)
			if err := plot.Samples(file, title, refData, x); err != nil {
				return r, err
			}
			pics = append(pics, file)
		}
	}
	wrong, _, err := guide(2, target+1)
	if err != nil {
		return r, err
	}
	r.Wrong = wrong
	if cfg.Out != "" {
		return r, plot.Montage(filepath.Join(cfg.Out, "figure.png"), pics...)
	}
	return r, nil
}

// meanSD returns the mean and the sample standard deviation of xs.
func meanSD(xs []float64) [2]float64 {
	m, se := stats.MeanStdErr(xs)
	return [2]float64{m, se * math.Sqrt(float64(len(xs)))}
}
