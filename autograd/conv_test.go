package autograd

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// gradCase is a row of TestGrad's table.
type gradCase = struct {
	name string
	f    func([]*Tensor) *Tensor
	in   []*Tensor
}

// convGradCases are TestGrad's rows for the image ops of ops_conv.go: every
// op on small odd-sized images, Conv2D with stride 1 and 2 and padding, and
// Conv2D's and GroupNorm's second derivatives (GradCheck of a GradGraph).
func convGradCases() []gradCase {
	rng := newRNG(12)
	g1 := ConvGeom{C: 2, H: 5, W: 4, KH: 3, KW: 3, Stride: 1, Pad: 1}
	g2 := ConvGeom{C: 2, H: 5, W: 5, KH: 3, KW: 2, Stride: 2, Pad: 1}
	x1 := Normal(2, g1.In(), 0, 1, rng)
	x2 := Normal(2, g2.In(), 0, 1, rng)
	w1 := Normal(3, g1.Patch(), 0, 0.5, rng)
	w2 := Normal(3, g2.Patch(), 0, 0.5, rng)
	b := Normal(1, 3, 0, 1, rng)
	gOut2 := Normal(2, 3*g2.OutH()*g2.OutW(), 0, 1, rng)
	cols := Normal(2*g2.OutH()*g2.OutW(), g2.Patch(), 0, 1, rng)
	img := Normal(2, 3*4*6, 0, 1, rng) // 3 channels of 4×6
	small := Normal(2, 3*2*3, 0, 1, rng)
	pix := Normal(2*5, 3, 0, 1, rng) // 2 images of 5 pixels, 3 channels
	perSample := Normal(2, 3, 0, 1, rng)
	perChannel := Normal(1, 3, 0, 1, rng)
	gn := Normal(2, 4*3*2, 0.5, 2, rng) // 4 channels of 3×2
	gamma := Normal(1, 4, 1, 0.3, rng)
	beta := Normal(1, 4, 0, 0.3, rng)
	conv := func(g ConvGeom) func([]*Tensor) *Tensor {
		return func(x []*Tensor) *Tensor { return Conv2D(x[0], x[1], x[2], g) }
	}
	return []gradCase{
		{"Im2Col", func(x []*Tensor) *Tensor { return Im2Col(x[0], g2) }, []*Tensor{x2}},
		{"Col2Im", func(x []*Tensor) *Tensor { return Col2Im(x[0], g2) }, []*Tensor{cols}},
		{"ChannelsFirst", func(x []*Tensor) *Tensor { return ChannelsFirst(x[0], 2) }, []*Tensor{pix}},
		{"ChannelsLast", func(x []*Tensor) *Tensor { return ChannelsLast(x[0], 3) }, []*Tensor{img}},
		{"Reshape", func(x []*Tensor) *Tensor { return Square(Reshape(x[0], 12, 12)) }, []*Tensor{img}},
		{"Conv2D", conv(g1), []*Tensor{x1, w1, b}},
		{"Conv2D/stride2", conv(g2), []*Tensor{x2, w2, b}},
		{"Conv2D/nobias", func(x []*Tensor) *Tensor { return Conv2D(x[0], x[1], nil, g2) }, []*Tensor{x2, w2}},
		{"Conv2D/second", func(x []*Tensor) *Tensor {
			// ∂/∂x of Σ tanh(conv(x))², a function of x, w and b whose
			// gradient needs the derivatives of Conv2D's backward.
			y := Sum(Square(Tanh(Conv2D(x[0], x[1], x[2], g2))))
			return GradGraph(y, nil, x[0])[0]
		}, []*Tensor{x2, w2, b}},
		{"ConvTranspose2D", func(x []*Tensor) *Tensor { return ConvTranspose2D(x[0], x[1], g2) }, []*Tensor{gOut2, w2}},
		{"ConvWeightGrad", func(x []*Tensor) *Tensor { return ConvWeightGrad(x[0], x[1], g2) }, []*Tensor{x2, gOut2}},
		{"ConvWeightGrad/second", func(x []*Tensor) *Tensor {
			y := Sum(Square(Tanh(ConvWeightGrad(x[0], x[1], g2))))
			return GradGraph(y, nil, x[1])[0]
		}, []*Tensor{x2, gOut2}},
		{"AvgPool2", func(x []*Tensor) *Tensor { return AvgPool2(x[0], 3, 4, 6) }, []*Tensor{img}},
		{"Upsample2", func(x []*Tensor) *Tensor { return Upsample2(x[0], 3, 2, 3) }, []*Tensor{small}},
		{"AddChannels", binary2(func(x, e *Tensor) *Tensor { return AddChannels(x, e, 3) }), []*Tensor{img, perSample}},
		{"AddChannels/shared", binary2(func(x, e *Tensor) *Tensor { return AddChannels(x, e, 3) }), []*Tensor{img, perChannel}},
		{"MulChannels", binary2(func(x, e *Tensor) *Tensor { return MulChannels(x, e, 3) }), []*Tensor{img, perSample}},
		{"GroupNorm", func(x []*Tensor) *Tensor { return GroupNorm(x[0], x[1], x[2], 2, 4, 1e-5) }, []*Tensor{gn, gamma, beta}},
		{"GroupNorm/second", func(x []*Tensor) *Tensor {
			y := Sum(Mul(Tanh(GroupNorm(x[0], x[1], x[2], 2, 4, 1e-5)), gn))
			return GradGraph(y, nil, x[0])[0]
		}, []*Tensor{gn, gamma, beta}},
		{"GroupNormSiLU", func(x []*Tensor) *Tensor { return GroupNormSiLU(x[0], x[1], x[2], 2, 4, 1e-5) }, []*Tensor{gn, gamma, beta}},
		{"GroupNormSiLU/second", func(x []*Tensor) *Tensor {
			y := Sum(Mul(Tanh(GroupNormSiLU(x[0], x[1], x[2], 2, 4, 1e-5)), gn))
			return GradGraph(y, nil, x[0], x[1])[1]
		}, []*Tensor{gn, gamma, beta}},
	}
}

func binary2(f func(a, b *Tensor) *Tensor) func([]*Tensor) *Tensor {
	return func(x []*Tensor) *Tensor { return f(x[0], x[1]) }
}

// directConv is the definition of Conv2D, seven nested loops (sample,
// output channel, output row, output column, input channel, kernel row,
// kernel column), with the sum's magnitude Σ|terms| for the rounding bound.
func directConv(x, w, b []float64, n, cout int, g ConvGeom) (out, mag []float64) {
	oh, ow := g.OutH(), g.OutW()
	out = make([]float64, n*cout*oh*ow)
	mag = make([]float64, len(out))
	for s := 0; s < n; s++ {
		for o := 0; o < cout; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum, m := b[o], math.Abs(b[o])
					for c := 0; c < g.C; c++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
								if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
									continue
								}
								v := w[o*g.Patch()+(c*g.KH+ky)*g.KW+kx] * x[s*g.In()+(c*g.H+iy)*g.W+ix]
								sum += v
								m += math.Abs(v)
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

// convShapes are random-looking geometries with odd sizes, stride 1, 2 and
// 3, padding 0, 1 and 2, and non-square kernels.
var convShapes = []struct {
	n, cout int
	g       ConvGeom
}{
	{1, 1, ConvGeom{C: 1, H: 1, W: 1, KH: 1, KW: 1, Stride: 1, Pad: 0}},
	{2, 3, ConvGeom{C: 1, H: 7, W: 7, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	{3, 4, ConvGeom{C: 3, H: 9, W: 5, KH: 3, KW: 3, Stride: 2, Pad: 1}},
	{2, 2, ConvGeom{C: 2, H: 6, W: 11, KH: 2, KW: 4, Stride: 2, Pad: 0}},
	{1, 5, ConvGeom{C: 4, H: 5, W: 5, KH: 5, KW: 3, Stride: 1, Pad: 2}},
	{2, 3, ConvGeom{C: 2, H: 10, W: 7, KH: 3, KW: 3, Stride: 3, Pad: 1}},
	{4, 8, ConvGeom{C: 8, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}},
	{40, 2, ConvGeom{C: 8, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}}, // 3 chunks of convChunk values
}

// TestConv2D_MatchesDirectLoop compares Conv2D (im2col + GEMM + permute)
// with the seven-loop definition. Both sum the same K+1 = C·KH·KW + 1 terms in
// different orders, so each element may differ by at most
// 2·(K+1)·u·Σ|terms| (u = 2⁻⁵³, first order). A negative control swaps the
// kernel's rows and columns (a transposed kernel) and must differ by far more.
func TestConv2D_MatchesDirectLoop(t *testing.T) {
	rng := newRNG(13)
	for _, sh := range convShapes {
		g := sh.g
		t.Run(fmt.Sprintf("%dx%d_k%dx%d_s%d_p%d", g.H, g.W, g.KH, g.KW, g.Stride, g.Pad), func(t *testing.T) {
			x := Normal(sh.n, g.In(), 0, 1, rng)
			w := Normal(sh.cout, g.Patch(), 0, 1, rng)
			b := Normal(1, sh.cout, 0, 1, rng)
			got := Conv2D(x, w, b, g)
			require.Equal(t, [2]int{sh.n, sh.cout * g.OutH() * g.OutW()}, got.Shape())
			want, mag := directConv(x.Data, w.Data, b.Data, sh.n, sh.cout, g)
			k := float64(g.Patch() + 1)
			for i := range want {
				tol := 2 * k * 0x1p-53 * mag[i]
				require.InDeltaf(t, want[i], got.Data[i], tol, "element %d: got %v want %v (tol %.3g)", i, got.Data[i], want[i], tol)
			}
			if g.KH == g.KW && g.KH > 1 {
				// Negative control: the kernel transposed spatially (ky ↔ kx).
				wt := w.Clone()
				for o := 0; o < sh.cout; o++ {
					for c := 0; c < g.C; c++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								wt.Data[o*g.Patch()+(c*g.KH+kx)*g.KW+ky] = w.Data[o*g.Patch()+(c*g.KH+ky)*g.KW+kx]
							}
						}
					}
				}
				bad := Conv2D(x, wt, b, g)
				worst := 0.0
				for i := range want {
					worst = max(worst, math.Abs(bad.Data[i]-want[i])/(2*k*0x1p-53*mag[i]))
				}
				require.Greater(t, worst, 1e6, "a transposed kernel should miss the definition by far more than rounding")
			}
		})
	}
}

// conv2DComposed is Conv2D as the composition of ops it computes in chunks:
// ChannelsFirst(AddRow(MatMulNT(Im2Col(x), w), b)).
func conv2DComposed(x, w, b *Tensor, g ConvGeom) *Tensor {
	return ChannelsFirst(AddRow(MatMulNT(Im2Col(x, g), w), b), x.Rows)
}

// TestConv2D_MatchesComposition: Conv2D and its gradients in x, w and b (by
// ConvTranspose2D, ConvWeightGrad and SumRows, a few samples at a time)
// equal those of the composition of ops, on a batch of three chunks and on
// stride 2. Each value is a sum of the same terms (K + 1 for the output,
// Cout·KH·KW for ∂x, n·OH·OW for ∂w, n·OH·OW for ∂b), so the two may differ by
// 2·(terms)·u·Σ|terms| at most, bounded here by the sum of absolute values
// taken through the same ops on |x|, |w|, |g|. Negative control: the
// composition with the kernel's rows in reverse order differs far beyond it.
func TestConv2D_MatchesComposition(t *testing.T) {
	rng := newRNG(18)
	for _, sh := range []struct {
		n, cout int
		g       ConvGeom
	}{
		{40, 3, ConvGeom{C: 8, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{5, 4, ConvGeom{C: 3, H: 9, W: 7, KH: 3, KW: 2, Stride: 2, Pad: 1}},
	} {
		g := sh.g
		x := Normal(sh.n, g.In(), 0, 1, rng).SetRequiresGrad(true)
		w := Normal(sh.cout, g.Patch(), 0, 1, rng).SetRequiresGrad(true)
		b := Normal(1, sh.cout, 0, 1, rng).SetRequiresGrad(true)
		seed := Normal(sh.n, sh.cout*g.OutH()*g.OutW(), 0, 1, rng)
		fast, slow := Conv2D(x, w, b, g), conv2DComposed(x, w, b, g)
		gf, gs := Grad(fast, seed, x, w, b), Grad(slow, seed, x, w, b)
		abs := func(a *Tensor) *Tensor {
			c := a.Clone()
			for i, v := range c.Data {
				c.Data[i] = math.Abs(v)
			}
			return c
		}
		ax, aw, ab, as := abs(x), abs(w), abs(b), abs(seed)
		magOut := conv2DComposed(ax, aw, ab, g)
		magG := Grad(conv2DComposed(ax.SetRequiresGrad(true), aw.SetRequiresGrad(true), ab.SetRequiresGrad(true), g), as, ax, aw, ab)
		terms := float64(max(g.Patch()+1, sh.cout*g.KH*g.KW, sh.n*g.OutH()*g.OutW()))
		check := func(name string, got, want, mag *Tensor) {
			for i := range want.Data {
				tol := 2 * terms * 0x1p-53 * mag.Data[i]
				require.InDeltaf(t, want.Data[i], got.Data[i], tol, "%s[%d]: got %v want %v (tol %.3g)", name, i, got.Data[i], want.Data[i], tol)
			}
		}
		check("out", fast, slow, magOut)
		check("∂x", gf[0], gs[0], magG[0])
		check("∂w", gf[1], gs[1], magG[1])
		check("∂b", gf[2], gs[2], magG[2])
		rev := w.Clone()
		for o := 0; o < sh.cout; o++ {
			copy(rev.Row(o), w.Row(sh.cout-1-o))
		}
		bad := conv2DComposed(x, rev, b, g)
		worst := 0.0
		for i := range bad.Data {
			worst = max(worst, math.Abs(bad.Data[i]-fast.Data[i])/(2*terms*0x1p-53*magOut.Data[i]))
		}
		require.Greater(t, worst, 1e6, "negative control: reversed kernel rows must be caught")
	}
}

// TestConv2D_ReusedScratch: the convolutions' scratch (convScratch) is
// reused across calls, so its old contents must never reach a result. With
// every kept buffer poisoned by NaN before every call, Conv2D, ConvTranspose2D,
// ConvWeightGrad, Im2Col and Col2Im (stride 1 and 2, padding, 3 chunks) give the same bits as
// on their first call. The control: a caller that reads its scratch
// before writing it does see NaN, so the check exercises reuse.
func TestConv2D_ReusedScratch(t *testing.T) {
	rng := newRNG(21)
	poison := func() {
		convScratch.Lock()
		for _, k := range convScratch.bufs {
			full := (*k)[:cap(*k)]
			for i := range full {
				full[i] = math.NaN()
			}
		}
		convScratch.Unlock()
		for range 2 {
			b := make([]float64, convChunk)
			for i := range b {
				b[i] = math.NaN()
			}
			putScratch(&b)
		}
	}
	// Control: a caller of convChunks that reads its scratch before writing
	// it sees the poison (so the checks below do exercise reuse).
	leaked := 0
	g0 := ConvGeom{C: 2, H: 6, W: 6, KH: 3, KW: 3, Stride: 1, Pad: 1}
	for i := 0; i < 10; i++ {
		poison()
		convChunks(4, 36, 3, g0, func(_, _ int, cols, pix []float64) {
			if math.IsNaN(cols[0]) || math.IsNaN(pix[0]) {
				leaked++
			}
		})
	}
	require.Positive(t, leaked, "control: a read-before-write caller must see the pool's poison")
	for _, sh := range []struct {
		n, cout int
		g       ConvGeom
	}{
		{40, 3, ConvGeom{C: 8, H: 14, W: 14, KH: 3, KW: 3, Stride: 1, Pad: 1}},
		{5, 4, ConvGeom{C: 3, H: 9, W: 7, KH: 3, KW: 2, Stride: 2, Pad: 1}},
	} {
		g := sh.g
		x := Normal(sh.n, g.In(), 0, 1, rng)
		w := Normal(sh.cout, g.Patch(), 0, 1, rng)
		b := Normal(1, sh.cout, 0, 1, rng)
		gr := Normal(sh.n, sh.cout*g.OutH()*g.OutW(), 0, 1, rng)
		ops := map[string]func() *Tensor{
			"Conv2D":          func() *Tensor { return Conv2D(x, w, b, g) },
			"ConvTranspose2D": func() *Tensor { return ConvTranspose2D(gr, w, g) },
			"ConvWeightGrad":  func() *Tensor { return ConvWeightGrad(x, gr, g) },
			"Im2Col":          func() *Tensor { return Im2Col(x, g) },
			"Col2Im":          func() *Tensor { return Col2Im(Im2Col(x, g), g) },
		}
		for name, op := range ops {
			want := op()
			for i := 0; i < 3; i++ {
				poison()
				got := op()
				for j := range want.Data {
					if math.Float64bits(want.Data[j]) != math.Float64bits(got.Data[j]) {
						require.Failf(t, "scratch from the pool leaked into the result",
							"%s %+v call %d [%d]: got %v want %v (tol 0: bit for bit)", name, g, i, j, got.Data[j], want.Data[j])
					}
				}
			}
		}
	}
}

// TestConvScratch_SurvivesGC: a scratch buffer handed back to convScratch
// is handed out again after two garbage collections, so a steady training
// loop allocates no convolution scratch. Control: a sync.Pool, which the
// collector empties, loses the same buffer.
func TestConvScratch_SurvivesGC(t *testing.T) {
	b := getScratch(convChunk)
	putScratch(b)
	runtime.GC()
	runtime.GC()
	got := getScratch(convChunk)
	defer putScratch(got)
	require.Same(t, b, got, "the kept buffer was not handed out again after two collections")
	var pool sync.Pool
	pool.Put(b)
	runtime.GC()
	runtime.GC()
	require.Nil(t, pool.Get(), "control: a sync.Pool is emptied by two collections")
}

// TestConv2D_Adjoint: Col2Im is Im2Col's adjoint at the op level,
// ⟨Im2Col(x), y⟩ = ⟨x, Col2Im(y)⟩, to the rounding of two dot products of
// length L (|Δ| ≤ 2·L·u·Σ|terms|), on every geometry of convShapes.
func TestConv2D_Adjoint(t *testing.T) {
	rng := newRNG(14)
	for _, sh := range convShapes {
		g := sh.g
		x := Normal(sh.n, g.In(), 0, 1, rng)
		y := Normal(sh.n*g.OutH()*g.OutW(), g.Patch(), 0, 1, rng)
		ix, cy := Im2Col(x, g), Col2Im(y, g)
		var lhs, rhs, mag float64
		for i := range y.Data {
			lhs += ix.Data[i] * y.Data[i]
			mag += math.Abs(ix.Data[i] * y.Data[i])
		}
		for i := range x.Data {
			rhs += x.Data[i] * cy.Data[i]
		}
		tol := 2 * float64(len(y.Data)) * 0x1p-53 * mag
		require.InDeltaf(t, lhs, rhs, tol, "%+v: ⟨Im2Col x, y⟩ = %v, ⟨x, Col2Im y⟩ = %v (tol %.3g)", g, lhs, rhs, tol)
	}
}

// im2colLoop and col2imLoop are the formulas of Im2Col's and Col2Im's doc
// comments as loops, one row per output pixel; shift moves every input
// column by one (the negative control's off-by-one tap). col2imLoop sums
// each pixel's entries in the order of the taps (ky, kx), as Col2Im does.
func im2colLoop(x []float64, n int, g ConvGeom, shift int) []float64 {
	oh, ow, k := g.OutH(), g.OutW(), g.Patch()
	cols := make([]float64, n*oh*ow*k)
	for s := 0; s < n; s++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < g.C; c++ {
					for ky := 0; ky < g.KH; ky++ {
						for kx := 0; kx < g.KW; kx++ {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx+shift
							if 0 <= iy && iy < g.H && 0 <= ix && ix < g.W {
								cols[((s*oh+oy)*ow+ox)*k+(c*g.KH+ky)*g.KW+kx] = x[s*g.In()+(c*g.H+iy)*g.W+ix]
							}
						}
					}
				}
			}
		}
	}
	return cols
}

func col2imLoop(cols []float64, n int, g ConvGeom, shift int) []float64 {
	oh, ow, k := g.OutH(), g.OutW(), g.Patch()
	x := make([]float64, n*g.In())
	for s := 0; s < n; s++ {
		for c := 0; c < g.C; c++ {
			for ky := 0; ky < g.KH; ky++ {
				for kx := 0; kx < g.KW; kx++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx+shift
							if 0 <= iy && iy < g.H && 0 <= ix && ix < g.W {
								x[s*g.In()+(c*g.H+iy)*g.W+ix] += cols[((s*oh+oy)*ow+ox)*k+(c*g.KH+ky)*g.KW+kx]
							}
						}
					}
				}
			}
		}
	}
	return x
}

// TestIm2Col_MatchesLoop: Im2Col (kernels.Im2ColRows and a transpose per
// sample) and Col2Im (a transpose and kernels.Col2ImRows) equal the
// formulas of their doc comments, one row per output pixel, bit for bit
// (both copy, and Col2Im adds each pixel's entries in the loop's order), on
// every geometry of convShapes. Negative control: the loops with every tap
// shifted by one column differ from both ops wherever the image is wider
// than one pixel.
func TestIm2Col_MatchesLoop(t *testing.T) {
	rng := newRNG(22)
	for _, sh := range convShapes {
		g := sh.g
		t.Run(fmt.Sprintf("%dx%d_k%dx%d_s%d_p%d", g.H, g.W, g.KH, g.KW, g.Stride, g.Pad), func(t *testing.T) {
			x := Normal(sh.n, g.In(), 0, 1, rng)
			y := Normal(sh.n*g.OutH()*g.OutW(), g.Patch(), 0, 1, rng)
			for _, c := range []struct {
				name           string
				got, want, bad []float64
			}{
				{"Im2Col", Im2Col(x, g).Data, im2colLoop(x.Data, sh.n, g, 0), im2colLoop(x.Data, sh.n, g, 1)},
				{"Col2Im", Col2Im(y, g).Data, col2imLoop(y.Data, sh.n, g, 0), col2imLoop(y.Data, sh.n, g, 1)},
			} {
				differs := false
				for i := range c.want {
					if math.Float64bits(c.got[i]) != math.Float64bits(c.want[i]) {
						require.Failf(t, "differs from the loop", "%s %+v [%d]: got %v want %v (tol 0: bit for bit)", c.name, g, i, c.got[i], c.want[i])
					}
					differs = differs || c.bad[i] != c.got[i]
				}
				if g.W > 1 {
					require.Truef(t, differs, "control: %s %+v equals the loop with every tap shifted by one column", c.name, g)
				}
			}
		})
	}
}

// TestConv2D_WrongBackwardFails is the negative control of TestGrad/Conv2D:
// a convolution whose input-gradient uses the spatially flipped kernel
// (the textbook "full convolution with the rotated kernel" applied once too
// often) must be rejected by GradCheck, while the same op with the right
// backward, Col2Im(Ĝ·w), passes.
func TestConv2D_WrongBackwardFails(t *testing.T) {
	rng := newRNG(15)
	g := ConvGeom{C: 2, H: 5, W: 5, KH: 3, KW: 3, Stride: 1, Pad: 1}
	x := Normal(2, g.In(), 0, 1, rng)
	w := Normal(3, g.Patch(), 0, 1, rng)
	flip := func(w *Tensor) *Tensor {
		f := w.Clone()
		for o := 0; o < w.Rows; o++ {
			for c := 0; c < g.C; c++ {
				for ky := 0; ky < g.KH; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						f.Data[o*g.Patch()+(c*g.KH+g.KH-1-ky)*g.KW+g.KW-1-kx] = w.Data[o*g.Patch()+(c*g.KH+ky)*g.KW+kx]
					}
				}
			}
		}
		return f
	}
	conv := func(wrong bool) func(xs []*Tensor) *Tensor {
		return func(xs []*Tensor) *Tensor {
			xin := xs[0]
			out := Conv2D(xin.Detach(), w, nil, g).Detach()
			return Custom("ConvInputOnly", out, []*Tensor{xin}, func(gr *Tensor) []*Tensor {
				k := w
				if wrong {
					k = flip(w)
				}
				return []*Tensor{Col2Im(MatMul(ChannelsLast(gr, w.Rows), k), g)}
			})
		}
	}
	require.NoError(t, GradCheck(conv(false), []*Tensor{x}, nil))
	err := GradCheck(conv(true), []*Tensor{x}, nil)
	var ge *GradCheckError
	require.True(t, errors.As(err, &ge), "the flipped kernel's input-gradient was accepted")
}

// TestGroupNorm_Normalizes: with γ = 1 and β = 0, each group of each sample
// has mean 0 and variance σ²/(σ² + eps) after GroupNorm (Wu & He 2018,
// Eqs. (1)–(2)); the data give the two groups very different means and
// scales. Means and variances are sums of m = 24 terms of size ~1, so the
// tolerance is 64·m·u. Negative control: one group (LayerNorm over all
// channels) leaves each group's mean far from 0.
func TestGroupNorm_Normalizes(t *testing.T) {
	rng := newRNG(16)
	const n, c, hw, groups, eps = 3, 4, 12, 2, 1e-3
	x := Normal(n, c*hw, 0, 1, rng)
	for s := 0; s < n; s++ {
		for k := 0; k < c*hw/2; k++ { // group 0: mean 5, std 3
			x.Data[s*c*hw+k] = 5 + 3*x.Data[s*c*hw+k]
		}
	}
	ones, zeros := Full(1, c, 1), Zeros(1, c)
	m := c / groups * hw
	stats := func(y *Tensor, s, grp int) (mean, v float64) {
		seg := y.Data[s*c*hw+grp*m : s*c*hw+(grp+1)*m]
		for _, a := range seg {
			mean += a
		}
		mean /= float64(m)
		for _, a := range seg {
			v += (a - mean) * (a - mean)
		}
		return mean, v / float64(m)
	}
	y := GroupNorm(x, ones, zeros, groups, c, eps)
	tol := 64 * float64(m) * 0x1p-53
	for s := 0; s < n; s++ {
		for grp := 0; grp < groups; grp++ {
			_, v0 := stats(x, s, grp)
			mean, v := stats(y, s, grp)
			require.InDeltaf(t, 0, mean, tol, "sample %d group %d: mean %g want 0 (tol %.3g)", s, grp, mean, tol)
			require.InDeltaf(t, v0/(v0+eps), v, tol, "sample %d group %d: variance %g want %g (tol %.3g)", s, grp, v, v0/(v0+eps), tol)
		}
	}
	bad := GroupNorm(x, ones, zeros, 1, c, eps)
	mean, _ := stats(bad, 0, 0)
	require.Greater(t, math.Abs(mean), 100*tol, "one group should not centre each half (mean %g)", mean)
}

// TestGroupNorm_MatchesComposition compares the fused GroupNorm and
// GroupNormSiLU (kernels.GroupNorm, and kernels.GroupNormBackward for a
// plain-value gradient; their recorded backward pass under GradGraph) with
// the composition of ops they replace (groupNormComposed, then SiLU), on 3 samples of 6 channels of 5×3 pixels
// in 3 groups with offset, scaled data. Both compute the same sums of m = 30
// terms in other orders, and each output or gradient value is a short
// chain after them, so each value v is within 64·m·u·(1 + |v|) of the
// composition's (a few roundings of terms of size ≲ 1 + |v| per term of
// the sums); the gradients of γ and β sum n·P = 45 such values, within
// 64·n·P·m·u·Σ|terms|. Negative control: the same comparison against the
// composition with 1 group (LayerNorm) fails.
func TestGroupNorm_MatchesComposition(t *testing.T) {
	const n, c, groups, p, eps = 3, 6, 3, 15, 1e-5
	const u = 0x1p-53
	rng := newRNG(31)
	x := Normal(n, c*p, 0, 1, rng)
	for i := range x.Data {
		x.Data[i] = 2 + 3*x.Data[i]
	}
	gamma, beta := Normal(1, c, 1, 0.5, rng), Normal(1, c, 0, 0.5, rng)
	seed := Normal(n, c*p, 0, 1, rng)
	m := float64(c / groups * p)
	check := func(name string, fused, composed func(x, gamma, beta *Tensor) *Tensor) (ok bool) {
		xs, gs, bs := x.Clone().SetRequiresGrad(true), gamma.Clone().SetRequiresGrad(true), beta.Clone().SetRequiresGrad(true)
		yf, yc := fused(xs, gs, bs), composed(xs, gs, bs)
		gf, gc := Grad(yf, seed, xs, gs, bs), Grad(yc, seed, xs, gs, bs)
		ok = true
		near := func(what string, a, b []float64, scale float64) {
			for i := range a {
				if tol := 64 * scale * m * u * (1 + math.Abs(b[i])); math.Abs(a[i]-b[i]) > tol {
					if ok {
						t.Logf("%s %s[%d]: got %v want %v (tol %.3g)", name, what, i, a[i], b[i], tol)
					}
					ok = false
				}
			}
		}
		near("out", yf.Data, yc.Data, 1)
		near("∂x", gf[0].Data, gc[0].Data, 1)
		near("∂γ", gf[1].Data, gc[1].Data, n*p)
		near("∂β", gf[2].Data, gc[2].Data, n*p)
		// The recorded backward pass (GradGraph) differentiates the composition.
		gg := GradGraph(fused(xs, gs, bs), seed, xs, gs, bs)
		near("recorded ∂x", gg[0].Data, gc[0].Data, 1)
		near("recorded ∂γ", gg[1].Data, gc[1].Data, n*p)
		near("recorded ∂β", gg[2].Data, gc[2].Data, n*p)
		return ok
	}
	gnc := func(g int) func(x, gamma, beta *Tensor) *Tensor {
		return func(x, gamma, beta *Tensor) *Tensor { return groupNormComposed(x, gamma, beta, g, c, eps) }
	}
	require.True(t, check("GroupNorm", func(x, gamma, beta *Tensor) *Tensor { return GroupNorm(x, gamma, beta, groups, c, eps) }, gnc(groups)))
	gnSiLU := func(x, gamma, beta *Tensor) *Tensor { return GroupNormSiLU(x, gamma, beta, groups, c, eps) }
	require.True(t, check("GroupNormSiLU", gnSiLU, func(x, gamma, beta *Tensor) *Tensor { return SiLU(gnc(groups)(x, gamma, beta)) }))
	require.False(t, check("control", gnSiLU, func(x, gamma, beta *Tensor) *Tensor { return SiLU(gnc(1)(x, gamma, beta)) }),
		"control: the composition with one group must differ")
}

// TestConvMisuse_PanicsWithMisuseError: shapes that do not fit the
// geometry panic with a *MisuseError naming the op and the shapes.
func TestConvMisuse_PanicsWithMisuseError(t *testing.T) {
	g := ConvGeom{C: 2, H: 4, W: 4, KH: 3, KW: 3, Stride: 1, Pad: 1}
	x := Zeros(2, g.In())
	cases := map[string]func(){
		"Conv2D":          func() { Conv2D(Zeros(2, 31), Zeros(3, g.Patch()), nil, g) },
		"Im2Col":          func() { Im2Col(Zeros(2, 33), g) },
		"Col2Im":          func() { Col2Im(Zeros(5, g.Patch()), g) },
		"ChannelsFirst":   func() { ChannelsFirst(Zeros(5, 3), 2) },
		"ConvTranspose2D": func() { ConvTranspose2D(Zeros(2, 31), Zeros(3, g.Patch()), g) },
		"ConvWeightGrad":  func() { ConvWeightGrad(x, Zeros(3, 48), g) },
		"ChannelsLast":    func() { ChannelsLast(Zeros(2, 10), 3) },
		"Reshape":         func() { Reshape(x, 3, 5) },
		"AvgPool2":        func() { AvgPool2(Zeros(1, 9), 1, 3, 3) },
		"Upsample2":       func() { Upsample2(Zeros(1, 9), 1, 3, 2) },
		"AddChannels":     func() { AddChannels(x, Zeros(3, 2), 2) },
		"MulChannels":     func() { MulChannels(x, Zeros(1, 3), 2) },
		"GroupNorm":       func() { GroupNorm(x, Zeros(1, 2), Zeros(1, 2), 3, 2, 1e-5) },
		"GroupNormSiLU":   func() { GroupNormSiLU(x, Zeros(1, 3), Zeros(1, 3), 1, 2, 1e-5) },
	}
	for op, f := range cases {
		t.Run(op, func(t *testing.T) {
			defer func() {
				r := recover()
				me, ok := r.(*MisuseError)
				require.True(t, ok, "panic value %#v is not a *MisuseError", r)
				require.Equal(t, op, me.Op)
			}()
			f()
		})
	}
	// Wrong kernel shape and bad geometry also name Conv2D; the message names the shapes.
	defer func() {
		require.Equal(t, "autograd.Conv2D [2,32] [3,17]: kernel must be [Cout, C·KH·KW] = [Cout, 2·3·3]", recover().(*MisuseError).Error())
	}()
	Conv2D(x, Zeros(3, 17), nil, g)
}

// reportFLOPs reports flops per op as GFLOP/s of wall time and, on a shared
// machine more telling, GFLOP per CPU-second and CPU-ms/op (all threads).
func reportFLOPs(b *testing.B, flops, cpu float64) {
	n := float64(b.N)
	b.ReportMetric(flops*n/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops*n/cpu/1e9, "GFLOP/CPU-s")
		b.ReportMetric(cpu/n*1e3, "CPU-ms/op")
	}
}

// BenchmarkConv2D times Conv2D forward and its backward (the gradients of
// Σ w ⊙ out with respect to the kernel, the bias and — except on a first
// layer, whose input is data — the input) at MNIST-like shapes: batch 128,
// 3×3 kernels, padding 1, 1→32 and 32→32 channels at 14×14 and 28×28. GFLOP/s
// counts 2·n·OH·OW·Cout·C·9 for the forward pass and twice that for the
// backward pass without its input-gradient's Col2Im (GEMMs only).
func BenchmarkConv2D(b *testing.B) {
	rng := newRNG(17)
	for _, sh := range []struct{ c, cout, hw int }{{1, 32, 14}, {32, 32, 14}, {1, 32, 28}, {32, 32, 28}} {
		const n = 128
		g := ConvGeom{C: sh.c, H: sh.hw, W: sh.hw, KH: 3, KW: 3, Stride: 1, Pad: 1}
		x := Normal(n, g.In(), 0, 1, rng)
		w := Normal(sh.cout, g.Patch(), 0, 0.1, rng)
		bias := Normal(1, sh.cout, 0, 0.1, rng)
		flops := 2 * float64(n*g.OutH()*g.OutW()*sh.cout*g.Patch())
		name := fmt.Sprintf("%d->%d/%dx%d", sh.c, sh.cout, sh.hw, sh.hw)
		b.Run("forward/"+name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuSeconds()
			for b.Loop() {
				Conv2D(x.NoGraph(), w, bias, g)
			}
			reportFLOPs(b, flops, cpuSeconds()-cpu)
		})
		b.Run("backward/"+name, func(b *testing.B) {
			xv := x.Clone().SetRequiresGrad(sh.c > 1)
			wv, bv := w.Clone().SetRequiresGrad(true), bias.Clone().SetRequiresGrad(true)
			seed := Normal(n, sh.cout*g.OutH()*g.OutW(), 0, 1, rng)
			wrt := []*Tensor{wv, bv}
			passes := 1.0 // the kernel's gradient
			if sh.c > 1 {
				wrt = append(wrt, xv)
				passes = 2 // and the input's
			}
			b.ReportAllocs()
			cpu := cpuSeconds()
			for b.Loop() {
				Grad(Conv2D(xv, wv, bv, g), seed, wrt...)
			}
			reportFLOPs(b, passes*flops, cpuSeconds()-cpu)
		})
	}
}
