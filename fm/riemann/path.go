package riemann

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/nn"
)

// Geodesic returns the point at time t of the geodesic conditional path of
// Chen & Lipman 2023 (arXiv:2302.03660, §3.2, eq. 11 with the geodesic
// premetric, and §3.3):
//
//	x_t = ψ_t(x₀|x₁) = Exp_{x₀}(t·Log_{x₀}(x₁)),
//
// so x_0 = x₀, x_1 = x₁ and d(x₀, x_t) = t·d(x₀, x₁) (constant speed).
// Tested by TestGeodesic_EndpointsAndConstantSpeed.
func Geodesic(m Manifold, t float64, x0, x1 []float64) []float64 {
	v := m.Log(x0, x1)
	for i := range v {
		v[i] *= t
	}
	return m.Exp(x0, v)
}

// CondField returns the target of Riemannian CFM on the geodesic path,
// for t < 1 (Chen & Lipman 2023, §3.3, eq. 13 with κ(t) = 1 − t):
//
//	u_t(x|x₁) = Log_x(x₁)/(1 − t),
//
// a tangent vector at x whose flow from x_t stays on the geodesic and
// reaches x₁ at t = 1. Tested by TestCondField_GeneratesPath (the time
// derivative of Geodesic equals it) and TestCondField_SolvesToX1.
func CondField(m Manifold, t float64, x, x1 []float64) []float64 {
	if t >= 1 {
		panic(autograd.Misuse("riemann.CondField", "t = %v, want t < 1", t))
	}
	u := m.Log(x, x1)
	for i := range u {
		u[i] /= 1 - t
	}
	return u
}

// PathBatch returns, row by row, x_t = Geodesic(m, tᵢ, x₀ᵢ, x₁ᵢ) and the
// target u_t(x_t|x₁) = CondField(m, tᵢ, x_t, x₁ᵢ) for t [n, 1] in [0, 1)
// and x0, x1 [n, Ambient]. Both are plain values (constants of the loss).
func PathBatch(m Manifold, t, x0, x1 *autograd.Tensor) (xt, ut *autograd.Tensor) {
	k := m.Ambient()
	if x0.Cols != k || x1.Cols != k || x0.Rows != x1.Rows || t.Cols != 1 || t.Rows != x0.Rows {
		panic(&autograd.MisuseError{Op: "riemann.PathBatch", Shapes: [][2]int{t.Shape(), x0.Shape(), x1.Shape()},
			Reason: fmt.Sprintf("want t [n,1], x0 and x1 [n,%d]", k)})
	}
	a := x1.Arena() // in x₁'s arena, if it has one (autograd.Arena)
	xt, ut = a.Zeros(x0.Rows, k), a.Zeros(x0.Rows, k)
	for i := 0; i < x0.Rows; i++ {
		ti := t.Data[i]
		p := Geodesic(m, ti, x0.Row(i), x1.Row(i))
		copy(xt.Row(i), p)
		copy(ut.Row(i), CondField(m, ti, p, x1.Row(i)))
	}
	return xt, ut
}

// CFMLoss returns the Riemannian Conditional Flow Matching loss on one batch
// (Chen & Lipman 2023, §3.1, eq. 8):
//
//	L_RCFM(θ) = E_{t, x₀~p, x₁~q} ‖P_{x_t} v_θ(t, x_t) − u_t(x_t|x₁)‖²_g,
//
// with x_t and u_t from PathBatch. The model's ambient output is projected
// onto T_{x_t}M (ProjTensor) before the comparison, and ‖·‖_g is the ambient
// norm (the metric of both manifolds here). Differentiable in θ only.
// Tested by TestCFMLoss_ZeroAtTarget.
func CFMLoss(m Manifold, v fm.Velocity, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	xt, ut := PathBatch(m, t, x0, x1)
	return fm.SquaredError(m.ProjTensor(xt, v(t, xt)), ut)
}

// TrainConfig configures Train.
type TrainConfig struct {
	Data      fm.Sampler // x₁ ~ q, rows on the manifold
	BatchSize int
	Steps     int
	LR        float64 // Adam learning rate, scaled by fm.CosineSchedule
	Seed      uint64  // seeds every draw: the same Seed gives the same run
	// TMax bounds the training times, t ~ U[0, TMax); 0 means 1. The target
	// Log_x(x₁)/(1 − t) has norm d(x₀, x₁), finite for every t < 1.
	TMax float64
	// Base is the law of x₀; nil means Uniform{m}, the same draws as
	// m.Uniform.
	Base Base
}

// Model is a trainable velocity field v_θ(t, x) on the ambient coordinates:
// nn.VelocityMLP (the sphere) and TorusMLP (the torus) are Models.
type Model interface {
	Forward(t, x *autograd.Tensor) *autograd.Tensor
	Params() []*autograd.Tensor
}

// Train minimizes CFMLoss with x₀ ~ cfg.Base (uniform on m by default; Chen & Lipman 2023,
// Algorithm 1) and Adam under a cosine learning-rate schedule; it returns
// the loss of every step. A model on the sphere is an nn.VelocityMLP on
// the Ambient embedded coordinates whose output is projected; on the torus
// a TorusMLP. Misuse (a nil model or Data, BatchSize or Steps < 1, an LR
// that is not positive) panics with an *autograd.MisuseError; a loss that
// stops being finite is an error naming the step. TestTrain_SphereVMF and
// TestTrain_TorusVonMises train and measure KL = NLL − H.
//
// As fm.Train's autograd step, each step takes its memory from one
// autograd.Arena for the run, Reset after the gradient: a steady-state step
// allocates no tensor storage, and the losses and parameters are those of
// the same run on the heap, bit for bit (TestTrain_ArenaBitIdentical;
// BenchmarkTrainStep measures the allocations).
func Train(m Manifold, model Model, cfg TrainConfig) ([]float64, error) {
	switch {
	case model == nil || cfg.Data == nil:
		panic(autograd.Misuse("riemann.Train", "nil model or Data"))
	case cfg.BatchSize < 1 || cfg.Steps < 1:
		panic(autograd.Misuse("riemann.Train", "BatchSize %d and Steps %d must be ≥ 1", cfg.BatchSize, cfg.Steps))
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		panic(autograd.Misuse("riemann.Train", "LR %v must be positive and finite", cfg.LR))
	}
	tmax := cfg.TMax
	if tmax == 0 {
		tmax = 1
	}
	base := cfg.Base
	if base == nil {
		base = Uniform{M: m}
	}
	rng := fm.NewRand(cfg.Seed)
	opt := nn.NewAdam(model.Params(), cfg.LR)
	arena := steparena.New()                            // one for the run, Reset after every step (as fm.Train's)
	losses := make([]float64, 0, min(cfg.Steps, 1<<16)) // grows past 2¹⁶ steps: a huge Steps reserves nothing up front
	for step := 1; step <= cfg.Steps; step++ {
		x1 := steparena.In(arena, cfg.Data(cfg.BatchSize, rng))
		x0 := steparena.In(arena, base.Sample(cfg.BatchSize, rng))
		t := arena.Uniform(cfg.BatchSize, 1, 0, tmax, rng)
		opt.ZeroGrad()
		loss := CFMLoss(m, model.Forward, t, x0, x1)
		l := loss.Item()
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return losses, fmt.Errorf("riemann.Train: loss %v at step %d (LR %g)", l, step, cfg.LR)
		}
		loss.Backward()
		arena.Reset() // the gradient is in the parameters' Grad; the step's tensors are dead
		opt.LR = cfg.LR * fm.CosineSchedule(step, cfg.Steps)
		opt.Step()
		losses = append(losses, l)
	}
	return losses, nil
}

// TorusMLP is a velocity field on T^D, 2π-periodic in every angle: an MLP
// on the embedding (cos θ, sin θ, t) ∈ ℝ^{2D+1} with D outputs,
//
//	v_θ(t, θ) = MLP(cos θ₁…cos θ_D, sin θ₁…sin θ_D, t).
//
// TestTrain_TorusVonMises.
type TorusMLP struct {
	Net *nn.MLP
	D   int
}

// NewTorusMLP returns v_θ on T^d: NewMLP([2d+1, hidden…, d], act, rng).
func NewTorusMLP(d int, hidden []int, act autograd.Activation, rng *rand.Rand) *TorusMLP {
	if d < 1 {
		panic(autograd.Misuse("riemann.NewTorusMLP", "d %d must be positive", d))
	}
	sizes := append(append([]int{2*d + 1}, hidden...), d)
	return &TorusMLP{Net: nn.NewMLP(sizes, act, rng), D: d}
}

// Forward returns MLP(Concat(cos x, sin x, t)) for t [n, 1] or [1, 1] and x [n, D].
func (m *TorusMLP) Forward(t, x *autograd.Tensor) *autograd.Tensor {
	if x.Cols != m.D {
		panic(&autograd.MisuseError{Op: "riemann.TorusMLP.Forward", Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: fmt.Sprintf("want x [n,%d]", m.D)})
	}
	if t.Rows == 1 && t.Cols == 1 && x.Rows != 1 {
		t = autograd.Expand(t, x.Rows, 1)
	}
	return m.Net.Forward(autograd.Concat(autograd.Cos(x), autograd.Sin(x), t))
}

// Params returns the MLP's parameters.
func (m *TorusMLP) Params() []*autograd.Tensor { return m.Net.Params() }

// Frozen returns a view sharing the parameters that requires no gradients
// (nn.MLP.Frozen), for inference.
func (m *TorusMLP) Frozen() *TorusMLP { return &TorusMLP{Net: m.Net.Frozen(), D: m.D} }
