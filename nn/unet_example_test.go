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

// A U-Net with three resolutions on 28×28 images (Mult 1, 2, 4: 8, 16 and
// 32 channels at 28, 14 and 7 pixels): each block's input channels, output
// channels and size, from the full resolution down and back up.
func ExampleUNetConfig_levels() {
	cfg := nn.UNetConfig{C: 1, H: 28, W: 28, Ch: 8, Groups: 4, Emb: 64, Ctx: 11, Classes: 10, Mult: []int{1, 2, 4}}
	u := nn.NewUNet(cfg, rand.New(rand.NewPCG(1, 2)))
	show := func(name string, b *nn.ResBlock) {
		g := b.Conv1.Geom
		fmt.Printf("%s %d→%d at %d×%d\n", name, g.C, b.Conv1.Out(), g.H, g.W)
	}
	show("down[0]", u.Down[0])
	show("down[1]", u.Down[1])
	show("mid[0] ", u.Mid[0])
	show("mid[1] ", u.Mid[1])
	show("up[1]  ", u.Up[1])
	show("up[0]  ", u.Up[0])
	v := u.ForwardCond(autograd.Scalar(0.5), autograd.Zeros(2, 784), nn.LabelContext([]int{3, nn.NullLabel}, 10))
	fmt.Println(v.Shape())
	// Output:
	// down[0] 8→8 at 28×28
	// down[1] 8→16 at 14×14
	// mid[0]  16→32 at 7×7
	// mid[1]  32→32 at 7×7
	// up[1]   48→16 at 14×14
	// up[0]   24→8 at 28×28
	// [2 784]
}
