//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/autograd"

// InputGrad returns ∂L/∂x of L = Σ gr ⊙ Conv2D(x, w) for one image of
// geometry g: the gradient autograd computes, Col2Im(ChannelsLast(gr)·w).
func InputGrad(gr, w []float64, g autograd.ConvGeom) []float64 {
	cout := len(w) / g.Patch()
	x := autograd.Zeros(1, g.In()).SetRequiresGrad(true) // L is linear in x: any x will do
	seed := autograd.FromSlice(1, len(gr), gr)
	return autograd.Grad(autograd.Conv2D(x, autograd.FromSlice(cout, g.Patch(), w), nil, g), seed, x)[0].Data
}
