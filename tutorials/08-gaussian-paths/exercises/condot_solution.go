//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/fm"

// CondOTField returns the CondOT path's conditional field u_t(x|x₁) (Lipman et al. 2022,
// eq. 21): the library's fm.CondOT.Field.
func CondOTField(sigmaMin, t float64, x, x1 []float64) []float64 {
	return fm.CondOT{SigmaMin: sigmaMin}.Field(t, x, x1)
}
