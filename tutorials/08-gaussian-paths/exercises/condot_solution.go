//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/fm"

// CondOTField returns u_t(x|x₁) = (x₁ − (1 − σ_min)x)/(1 − (1 − σ_min)t):
// the library's fm.CondOT.Field.
func CondOTField(sigmaMin, t float64, x, x1 []float64) []float64 {
	return fm.CondOT{SigmaMin: sigmaMin}.Field(t, x, x1)
}
