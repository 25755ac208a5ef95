//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/fm/discrete"

// ProbabilityVelocity writes κ̇_t/(1 − κ_t)·[p(x₁ⁱ = y | x) − δ(y, xⁱ)]
// into dst: the library's discrete.Rate.
func ProbabilityVelocity(dst []float64, p discrete.Path, t float64, x []int, post []float64) {
	discrete.Rate(dst, p, t, x, post)
}
