package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

var _ NamedModule = (*Conv2D)(nil)

// Conv2D is a 2-D convolution layer on image batches [n, C·H·W] (C-major,
// then H, then W; see autograd.ConvGeom):
//
//	out[s, o, oy, ox] = b[o] + Σ_{c, ky, kx} W[o, (c·KH + ky)·KW + kx] · x[s, c, oy·S − P + ky, ox·S − P + kx]
//
// with W [Cout, C·KH·KW] (PyTorch's [Cout, C, KH, KW] flattened, so a
// torch.nn.Conv2d state dict maps onto it by reshaping) and b [1, Cout]. The
// output is [n, Cout·OH·OW]. It is autograd.Conv2D with the layer's
// parameters; TestConv2DLayer_MatchesOp checks that, TestConv2DLayer_Init
// the initialization.
type Conv2D struct {
	W    *autograd.Tensor  // [Cout, C·KH·KW]
	B    *autograd.Tensor  // [1, Cout]
	Geom autograd.ConvGeom // input geometry, kernel, stride, padding
}

// NewConv2D returns a convolution with cout output channels on inputs of
// geometry g, initialized as torch.nn.Conv2d: every element of W and b is
// drawn from U(−1/√fan_in, 1/√fan_in), fan_in = C·KH·KW (Kaiming-uniform
// with a = √5 gives exactly this bound for W; He et al. 2015,
// arXiv:1502.01852, §2.2, for the fan-in scaling). Both require gradients.
// A geometry that is not one, or cout < 1, panics with a
// *autograd.MisuseError naming nn.NewConv2D. TestConv2DLayer_Init.
func NewConv2D(g autograd.ConvGeom, cout int, rng *rand.Rand) *Conv2D {
	if cout < 1 || g.C < 1 || g.H < 1 || g.W < 1 || g.KH < 1 || g.KW < 1 || g.Stride < 1 || g.Pad < 0 ||
		g.KH > g.H+2*g.Pad || g.KW > g.W+2*g.Pad {
		panic(autograd.Misuse("nn.NewConv2D", "geometry %+v with %d output channels: want positive sizes, Stride ≥ 1, Pad ≥ 0 and a kernel within the padded image", g, cout))
	}
	bound := 1 / math.Sqrt(float64(g.Patch()))
	return &Conv2D{
		W:    autograd.Uniform(cout, g.Patch(), -bound, bound, rng).SetRequiresGrad(true),
		B:    autograd.Uniform(1, cout, -bound, bound, rng).SetRequiresGrad(true),
		Geom: g,
	}
}

// Forward returns autograd.Conv2D(x, W, b, Geom) for x [n, C·H·W]: shape
// [n, Cout·OH·OW]. x with other columns panics with a *autograd.MisuseError
// naming nn.Conv2D.Forward and the shapes.
func (l *Conv2D) Forward(x *autograd.Tensor) *autograd.Tensor {
	if x.Cols != l.Geom.In() {
		panic(&autograd.MisuseError{Op: "nn.Conv2D.Forward", Shapes: [][2]int{x.Shape()},
			Reason: fmt.Sprintf("want [n, C·H·W] = [n, %d·%d·%d]", l.Geom.C, l.Geom.H, l.Geom.W)})
	}
	return autograd.Conv2D(x, l.W, l.B, l.Geom)
}

// Out returns the number of output channels.
func (l *Conv2D) Out() int { return l.W.Rows }

// OutGeom returns the output's channels, height and width (Cout, OH, OW).
func (l *Conv2D) OutGeom() (c, h, w int) { return l.W.Rows, l.Geom.OutH(), l.Geom.OutW() }

// Params returns [W, b].
func (l *Conv2D) Params() []*autograd.Tensor { return []*autograd.Tensor{l.W, l.B} }

// NamedParams returns W as "weight" and b as "bias".
func (l *Conv2D) NamedParams() []Named {
	return []Named{{Name: "weight", T: l.W}, {Name: "bias", T: l.B}}
}
