package cnf

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
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
// TestNormalLogProb_Scaled.
func NormalLogProb(s float64) LogDensity {
	return func(x *autograd.Tensor) *autograd.Tensor {
		return autograd.AddScalar(StandardNormalLogProb(autograd.Scale(x, 1/s)), -float64(x.Cols)*math.Log(s))
	}
}

// Sample integrates dx/dt = f(t, x) from noise x₀ at t = 0 to t = 1 in the
// no-graph mode (no tape, whatever the field's parameters) and returns
// x(1) [n, d].
func Sample(f Field, x0 *autograd.Tensor, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	return Integrate(f, x0.NoGraph(), 0, 1, opts)
}

// augmented returns the field of the state (x, ℓ) [n, d+1]:
// dx/dt = v(t, x), dℓ/dt = −div v(t, x).
func augmented(f Field, div DivergenceFunc, d int) Field {
	return func(t float64, z *autograd.Tensor) *autograd.Tensor {
		v, dv := div(f, t, autograd.Slice(z, 0, d))
		return autograd.Concat(v, autograd.Neg(dv))
	}
}

// LogLikelihood returns log p₁(x₁) [n, 1] of the model density at t = 1 for
// the batch x₁ [n, d], by integrating the augmented state (x, ℓ) with
// dℓ/dt = −div v from (x₁, 0) at t = 1 back to t = 0:
//
//	log p₁(x₁) = log p₀(x(0)) − ℓ(0) = log p₀(x(0)) − ∫₀¹ div v(t, x(t)) dt.
//
// logp0 is the base log-density (StandardNormalLogProb for N(0, I)); div
// computes the divergence (nil means ExactDivergence; Hutchinson for the
// stochastic estimate). Stats.NFE counts evaluations of the augmented field,
// each one forward pass of f plus the divergence's backward passes. A
// Callback in opts sees the augmented state [n, d+1].
//
// Pass x1.NoGraph() for inference. With a plain x₁ and a field whose
// parameters require gradients the result is recorded through every solver
// step, so −Mean(logp) can be minimized by backpropagation (maximum-
// likelihood CNF training). For inference with a trainable network pass a
// frozen view (nn.VelocityMLP.Frozen) so that the divergence's backward
// passes skip the weight gradients.
func LogLikelihood(f Field, x1 *autograd.Tensor, logp0 LogDensity, div DivergenceFunc, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	if div == nil {
		div = ExactDivergence
	}
	d := x1.Cols
	z1 := autograd.Concat(x1, autograd.Zeros(x1.Rows, 1))
	z0, st, err := Integrate(augmented(f, div, d), z1, 1, 0, opts)
	if err != nil {
		return nil, st, err
	}
	x0, l0 := autograd.Slice(z0, 0, d), autograd.Slice(z0, d, d+1)
	return autograd.Sub(logp0(x0), l0), st, nil
}

// SampleWithLogLikelihood samples from noise x₀ [n, d] at t = 0 to t = 1
// and carries the log-density along:
//
//	log p₁(x(1)) = log p₀(x₀) + ℓ(1),  ℓ(0) = 0,  dℓ/dt = −div v.
//
// It runs in the no-graph mode. The result agrees with LogLikelihood at
// x(1) within the solver tolerance (TestLogLikelihood_ForwardBackwardAgree).
func SampleWithLogLikelihood(f Field, x0 *autograd.Tensor, logp0 LogDensity, div DivergenceFunc, opts SolveOptions) (x1, logp1 *autograd.Tensor, st Stats, err error) {
	if div == nil {
		div = ExactDivergence
	}
	d := x0.Cols
	x0 = x0.NoGraph()
	z0 := autograd.Concat(x0, autograd.Zeros(x0.Rows, 1))
	z1, st, err := Integrate(augmented(f, div, d), z0, 0, 1, opts)
	if err != nil {
		return nil, nil, st, err
	}
	x1, l1 := autograd.Slice(z1, 0, d), autograd.Slice(z1, d, d+1)
	return x1, autograd.Add(logp0(x0), l1), st, nil
}

// TimeModel is a network of (t, x), such as nn.VelocityMLP: t [n, 1] and
// x [n, d] to v [n, d].
type TimeModel interface {
	Forward(t, x *autograd.Tensor) *autograd.Tensor
}

// FieldOf adapts a TimeModel to a Field, passing t as a column [n, 1].
func FieldOf(m TimeModel) Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		return m.Forward(autograd.Full(x.Rows, 1, t), x)
	}
}
