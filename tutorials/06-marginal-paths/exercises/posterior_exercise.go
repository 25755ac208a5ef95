//go:build exercises

package exercises

import "github.com/flowmatch/flowmatch/fm"

// Posterior returns the weights of the marginal field (Lipman et al. 2022,
// arXiv:2210.02747, §3.1, eq. 8, with the data distribution's weight qᵢ that
// is easy to drop) for the finite data set q = Σᵢ qᵢ δ(x₁ − points[i]):
//
//	wᵢ(x) = qᵢ·p_t(x|x₁ⁱ) / Σⱼ qⱼ·p_t(x|x₁ʲ),
//
// the probability that x_t = x came from x₁ⁱ, so that the marginal field is
// u_t(x) = Σᵢ wᵢ(x)·u_t(x|x₁ⁱ). q holds probabilities (they sum to 1).
// Compute it in log space,
//
//	log wᵢ = ℓᵢ − logsumexp(ℓ),  ℓᵢ = log qᵢ + log p_t(x|x₁ⁱ),
//	logsumexp(ℓ) = M + log Σⱼ exp(ℓⱼ − M),  M = maxⱼ ℓⱼ,
//
// so that the weights are right even far from the data, where every
// p_t(x|x₁ⁱ) underflows to 0 and the direct quotient is 0/0.
//
// Hints: fm.CondLogProb(p, t, x, x1) is log p_t(x|x₁). Subtracting M makes
// the largest term exp(0) = 1, so the sum cannot underflow to 0.
func Posterior(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
	panic("exercise: Posterior is not written yet — see its doc comment, tutorial 06 README (Math, Exercises) and Lipman et al. 2022, §3.1, eq. 8")
}
