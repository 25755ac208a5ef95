package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// A 3×3 convolution layer with padding 1 keeps a 28×28 image's size.
func ExampleNewConv2D() {
	g := autograd.ConvGeom{C: 1, H: 28, W: 28, KH: 3, KW: 3, Stride: 1, Pad: 1}
	conv := nn.NewConv2D(g, 32, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(conv.W.Shape(), conv.B.Shape())
	fmt.Println(conv.OutGeom())
	fmt.Println(conv.Forward(autograd.Zeros(5, 784)).Shape())
	// Output:
	// [32 9] [1 32]
	// 32 28 28
	// [5 25088]
}

// A label-conditioned U-Net on mnist14-sized images: the field has the
// images' shape, one label row (10 digits plus the null label) per image.
func ExampleNewUNet() {
	u := nn.NewUNet(nn.UNetConfig{C: 1, H: 14, W: 14, Ch: 16, Groups: 4, Emb: 32, Ctx: 11, Classes: 10}, rand.New(rand.NewPCG(1, 2)))
	n := 0
	for _, p := range u.Params() {
		n += len(p.Data)
	}
	labels := autograd.Zeros(2, 11)
	labels.Data[3], labels.Data[11+10] = 1, 1 // digit 3, and the null label
	v := u.ForwardCond(autograd.Scalar(0.5), autograd.Zeros(2, 196), labels)
	fmt.Println(len(u.NamedParams()), n, v.Shape())
	// Output: 56 54017 [2 196]
}
