package fm

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

// Path is a Gaussian conditional probability path (Lipman et al. 2022,
// arXiv:2210.02747, §4, eq. 10):
//
//	p_t(x|x₁) = N(x; μ_t(x₁), σ_t(x₁)² I),  t ∈ [0, 1],
//
// with μ₀ ≈ 0, σ₀ ≈ 1 at the noise end and μ₁ = x₁, σ₁ = σ_min at the data
// end. A path is described by its mean and standard deviation together with
// their time derivatives μ′_t = ∂_t μ_t, σ′_t = ∂_t σ_t; everything else (the
// flow map, samples, the log-density and the conditional field of Theorem 3)
// is computed from them by the generic functions Flow, SampleCond,
// CondLogProb and CondField. σ may depend on x₁ (see FuncPath).
type Path interface {
	// Mean returns μ_t(x₁) and μ′_t(x₁), each of length len(x1).
	Mean(t float64, x1 []float64) (mu, dmu []float64)
	// Std returns σ_t(x₁) > 0 and σ′_t(x₁).
	Std(t float64, x1 []float64) (sigma, dsigma float64)
	// SourceStd is s in the distribution N(0, s² I) that samplers start
	// from at t = 0 (see SampleSource).
	SourceStd() float64
}

// AffinePath is a Path whose mean is linear in the data and whose standard
// deviation does not depend on it:
//
//	μ_t(x₁) = a_t·x₁,  σ_t(x₁) = σ_t.
//
// CondOT, VE and VP are affine. For these the marginal path of a Gaussian
// mixture is again a Gaussian mixture (see MixtureMarginal).
type AffinePath interface {
	Path
	// Schedule returns a_t, a′_t, σ_t and σ′_t.
	Schedule(t float64) (a, da, sigma, dsigma float64)
	// SigmaDSigma returns σ_t·σ′_t = ½·d(σ_t²)/dt, which stays finite where
	// σ′_t does not (VP at t = 1, where σ₁ = 0 and σ′₁ = −∞).
	// TestAffinePath_SigmaDSigma.
	SigmaDSigma(t float64) float64
}

// Flow returns the conditional flow map (Lipman et al. 2022, §4, eq. 11)
//
//	ψ_t(x) = σ_t(x₁)·x + μ_t(x₁),
//
// which pushes N(0, I) to p_t(·|x₁). Tested by TestTheorem3_FlowPushesNoise.
func Flow(p Path, t float64, x, x1 []float64) []float64 {
	mustSameLen("Flow", x, x1)
	mu, _ := p.Mean(t, x1)
	s, _ := p.Std(t, x1)
	out := make([]float64, len(x))
	for j := range x {
		out[j] = s*x[j] + mu[j]
	}
	return out
}

// SampleCond draws x_t ~ p_t(·|x₁) as ψ_t(x₀) with x₀ ~ N(0, I) from rng:
// Flow applied to fresh noise, whose distribution is checked by
// TestTheorem3_FlowPushesNoise.
func SampleCond(p Path, t float64, x1 []float64, rng *rand.Rand) []float64 {
	if rng == nil {
		panic(autograd.Misuse("fm.SampleCond", "rng is nil; want a *rand.Rand (e.g. fm.NewRand(seed))"))
	}
	x0 := make([]float64, len(x1))
	for j := range x0 {
		x0[j] = rng.NormFloat64()
	}
	return Flow(p, t, x0, x1)
}

// CondLogProb returns the conditional log-density of Lipman et al. 2022,
// §4, eq. 10,
//
//	log p_t(x|x₁) = −(d/2)·log(2π σ_t²) − ‖x − μ_t‖² / (2σ_t²).
//
// Tested by TestCondLogProb_MatchesGonum.
func CondLogProb(p Path, t float64, x, x1 []float64) float64 {
	mustSameLen("CondLogProb", x, x1)
	mu, _ := p.Mean(t, x1)
	s, _ := p.Std(t, x1)
	r2 := 0.0
	for j := range x {
		d := x[j] - mu[j]
		r2 += d * d
	}
	return -0.5*float64(len(x))*math.Log(2*math.Pi*s*s) - r2/(2*s*s)
}

// CondField returns the conditional vector field of Theorem 3 (Lipman et
// al. 2022, §4, Theorem 3, eq. 15), computed from any Path:
//
//	u_t(x|x₁) = σ′_t(x₁)/σ_t(x₁) · (x − μ_t(x₁)) + μ′_t(x₁).
//
// It is the unique field with d/dt ψ_t(x) = u_t(ψ_t(x)|x₁). Tested by
// TestTheorem3_FlowDerivative and TestTheorem3_ClosedFormsMatchGeneric.
func CondField(p Path, t float64, x, x1 []float64) []float64 {
	mustSameLen("CondField", x, x1)
	mu, dmu := p.Mean(t, x1)
	s, ds := p.Std(t, x1)
	out := make([]float64, len(x))
	for j := range x {
		out[j] = ds/s*(x[j]-mu[j]) + dmu[j]
	}
	return out
}

// mustSameLen panics with a *autograd.MisuseError unless the point x and
// the data point x1 have the same dimension.
func mustSameLen(op string, x, x1 []float64) {
	if len(x) != len(x1) {
		panic(&autograd.MisuseError{Op: "fm." + op, Shapes: [][2]int{{1, len(x)}, {1, len(x1)}}, Reason: "x and x₁ have different dimensions"})
	}
}

// SampleSource returns n draws [n, d] from N(0, s² I), s = p.SourceStd(),
// the distribution a sampler of p starts from at t = 0.
func SampleSource(p Path, n, d int, rng *rand.Rand) *autograd.Tensor {
	if p == nil || rng == nil || n < 0 || d < 1 {
		panic(autograd.Misuse("fm.SampleSource", "want a Path, an rng, n ≥ 0 and d ≥ 1; got p = %v, rng nil: %v, n = %d, d = %d", p, rng == nil, n, d))
	}
	return autograd.Normal(n, d, 0, p.SourceStd(), rng)
}

// FuncPath is a Gaussian path built from user functions (Lipman et al.
// 2022, §4, eq. 10): any
// μ_t(x₁), σ_t(x₁) with their time derivatives, σ allowed to depend on x₁.
// Tested (with an x₁-dependent σ) by TestTheorem3_FlowDerivative.
type FuncPath struct {
	// MeanFunc returns μ_t(x₁) and ∂_t μ_t(x₁).
	MeanFunc func(t float64, x1 []float64) (mu, dmu []float64)
	// StdFunc returns σ_t(x₁) > 0 and ∂_t σ_t(x₁).
	StdFunc func(t float64, x1 []float64) (sigma, dsigma float64)
	// Start is the standard deviation of the sampler's start N(0, Start² I);
	// 0 means 1.
	Start float64
}

// Mean returns MeanFunc(t, x1).
func (p FuncPath) Mean(t float64, x1 []float64) (mu, dmu []float64) { return p.MeanFunc(t, x1) }

// Std returns StdFunc(t, x1).
func (p FuncPath) Std(t float64, x1 []float64) (sigma, dsigma float64) { return p.StdFunc(t, x1) }

// SourceStd returns Start, or 1 if Start is 0.
func (p FuncPath) SourceStd() float64 {
	if p.Start == 0 {
		return 1
	}
	return p.Start
}

// affineMean is Mean for an AffinePath: μ_t = a_t x₁, μ′_t = a′_t x₁.
func affineMean(p AffinePath, t float64, x1 []float64) (mu, dmu []float64) {
	a, da, _, _ := p.Schedule(t)
	mu = make([]float64, len(x1))
	dmu = make([]float64, len(x1))
	for j, v := range x1 {
		mu[j] = a * v
		dmu[j] = da * v
	}
	return mu, dmu
}
