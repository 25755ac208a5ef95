// Package manifolddemo trains and measures a flow on a manifold data set of
// fm/riemann, as flowmatch demo does in ℝ²: the held-out negative
// log-likelihood through the ODE with the Riemannian divergence, the data's
// exact entropy H, kl = nll − H (an estimate of KL(data‖model)), and
// pictures. Both `flowmatch demo -data sphere-vmf` and
// `go run ./examples/manifolds` call Run. Tested by TestRun.
package manifolddemo

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets a run. Counts must be positive (the callers check their flags).
type Config struct {
	Data  string // a name of riemann.DatasetNames()
	Steps int    // training steps
	Batch int    // batch size
	Width int    // units in each of the 3 hidden layers
	N     int    // held-out points for the NLL, and model samples
	Seed  uint64
	Out   string // existing folder for the pictures; "" draws none
	Base  string // riemann.ParseBase's spec of the law of x₀: "" or "uniform", "wrapped-normal:σ" (torus)
}

// Report is what Run measures (flowmatch demo writes it as report.json).
type Report struct {
	Dataset      string   `json:"dataset"`
	Manifold     string   `json:"manifold"`
	Base         string   `json:"base"`
	Steps        int      `json:"steps"`
	Batch        int      `json:"batch"`
	Hidden       []int    `json:"hidden"`
	Seed         uint64   `json:"seed"`
	FinalLoss    float64  `json:"final_loss"`
	TrainSeconds float64  `json:"train_seconds"`
	NLL          float64  `json:"nll"`
	NLLErr       float64  `json:"nll_stderr"`
	Entropy      float64  `json:"entropy"`
	KL           float64  `json:"kl"`
	UniformKL    float64  `json:"uniform_kl"`
	SphereDrift  float64  `json:"sphere_drift,omitempty"`
	Seconds      float64  `json:"seconds"`
	Files        []string `json:"files,omitempty"`
	// Model is the trained flow, for riemann.SaveCheckpoint.
	Model riemann.Checkpoint `json:"-"`
}

// LR is the demo's Adam learning rate, decayed by fm.CosineSchedule.
const LR = 2e-3

// NewModel returns the demo's velocity field on m with the given hidden
// widths (SiLU): an nn.VelocityMLP on the ambient coordinates of the sphere
// (projected onto the tangent space by riemann.CFMLoss), a
// riemann.TorusMLP (periodic features) on the torus.
func NewModel(m riemann.Manifold, hidden []int, act ag.Activation, seed uint64) riemann.Model {
	if _, ok := m.(riemann.Sphere); ok {
		return nn.NewVelocityMLP(m.Ambient(), hidden, act, fm.NewRand(seed+1))
	}
	return riemann.NewTorusMLP(m.Dim(), hidden, act, fm.NewRand(seed+1))
}

// Train trains NewModel(d's manifold, hidden, act, seed) by riemann.Train
// on d from base (Adam, learning rate lr under the cosine schedule; the
// same seed gives the same model), calling progress, if non-nil, after
// every step.
func Train(d riemann.Distribution, base riemann.Base, hidden []int, act ag.Activation, steps, batch int, lr float64, seed uint64) (riemann.Checkpoint, []float64, error) {
	m := d.Manifold()
	model := NewModel(m, hidden, act, seed)
	losses, err := riemann.Train(m, model, riemann.TrainConfig{Data: d.Sample, Base: base, BatchSize: batch, Steps: steps, LR: lr, Seed: seed})
	return riemann.Checkpoint{M: m, Base: base, Model: model}, losses, err
}

// Run trains riemann.Train's model on cfg.Data (nn.VelocityMLP on the
// sphere, riemann.TorusMLP on the torus; Adam 2·10⁻³, cosine schedule),
// evaluates it and, with cfg.Out, draws it. It prints progress on stderr and
// the results on stdout, ending with the line
//
//	demo: dataset=… steps=… nll=… entropy=… kl=… seconds=…
func Run(cfg Config, stdout, stderr io.Writer) (Report, error) {
	d, err := riemann.Dataset(cfg.Data)
	if err != nil {
		return Report{}, err
	}
	m := d.Manifold()
	base, err := riemann.ParseBase(m, cfg.Base)
	if err != nil {
		return Report{}, err
	}
	hidden := []int{cfg.Width, cfg.Width, cfg.Width}
	r := Report{Dataset: cfg.Data, Manifold: m.Name(), Base: base.String(), Steps: cfg.Steps, Batch: cfg.Batch, Hidden: hidden, Seed: cfg.Seed}
	start := time.Now()
	fmt.Fprintf(stderr, "training %d steps of %d on %s (%s, base %s)…\n", cfg.Steps, cfg.Batch, cfg.Data, m.Name(), base)
	c, losses, err := Train(d, base, hidden, ag.ActSiLU, cfg.Steps, cfg.Batch, LR, cfg.Seed)
	if err != nil {
		return r, err
	}
	r.Model = c
	r.FinalLoss, r.TrainSeconds = losses[len(losses)-1], time.Since(start).Seconds()
	fmt.Fprintf(stderr, "loss %.4f at the first step, %.4f at the last; %.1f s\n", losses[0], r.FinalLoss, r.TrainSeconds)
	x := d.Sample(cfg.N, fm.NewRand(cfg.Seed+2))
	lik, _, err := riemann.LogLikelihoodFrom(m, base, c.Field(), x.NoGraph(), nil, NLLSolver)
	if err != nil {
		return r, err
	}
	neg := make([]float64, x.Rows)
	for i := range neg {
		neg[i] = -lik.LogP1.Data[i]
	}
	r.NLL, r.NLLErr = stats.MeanStdErr(neg)
	r.Entropy = d.Entropy()
	r.KL, r.UniformKL = r.NLL-r.Entropy, m.LogVolume()-r.Entropy
	s, err := riemann.Integrate(m, c.Field(), base.Sample(cfg.N, fm.NewRand(cfg.Seed+3)), 0, 1, SampleSteps, cnf.RK4, nil)
	if err != nil {
		return r, err
	}
	r.SphereDrift = SphereDrift(m, s)
	fmt.Fprintf(stdout, "nll %.4f ± %.4f over %d held-out points; entropy %.4f (exact to 1e-9); uniform law's kl %.4f\n", r.NLL, r.NLLErr, cfg.N, r.Entropy, r.UniformKL)
	if _, ok := m.(riemann.Sphere); ok {
		fmt.Fprintf(stdout, "RK4 samples (%d steps): max |‖x‖ − 1| = %.2g\n", SampleSteps, r.SphereDrift)
	}
	if cfg.Out != "" {
		files, err := Draw(cfg.Out, d, c, x, s, fm.NewRand(cfg.Seed+4))
		if err != nil {
			return r, err
		}
		r.Files = files
	}
	r.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(stdout, "demo: dataset=%s steps=%d nll=%.4f entropy=%.4f kl=%.4f seconds=%.1f\n", cfg.Data, cfg.Steps, r.NLL, r.Entropy, r.KL, r.Seconds)
	return r, nil
}

// NLLSolver is the solver of the held-out NLL: dopri5 at rtol = atol = 10⁻⁵.
var NLLSolver = cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-5, ATol: 1e-5}

// SampleSteps is the number of RK4 steps (riemann.Integrate) of the samples.
const SampleSteps = 25

// SphereDrift returns max |‖x‖ − 1| over the rows of x on the sphere, 0 on
// other manifolds.
func SphereDrift(m riemann.Manifold, x *ag.Tensor) float64 {
	drift := 0.0
	if _, ok := m.(riemann.Sphere); ok {
		for i := 0; i < x.Rows; i++ {
			n := 0.0
			for _, v := range x.Row(i) {
				n += v * v
			}
			drift = math.Max(drift, math.Abs(math.Sqrt(n)-1))
		}
	}
	return drift
}

// mapCoords returns the picture coordinates of points of m: (φ, z) on the
// sphere (Lambert's equal-area cylindrical map), the angles on the torus.
func mapCoords(m riemann.Manifold, x *ag.Tensor) *ag.Tensor {
	if _, ok := m.(riemann.Sphere); !ok {
		return x
	}
	p := ag.Zeros(x.Rows, 2)
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		p.Data[2*i], p.Data[2*i+1] = math.Atan2(r[1], r[0]), r[2]
	}
	return p
}

// fromMap returns the point of m at map coordinates (a, b).
func fromMap(m riemann.Manifold, a, b float64) []float64 {
	if _, ok := m.(riemann.Sphere); !ok {
		return []float64{a, b}
	}
	r := math.Sqrt(math.Max(0, 1-b*b))
	return []float64{r * math.Cos(a), r * math.Sin(a), b}
}

// Draw draws the flow c against the data set d into the existing folder
// dir and returns the files: samples.png (data points and model samples),
// data-density.png (d's exact density), density.png (the model's, by
// riemann.LogLikelihoodFrom on a 48×48 grid) and trajectories.png (50 RK4
// steps from 60 draws of c.Base), on the sphere's equal-area map (Lambert's
// cylindrical projection (φ, z)) or the torus's periodic square [0, 2π)²,
// and on the sphere ortho.png, the hemisphere x > 0 seen from +x.
func Draw(dir string, d riemann.Distribution, c riemann.Checkpoint, data, samples *ag.Tensor, rng *rand.Rand) ([]string, error) {
	var files []string
	path := func(name string) string { p := filepath.Join(dir, name); files = append(files, p); return p }
	m, f := c.M, c.Field()
	xmin, xmax, ymin, ymax := -math.Pi, math.Pi, -1.0, 1.0
	if _, ok := m.(riemann.Torus); ok {
		xmin, xmax, ymin, ymax = 0, 2*math.Pi, 0, 2*math.Pi
	}
	title := d.Name() + " on the torus (θ₁, θ₂)"
	if _, ok := m.(riemann.Sphere); ok {
		title = d.Name() + " on the equal-area map (φ, z)"
	}
	if err := plot.Samples(path("samples.png"), title+": data and model samples", mapCoords(m, data), mapCoords(m, samples)); err != nil {
		return nil, err
	}
	const n = 48
	grid := ag.Zeros(n*n, m.Ambient())
	exact := make([][]float64, n)
	for r := 0; r < n; r++ {
		exact[r] = make([]float64, n)
		for c := 0; c < n; c++ {
			p := fromMap(m, xmin+(float64(c)+0.5)*(xmax-xmin)/n, ymin+(float64(r)+0.5)*(ymax-ymin)/n)
			copy(grid.Row(r*n+c), p)
			exact[r][c] = d.LogDensity(p)
		}
	}
	if err := plot.DensityGrid(path("data-density.png"), title+": exact density", exact, xmin, xmax, ymin, ymax); err != nil {
		return nil, err
	}
	lik, _, err := riemann.LogLikelihoodFrom(m, c.Base, f, grid.NoGraph(), nil, NLLSolver)
	if err != nil {
		return nil, err
	}
	model := make([][]float64, n)
	for r := range model {
		model[r] = lik.LogP1.Data[r*n : (r+1)*n]
	}
	if err := plot.DensityGrid(path("density.png"), title+": model density", model, xmin, xmax, ymin, ymax); err != nil {
		return nil, err
	}
	var traj []*ag.Tensor
	if _, err := riemann.Integrate(m, f, c.Base.Sample(60, rng), 0, 1, 50, cnf.RK4, func(_ float64, x *ag.Tensor) {
		traj = append(traj, mapCoords(m, x.Clone()))
	}); err != nil {
		return nil, err
	}
	keep := make([]bool, traj[0].Rows)
	for i := range keep {
		keep[i] = true
	}
	for k := 1; k < len(traj); k++ {
		for i := range keep {
			for j := 0; j < 2; j++ {
				jump := traj[k].At(i, j) - traj[k-1].At(i, j)
				if _, ok := m.(riemann.Torus); ok { // unwrap: follow the lift
					traj[k].Data[2*i+j] -= 2 * math.Pi * math.Round(jump/(2*math.Pi))
				} else if j == 0 && math.Abs(jump) > math.Pi {
					keep[i] = false
				}
			}
		}
	}
	kept := 0
	for _, ok := range keep {
		if ok {
			kept++
		}
	}
	for k := range traj {
		t := ag.Zeros(kept, 2)
		row := 0
		for i, ok := range keep {
			if ok {
				copy(t.Row(row), traj[k].Row(i))
				row++
			}
		}
		traj[k] = t
	}
	if err := plot.Trajectories(path("trajectories.png"), title+": paths of the model's ODE", traj, plot.Ends("t = 0 ("+c.Base.String()+")", "t = 1 (model)")); err != nil {
		return nil, err
	}
	if _, ok := m.(riemann.Sphere); ok {
		front := func(x *ag.Tensor) *ag.Tensor {
			var rows [][]float64
			for i := 0; i < x.Rows; i++ {
				if r := x.Row(i); r[0] > 0 {
					rows = append(rows, []float64{r[1], r[2]})
				}
			}
			if len(rows) == 0 {
				return ag.Zeros(0, 2)
			}
			return ag.FromRows(rows)
		}
		if err := plot.Samples(path("ortho.png"), d.Name()+": orthographic view from +x, (y, z)", front(data), front(samples)); err != nil {
			return nil, err
		}
	}
	return files, nil
}
