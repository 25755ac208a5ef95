//go:build exercises

package exercises

import "github.com/flowmatch/flowmatch/fm/discrete"

// ProbabilityVelocity writes into dst [D·S] (S = p.States()) the marginal
// rate of the mixture path (Gat et al. 2024, arXiv:2407.15595, eqs. 9–11)
// at the state x and time t, given the posterior post[i·V + y] =
// p(x₁ⁱ = y | x):
//
//	uⁱ_t(y, x) = κ̇_t/(1 − κ_t)·[p(x₁ⁱ = y | x) − δ(y, xⁱ)]      (row i, column y)
//
// so that each row sums to 0 (uⁱ(xⁱ, x) is minus the rate of leaving). The
// mask token M = V has posterior probability 0; under the mask source an
// unmasked position (xⁱ ≠ M) never moves, so its whole row is 0.
//
// Hints: p.Sched.Kappa(t) and p.Sched.DKappa(t) give κ_t and κ̇_t; zero
// dst first, a row at a time.
func ProbabilityVelocity(dst []float64, p discrete.Path, t float64, x []int, post []float64) {
	panic("exercise: ProbabilityVelocity is not written yet — see its doc comment, tutorial 15 README (Math) and Gat et al. 2024, eqs. 9–11")
}
