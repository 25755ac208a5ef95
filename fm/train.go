package fm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/nn"
)

// TrainConfig configures Train. Path, Data, BatchSize, Steps and LR are
// required.
type TrainConfig struct {
	Path Path    // conditional path: x_t = ψ_t(x₀) and target u_t(x_t|x₁)
	Data Sampler // x₁ ~ q
	// Source draws the x₀ fed to ψ_t; nil means N(0, I), the noise of the
	// flow map (seed §8). Another source (e.g. 8 Gaussians → moons) is
	// meaningful for CondOT with σ_min = 0, where ψ_t(x₀) = (1 − t)x₀ + t x₁
	// interpolates any pair (Tong et al. 2023).
	Source Sampler
	// Pairs, if set, draws coupled (x₀, x₁) directly and replaces Data,
	// Source and Coupling (used by Reflow).
	Pairs func(n int, rng *rand.Rand) (x0, x1 *autograd.Tensor)
	// Coupling pairs each batch; nil means Independent.
	Coupling  Coupling
	BatchSize int
	Steps     int
	LR        float64 // Adam learning rate
	Seed      uint64  // seeds every random draw: the same Seed gives the same run
	// Callback, if set, is called after every step with the step number
	// (1-based) and that step's batch CFM loss.
	Callback func(step int, loss float64)
	// LRSchedule, if set, scales LR at each step: the step uses
	// LR·LRSchedule(step, Steps) (e.g. CosineSchedule).
	LRSchedule func(step, steps int) float64
	// EMA, if set, is updated after every optimizer step (an exponential
	// moving average of the model's parameters; nn.NewEMA).
	EMA *nn.EMA
	// Autograd forces the generic autograd step even where the fused step
	// of nn (nn.NewTrainStep) applies; both compute the same gradients.
	Autograd bool
}

// CosineSchedule decays the learning rate from 1 to 0 along a half cosine,
// 0.5·(1 + cos(π·(step−1)/steps)) (Loshchilov & Hutter 2017, without
// restarts).
func CosineSchedule(step, steps int) float64 {
	return 0.5 * (1 + math.Cos(math.Pi*float64(step-1)/float64(steps)))
}

// NewRand returns the generator Train uses for a seed (PCG).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d)) }

// Train minimizes the CFM loss (seed §7; Lipman et al. 2022, Algorithm 1;
// Tong et al. 2023, Algorithm 1 with a coupling) of model with Adam: each
// step draws x₁ ~ Data, x₀ ~ Source, pairs them with Coupling, draws
// t ~ U[0, 1), and takes one step on CFMLoss. It returns the loss of every
// step. Deterministic given cfg.Seed (TestTrain_Deterministic). That the
// loss approaches the floor CFMFloor from above and the model the marginal
// field is TestTrain_ApproachesFloor.
func Train(model *nn.VelocityMLP, cfg TrainConfig) []float64 {
	if cfg.Path == nil || (cfg.Data == nil && cfg.Pairs == nil) || cfg.BatchSize <= 0 || cfg.Steps < 0 || cfg.LR <= 0 {
		panic(fmt.Sprintf("fm.Train: need Path, Data (or Pairs), BatchSize > 0, Steps ≥ 0, LR > 0; got %+v", cfg))
	}
	rng := NewRand(cfg.Seed)
	opt := nn.NewAdam(model.Params(), cfg.LR)
	coupling := cfg.Coupling
	if coupling == nil {
		coupling = Independent{}
	}
	// The fused, allocation-free step of nn computes the same loss and
	// gradients as CFMLoss + Backward (TestTrain_FusedMatchesAutograd); it
	// serves SiLU and tanh models, the rest take the autograd path.
	var fused *nn.TrainStep
	if !cfg.Autograd {
		fused, _ = nn.NewTrainStep(model, cfg.BatchSize) // nil: not fusable
	}
	losses := make([]float64, 0, cfg.Steps)
	for step := 1; step <= cfg.Steps; step++ {
		var x0, x1 *autograd.Tensor
		if cfg.Pairs != nil {
			x0, x1 = cfg.Pairs(cfg.BatchSize, rng)
		} else {
			x1 = cfg.Data(cfg.BatchSize, rng)
			if cfg.Source != nil {
				x0 = cfg.Source(cfg.BatchSize, rng)
			} else {
				x0 = autograd.Normal(x1.Rows, x1.Cols, 0, 1, rng)
			}
			x0, x1 = coupling.Pair(x0, x1, rng)
		}
		t := autograd.Uniform(x1.Rows, 1, 0, 1, rng)
		opt.ZeroGrad()
		var loss float64
		if fused != nil && x1.Rows <= cfg.BatchSize {
			x0, x1 := x0.NoGraph(), x1.NoGraph()
			xt := FlowBatch(cfg.Path, t, x0, x1)
			u := CondFieldBatch(cfg.Path, t, xt, x1)
			loss = fused.LossGrad(t.Data, xt.Data, u.Data)
		} else {
			l := CFMLoss(model.Forward, cfg.Path, t, x0, x1)
			l.Backward()
			loss = l.Item()
		}
		if cfg.LRSchedule != nil {
			opt.LR = cfg.LR * cfg.LRSchedule(step, cfg.Steps)
		}
		opt.Step()
		if cfg.EMA != nil {
			cfg.EMA.Update()
		}
		losses = append(losses, loss)
		if cfg.Callback != nil {
			cfg.Callback(step, loss)
		}
	}
	return losses
}

// ODEField returns the model as a cnf.Field for cnf.Integrate: v(t, x) =
// v_θ(t, x) with t broadcast to every row.
func ODEField(v Velocity) cnf.Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		return v(autograd.Full(x.Rows, 1, t), x)
	}
}

// Reflow is one round of rectification (Liu et al. 2022, arXiv:2209.03003,
// Algorithm 1, "reflow"): it draws n noise points x₀ ~ cfg.Source (N(0, I)
// if nil), pushes them through the teacher's ODE dx/dt = v(t, x) from t = 0
// to 1 with cnf.Integrate, and trains student by Train on the fixed coupled
// pairs (x₀, Φ₁(x₀)), sampled with replacement. The new coupling is
// deterministic, so the student's paths become straighter: its Straightness
// drops (TestReflow_Straightens). student may be the teacher itself.
// It returns the training losses.
func Reflow(teacher Velocity, student *nn.VelocityMLP, cfg TrainConfig, n, dim int, solve cnf.SolveOptions) ([]float64, error) {
	rng := NewRand(cfg.Seed ^ 0x9e3779b97f4a7c15)
	var x0 *autograd.Tensor
	if cfg.Source != nil {
		x0 = cfg.Source(n, rng)
	} else {
		x0 = autograd.Normal(n, dim, 0, 1, rng)
	}
	x1, _, err := cnf.Integrate(ODEField(teacher), x0.NoGraph(), 0, 1, solve)
	if err != nil {
		return nil, fmt.Errorf("fm.Reflow: %w", err)
	}
	cfg.Pairs = func(b int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
		idx := make([]int, b)
		for k := range idx {
			idx[k] = rng.IntN(n)
		}
		return gatherRows(x0, idx), gatherRows(x1, idx)
	}
	return Train(student, cfg), nil
}

// PathStats measures the trajectories of an ODE flow from x₀ (Liu et al.
// 2022, §2.2, straightness):
//
//	Energy       = E ∫₀¹ ‖v(x_t, t)‖² dt            (kinetic energy of the paths)
//	Displacement = E ‖x₁ − x₀‖²                    (energy of the straight lines)
//	Straightness = E ∫₀¹ ‖(x₁ − x₀) − v(x_t, t)‖² dt = Energy − Displacement,
//
// the last identity from ∫₀¹ v dt = x₁ − x₀. Energy ≥ Displacement by
// Jensen, with equality iff every path is a straight line at constant
// speed. Lower Energy also means fewer solver steps for the same accuracy.
type PathStats struct {
	Energy, Displacement, Straightness float64 // means over the rows
	// RowEnergy and RowStraightness are the per-row values whose means are
	// Energy and Straightness, for standard errors.
	RowEnergy, RowStraightness []float64
}

// MeasurePaths integrates dx/dt = v(t, x) from x0 at t = 0 to t = 1 with
// `steps` RK4 steps (via cnf.Integrate, recording the states), evaluates v
// at the recorded states and integrates ‖v‖² by the trapezoid rule. It
// returns the PathStats averaged over rows and the end points x₁.
// Tested by TestMeasurePaths_StraightField and TestCoupling_OTLowersPathEnergy.
func MeasurePaths(v Velocity, x0 *autograd.Tensor, steps int) (PathStats, *autograd.Tensor, error) {
	var ts []float64
	var xs []*autograd.Tensor
	f := ODEField(v)
	x1, _, err := cnf.Integrate(f, x0.NoGraph(), 0, 1, cnf.SolveOptions{
		Method: cnf.RK4, Steps: steps,
		Callback: func(t float64, x *autograd.Tensor) {
			ts = append(ts, t)
			xs = append(xs, x.Clone())
		},
	})
	if err != nil {
		return PathStats{}, nil, fmt.Errorf("fm.MeasurePaths: %w", err)
	}
	n, d := x0.Rows, x0.Cols
	st := PathStats{RowEnergy: make([]float64, n), RowStraightness: make([]float64, n)}
	prev := make([]float64, n)
	for k, x := range xs {
		vk := f(ts[k], x.NoGraph())
		for i := 0; i < n; i++ {
			e := 0.0
			for _, a := range vk.Row(i) {
				e += a * a
			}
			if k > 0 {
				st.RowEnergy[i] += (ts[k] - ts[k-1]) * (prev[i] + e) / 2
			}
			prev[i] = e
		}
	}
	for i := 0; i < n; i++ {
		disp := 0.0
		for j := 0; j < d; j++ {
			dj := x1.At(i, j) - x0.At(i, j)
			disp += dj * dj
		}
		st.RowStraightness[i] = st.RowEnergy[i] - disp
		st.Energy += st.RowEnergy[i] / float64(n)
		st.Displacement += disp / float64(n)
		st.Straightness += st.RowStraightness[i] / float64(n)
	}
	return st, x1, nil
}
