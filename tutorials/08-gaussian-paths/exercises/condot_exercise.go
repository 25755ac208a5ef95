//go:build exercises

package exercises

// CondOTField returns the conditional vector field of the CondOT path (seed
// §9.2; Lipman et al. 2022, eq. 21) at time t ∈ [0, 1] and point x, for the
// data point x1:
//
//	u_t(x|x₁) = (x₁ − (1 − σ_min)·x) / (1 − (1 − σ_min)·t).
//
// It is Theorem 3's u_t = σ′_t/σ_t·(x − μ_t) + μ′_t for μ_t = t·x₁ and
// σ_t = 1 − (1 − σ_min)·t, so that ψ_t(x₀) = σ_t·x₀ + t·x₁ satisfies
// d/dt ψ_t(x₀) = u_t(ψ_t(x₀)|x₁) = x₁ − (1 − σ_min)·x₀ (constant in t:
// straight lines). Return a new slice; do not modify x or x1.
//
// Hint: substitute μ_t, μ′_t = x₁, σ_t and σ′_t = −(1 − σ_min) into
// Theorem 3 and simplify; the numerator is σ_t·x₁ − (1 − σ_min)(x − t·x₁).
func CondOTField(sigmaMin, t float64, x, x1 []float64) []float64 {
	panic("exercise: CondOTField — (x₁ − (1 − σ_min)x)/(1 − (1 − σ_min)t)")
}
