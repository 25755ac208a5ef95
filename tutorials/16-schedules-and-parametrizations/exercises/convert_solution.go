//go:build !exercises

package exercises

// DataFromVelocity returns x̂₁ from the velocity v at x on an affine path
// with α_t = a, α′_t = da, σ_t = s, σ′_t = ds: fm.ConvertCoeffs' formula,
// x̂₁ = (σ v − σ′ x)/(α′σ − ασ′).
func DataFromVelocity(a, da, s, ds float64, x, v []float64) []float64 {
	D := da*s - a*ds
	out := make([]float64, len(x))
	for j := range x {
		out[j] = (s*v[j] - ds*x[j]) / D
	}
	return out
}
