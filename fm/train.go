package fm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/nn"
)

// TrainConfig configures Train. Path, Data (or Pairs, or Cond for a
// conditional model), BatchSize, Steps and LR are required.
type TrainConfig struct {
	Path Path    // conditional path: x_t = ψ_t(x₀) and target u_t(x_t|x₁)
	Data Sampler // x₁ ~ q
	// Source draws the x₀ fed to ψ_t; nil means N(0, I), the noise of the
	// flow map (Lipman et al. 2022, §4, eq. 11). Another source (e.g.
	// 8 Gaussians → moons) is meaningful for CondOT with σ_min = 0, where
	// ψ_t(x₀) = (1 − t)x₀ + t x₁ interpolates any pair (Tong et al. 2023,
	// arXiv:2302.00482, §3.2).
	Source Sampler
	// Pairs, if set, draws coupled (x₀, x₁) directly and replaces Data,
	// Source and Coupling (used by Reflow).
	Pairs func(n int, rng *rand.Rand) (x0, x1 *autograd.Tensor)
	// Cond, for a conditional model (model.Ctx() > 0), replaces Data: it
	// draws n data points x₁ [n, dim] with their contexts c [n, ctx] (a
	// class's one-hot rows nn.LabelContext, or observations). The model is
	// trained on CFMLoss of v(t, x) = model.ForwardCond(t, x, c), the
	// conditional flow-matching loss (Zheng et al. 2023, arXiv:2311.13443,
	// §3; Dax et al. 2023, arXiv:2305.17161, §3, for posteriors).
	Cond func(n int, rng *rand.Rand) (x1, c *autograd.Tensor)
	// CondDrop is the label-dropout probability p_uncond ∈ [0, 1): each row's
	// context is replaced by Null with this probability, independently
	// (DropContext), so that one model learns both v(t, x, c) and the
	// unconditional v(t, x, ∅) that classifier-free guidance combines (Ho &
	// Salimans 2022, arXiv:2207.12598, Algorithm 1). 0 drops nothing.
	CondDrop float64
	// Null is the null context ∅, one row [1, ctx] (for labels,
	// nn.LabelContext([]int{nn.NullLabel}, classes)); required when
	// CondDrop > 0.
	Null *autograd.Tensor
	// Coupling pairs each batch; nil means Independent. A conditional model
	// takes only Independent: a minibatch OT plan would pair noise and data
	// across contexts (Train returns an error).
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
	// Fused asks for the fused, allocation-free training step of nn
	// (nn.TrainStep) instead of CFMLoss + Backward. Both compute the same
	// loss and gradients up to rounding (TestTrain_FusedMatchesAutograd
	// bounds the difference); the fused step builds no graph and allocates
	// nothing for the network, so it is faster. Only SiLU and tanh models
	// have a fused step: for any other activation Train returns an error
	// rather than silently taking the autograd step.
	Fused bool
}

// Model is what Train trains: a velocity field v_θ(t, x), or v_θ(t, x, c)
// when Ctx() > 0, with named parameters. *nn.VelocityMLP (the only model
// with a fused step, TrainConfig.Fused) and *nn.UNet are Models.
type Model interface {
	Forward(t, x *autograd.Tensor) *autograd.Tensor
	ForwardCond(t, x, c *autograd.Tensor) *autograd.Tensor
	Params() []*autograd.Tensor
	NamedParams() []nn.Named
	Dim() int // dimension of x and of v
	Ctx() int // context width; 0 for an unconditional model
}

var (
	_ Model = (*nn.VelocityMLP)(nil)
	_ Model = (*nn.UNet)(nil)
)

// CosineSchedule decays the learning rate from 1 to 0 along a half cosine,
// 0.5·(1 + cos(π·(step−1)/steps)) (Loshchilov & Hutter 2017,
// arXiv:1608.03983, eq. 5 without restarts).
// TestCosineSchedule.
func CosineSchedule(step, steps int) float64 {
	return 0.5 * (1 + math.Cos(math.Pi*float64(step-1)/float64(steps)))
}

// NewRand returns the generator Train uses for a seed (PCG).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d)) }

// Train minimizes the CFM loss (Lipman et al. 2022, arXiv:2210.02747,
// eq. 9 and Algorithm 1; Tong et al. 2023, Algorithm 1 with a coupling) of
// model with Adam: each step draws x₁ ~ Data, x₀ ~ Source, pairs them with
// Coupling, draws t ~ U[0, 1), and takes one step on CFMLoss (or its fused
// equal, see TrainConfig.Fused). It returns the loss of every step.
// Deterministic given cfg.Seed (TestTrain_Deterministic). That the loss
// approaches the floor CFMFloor from above and the model the marginal field
// is TestTrain_ApproachesFloor.
//
// A conditional model (model.Ctx() > 0) is trained on batches (x₁, c) from
// TrainConfig.Cond, each context dropped to TrainConfig.Null with
// probability CondDrop (DropContext), by the same loss on the field
// v(t, x) = model.ForwardCond(t, x, c), or its fused equal
// (nn.TrainStep.LossGradCond). TestTrain_Conditional trains a two-class
// mixture and samples each class; TestTrain_FusedMatchesAutograd/cond.
//
// Misuse panics with an *autograd.MisuseError naming the field: a nil model
// or Path, no Data and no Pairs, BatchSize ≤ 0, Steps < 0, an LR that is
// not positive and finite, or a batch whose shape does not fit the model
// (checked on every batch, before the step); for contexts, Cond with an
// unconditional model, Data or Pairs (instead of Cond) with a conditional
// one, CondDrop outside [0, 1), CondDrop > 0 without Null, or a Null that
// is not [1, ctx] (TestTrain_CondMisuse). Train returns an error when a
// conditional model is given a Coupling other than Independent, when
// Fused is asked for a model without a fused step, when a coupling fails
// (SinkhornOT that does not converge), when a batch holds a value that is
// not finite, and when a loss or a parameter stops being finite (the step,
// the loss and the LR are named; the losses of the steps before are
// returned). TestTrain_Errors.
//
// The autograd step takes its memory from one autograd.Arena for the run:
// the batch enters it, the forward and backward passes draw from it, and
// it is Reset after every step, so a steady-state step allocates no tensor
// storage. Its losses and parameters are those of the same run on the heap,
// bit for bit (TestTrain_ArenaBitIdentical).
func Train(model Model, cfg TrainConfig) ([]float64, error) {
	checkConfig(model, cfg)
	rng := NewRand(cfg.Seed)
	opt := nn.NewAdam(model.Params(), cfg.LR)
	coupling := cfg.Coupling
	if coupling == nil {
		coupling = Independent{}
	}
	if model.Ctx() > 0 {
		if _, ok := coupling.(Independent); !ok {
			return nil, fmt.Errorf("fm.Train: Coupling %T with a conditional model: a minibatch coupling would pair noise and data across contexts; use Independent (nil) with Cond", coupling)
		}
	}
	var fused *nn.TrainStep
	if cfg.Fused {
		mlp, ok := model.(*nn.VelocityMLP)
		if !ok {
			return nil, fmt.Errorf("fm.Train: Fused: a %T has no fused step (only *nn.VelocityMLP has one); set Fused to false to train through CFMLoss and autograd", model)
		}
		var err error
		if fused, err = nn.NewTrainStep(mlp, cfg.BatchSize); err != nil {
			return nil, fmt.Errorf("fm.Train: Fused: %w; set Fused to false to train through CFMLoss and autograd, which serves every activation", err)
		}
	}
	// The autograd step takes its memory from one arena for the run
	// (internal/steparena, which tests replace by a poisoned arena or the
	// heap): the batch is made in it (or enters it by In), so the forward
	// and backward passes draw from it, and Reset after the gradient hands it
	// all back to the next step (autograd.Arena). The fused step needs none
	// (nil: the heap).
	var arena *autograd.Arena
	if fused == nil {
		arena = steparena.New()
	}
	losses := make([]float64, 0, min(cfg.Steps, 1<<16)) // grows past 2¹⁶ steps: a huge Steps reserves nothing up front
	for step := 1; step <= cfg.Steps; step++ {
		var x0, x1, c *autograd.Tensor
		if cfg.Cond != nil {
			x1, c = cfg.Cond(cfg.BatchSize, rng)
			if x1 == nil || c == nil {
				panic(autograd.Misuse("fm.Train", "TrainConfig.Cond returned x₁ nil: %v, c nil: %v; want x₁ [BatchSize, %d] and c [BatchSize, %d]", x1 == nil, c == nil, model.Dim(), model.Ctx()))
			}
			if cfg.Source != nil {
				x0 = cfg.Source(cfg.BatchSize, rng)
			} else {
				x0 = arena.Normal(x1.Rows, x1.Cols, 0, 1, rng)
			}
			checkBatch(model, cfg, "Cond and Source", x0, x1)
			checkContext(model, cfg, c)
			if err := finiteBatch("Cond and Source", x0, x1); err != nil {
				return losses, fmt.Errorf("fm.Train: step %d: %w", step, err)
			}
			for i, v := range c.Data {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return losses, fmt.Errorf("fm.Train: step %d: Cond gave the contexts c[%d, %d] = %v; contexts must be finite", step, i/c.Cols, i%c.Cols, v)
				}
			}
			if cfg.CondDrop > 0 {
				c = DropContext(c, cfg.Null, cfg.CondDrop, rng)
			}
		} else if cfg.Pairs != nil {
			x0, x1 = cfg.Pairs(cfg.BatchSize, rng)
			checkBatch(model, cfg, "Pairs", x0, x1)
			if err := finiteBatch("Pairs", x0, x1); err != nil {
				return losses, fmt.Errorf("fm.Train: step %d: %w", step, err)
			}
		} else {
			x1 = cfg.Data(cfg.BatchSize, rng)
			if cfg.Source != nil {
				x0 = cfg.Source(cfg.BatchSize, rng)
			} else {
				x0 = arena.Normal(x1.Rows, x1.Cols, 0, 1, rng)
			}
			checkBatch(model, cfg, "Data and Source", x0, x1)
			if err := finiteBatch("Data and Source", x0, x1); err != nil {
				return losses, fmt.Errorf("fm.Train: step %d: %w", step, err)
			}
			var err error
			if x0, x1, err = coupling.Pair(x0, x1, rng); err != nil {
				return losses, fmt.Errorf("fm.Train: step %d: %w", step, err)
			}
		}
		t := arena.Uniform(x1.Rows, 1, 0, 1, rng)
		x0, x1, c = steparena.In(arena, x0), steparena.In(arena, x1), steparena.In(arena, c)
		opt.ZeroGrad()
		loss := stepLossGrad(model, fused, cfg.Path, t, x0, x1, c)
		arena.Reset() // the gradient is in the parameters' Grad; the step's tensors are dead
		if (math.IsNaN(loss) || math.IsInf(loss, 0)) && step == 1 {
			return losses, fmt.Errorf("fm.Train: step 1: the loss is %v before any update, on finite data: the model's output or the path's target u_t(x|x₁) is not finite on this batch", loss)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return losses, fmt.Errorf("fm.Train: step %d: the loss is %v at LR %g: training diverged; try a smaller LR (1e-3 is a common start for Adam)", step, loss, cfg.LR)
		}
		if cfg.LRSchedule != nil {
			opt.LR = cfg.LR * cfg.LRSchedule(step, cfg.Steps)
		}
		opt.Step()
		if name, ok := finiteParams(model); !ok {
			return losses, fmt.Errorf("fm.Train: step %d: after the update at LR %g, parameter %s is not finite (the loss was %g): training diverged; try a smaller LR (1e-3 is a common start for Adam)", step, opt.LR, name, loss)
		}
		if cfg.EMA != nil {
			cfg.EMA.Update()
		}
		losses = append(losses, loss)
		if cfg.Callback != nil {
			cfg.Callback(step, loss)
		}
	}
	return losses, nil
}

// stepLossGrad returns the CFM loss of one batch and adds its gradient to
// the model's Grad: by the fused step when fused is not nil, else by
// CFMLoss and Backward. The two agree up to rounding
// (TestTrain_FusedMatchesAutograd). c is the batch's contexts for a
// conditional model, else nil.
func stepLossGrad(model Model, fused *nn.TrainStep, p Path, t, x0, x1, c *autograd.Tensor) float64 {
	if fused != nil {
		x0, x1 := x0.NoGraph(), x1.NoGraph()
		xt := FlowBatch(p, t, x0, x1)
		u := CondFieldBatch(p, t, xt, x1)
		if c != nil {
			return fused.LossGradCond(t.Data, xt.Data, c.Data, u.Data)
		}
		return fused.LossGrad(t.Data, xt.Data, u.Data)
	}
	v := Velocity(model.Forward)
	if c != nil {
		c := c.Detach() // a constant of the loss (NoGraph would stop the whole graph)
		v = func(t, x *autograd.Tensor) *autograd.Tensor { return model.ForwardCond(t, x, c) }
	}
	l := CFMLoss(v, p, t, x0, x1)
	l.Backward()
	return l.Item()
}

// isNilModel reports a nil pointer held by a non-nil Model.
func isNilModel(m Model) bool {
	switch m := m.(type) {
	case *nn.VelocityMLP:
		return m == nil
	case *nn.UNet:
		return m == nil
	}
	return false
}

// checkConfig panics with a *autograd.MisuseError naming the first bad
// field of cfg.
func checkConfig(model Model, cfg TrainConfig) {
	bad := func(format string, args ...any) { panic(autograd.Misuse("fm.Train", format, args...)) }
	switch {
	case model == nil || isNilModel(model):
		bad("model is nil")
	case cfg.Path == nil:
		bad("TrainConfig.Path is nil; want a Path such as CondOT{}")
	case cfg.Cond != nil && model.Ctx() == 0:
		bad("TrainConfig.Cond is set for an unconditional model; use Data, or build the model with nn.NewCondVelocityMLP or nn.NewLabelVelocityMLP")
	case model.Ctx() > 0 && (cfg.Data != nil || cfg.Pairs != nil):
		bad("TrainConfig.Data or TrainConfig.Pairs is set for a conditional model (context width %d); use TrainConfig.Cond, which draws data with their contexts", model.Ctx())
	case model.Ctx() > 0 && cfg.Cond == nil:
		bad("TrainConfig.Cond is nil for a conditional model (context width %d); want a function drawing data with their contexts", model.Ctx())
	case !(cfg.CondDrop >= 0 && cfg.CondDrop < 1):
		bad("TrainConfig.CondDrop = %v; want a probability in [0, 1), e.g. 0.1", cfg.CondDrop)
	case cfg.CondDrop > 0 && model.Ctx() == 0:
		bad("TrainConfig.CondDrop = %v for an unconditional model; it drops contexts, which only a conditional model reads", cfg.CondDrop)
	case cfg.CondDrop > 0 && cfg.Null == nil:
		bad("TrainConfig.Null is nil with CondDrop = %v; want the null context [1, %d] (nn.LabelContext([]int{nn.NullLabel}, classes) for labels)", cfg.CondDrop, model.Ctx())
	case cfg.Null != nil && cfg.Null.Shape() != [2]int{1, model.Ctx()}:
		bad("TrainConfig.Null is [%d,%d]; want one context row [1,%d]", cfg.Null.Rows, cfg.Null.Cols, model.Ctx())
	case cfg.Data == nil && cfg.Pairs == nil && cfg.Cond == nil:
		bad("TrainConfig.Data and TrainConfig.Pairs are both nil; want a Sampler of the data")
	case cfg.BatchSize <= 0:
		bad("TrainConfig.BatchSize = %d; want > 0", cfg.BatchSize)
	case cfg.Steps < 0:
		bad("TrainConfig.Steps = %d; want ≥ 0", cfg.Steps)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		bad("TrainConfig.LR = %v; want a finite learning rate > 0, e.g. 1e-3", cfg.LR)
	}
}

// checkBatch panics with a *autograd.MisuseError with the shapes if x0 and
// x1 are not both [BatchSize, model.Dim()].
func checkBatch(model Model, cfg TrainConfig, from string, x0, x1 *autograd.Tensor) {
	want := [2]int{cfg.BatchSize, model.Dim()}
	if x0.Shape() != want || x1.Shape() != want {
		panic(&autograd.MisuseError{Op: "fm.Train", Shapes: [][2]int{x0.Shape(), x1.Shape()},
			Reason: fmt.Sprintf("%s gave x₀ and x₁ of these shapes; the model of dimension %d wants [BatchSize, %d] = [%d,%d] each", from, model.Dim(), model.Dim(), want[0], want[1])})
	}
}

// checkContext panics with a *autograd.MisuseError with the shape if c is
// not [BatchSize, model.Ctx()].
func checkContext(model Model, cfg TrainConfig, c *autograd.Tensor) {
	if c == nil || c.Shape() != [2]int{cfg.BatchSize, model.Ctx()} {
		var shapes [][2]int
		if c != nil {
			shapes = [][2]int{c.Shape()}
		}
		panic(&autograd.MisuseError{Op: "fm.Train", Shapes: shapes,
			Reason: fmt.Sprintf("TrainConfig.Cond gave contexts of this shape (nil if none); the model of context width %d wants [BatchSize, %d] = [%d,%d]", model.Ctx(), model.Ctx(), cfg.BatchSize, model.Ctx())})
	}
}

// finiteBatch returns an error naming the first non-finite value of x0 or
// x1 (data, not misuse: a file may hold a NaN).
func finiteBatch(from string, x0, x1 *autograd.Tensor) error {
	for k, x := range []*autograd.Tensor{x0, x1} {
		for i, v := range x.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s gave x%d[%d, %d] = %v; the data must be finite", from, k, i/x.Cols, i%x.Cols, v)
			}
		}
	}
	return nil
}

// finiteParams reports whether every parameter of model is finite, and
// otherwise names the first one that is not.
func finiteParams(model Model) (string, bool) {
	for _, p := range model.NamedParams() {
		s := 0.0
		for _, v := range p.T.Data {
			s += v * 0 // NaN or ±Inf times 0 is NaN; finite values add 0
		}
		if s != 0 {
			for j, v := range p.T.Data {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Sprintf("%s [%d] = %v", p.Name, j, v), false
				}
			}
		}
	}
	return "", true
}

// Forward returns v(t, x). With it a Velocity is a cnf.TimeModel, so
// cnf.FieldOf(v) is the ODE field dx/dt = v(t, x) with t broadcast to every
// row.
func (v Velocity) Forward(t, x *autograd.Tensor) *autograd.Tensor { return v(t, x) }

// Sample draws n points from the model v trained on path p: x₀ ~ N(0, s² I)
// with s = p.SourceStd() (SampleSource), pushed through the ODE
// dx/dt = v(t, x) from t = 0 to 1 by cnf.Sample with opts (Lipman et al.
// 2022, §2: the flow ψ₁ of v maps the source to the model's distribution).
// It returns x₁ [n, dim], or the solver's error. TestSample_PushesSource.
func Sample(v Velocity, p Path, n, dim int, rng *rand.Rand, opts cnf.SolveOptions) (*autograd.Tensor, error) {
	if v == nil || p == nil || n < 1 || dim < 1 || rng == nil {
		panic(autograd.Misuse("fm.Sample", "want a Velocity, a Path, n ≥ 1, dim ≥ 1 and an rng; got v nil: %v, p = %v, n = %d, dim = %d, rng nil: %v",
			v == nil, p, n, dim, rng == nil))
	}
	x1, _, err := cnf.Sample(cnf.FieldOf(v), SampleSource(p, n, dim, rng), opts)
	if err != nil {
		return nil, fmt.Errorf("fm.Sample: %w", err)
	}
	return x1, nil
}

// Reflow is one round of rectification (Liu et al. 2022, arXiv:2209.03003,
// Algorithm 1, "reflow"): it draws n noise points x₀ ~ cfg.Source (N(0, I)
// if nil), pushes them through the teacher's ODE dx/dt = v(t, x) from t = 0
// to 1 with cnf.Integrate, and trains student by Train on the fixed coupled
// pairs (x₀, Φ₁(x₀)), sampled with replacement. The new coupling is
// deterministic, so the student's paths become straighter: its Straightness
// drops (TestReflow_Straightens). student may be the teacher itself.
// It returns the training losses, and Train's or the solver's error.
func Reflow(teacher Velocity, student Model, cfg TrainConfig, n, dim int, solve cnf.SolveOptions) ([]float64, error) {
	if teacher == nil || n < 1 || dim < 1 {
		panic(autograd.Misuse("fm.Reflow", "want a teacher, n ≥ 1 and dim ≥ 1; got teacher nil: %v, n = %d, dim = %d", teacher == nil, n, dim))
	}
	rng := NewRand(cfg.Seed ^ 0x9e3779b97f4a7c15)
	var x0 *autograd.Tensor
	if cfg.Source != nil {
		x0 = cfg.Source(n, rng)
	} else {
		x0 = autograd.Normal(n, dim, 0, 1, rng)
	}
	x1, _, err := cnf.Integrate(cnf.FieldOf(teacher), x0.NoGraph(), 0, 1, solve)
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
	return Train(student, cfg)
}

// PathStats measures trajectories x_t from t₀ to t_T (Liu et al. 2022,
// arXiv:2209.03003, §2.2, eq. 4, straightness), estimated from the states
// x_k at times t_k, Δt_k = t_{k+1} − t_k, span τ = t_T − t₀:
//
//	Energy       = E Σ_k ‖x_{k+1} − x_k‖²/Δt_k     (≈ E ∫ ‖ẋ_t‖² dt, kinetic energy)
//	Displacement = E ‖x_T − x₀‖²/τ                 (the energy of straight lines)
//	Straightness = Energy − Displacement           (≈ E ∫ ‖(x_T − x₀)/τ − ẋ_t‖² dt)
//
// Straightness ≥ 0 by Cauchy–Schwarz, row by row, and is 0 exactly for
// straight lines traversed at constant speed. Lower Energy also means fewer
// solver steps for the same accuracy. metrics.PathEnergy returns Energy and
// Straightness of TrajectoryStats.
type PathStats struct {
	Energy, Displacement, Straightness float64 // means over the rows
	// RowEnergy and RowStraightness are the per-row values whose means are
	// Energy and Straightness, for standard errors.
	RowEnergy, RowStraightness []float64
}

// TrajectoryStats returns the PathStats of the states traj[k] [n, d] at
// times[k], k = 0..T (times nil means t_k = k/T on [0, 1]). It returns an
// error for fewer than 2 states, no rows, states of different shapes, or
// times that are not increasing or not one per state.
// TestMeasurePaths_StraightField; metrics' TestPathEnergy_Straight and
// TestPathEnergy_CircularArc.
func TrajectoryStats(traj []*autograd.Tensor, times []float64) (PathStats, error) {
	T := len(traj) - 1
	if T < 1 {
		return PathStats{}, fmt.Errorf("need at least 2 states, have %d", len(traj))
	}
	if times == nil {
		times = make([]float64, T+1)
		for k := range times {
			times[k] = float64(k) / float64(T)
		}
	}
	if len(times) != T+1 {
		return PathStats{}, fmt.Errorf("%d times for %d states", len(times), T+1)
	}
	n, d := traj[0].Rows, traj[0].Cols
	for k, s := range traj {
		if s.Rows != n || s.Cols != d {
			return PathStats{}, fmt.Errorf("state %d is [%d, %d], want [%d, %d]", k, s.Rows, s.Cols, n, d)
		}
		if k > 0 && !(times[k] > times[k-1]) {
			return PathStats{}, fmt.Errorf("times not increasing at %d (%v after %v)", k, times[k], times[k-1])
		}
	}
	if n == 0 {
		return PathStats{}, fmt.Errorf("no points")
	}
	st := PathStats{RowEnergy: make([]float64, n), RowStraightness: make([]float64, n)}
	sq := func(a, b []float64) float64 {
		s := 0.0
		for j := range a {
			dj := a[j] - b[j]
			s += dj * dj
		}
		return s
	}
	for i := 0; i < n; i++ {
		for k := range T {
			st.RowEnergy[i] += sq(traj[k+1].Row(i), traj[k].Row(i)) / (times[k+1] - times[k])
		}
		disp := sq(traj[T].Row(i), traj[0].Row(i)) / (times[T] - times[0])
		st.RowStraightness[i] = st.RowEnergy[i] - disp
		st.Energy += st.RowEnergy[i] / float64(n)
		st.Displacement += disp / float64(n)
		st.Straightness += st.RowStraightness[i] / float64(n)
	}
	return st, nil
}

// MeasurePaths integrates dx/dt = v(t, x) from x0 at t = 0 to t = 1 with
// `steps` RK4 steps (via cnf.Integrate, recording the states) and returns
// their TrajectoryStats and the end points x₁.
// Tested by TestMeasurePaths_StraightField and TestCoupling_OTLowersPathEnergy.
func MeasurePaths(v Velocity, x0 *autograd.Tensor, steps int) (PathStats, *autograd.Tensor, error) {
	var ts []float64
	var xs []*autograd.Tensor
	x1, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{
		Method: cnf.RK4, Steps: steps,
		Callback: func(t float64, x *autograd.Tensor) {
			ts = append(ts, t)
			xs = append(xs, x.Clone())
		},
	})
	if err != nil {
		return PathStats{}, nil, fmt.Errorf("fm.MeasurePaths: %w", err)
	}
	st, err := TrajectoryStats(xs, ts)
	if err != nil {
		return PathStats{}, nil, fmt.Errorf("fm.MeasurePaths: %w", err)
	}
	return st, x1, nil
}
