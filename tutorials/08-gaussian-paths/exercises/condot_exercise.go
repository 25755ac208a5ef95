//go:build exercises

package exercises

// CondOTField returns the conditional vector field u_t(x|x₁) of the CondOT path at time
// t ∈ [0, 1) and point x, for the data point x₁ (Lipman et al. 2022, arXiv:2210.02747, §4.1,
// eq. 20–21). The path has
//
//	μ_t(x₁) = t·x₁,   σ_t = 1 − (1 − σ_min)·t,
//
// so ψ_t(x₀) = σ_t·x₀ + μ_t(x₁) runs from the noise x₀ at t = 0 to (about) x₁ at t = 1.
// Derive u_t from Theorem 3 (eq. 15; README "Math"), which gives the field of any Gaussian
// path from μ_t, σ_t and their time derivatives. x is a point on the path, not x₀. Return a
// new slice; do not modify x or x1.
//
// Check your algebra: the field must carry ψ_t(x₀) along d/dt ψ_t(x₀), which here does not
// depend on t (the paths are straight lines).
func CondOTField(sigmaMin, t float64, x, x1 []float64) []float64 {
	panic("exercise: CondOTField is not written yet — derive it from Theorem 3 (Lipman et al. 2022, eq. 15; tutorial 08 README, Math) for the CondOT path of eq. 20")
}
