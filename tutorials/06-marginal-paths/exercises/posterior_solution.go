//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/fm"

// Posterior returns wᵢ(x) = qᵢ·p_t(x|x₁ⁱ) / Σⱼ qⱼ·p_t(x|x₁ʲ): the library's
// fm.EmpiricalMarginal.Posterior, which works in log space.
func Posterior(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
	return fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points, Weights: q}}.Posterior(t, x)
}
