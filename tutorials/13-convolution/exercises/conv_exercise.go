//go:build exercises

package exercises

import "github.com/flowmatch/flowmatch/autograd"

// InputGrad returns ∂L/∂x [C·H·W] for one image x of geometry g (C-major,
// then H, then W), where out = Conv2D(x, w) [Cout·OH·OW] with the kernel w
// [Cout, C·KH·KW] flattened row-major (w[o][(c·KH + ky)·KW + kx]), no bias,
// and gr = ∂L/∂out [Cout·OH·OW] (tutorial 13 README, Math: the backward pass).
// The forward pass is
//
//	out[o, oy, ox] = Σ_{c, ky, kx} w[o, c, ky, kx] · x[c, oy·S − P + ky, ox·S − P + kx]
//
// (x = 0 outside the image), so every input pixel receives the gradient of
// every output it took part in.
//
// Hint: loop over the outputs and the kernel as in the forward pass and send
// each product's share back to the input pixel it read; skip the pixels on
// the padding.
func InputGrad(gr, w []float64, g autograd.ConvGeom) []float64 {
	panic("exercise: InputGrad is not written yet — see tutorial 13 README, Math (the backward pass)")
}
