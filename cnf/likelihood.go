package cnf

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
)

/*
The instantaneous change of variables (Chen et al. 2018, Theorem 1). Let
x(t) solve dx/dt = v(t, x) and let p_t be the density of x(t). Along the
trajectory

	d/dt log p_t(x(t)) = −div v(t, x(t)),

which is the continuity equation ∂ₜp + div(p v) = 0 read along a particle
(∂ₜ log p + v·∇log p = −div v). Integrating over [0, 1]:

	log p₁(x(1)) = log p₀(x(0)) − ∫₀¹ div v(t, x(t)) dt.

Both directions use one augmented ODE for the state (x, ℓ) ∈ ℝ^{d+1}:

	dx/dt = v(t, x),  dℓ/dt = −div v(t, x).

Backward (LogLikelihood): start at data, x(1) = x₁, ℓ(1) = 0, and integrate
from t = 1 down to t = 0. Then ℓ(t) = log p_t(x(t)) − log p₁(x₁), so

	log p₁(x₁) = log p₀(x(0)) − ℓ(0).

Forward (SampleWithLogLikelihood): start at noise, x(0) = x₀, ℓ(0) = 0, and
integrate from 0 to 1. Then ℓ(t) = log p_t(x(t)) − log p₀(x₀), so

	log p₁(x(1)) = log p₀(x₀) + ℓ(1).

LogLikelihood and SampleWithLogLikelihood take the interval: the same
derivation on [t₀, t₁] replaces 0 and 1 by t₀ and t₁.

In FFJORD's convention (data at t = 0, noise at t = T) the same quantity is
log p(x) = log p_T(z(T)) + ∫₀ᵀ div f dt with f the field pointing from data
to noise; substituting s = 1 − t/T and f = −T·v gives the formula above.

Checked by TestLogLikelihood_LinearField (closed form log p₀(e^{−At}x) − t·tr A),
TestLogLikelihood_GaussianCondOT and TestLogLikelihood_ForwardBackwardAgree.
*/

// LogDensity maps a batch x [n, d] to its log-densities [n, 1].
type LogDensity func(x *autograd.Tensor) *autograd.Tensor

// StandardNormalLogProb is the log-density of N(0, I) in d = x.Cols
// dimensions, row by row:
//
//	log N(x; 0, I) = −½‖x‖² − (d/2)·log 2π.
func StandardNormalLogProb(x *autograd.Tensor) *autograd.Tensor {
	sq := autograd.SumCols(autograd.Square(x))
	return autograd.AddScalar(autograd.Scale(sq, -0.5), -0.5*float64(x.Cols)*math.Log(2*math.Pi))
}

// NormalLogProb returns the log-density of N(0, s²I), row by row: the base
// density of a path whose samplers start from noise of scale s (fm.VE
// starts from σ_max):
//
//	log N(x; 0, s²I) = log N(x/s; 0, I) − d·log s.
//
// s must be positive and finite; otherwise NormalLogProb panics with a
// *autograd.MisuseError. TestNormalLogProb_Scaled.
func NormalLogProb(s float64) LogDensity {
	if !(s > 0) || math.IsInf(s, 1) {
		panic(autograd.Misuse("cnf.NormalLogProb", "scale s = %v must be positive and finite", s))
	}
	return func(x *autograd.Tensor) *autograd.Tensor {
		return autograd.AddScalar(StandardNormalLogProb(autograd.Scale(x, 1/s)), -float64(x.Cols)*math.Log(s))
	}
}

// Sample integrates dx/dt = f(t, x) from noise x₀ at t = 0 to t = 1 in the
// no-graph mode (no tape, whatever the field's parameters) and returns
// x(1) [n, d]. Each evaluation of f runs in an arena of the solve's own
// (ArenaField), so a network's intermediate tensors are allocated once per
// solve, not once per evaluation; the values are those of Integrate on f,
// bit for bit (TestArenaField_MatchesHeap, TestSample_UsesArena). f must
// therefore not keep its input or its intermediate tensors past a call
// (Clone what it keeps); Integrate runs f as given.
func Sample(f Field, x0 *autograd.Tensor, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	mustFieldAndState("cnf.Sample", f, x0)
	return Integrate(ArenaField(f, steparena.New()), x0.NoGraph(), 0, 1, opts)
}

// augmented returns the field of the state (x, ℓ) [n, d+1]:
// dx/dt = v(t, x), dℓ/dt = −div v(t, x).
func augmented(f Field, div DivergenceFunc, d int) Field {
	return func(t float64, z *autograd.Tensor) *autograd.Tensor {
		v, dv := div(f, t, autograd.Slice(z, 0, d))
		return autograd.Concat(v, autograd.Neg(dv))
	}
}

// Likelihood holds both ends of the trajectories of an augmented solve and
// the log-density at each: x(t₀) at the base (noise) time and x(t₁) at the
// data time, [n, d], and log p_{t₀}(x(t₀)), log p_{t₁}(x(t₁)), [n, 1].
// LogLikelihood starts from X1 and computes X0; SampleWithLogLikelihood
// starts from X0 and computes X1. In both, LogP1 − LogP0 = −∫_{t₀}^{t₁} div v dt
// along each trajectory.
type Likelihood struct {
	X0, X1       *autograd.Tensor // x(t₀) and x(t₁), [n, d]
	LogP0, LogP1 *autograd.Tensor // log p_{t₀}(x(t₀)) (the base density) and log p_{t₁}(x(t₁)), [n, 1]
}

// LogLikelihood returns the model's log-density log p_{t₁}(x) [n, 1] at the
// batch x [n, d] given at the data time t₁, and the points x(t₀) the
// trajectories reach at the base time t₀, where the density is logp0. It
// integrates the augmented state (x, ℓ) with dℓ/dt = −div v from (x, 0) at
// t₁ to t₀ (Chen et al. 2018, arXiv:1806.07366, Theorem 1):
//
//	log p_{t₁}(x(t₁)) = log p_{t₀}(x(t₀)) − ℓ(t₀)
//	                  = log p_{t₀}(x(t₀)) − ∫_{t₀}^{t₁} div v(t, x(t)) dt.
//
// Flow Matching (Lipman et al. 2022, arXiv:2210.02747, §2) puts data at
// t₁ = 1 and noise at t₀ = 0: LogLikelihood(f, x, 1, 0, …). FFJORD's
// convention (Grathwohl et al. 2018, arXiv:1810.01367) has data at 0 and
// noise at T: LogLikelihood(f, x, 0, T, …) with FFJORD's field. Any other
// pair of distinct finite times works too, e.g. an intermediate p_t.
//
// logp0 is the base log-density (StandardNormalLogProb for N(0, I)); div
// computes the divergence (nil means ExactDivergence; Hutchinson for the
// stochastic estimate). Stats.NFE counts evaluations of the augmented field,
// each one forward pass of f plus the divergence's backward passes. A
// Callback in opts sees the augmented state [n, d+1].
//
// Pass x.NoGraph() for inference: each evaluation of the augmented field
// (f and the divergence's backward passes) then runs in an arena of the
// solve's own (ArenaField), reusing the memory of the one before, with the
// heap's values bit for bit (TestLogLikelihood_ArenaBitIdentical;
// BenchmarkLogLikelihoodAllocs measures the allocations). With a plain x and a field whose
// parameters require gradients the result is recorded through every solver
// step, so −Mean(LogP1) can be minimized by backpropagation (maximum-
// likelihood CNF training, MaxLikelihoodLoss). For inference with a
// trainable network pass a frozen view (nn.VelocityMLP.Frozen) so that the
// divergence's backward passes skip the weight gradients.
//
// TestLogLikelihood_LinearField (closed form on [1, 0] with a flipped
// divergence as negative control), TestLogLikelihood_Interval (an FFJORD-
// style interval [0, 2] and an intermediate time, with X0 checked),
// TestLogLikelihood_GaussianCondOT.
func LogLikelihood(f Field, x *autograd.Tensor, t1, t0 float64, logp0 LogDensity, div DivergenceFunc, opts SolveOptions) (Likelihood, Stats, error) {
	mustLikelihoodArgs("cnf.LogLikelihood", f, x, logp0)
	if div == nil {
		div = ExactDivergence
	}
	d := x.Cols
	z1 := autograd.Concat(x, x.Arena().Zeros(x.Rows, 1))
	z0, st, err := Integrate(ArenaField(augmented(f, div, d), steparena.New()), z1, t1, t0, opts)
	if err != nil {
		return Likelihood{}, st, err
	}
	x0, l0 := autograd.Slice(z0, 0, d), autograd.Slice(z0, d, d+1)
	lp0 := logp0(x0)
	return Likelihood{X0: x0, X1: x, LogP0: lp0, LogP1: autograd.Sub(lp0, l0)}, st, nil
}

// SampleWithLogLikelihood samples from noise x₀ [n, d] at the base time t₀
// to the data time t₁ and carries the log-density along:
//
//	log p_{t₁}(x(t₁)) = log p_{t₀}(x₀) + ℓ(t₁),  ℓ(t₀) = 0,  dℓ/dt = −div v.
//
// Flow Matching's interval is t₀ = 0, t₁ = 1. It runs in the no-graph mode,
// each evaluation in an arena of the solve's own as LogLikelihood's.
// The result agrees with LogLikelihood(f, X1, t₁, t₀, …) within the solver
// tolerance (TestLogLikelihood_ForwardBackwardAgree).
func SampleWithLogLikelihood(f Field, x0 *autograd.Tensor, t0, t1 float64, logp0 LogDensity, div DivergenceFunc, opts SolveOptions) (Likelihood, Stats, error) {
	mustLikelihoodArgs("cnf.SampleWithLogLikelihood", f, x0, logp0)
	if div == nil {
		div = ExactDivergence
	}
	d := x0.Cols
	x0 = x0.NoGraph()
	z0 := autograd.Concat(x0, x0.Arena().Zeros(x0.Rows, 1))
	z1, st, err := Integrate(ArenaField(augmented(f, div, d), steparena.New()), z0, t0, t1, opts)
	if err != nil {
		return Likelihood{}, st, err
	}
	x1, l1 := autograd.Slice(z1, 0, d), autograd.Slice(z1, d, d+1)
	lp0 := logp0(x0)
	return Likelihood{X0: x0, X1: x1, LogP0: lp0, LogP1: autograd.Add(lp0, l1)}, st, nil
}

// mustLikelihoodArgs panics with a *autograd.MisuseError when the field, the
// batch or the base density is missing.
func mustLikelihoodArgs(op string, f Field, x *autograd.Tensor, logp0 LogDensity) {
	mustFieldAndState(op, f, x)
	if logp0 == nil {
		panic(autograd.Misuse(op, "nil base log-density logp0 (StandardNormalLogProb for N(0, I))"))
	}
}

// TimeModel is a network of (t, x), such as nn.VelocityMLP: t [n, 1] and
// x [n, d] to v [n, d].
type TimeModel interface {
	Forward(t, x *autograd.Tensor) *autograd.Tensor
}

// FieldOf adapts a TimeModel to a Field, passing t as a column [n, 1],
// made in x's arena if it has one (ArenaField).
func FieldOf(m TimeModel) Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		tt := x.Arena().Zeros(x.Rows, 1)
		for i := range tt.Data {
			tt.Data[i] = t
		}
		return m.Forward(tt, x)
	}
}
