package cnf

import "math"

// ContinuityResidual evaluates the continuity equation (Lipman et al. 2022,
// arXiv:2210.02747, §2; Villani 2009, "Optimal Transport: Old and New",
// ch. 1)
//
//	r = ∂ₜp_t(x) + div(p_t v_t)(x) = ∂ₜp + Σᵢ ∂ᵢ(p·vᵢ)
//
// at (t, x) by central differences with step h in t and in every
// coordinate, where p = exp(logp). A field v generates the density path p
// exactly when r = 0 everywhere. It also returns
//
//	scale = |∂ₜp| + Σᵢ |∂ᵢ(p·vᵢ)|,
//
// the magnitude of the terms, so a caller compares |r|/scale with the
// central-difference error, O(h²) relative to the third derivatives (see
// TestContinuityResidual_GaussianPath, which derives its tolerance by
// halving h). logp must be defined at t ± h.
func ContinuityResidual(logp func(t float64, x []float64) float64, v func(t float64, x []float64) []float64, t float64, x []float64, h float64) (residual, scale float64) {
	dt := (math.Exp(logp(t+h, x)) - math.Exp(logp(t-h, x))) / (2 * h)
	residual, scale = dt, math.Abs(dt)
	y := append([]float64(nil), x...)
	for i := range x {
		y[i] = x[i] + h
		fp := math.Exp(logp(t, y)) * v(t, y)[i]
		y[i] = x[i] - h
		fm := math.Exp(logp(t, y)) * v(t, y)[i]
		y[i] = x[i]
		di := (fp - fm) / (2 * h)
		residual += di
		scale += math.Abs(di)
	}
	return residual, scale
}
