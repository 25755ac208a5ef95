package fm

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
Schedulers (α_t, σ_t) of affine Gaussian paths (Lipman et al. 2024, The Flow
Matching Guide and Code, arXiv:2412.06264, §4.8, the "scheduler" (α_t, σ_t)).

An affine Gaussian path is x_t = α_t·x₁ + σ_t·x₀ with x₀ ~ N(0, I), so that
p_t(x|x₁) = N(α_t x₁, σ_t² I) (Lipman et al. 2022, arXiv:2210.02747, §4,
eq. 10, with μ_t = α_t x₁). α_t is written a_t in AffinePath.Schedule, which
is the one scheduler interface: every type here and CondOT, VE and VP
implement it, and so are Paths. α increases from (about) 0 to 1, σ decreases
from (about) 1 to 0:

	CondOT         α = t,           σ = 1 − (1 − σ_min)t
	Polynomial(n)  α = tⁿ,          σ = 1 − tⁿ
	Cosine         α = sin(πt/2),   σ = cos(πt/2)
	LinearVP       α = t,           σ = √(1 − t²)
	VP             α = e^{−T(1−t)/2}, σ = √(1 − α²)
	VE             α = 1,           σ = σ_min(σ_max/σ_min)^{1−t}

The signal-to-noise ratio ρ_t = α_t/σ_t increases with t; changing schedule
(ScheduleChange) matches schedules by it.
*/

// Polynomial is the polynomial scheduler (Lipman et al. 2024,
// arXiv:2412.06264, §4.8, the polynomial convex scheduler):
//
//	α_t = tⁿ,  σ_t = 1 − tⁿ,  α′_t = n·tⁿ⁻¹,  σ′_t = −n·tⁿ⁻¹,
//
// a convex combination of data and noise; n = 1 is CondOT with σ_min = 0.
// N must be positive (else Schedule panics with a *autograd.MisuseError);
// for n < 1 the derivatives are infinite at t = 0. Samplers start from
// N(0, I). Derivatives checked against central differences by
// TestScheduler_Derivatives.
type Polynomial struct {
	N float64 // n > 0
}

// Schedule returns α_t = tⁿ, α′_t = n tⁿ⁻¹, σ_t = 1 − tⁿ, σ′_t = −n tⁿ⁻¹.
func (p Polynomial) Schedule(t float64) (a, da, sigma, dsigma float64) {
	if !(p.N > 0) || math.IsInf(p.N, 0) {
		panic(autograd.Misuse("fm.Polynomial", "N = %v; want a finite n > 0", p.N))
	}
	a = math.Pow(t, p.N)
	da = p.N * math.Pow(t, p.N-1)
	return a, da, 1 - a, -da
}

// SigmaDSigma returns σ_t σ′_t = −n tⁿ⁻¹ (1 − tⁿ).
func (p Polynomial) SigmaDSigma(t float64) float64 {
	_, _, s, ds := p.Schedule(t)
	return s * ds
}

// Mean returns μ_t = tⁿ x₁ and μ′_t = n tⁿ⁻¹ x₁.
func (p Polynomial) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = 1 − tⁿ and σ′_t = −n tⁿ⁻¹.
func (p Polynomial) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SourceStd returns 1: samplers start from N(0, I).
func (p Polynomial) SourceStd() float64 { return 1 }

// Cosine is the cosine scheduler (Lipman et al. 2024, arXiv:2412.06264,
// §4.8):
//
//	α_t = sin(πt/2),  σ_t = cos(πt/2),  α′_t = (π/2)cos(πt/2),  σ′_t = −(π/2)sin(πt/2),
//
// so α_t² + σ_t² = 1 at every t. (fm.CosineSchedule is a learning-rate
// schedule, unrelated.) Samplers start from N(0, I). Derivatives checked by
// TestScheduler_Derivatives.
type Cosine struct{}

// Schedule returns α_t = sin(πt/2), α′_t = (π/2)cos(πt/2), σ_t = cos(πt/2),
// σ′_t = −(π/2)sin(πt/2).
// σ_t is computed as sin(π(1 − t)/2), so that both ends are exact: α₀ = 0,
// σ₀ = 1, α₁ = 1, σ₁ = 0.
func (Cosine) Schedule(t float64) (a, da, sigma, dsigma float64) {
	a, sigma = math.Sin(math.Pi/2*t), math.Sin(math.Pi/2*(1-t))
	return a, math.Pi / 2 * sigma, sigma, -math.Pi / 2 * a
}

// SigmaDSigma returns σ_t σ′_t = −(π/2)·α_t σ_t = −(π/4)·sin(πt).
func (c Cosine) SigmaDSigma(t float64) float64 {
	_, _, s, ds := c.Schedule(t)
	return s * ds
}

// Mean returns μ_t = sin(πt/2) x₁ and μ′_t = (π/2)cos(πt/2) x₁.
func (p Cosine) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = cos(πt/2) and σ′_t = −(π/2)sin(πt/2).
func (p Cosine) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SourceStd returns 1: samplers start from N(0, I).
func (Cosine) SourceStd() float64 { return 1 }

// LinearVP is the linear variance-preserving scheduler (Lipman et al. 2024,
// arXiv:2412.06264, §4.8):
//
//	α_t = t,  σ_t = √(1 − t²),  α′_t = 1,  σ′_t = −t/√(1 − t²),
//
// so α_t² + σ_t² = 1. σ′ is −∞ at t = 1 while σ_t σ′_t = −t is finite
// (SigmaDSigma). Samplers start from N(0, I). Derivatives checked by
// TestScheduler_Derivatives.
type LinearVP struct{}

// Schedule returns α_t = t, α′_t = 1, σ_t = √(1 − t²), σ′_t = −t/σ_t.
func (LinearVP) Schedule(t float64) (a, da, sigma, dsigma float64) {
	s := math.Sqrt(1 - t*t)
	return t, 1, s, -t / s
}

// SigmaDSigma returns σ_t σ′_t = −t, finite at t = 1 where σ′_t is not.
func (LinearVP) SigmaDSigma(t float64) float64 { return -t }

// Mean returns μ_t = t x₁ and μ′_t = x₁.
func (p LinearVP) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = √(1 − t²) and σ′_t = −t/σ_t.
func (p LinearVP) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SourceStd returns 1: samplers start from N(0, I).
func (LinearVP) SourceStd() float64 { return 1 }

// SNR returns the signal-to-noise ratio of an affine path and its time
// derivative (Lipman et al. 2024, arXiv:2412.06264, §4.8):
//
//	ρ_t = α_t/σ_t,  ρ′_t = (α′_t σ_t − α_t σ′_t)/σ_t².
//
// ρ is +Inf where σ_t = 0. Checked against a central difference by
// TestScheduler_Derivatives.
func SNR(p AffinePath, t float64) (rho, drho float64) {
	a, da, s, ds := p.Schedule(t)
	return a / s, (da*s - a*ds) / (s * s)
}
