//go:build exercises

package exercises

// DataFromVelocity returns x̂₁ = E[x₁ | x_t = x] from the velocity
// v = u_t(x) at a point x of the affine path x_t = α_t x₁ + σ_t x₀, given
// a = α_t, da = α′_t, s = σ_t and ds = σ′_t (tutorial 16 README, Math;
// Lipman et al. 2024, arXiv:2412.06264, §4.8).
//
// Hint: both the point and the velocity are linear in the two unknowns
// x̂₁ and x̂₀ (the point is their mix with weights α and σ, the velocity
// with weights α′ and σ′). Solve the 2×2 system for x̂₁.
func DataFromVelocity(a, da, s, ds float64, x, v []float64) []float64 {
	panic("exercise: DataFromVelocity is not written yet — see tutorial 16 README, Math (parametrizations)")
}
