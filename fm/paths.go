package fm

import "math"

// CondOT is the optimal-transport conditional path (Lipman et al. 2022,
// arXiv:2210.02747, §4.1, Example II, eqs. 20–23):
//
//	μ_t = t·x₁,  σ_t = 1 − (1 − σ_min)·t,
//	ψ_t(x) = (1 − (1 − σ_min)t)·x + t·x₁.
//
// Its trajectories are straight lines traversed at constant speed, so the
// field along a trajectory, u_t(ψ_t(x₀)|x₁) = x₁ − (1 − σ_min)x₀, does not
// depend on t (TestCondOT_FieldConstantAlongTrajectory). Samplers start from
// N(0, I).
type CondOT struct {
	SigmaMin float64 // σ_min ≥ 0, the data-end standard deviation (the paper uses a small positive value)
}

// Schedule returns a_t = t, a′_t = 1, σ_t = 1 − (1 − σ_min)t, σ′_t = −(1 − σ_min).
func (p CondOT) Schedule(t float64) (a, da, sigma, dsigma float64) {
	return t, 1, 1 - (1-p.SigmaMin)*t, -(1 - p.SigmaMin)
}

// Mean returns μ_t = t·x₁ and μ′_t = x₁.
func (p CondOT) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = 1 − (1 − σ_min)t and σ′_t = −(1 − σ_min).
func (p CondOT) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SigmaDSigma returns σ_t·σ′_t = −(1 − σ_min)·(1 − (1 − σ_min)t).
func (p CondOT) SigmaDSigma(t float64) float64 {
	_, _, s, ds := p.Schedule(t)
	return s * ds
}

// SourceStd returns 1: samplers start from N(0, I).
func (p CondOT) SourceStd() float64 { return 1 }

// Field returns the closed form of the CondOT conditional field (Lipman et
// al. 2022, §4.1, eq. 21):
//
//	u_t(x|x₁) = (x₁ − (1 − σ_min)·x) / (1 − (1 − σ_min)·t).
//
// Tested by TestTheorem3_ClosedFormsMatchGeneric.
func (p CondOT) Field(t float64, x, x1 []float64) []float64 {
	mustSameLen("CondOT.Field", x, x1)
	c := 1 - p.SigmaMin
	out := make([]float64, len(x))
	for j := range x {
		out[j] = (x1[j] - c*x[j]) / (1 - c*t)
	}
	return out
}

// VE is the variance-exploding (reversed) diffusion path (Lipman et al.
// 2022, arXiv:2210.02747, §4.1, Example I, eq. 16; Song et al. 2021,
// arXiv:2011.13456) with the geometric noise scale
//
//	σ(s) = σ_min·(σ_max/σ_min)^s,  s ∈ [0, 1],
//	μ_t = x₁,  σ_t = σ(1 − t).
//
// At t = 1 the path ends at N(x₁, σ_min² I); at t = 0 it starts at
// p₀(x|x₁) = N(x₁, σ_max² I), which samplers replace by N(0, σ_max² I)
// (SourceStd = σ_max), a good approximation when σ_max is much larger than
// the data's scale.
type VE struct {
	SigmaMin, SigmaMax float64 // 0 < σ_min < σ_max
}

// Sigma returns the noise scale σ(s) = σ_min (σ_max/σ_min)^s and its
// derivative σ′(s) = σ(s)·ln(σ_max/σ_min).
func (p VE) Sigma(s float64) (sigma, dsigma float64) {
	l := math.Log(p.SigmaMax / p.SigmaMin)
	sigma = p.SigmaMin * math.Exp(l*s)
	return sigma, sigma * l
}

// Schedule returns a_t = 1, a′_t = 0, σ_t = σ(1 − t), σ′_t = −σ′(1 − t).
func (p VE) Schedule(t float64) (a, da, sigma, dsigma float64) {
	s, ds := p.Sigma(1 - t)
	return 1, 0, s, -ds
}

// Mean returns μ_t = x₁ and μ′_t = 0.
func (p VE) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = σ(1 − t) and σ′_t = −σ′(1 − t).
func (p VE) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SigmaDSigma returns σ_t·σ′_t = −σ(1 − t)·σ′(1 − t).
func (p VE) SigmaDSigma(t float64) float64 {
	_, _, s, ds := p.Schedule(t)
	return s * ds
}

// SourceStd returns σ_max: samplers start from N(0, σ_max² I).
func (p VE) SourceStd() float64 { return p.SigmaMax }

// Field returns the closed form of the VE conditional field (Lipman et al.
// 2022, §4.1, eq. 17):
//
//	u_t(x|x₁) = −σ′(1 − t)/σ(1 − t) · (x − x₁),
//
// where σ′ is the derivative of σ(s) in its own argument s.
// Tested by TestTheorem3_ClosedFormsMatchGeneric.
func (p VE) Field(t float64, x, x1 []float64) []float64 {
	mustSameLen("VE.Field", x, x1)
	s, ds := p.Sigma(1 - t)
	out := make([]float64, len(x))
	for j := range x {
		out[j] = -ds / s * (x[j] - x1[j])
	}
	return out
}

// VP is the variance-preserving (reversed) diffusion path (Lipman et al.
// 2022, arXiv:2210.02747, §4.1, Example I, eq. 18; Song et al. 2021,
// arXiv:2011.13456) with β linear from
// β_min to β_max:
//
//	β(s) = β_min + (β_max − β_min)·s,  T(s) = ∫₀ˢ β = β_min·s + (β_max − β_min)·s²/2,
//	α(s) = e^{−T(s)/2},
//	μ_t = α(1 − t)·x₁,  σ_t = √(1 − α(1 − t)²).
//
// The zero value means β_min = 0.1, β_max = 20, so T(s) = 0.1s + 9.95s² and
// α(1) = e^{−5.025} ≈ 0.0066: small but not 0, so p₀(x|x₁) is only
// approximately N(0, I). Samplers start from N(0, I). At t = 1, σ₁ = 0 and
// σ′₁ = −∞: the conditional field is singular there (use t < 1), while
// σ₁σ′₁ (SigmaDSigma) and hence the marginal field of a Gaussian mixture
// with positive widths stay finite (MixtureMarginal).
type VP struct {
	BetaMin, BetaMax float64 // 0, 0 means 0.1, 20
}

func (p VP) betas() (lo, hi float64) {
	if p.BetaMin == 0 && p.BetaMax == 0 {
		return 0.1, 20
	}
	return p.BetaMin, p.BetaMax
}

// Alpha returns α(s) = e^{−T(s)/2} and α′(s) = −β(s)/2·α(s).
func (p VP) Alpha(s float64) (alpha, dalpha float64) {
	lo, hi := p.betas()
	T := lo*s + (hi-lo)*s*s/2
	beta := lo + (hi-lo)*s
	alpha = math.Exp(-T / 2)
	return alpha, -beta / 2 * alpha
}

// Schedule returns a_t = α(1 − t), a′_t = −α′(1 − t), σ_t = √(1 − a_t²) and
// σ′_t = a_t·α′(1 − t)/σ_t (from σ_t σ′_t = −a_t a′_t).
func (p VP) Schedule(t float64) (a, da, sigma, dsigma float64) {
	al, dal := p.Alpha(1 - t)
	sigma = math.Sqrt(1 - al*al)
	return al, -dal, sigma, al * dal / sigma
}

// SigmaDSigma returns σ_t·σ′_t = −a_t·a′_t = α(1 − t)·α′(1 − t), from
// σ_t² = 1 − a_t²: finite at t = 1 (−β_min/2), where σ′_t = −∞.
// TestMixtureMarginal_VPFieldAtDataEnd.
func (p VP) SigmaDSigma(t float64) float64 {
	al, dal := p.Alpha(1 - t)
	return al * dal
}

// Mean returns μ_t = α(1 − t)·x₁ and μ′_t = −α′(1 − t)·x₁.
func (p VP) Mean(t float64, x1 []float64) (mu, dmu []float64) { return affineMean(p, t, x1) }

// Std returns σ_t = √(1 − α(1 − t)²) and its time derivative.
func (p VP) Std(t float64, _ []float64) (sigma, dsigma float64) {
	_, _, s, ds := p.Schedule(t)
	return s, ds
}

// SourceStd returns 1: samplers start from N(0, I).
func (p VP) SourceStd() float64 { return 1 }

// Field returns the closed form of the VP conditional field (Lipman et al.
// 2022, §4.1, eq. 19):
//
//	u_t(x|x₁) = α′(1 − t)/(1 − α(1 − t)²) · (α(1 − t)·x − x₁),
//
// where α′ is the derivative of α(s) in its own argument s.
// Tested by TestTheorem3_ClosedFormsMatchGeneric.
func (p VP) Field(t float64, x, x1 []float64) []float64 {
	mustSameLen("VP.Field", x, x1)
	al, dal := p.Alpha(1 - t)
	c := dal / (1 - al*al)
	out := make([]float64, len(x))
	for j := range x {
		out[j] = c * (al*x[j] - x1[j])
	}
	return out
}
