package autograd_test

import (
	"fmt"

	ag "github.com/flowmatch/flowmatch/autograd"
)

// A 3×3 image convolved with a 2×2 kernel (stride 1, no padding): each output
// pixel is the sum of the kernel times the 2×2 patch it sees.
func ExampleConv2D() {
	x := ag.FromSlice(1, 9, []float64{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	})
	w := ag.FromSlice(1, 4, []float64{1, 0, 0, -1}) // x[y, x] − x[y+1, x+1]
	g := ag.ConvGeom{C: 1, H: 3, W: 3, KH: 2, KW: 2, Stride: 1, Pad: 0}
	fmt.Println(g.OutH(), g.OutW(), ag.Conv2D(x, w, nil, g).Data)
	// Output: 2 2 [-4 -4 -4 -4]
}

// Im2Col lays out the patch each output pixel sees as a row; Col2Im adds the
// rows back, so the centre pixel, seen by all four windows, gets 4.
func ExampleIm2Col() {
	g := ag.ConvGeom{C: 1, H: 3, W: 3, KH: 2, KW: 2, Stride: 1, Pad: 0}
	x := ag.FromSlice(1, 9, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	cols := ag.Im2Col(x, g)
	for i := 0; i < cols.Rows; i++ {
		fmt.Println(cols.Row(i))
	}
	fmt.Println(ag.Col2Im(ag.Full(4, 4, 1), g).Data)
	// Output:
	// [1 2 4 5]
	// [2 3 5 6]
	// [4 5 7 8]
	// [5 6 8 9]
	// [1 2 1 2 4 2 1 2 1]
}

// The input gradient of a convolution: with L = Σ out, every input pixel
// receives the sum of the kernel entries that read it.
func ExampleConv2D_inputGradient() {
	g := ag.ConvGeom{C: 1, H: 3, W: 3, KH: 2, KW: 2, Stride: 1, Pad: 0}
	x := ag.Zeros(1, 9).SetRequiresGrad(true)
	w := ag.FromSlice(1, 4, []float64{1, 2, 3, 4})
	ag.Sum(ag.Conv2D(x, w, nil, g)).Backward()
	fmt.Println(x.Grad)
	// Output: [1 3 2 4 10 6 3 7 4]
}

// 2×2 average pooling and nearest upsampling of a 2×4 image.
func ExampleAvgPool2() {
	x := ag.FromSlice(1, 8, []float64{
		1, 3, 5, 7,
		1, 3, 5, 7,
	})
	p := ag.AvgPool2(x, 1, 2, 4)
	fmt.Println(p.Data, ag.Upsample2(p, 1, 1, 2).Data)
	// Output: [2 6] [2 2 6 6 2 2 6 6]
}

// GroupNorm with one group and γ = 1, β = 0 standardizes each sample.
func ExampleGroupNorm() {
	x := ag.FromSlice(1, 4, []float64{1, 2, 3, 4}) // 1 channel of 2×2
	y := ag.GroupNorm(x, ag.Full(1, 1, 1), ag.Zeros(1, 1), 1, 1, 0)
	fmt.Printf("%.4f\n", y.Data)
	// Output: [-1.3416 -0.4472 0.4472 1.3416]
}

// GroupNormSiLU is SiLU(GroupNorm(x)) in one op: z = (x − μ)/σ is
// (−1, 1) here, and SiLU(z) = z·σ(z) = −1/(1 + e) and 1/(1 + e⁻¹).
func ExampleGroupNormSiLU() {
	x := ag.FromSlice(1, 2, []float64{2, 4}) // 1 channel of 1×2
	y := ag.GroupNormSiLU(x, ag.Full(1, 1, 1), ag.Zeros(1, 1), 1, 1, 0)
	fmt.Printf("%.4f\n", y.Data)
	// Output: [-0.2689 0.7311]
}
