//go:build !exercises

package exercises

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// Hutchinson returns (1/K)·Σₖ εₖᵀ (∂v/∂x) εₖ row by row, [n, 1]: the library's
// cnf.HutchinsonDivergence on a no-graph copy of x (plain values out).
func Hutchinson(f cnf.Field, t float64, x *autograd.Tensor, probes []*autograd.Tensor) *autograd.Tensor {
	_, div := cnf.HutchinsonDivergence(f, t, x.Detach().NoGraph(), probes)
	return div
}
