// Tutorial 13: convolution and its backward pass.
//
// A convolution layer is one matrix product in disguise: im2col copies the
// patch every output pixel sees into a row, and the layer is that matrix
// times the kernel. Its backward pass is then a product too, followed by
// col2im, the adjoint of im2col, which adds every row back onto the pixels it
// came from. This tutorial checks, on MNIST digits, that Conv2D equals its
// seven-loop definition, that col2im is im2col's adjoint, that the input
// gradient autograd computes is the "full" correlation of the output
// gradient with the rotated kernel (and agrees with central differences),
// and that second derivatives through a convolution pass GradCheck.
//
//	go run ./tutorials/13-convolution [-out DIR]
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/fm"
)

// Config sets the size of the run.
type Config struct {
	Out    string // directory for figure.png ("" writes none)
	Images int    // MNIST test digits (mnist14) convolved
	Seed   uint64
}

// Size is one row of the output-size table.
type Size struct {
	Geom       autograd.ConvGeom
	OutH, OutW int
}

// Result holds every number main prints.
type Result struct {
	Sizes        []Size
	LoopErr      float64 // max |Conv2D − seven loops| over every output
	LoopBound    float64 // the largest rounding bound 2(K+1)u·Σ|terms| among them
	AdjointErr   float64 // |⟨Im2Col x, y⟩ − ⟨x, Col2Im y⟩| / Σ|terms|
	RotatedErr   float64 // max |autograd ∂L/∂x − full correlation with the rotated kernel|
	CentralErr   float64 // max |autograd ∂L/∂x − central differences| / max|∂L/∂x|
	WrongKernel  float64 // the same against the unrotated kernel (a wrong formula)
	SecondOrder  error   // GradCheck of ∂/∂x Σ tanh(conv)² with respect to x and w
	PoolUpAdjErr float64 // |⟨AvgPool2 x, y⟩ − ⟨x, ¼·Upsample2 y⟩| / Σ|terms|
}

func main() {
	cfg := Config{Images: 16}
	flag.StringVar(&cfg.Out, "out", "", "directory for figure.png (must exist)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "random seed")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	report(r)
}

func report(r Result) {
	fmt.Println("Output sizes OH = ⌊(H + 2P − K)/S⌋ + 1")
	for _, s := range r.Sizes {
		g := s.Geom
		fmt.Printf("  %2d×%-2d  kernel %d×%d  stride %d  padding %d  →  %2d×%d\n", g.H, g.W, g.KH, g.KW, g.Stride, g.Pad, s.OutH, s.OutW)
	}
	fmt.Printf("Conv2D (im2col + one GEMM) against the seven-loop definition: max error %.1e (rounding bound %.1e)\n", r.LoopErr, r.LoopBound)
	fmt.Printf("col2im is im2col's adjoint: |⟨Im2Col x, y⟩ − ⟨x, Col2Im y⟩| = %.1e relative\n", r.AdjointErr)
	fmt.Printf("¼·Upsample2 is AvgPool2's adjoint: %.1e relative\n", r.PoolUpAdjErr)
	fmt.Println("The input gradient ∂L/∂x = Col2Im(Ĝ·w)")
	fmt.Printf("  = full correlation of g with the rotated kernel: max difference %.1e\n", r.RotatedErr)
	fmt.Printf("  = central differences: max relative difference %.1e\n", r.CentralErr)
	fmt.Printf("  ≠ the same with the unrotated kernel: max difference %.2f\n", r.WrongKernel)
	if r.SecondOrder == nil {
		fmt.Println("Second derivatives through Conv2D (GradCheck of a GradGraph): ok")
	} else {
		fmt.Println("Second derivatives through Conv2D:", r.SecondOrder)
	}
}

// edgeKernels are three 3×3 kernels, one output channel each: vertical
// edges, horizontal edges and a blur.
func edgeKernels() *autograd.Tensor {
	return autograd.FromRows([][]float64{
		{-1, 0, 1, -2, 0, 2, -1, 0, 1},
		{-1, -2, -1, 0, 0, 0, 1, 2, 1},
		{1. / 9, 1. / 9, 1. / 9, 1. / 9, 1. / 9, 1. / 9, 1. / 9, 1. / 9, 1. / 9},
	})
}

func run(cfg Config) (Result, error) {
	var r Result
	for _, g := range []autograd.ConvGeom{
		{C: 1, H: 28, W: 28, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 1, H: 28, W: 28, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 1, H: 14, W: 14, KH: 2, KW: 2, Stride: 2, Pad: 0},
		{C: 1, H: 7, W: 7, KH: 3, KW: 3, Stride: 1, Pad: 0},
	} {
		r.Sizes = append(r.Sizes, Size{g, g.OutH(), g.OutW()})
	}
	set, err := mnist.Load("mnist14", mnist.Test)
	if err != nil {
		return r, err
	}
	n := min(cfg.Images, set.X.Rows)
	x := autograd.FromSlice(n, 196, append([]float64(nil), set.X.Data[:n*196]...))
	rng := fm.NewRand(cfg.Seed)

	// 1. Conv2D against its definition, stride 1 and 2, 1 → 4 channels.
	for _, g := range []autograd.ConvGeom{
		{C: 1, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 1, H: 14, W: 14, KH: 3, KW: 3, Stride: 2, Pad: 1},
	} {
		w := autograd.Normal(4, g.Patch(), 0, 1, rng)
		b := autograd.Normal(1, 4, 0, 1, rng)
		got := autograd.Conv2D(x, w, b, g)
		want, mag := directConv(x, w, b, g)
		k := float64(g.Patch() + 1)
		for i := range want {
			r.LoopErr = math.Max(r.LoopErr, math.Abs(got.Data[i]-want[i]))
			r.LoopBound = math.Max(r.LoopBound, 2*k*0x1p-53*mag[i])
		}
	}

	// 2. Adjoints: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩.
	g2 := autograd.ConvGeom{C: 1, H: 14, W: 14, KH: 3, KW: 3, Stride: 2, Pad: 1}
	y := autograd.Normal(n*g2.OutH()*g2.OutW(), g2.Patch(), 0, 1, rng)
	r.AdjointErr = adjointGap(autograd.Im2Col(x, g2), y, x, autograd.Col2Im(y, g2))
	yp := autograd.Normal(n, 49, 0, 1, rng)
	r.PoolUpAdjErr = adjointGap(autograd.AvgPool2(x, 1, 14, 14), yp, x, autograd.Scale(autograd.Upsample2(yp, 1, 7, 7), 0.25))

	// 3. The input gradient of L = Σ G ⊙ conv(x), stride 1, 2 → 3 channels.
	g := autograd.ConvGeom{C: 2, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}
	x2 := autograd.FromSlice(n/2, 2*196, x.Data[:n/2*2*196]).Clone()
	w := autograd.Normal(3, g.Patch(), 0, 1, rng)
	seed := autograd.Normal(n/2, 3*196, 0, 1, rng)
	xv := x2.Clone().SetRequiresGrad(true)
	dx := autograd.Grad(autograd.Conv2D(xv, w, nil, g), seed, xv)[0]
	// Full correlation: pad g by K − 1 − P = 1, rotate each kernel by 180°,
	// and swap its input and output channels.
	full := autograd.ConvGeom{C: 3, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: g.KH - 1 - g.Pad}
	rot := autograd.Conv2D(seed, rotated(w, g), nil, full)
	bad := autograd.Conv2D(seed, swapped(w, g), nil, full)
	for i, v := range dx.Data {
		r.RotatedErr = math.Max(r.RotatedErr, math.Abs(v-rot.Data[i]))
		r.WrongKernel = math.Max(r.WrongKernel, math.Abs(v-bad.Data[i]))
	}
	// Central differences on 40 pixels (L is linear in x: the only error is rounding).
	maxG := 0.0
	for _, v := range dx.Data {
		maxG = math.Max(maxG, math.Abs(v))
	}
	loss := func() float64 {
		out := autograd.Conv2D(x2, w, nil, g)
		s := 0.0
		for i, v := range out.Data {
			s += seed.Data[i] * v
		}
		return s
	}
	for k := 0; k < 40; k++ {
		i := rng.IntN(len(x2.Data))
		x0, h := x2.Data[i], 1e-3
		x2.Data[i] = x0 + h
		lp := loss()
		x2.Data[i] = x0 - h
		lm := loss()
		x2.Data[i] = x0
		r.CentralErr = math.Max(r.CentralErr, math.Abs((lp-lm)/(2*h)-dx.Data[i])/maxG)
	}

	// 4. Second order: GradCheck of ∂/∂x Σ tanh(conv(x))², in x and w.
	small := autograd.ConvGeom{C: 1, H: 5, W: 5, KH: 3, KW: 3, Stride: 2, Pad: 1}
	r.SecondOrder = autograd.GradCheck(func(v []*autograd.Tensor) *autograd.Tensor {
		l := autograd.Sum(autograd.Square(autograd.Tanh(autograd.Conv2D(v[0], v[1], nil, small))))
		return autograd.GradGraph(l, nil, v[0])[0]
	}, []*autograd.Tensor{autograd.Normal(2, 25, 0, 1, rng), autograd.Normal(2, 9, 0, 1, rng)}, nil)

	if cfg.Out != "" {
		if err := figure(filepath.Join(cfg.Out, "figure.png"), x); err != nil {
			return r, err
		}
	}
	return r, nil
}

// figure draws eight digits (row 1), their vertical and horizontal edges and
// blur by Conv2D (rows 2–4), AvgPool2 then Upsample2 (row 5), and the input
// gradient of the vertical edges' energy Σ conv(x)² (row 6), each row scaled
// to [−1, 1].
func figure(path string, x *autograd.Tensor) error {
	const k = 8
	x8 := autograd.FromSlice(k, 196, x.Data[:k*196])
	g := autograd.ConvGeom{C: 1, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}
	edges := autograd.Conv2D(x8, edgeKernels(), nil, g) // [8, 3·196]
	rows := []*autograd.Tensor{x8}
	for c := 0; c < 3; c++ {
		rows = append(rows, autograd.Slice(edges, c*196, (c+1)*196))
	}
	rows = append(rows, autograd.Upsample2(autograd.AvgPool2(x8, 1, 14, 14), 1, 7, 7))
	xv := x8.Clone().SetRequiresGrad(true)
	v := autograd.Conv2D(xv, autograd.FromSlice(1, 9, edgeKernels().Row(0)), nil, g)
	rows = append(rows, autograd.Grad(autograd.Sum(autograd.Square(v)), nil, xv)[0])
	all := autograd.Zeros(len(rows)*k, 196)
	for i, r := range rows {
		m := 0.0
		for _, v := range r.Data {
			m = math.Max(m, math.Abs(v))
		}
		for j, v := range r.Data {
			all.Data[i*k*196+j] = v / math.Max(m, 1e-300)
		}
	}
	return writeGrid(path, all, 14, k, 4)
}

// writeGrid writes the images x [n, side²] (values in [−1, 1], −1 black)
// as a grayscale PNG grid of cols columns, each pixel scale×scale, with a
// 2-pixel grey border, atomically (a temporary file renamed into place).
func writeGrid(path string, x *autograd.Tensor, side, cols, scale int) error {
	const pad = 2
	rows := (x.Rows + cols - 1) / cols
	cell := side * scale
	img := image.NewGray(image.Rect(0, 0, pad+cols*(cell+pad), pad+rows*(cell+pad)))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	for k := 0; k < x.Rows; k++ {
		x0, y0 := pad+(k%cols)*(cell+pad), pad+(k/cols)*(cell+pad)
		for py := 0; py < cell; py++ {
			for px := 0; px < cell; px++ {
				v := (x.At(k, (py/scale)*side+px/scale) + 1) / 2 * 255
				img.Pix[(y0+py)*img.Stride+x0+px] = uint8(math.Round(math.Max(0, math.Min(255, v))))
			}
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".figure-*.png")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// directConv is Conv2D's definition, seven loops, with each output's Σ|terms|.
func directConv(x, w, b *autograd.Tensor, g autograd.ConvGeom) (out, mag []float64) {
	n, cout, oh, ow := x.Rows, w.Rows, g.OutH(), g.OutW()
	out, mag = make([]float64, n*cout*oh*ow), make([]float64, n*cout*oh*ow)
	for s := 0; s < n; s++ {
		for o := 0; o < cout; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum, m := b.Data[o], math.Abs(b.Data[o])
					for c := 0; c < g.C; c++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
								if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
									v := w.At(o, (c*g.KH+ky)*g.KW+kx) * x.At(s, (c*g.H+iy)*g.W+ix)
									sum, m = sum+v, m+math.Abs(v)
								}
							}
						}
					}
					i := ((s*cout+o)*oh+oy)*ow + ox
					out[i], mag[i] = sum, m
				}
			}
		}
	}
	return out, mag
}

// rotated returns the kernel of the full correlation that gives the input
// gradient: w'[c, o, ky, kx] = w[o, c, KH−1−ky, KW−1−kx], shape [C, Cout·KH·KW].
func rotated(w *autograd.Tensor, g autograd.ConvGeom) *autograd.Tensor {
	cout := w.Rows
	r := autograd.Zeros(g.C, cout*g.KH*g.KW)
	for o := 0; o < cout; o++ {
		for c := 0; c < g.C; c++ {
			for ky := 0; ky < g.KH; ky++ {
				for kx := 0; kx < g.KW; kx++ {
					r.Data[c*cout*g.KH*g.KW+(o*g.KH+ky)*g.KW+kx] = w.At(o, (c*g.KH+g.KH-1-ky)*g.KW+g.KW-1-kx)
				}
			}
		}
	}
	return r
}

// swapped is rotated without the rotation: the channels swapped only.
func swapped(w *autograd.Tensor, g autograd.ConvGeom) *autograd.Tensor {
	cout := w.Rows
	r := autograd.Zeros(g.C, cout*g.KH*g.KW)
	for o := 0; o < cout; o++ {
		for c := 0; c < g.C; c++ {
			for k := 0; k < g.KH*g.KW; k++ {
				r.Data[c*cout*g.KH*g.KW+o*g.KH*g.KW+k] = w.At(o, c*g.KH*g.KW+k)
			}
		}
	}
	return r
}

// adjointGap returns |⟨a, y⟩ − ⟨x, b⟩| / Σ|aᵢyᵢ| for b = Aᵀy and a = Ax.
func adjointGap(a, y, x, b *autograd.Tensor) float64 {
	var l, rr, m float64
	for i, v := range a.Data {
		l += v * y.Data[i]
		m += math.Abs(v * y.Data[i])
	}
	for i, v := range x.Data {
		rr += v * b.Data[i]
	}
	return math.Abs(l-rr) / m
}
