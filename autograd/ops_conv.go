package autograd

import (
	"fmt"
	"sync"

	"github.com/flowmatch/flowmatch/autograd/internal/kernels"
)

/*
Convolution, pooling and normalization on image batches.

Tensors stay 2-D. A batch of n images with C channels of H×W pixels is a
tensor [n, C·H·W] whose rows are C-major, then H, then W: pixel (c, y, x) of
sample s is element (s, (c·H + y)·W + x). The geometry travels with the
layer (ConvGeom, or c, h, w arguments), not with the tensor.

A convolution (a cross-correlation, as in every deep-learning library) with
kernel w [Cout, C·KH·KW] (PyTorch's [Cout, C, KH, KW] flattened), stride S
and zero padding P is

	out[s, o, oy, ox] = b[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[s, c, oy·S − P + ky, ox·S − P + kx]

(x = 0 outside the image). Written as im2col, it is one matrix product:

	X̃ = Im2Col(x)             [n·OH·OW, C·KH·KW], one row per output pixel
	Y = X̃·wᵀ + 1·b            [n·OH·OW, Cout]     (MatMulNT, AddRow)
	out = ChannelsFirst(Y, n)  [n, Cout·OH·OW]

Every piece is an op whose backward is built from ops, so the backward pass
is an ordinary graph and can be differentiated again:

	Im2Col  is linear; its adjoint is Col2Im (scatter-add), whose adjoint is Im2Col;
	ChannelsFirst and ChannelsLast are permutations, each the other's inverse and adjoint;
	MatMulNT and AddRow differentiate as in ops_matmul.go and ops_arith.go.

So ∂L/∂x = Col2Im(ChannelsLast(g)·w), ∂L/∂w = ChannelsLast(g)ᵀ·X̃ and
∂L/∂b = SumRows(ChannelsLast(g)): the input-gradient of a convolution is the
"full" correlation of g with the spatially flipped kernel, obtained here
without flipping anything.

Conv2D computes exactly that composition, but a sample at a time
(withPatches; ConvWeightGrad a chunk of at most 2 MB of patches at a time,
convChunks), so the [n·OH·OW, C·KH·KW] matrix X̃
of the whole batch — 231 MB for 32 channels of 28×28 at batch 128 — is
never allocated nor kept by the graph. Its two gradients are ops of their
own, ConvTranspose2D(g, w) = Col2Im(ChannelsLast(g)·w) and
ConvWeightGrad(x, g) = ChannelsLast(g)ᵀ·Im2Col(x), computed the same way;
the three are bilinear and each one's backward is written with the other
two, as MatMul, MatMulNT and MatMulTN are, so gradients of any order flow.
The three lay the patches out transposed, X̃ᵀ [C·KH·KW, nb·OH·OW]
(kernels.Im2ColRows: for stride 1 a run of OW input values per kernel tap
and output row, not a run of KW per pixel), so that w·X̃ᵀ [Cout, OH·OW] is
already a sample's output row and no transposition is needed (the gradient
g enters as Ĝᵀ, whose block for one sample is its row of g). Conv2D and
ConvTranspose2D run one sample at a time, so its patches (450 KB for 32
channels of 14×14) stay in cache between Im2ColRows and the GEMM, and a
1×1 convolution uses the image itself as X̃ᵀ; ConvWeightGrad runs a chunk
at a time, its GEMM summing over the chunk's pixels.
TestConv2D_MatchesComposition checks them against the composition above.
The ops Im2Col and Col2Im keep one row per output pixel, the layout of the
formulas above, but use the same two kernels (kernels.Im2ColRows and
Col2ImRows) and transpose each sample's block, so there is one im2col and
one col2im. Dumoulin & Visin 2016, "A guide to convolution
arithmetic for deep learning", arXiv:1603.07285, §2 (output sizes) and §4
(the transposed convolution as the adjoint); Chellapilla, Puri & Simard 2006
for im2col ("unfolding").
*/

// ConvGeom is the geometry of a 2-D convolution on images [n, C·H·W]
// (C-major, then H, then W): C input channels of H×W pixels, a KH×KW kernel,
// stride Stride ≥ 1 and Pad ≥ 0 zeros on every side (dilation 1). The
// output is OutH()×OutW() pixels:
//
//	OH = ⌊(H + 2·Pad − KH)/Stride⌋ + 1,  OW = ⌊(W + 2·Pad − KW)/Stride⌋ + 1
//
// (Dumoulin & Visin 2016, arXiv:1603.07285, §2.4, relationship 6).
type ConvGeom struct {
	C, H, W int // input channels, height, width
	KH, KW  int // kernel height, width
	Stride  int // ≥ 1
	Pad     int // zero padding on each side, ≥ 0
}

// OutH returns the output height ⌊(H + 2·Pad − KH)/Stride⌋ + 1.
func (g ConvGeom) OutH() int { return (g.H+2*g.Pad-g.KH)/g.Stride + 1 }

// OutW returns the output width ⌊(W + 2·Pad − KW)/Stride⌋ + 1.
func (g ConvGeom) OutW() int { return (g.W+2*g.Pad-g.KW)/g.Stride + 1 }

// In returns C·H·W, the columns of an input batch.
func (g ConvGeom) In() int { return g.C * g.H * g.W }

// Patch returns C·KH·KW, the columns of Im2Col's output (and of a kernel).
func (g ConvGeom) Patch() int { return g.C * g.KH * g.KW }

// valid panics with a *MisuseError naming op when g is not a geometry.
func (g ConvGeom) valid(op string) {
	if g.C < 1 || g.H < 1 || g.W < 1 || g.KH < 1 || g.KW < 1 || g.Stride < 1 || g.Pad < 0 {
		panic(Misuse(op, "geometry %+v: C, H, W, KH, KW and Stride must be ≥ 1 and Pad ≥ 0", g))
	}
	if g.KH > g.H+2*g.Pad || g.KW > g.W+2*g.Pad {
		panic(Misuse(op, "geometry %+v: the %d×%d kernel is larger than the padded %d×%d image", g, g.KH, g.KW, g.H+2*g.Pad, g.W+2*g.Pad))
	}
}

// mustImages panics with a *MisuseError naming op unless x is a batch
// [n, g.In()] of images of geometry g.
func (g ConvGeom) mustImages(op string, x *Tensor) {
	g.valid(op)
	if x.Cols != g.In() {
		panic(&MisuseError{Op: op, Shapes: [][2]int{x.Shape()},
			Reason: fmt.Sprintf("%d columns, but the geometry says C·H·W = %d·%d·%d = %d", x.Cols, g.C, g.H, g.W, g.In())})
	}
}

// Im2Col returns the patches of x [n, C·H·W] (geometry g): a
// [n·OH·OW, C·KH·KW] tensor whose row (s·OH + oy)·OW + ox holds, in the
// order (c, ky, kx), the input values that output pixel (oy, ox) of sample
// s sees (0 on the padding):
//
//	out[(s·OH + oy)·OW + ox, (c·KH + ky)·KW + kx] = x[s, c, oy·S − P + ky, ox·S − P + kx]
//
// Each sample's block [OH·OW, C·KH·KW] is the transpose of X̃ₛᵀ
// [C·KH·KW, OH·OW], the layout the convolutions use (kernels.Im2ColRows,
// one row per kernel tap), and is computed as that kernel followed by a
// transpose, so there is one im2col kernel. It is linear; its backward is
// its adjoint:
//
//	∂L/∂x = Col2Im(g)
//
// Checked by TestGrad/Im2Col and TestIm2Col_MatchesLoop (bit for bit
// against the formula's loop); the kernel by TestIm2ColRows_MatchesLoop in
// the kernels package.
func Im2Col(x *Tensor, g ConvGeom) *Tensor {
	g.mustImages("Im2Col", x)
	n, p, k := x.Rows, g.OutH()*g.OutW(), g.Patch()
	out := result("Im2Col", n*p, k, x)
	withPatches(g, func(cols []float64) {
		for s := 0; s < n; s++ {
			xs := x.Data[s*g.In() : (s+1)*g.In()]
			kernels.Transpose(out.Data[s*p*k:(s+1)*p*k], patchesT(cols, xs, g), k, p)
		}
	})
	if out.recording() {
		out.backward = func(gr *Tensor) []*Tensor { return []*Tensor{Col2Im(gr, g)} }
	}
	return finish(out)
}

// Col2Im is Im2Col's adjoint: cols [n·OH·OW, C·KH·KW] → [n, C·H·W], each
// entry added back onto the input pixel it was copied from (a pixel seen by
// several windows receives the sum; entries on the padding are dropped), so
// that ⟨Im2Col(x), y⟩ = ⟨x, Col2Im(y)⟩:
//
//	out[s, c, iy, ix] = Σ_{ky, kx} cols[(s·OH + oy)·OW + ox, (c·KH + ky)·KW + kx]
//	                    over the (oy, ox) with oy·S − P + ky = iy, ox·S − P + kx = ix,
//
// summed in the order of the taps (ky, kx). It transposes each sample's
// block into X̃ₛᵀ [C·KH·KW, OH·OW] and calls kernels.Col2ImRows, the
// adjoint of the one im2col kernel. Its backward is Im2Col:
//
//	∂L/∂cols = Im2Col(g)
//
// Checked by TestGrad/Col2Im, TestIm2Col_MatchesLoop (bit for bit against
// the formula's loop) and TestConv2D_Adjoint.
func Col2Im(cols *Tensor, g ConvGeom) *Tensor {
	g.valid("Col2Im")
	p, k := g.OutH()*g.OutW(), g.Patch()
	if cols.Cols != k || cols.Rows%p != 0 {
		panic(&MisuseError{Op: "Col2Im", Shapes: [][2]int{cols.Shape()},
			Reason: fmt.Sprintf("want [n·OH·OW, C·KH·KW] = [n·%d, %d] for geometry %+v", p, k, g)})
	}
	n := cols.Rows / p
	out := result("Col2Im", n, g.In(), cols)
	withPatches(g, func(buf []float64) {
		for s := 0; s < n; s++ {
			cs, xs := cols.Data[s*p*k:(s+1)*p*k], out.Data[s*g.In():(s+1)*g.In()]
			if g.pointwise() { // X̃ₛᵀ is the image itself
				kernels.Transpose(xs, cs, p, k)
				continue
			}
			kernels.Transpose(buf, cs, p, k)
			kernels.Col2ImRows(xs, buf, 1, g.C, g.H, g.W, g.KH, g.KW, g.Stride, g.Pad)
		}
	})
	if out.recording() {
		out.backward = func(gr *Tensor) []*Tensor { return []*Tensor{Im2Col(gr, g)} }
	}
	return finish(out)
}

// ChannelsFirst turns one row per pixel into one row per image:
// a [n·P, C] → [n, C·P] with out[s, c·P + p] = a[s·P + p, c] (a transpose of
// each sample's [P, C] block). Its backward is its inverse, which is also
// its adjoint:
//
//	∂L/∂a = ChannelsLast(g, C)
//
// Checked by TestGrad/ChannelsFirst.
func ChannelsFirst(a *Tensor, n int) *Tensor {
	if n < 1 || a.Rows%n != 0 {
		panic(&MisuseError{Op: "ChannelsFirst", Shapes: [][2]int{a.Shape()}, Reason: fmt.Sprintf("%d rows are not a whole number of pixels for %d images", a.Rows, n)})
	}
	p, c := a.Rows/n, a.Cols
	out := result("ChannelsFirst", n, c*p, a)
	for s := 0; s < n; s++ {
		kernels.Transpose(out.Data[s*c*p:(s+1)*c*p], a.Data[s*p*c:(s+1)*p*c], p, c)
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{ChannelsLast(g, c)} }
	}
	return finish(out)
}

// ChannelsLast is ChannelsFirst's inverse: a [n, C·P] → [n·P, C] with
// out[s·P + p, c] = a[s, c·P + p].
//
//	∂L/∂a = ChannelsFirst(g, n)
//
// Checked by TestGrad/ChannelsLast.
func ChannelsLast(a *Tensor, c int) *Tensor {
	if c < 1 || a.Cols%c != 0 {
		panic(&MisuseError{Op: "ChannelsLast", Shapes: [][2]int{a.Shape()}, Reason: fmt.Sprintf("%d columns are not a whole number of pixels for %d channels", a.Cols, c)})
	}
	n, p := a.Rows, a.Cols/c
	out := result("ChannelsLast", n*p, c, a)
	for s := 0; s < n; s++ {
		kernels.Transpose(out.Data[s*p*c:(s+1)*p*c], a.Data[s*c*p:(s+1)*c*p], c, p)
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{ChannelsFirst(g, n)} }
	}
	return finish(out)
}

// Reshape returns a with shape [rows, cols] and the same row-major data
// (rows·cols = a.Rows·a.Cols), sharing a's Data: e.g. images [n, C·P] seen
// as [n·C, P], one row per channel plane.
//
//	∂L/∂a = Reshape(g, a.Rows, a.Cols)
//
// Checked by TestGrad/Reshape.
func Reshape(a *Tensor, rows, cols int) *Tensor {
	if rows < 0 || cols < 0 || rows*cols != len(a.Data) {
		panic(&MisuseError{Op: "Reshape", Shapes: [][2]int{a.Shape(), {rows, cols}}, Reason: "the element counts differ"})
	}
	out := result("Reshape", 0, 0, a)
	out.Rows, out.Cols, out.Data = rows, cols, a.Data
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Reshape(g, a.Rows, a.Cols)} }
	}
	return finish(out)
}

// Conv2D returns the convolution (cross-correlation) of the images x
// [n, C·H·W] with the kernel w [Cout, C·KH·KW] plus the bias b [1, Cout]
// (nil for none), geometry g: the output is [n, Cout·OH·OW],
//
//	out[s, o, oy, ox] = b[o] + Σ_{c, ky, kx} w[o, (c·KH + ky)·KW + kx] · x[s, c, oy·S − P + ky, ox·S − P + kx]
//
// It computes ChannelsFirst(AddRow(MatMulNT(Im2Col(x), w), b)) (see the top
// of this file) a sample at a time, so that the im2col matrix of the
// whole batch is never allocated or kept: its backward recomputes the
// patches it needs. With Ĝ = ChannelsLast(g, Cout):
//
//	∂L/∂x = ConvTranspose2D(g, w) = Col2Im(Ĝ·w)
//	∂L/∂w = ConvWeightGrad(x, g)  = Ĝᵀ·Im2Col(x)
//	∂L/∂b = SumRows(Ĝ), summed per plane: Σ_s Σ_p g[s, o, p]
//
// Conv2D, ConvTranspose2D and ConvWeightGrad are bilinear and each one's
// backward is written with the other two (as MatMul, MatMulNT and MatMulTN),
// so a convolution can be differentiated to any order. Shapes that do not
// fit g panic with a *MisuseError naming Conv2D. Checked by TestGrad/Conv2D
// (stride 1 and 2, padding, second order), TestConv2D_MatchesDirectLoop
// (against the 7-loop definition), TestConv2D_MatchesComposition (against
// the composition of ops) and TestConv2D_WrongBackwardFails (a flipped
// kernel in the input-gradient is caught).
func Conv2D(x, w, b *Tensor, g ConvGeom) *Tensor {
	g.mustImages("Conv2D", x)
	if w.Cols != g.Patch() {
		panic(&MisuseError{Op: "Conv2D", Shapes: [][2]int{x.Shape(), w.Shape()},
			Reason: fmt.Sprintf("kernel must be [Cout, C·KH·KW] = [Cout, %d·%d·%d]", g.C, g.KH, g.KW)})
	}
	inputs := []*Tensor{x, w}
	if b != nil {
		if b.Rows != 1 || b.Cols != w.Rows {
			panic(&MisuseError{Op: "Conv2D", Shapes: [][2]int{w.Shape(), b.Shape()}, Reason: fmt.Sprintf("bias must be [1, Cout] = [1, %d]", w.Rows)})
		}
		inputs = append(inputs, b)
	}
	n, cout, p := x.Rows, w.Rows, g.OutH()*g.OutW()
	out := result("Conv2D", n, cout*p, inputs...)
	var bias []float64
	if b != nil {
		bias = b.Data
	}
	// One sample at a time, so that its patches stay in cache for the GEMM:
	// out[s] = w·X̃ₛᵀ [Cout, P] with X̃ₛᵀ [C·KH·KW, P].
	withPatches(g, func(cols []float64) {
		for s := 0; s < n; s++ {
			xs, ys := x.Data[s*g.In():(s+1)*g.In()], out.Data[s*cout*p:(s+1)*cout*p]
			kernels.Gemm(false, false, cout, p, g.Patch(), 1, w.Data, patchesT(cols, xs, g), 0, ys)
			for o, v := range bias { // none when b is nil
				kernels.AddConst(ys[o*p:(o+1)*p], ys[o*p:(o+1)*p], v)
			}
		}
	})
	if out.recording() {
		out.backward = func(gr *Tensor) []*Tensor {
			gs := []*Tensor{
				ifGrad(x, func() *Tensor { return ConvTranspose2D(gr, w, g) }),
				ifGrad(w, func() *Tensor { return ConvWeightGrad(x, gr, g) }),
			}
			if b != nil {
				gs = append(gs, ifGrad(b, func() *Tensor { return SumRows(Reshape(SumCols(Reshape(gr, n*cout, p)), n, cout)) }))
			}
			return gs
		}
	}
	return finish(out)
}

// convChunk is the most patch values (C·KH·KW per output pixel) a
// convolution's scratch holds at once: 2 MB.
const convChunk = 1 << 18

// convChunks calls f for consecutive runs of samples [s0, s0+nb) of an
// n-image batch with p output pixels each, passing scratch of exactly
// nb·p·C·KH·KW values (cols, the run's transposed im2col matrix
// [C·KH·KW, nb·p]) and nb·p·Cout values (pix, [Cout, nb·p]), reused across runs instead of the whole
// batch's im2col matrix. The scratch comes from convScratch and goes back
// to it on return, so that a training step reuses it across calls: f must
// overwrite every value it reads (it does: Im2ColRows, toPixelRows and a
// GEMM with β = 0 write all of cols and pix) and keep no reference to it.
func convChunks(n, p, cout int, g ConvGeom, f func(s0, nb int, cols, pix []float64)) {
	per := p * g.Patch()
	nb := max(1, min(n, convChunk/max(per, 1)))
	cb, pb := getScratch(nb*per), getScratch(nb*p*cout)
	defer putScratch(cb)
	defer putScratch(pb)
	cols, pix := *cb, *pb
	for s0 := 0; s0 < n; s0 += nb {
		k := min(nb, n-s0)
		f(s0, k, cols[:k*per], pix[:k*p*cout])
	}
}

// withPatches calls f with scratch for the transposed patches of one
// image, exactly C·KH·KW·OH·OW values (none for a pointwise geometry,
// which uses the image itself), taken from convScratch and handed back on
// return: f must write every value it reads and keep no reference to it.
func withPatches(g ConvGeom, f func(cols []float64)) {
	if g.pointwise() {
		f(nil)
		return
	}
	b := getScratch(g.Patch() * g.OutH() * g.OutW())
	defer putScratch(b)
	f(*b)
}

// toPixelRows returns the [Cout, nb·P] matrix whose block s is sample s's
// [Cout, P] plane stack of y [nb, Cout·P]: y itself when nb = 1, else
// copied into buf (one run of P values per sample and channel), for
// ConvWeightGrad's GEMM over a chunk of samples.
func toPixelRows(buf, y []float64, nb, cout, p int) []float64 {
	if nb == 1 {
		return y
	}
	for s := 0; s < nb; s++ {
		for o := 0; o < cout; o++ {
			copy(buf[(o*nb+s)*p:(o*nb+s+1)*p], y[(s*cout+o)*p:(s*cout+o+1)*p])
		}
	}
	return buf
}

// pointwise reports whether g is a 1×1 convolution with stride 1 and no
// padding, whose patch matrix X̃ᵀ of one sample is the sample itself.
func (g ConvGeom) pointwise() bool { return g.KH == 1 && g.KW == 1 && g.Stride == 1 && g.Pad == 0 }

// patchesT returns X̃ᵀ [C·KH·KW, OH·OW], the transposed patches of the one
// image xs (kernels.Im2ColRows), written into buf, or xs itself for a
// pointwise geometry.
func patchesT(buf, xs []float64, g ConvGeom) []float64 {
	if g.pointwise() {
		return xs
	}
	buf = buf[:g.Patch()*g.OutH()*g.OutW()]
	kernels.Im2ColRows(buf, xs, 1, g.C, g.H, g.W, g.KH, g.KW, g.Stride, g.Pad)
	return buf
}

// convScratch holds up to convKeep of the convolutions' scratch buffers
// (*[]float64) between calls. Unlike a sync.Pool, the garbage collector
// does not empty it, so a steady training loop allocates no scratch; it
// keeps at most convKeep buffers alive (the largest it was handed). Their
// contents are garbage: the callers overwrite them.
var convScratch struct {
	sync.Mutex
	bufs []*[]float64
}

// convKeep is how many scratch buffers convScratch keeps: a convolution
// holds at most two at once, so four serve two goroutines.
const convKeep = 4

// getScratch returns a kept buffer of length n (its contents arbitrary),
// the most recently returned one large enough, or a new one of capacity
// max(n, convChunk) when none is.
func getScratch(n int) *[]float64 {
	convScratch.Lock()
	for i := len(convScratch.bufs) - 1; i >= 0; i-- {
		if b := convScratch.bufs[i]; cap(*b) >= n {
			convScratch.bufs = append(convScratch.bufs[:i], convScratch.bufs[i+1:]...)
			convScratch.Unlock()
			*b = (*b)[:n]
			return b
		}
	}
	convScratch.Unlock()
	b := make([]float64, n, max(n, convChunk))
	return &b
}

// putScratch hands b back to convScratch: kept if fewer than convKeep are,
// else in place of the smallest kept buffer if b is larger, else dropped.
func putScratch(b *[]float64) {
	convScratch.Lock()
	defer convScratch.Unlock()
	if len(convScratch.bufs) < convKeep {
		convScratch.bufs = append(convScratch.bufs, b)
		return
	}
	small := 0
	for i, k := range convScratch.bufs {
		if cap(*k) < cap(*convScratch.bufs[small]) {
			small = i
		}
	}
	if cap(*b) > cap(*convScratch.bufs[small]) {
		convScratch.bufs[small] = b
	}
}

// ConvTranspose2D is Conv2D's adjoint in its input (the transposed
// convolution, Dumoulin & Visin 2016, arXiv:1603.07285, §4): for gr
// [n, Cout·OH·OW] and w [Cout, C·KH·KW] it returns [n, C·H·W],
//
//	out = Col2Im(ChannelsLast(gr, Cout)·w),
//
// so that ⟨Conv2D(x, w), gr⟩ = ⟨x, ConvTranspose2D(gr, w)⟩; it is the input
// gradient of Conv2D. It is bilinear:
//
//	∂L/∂gr = Conv2D(G, w, nil),  ∂L/∂w = ConvWeightGrad(G, gr)   (G = ∂L/∂out)
//
// Checked by TestGrad/ConvTranspose2D.
func ConvTranspose2D(gr, w *Tensor, g ConvGeom) *Tensor {
	g.valid("ConvTranspose2D")
	p, cout := g.OutH()*g.OutW(), w.Rows
	if w.Cols != g.Patch() || gr.Cols != cout*p {
		panic(&MisuseError{Op: "ConvTranspose2D", Shapes: [][2]int{gr.Shape(), w.Shape()},
			Reason: fmt.Sprintf("want gr [n, Cout·OH·OW] and w [Cout, C·KH·KW] = [Cout, %d] for geometry %+v", g.Patch(), g)})
	}
	n := gr.Rows
	out := result("ConvTranspose2D", n, g.In(), gr, w)
	// One sample at a time: X̃ₛᵀ = wᵀ·Ĝₛᵀ [C·KH·KW, P], Ĝₛᵀ = gr[s] [Cout, P].
	withPatches(g, func(cols []float64) {
		for s := 0; s < n; s++ {
			gs, xs := gr.Data[s*cout*p:(s+1)*cout*p], out.Data[s*g.In():(s+1)*g.In()]
			if g.pointwise() {
				kernels.Gemm(true, false, g.Patch(), p, cout, 1, w.Data, gs, 0, xs)
				continue
			}
			kernels.Gemm(true, false, g.Patch(), p, cout, 1, w.Data, gs, 0, cols)
			kernels.Col2ImRows(xs, cols, 1, g.C, g.H, g.W, g.KH, g.KW, g.Stride, g.Pad)
		}
	})
	if out.recording() {
		out.backward = func(gg *Tensor) []*Tensor {
			return []*Tensor{
				ifGrad(gr, func() *Tensor { return Conv2D(gg, w, nil, g) }),
				ifGrad(w, func() *Tensor { return ConvWeightGrad(gg, gr, g) }),
			}
		}
	}
	return finish(out)
}

// ConvWeightGrad is Conv2D's adjoint in its kernel: for images x
// [n, C·H·W] and gr [n, Cout·OH·OW] it returns [Cout, C·KH·KW],
//
//	out = ChannelsLast(gr, Cout)ᵀ·Im2Col(x),
//
// so that ⟨Conv2D(x, w), gr⟩ = ⟨w, ConvWeightGrad(x, gr)⟩; it is the kernel
// gradient of Conv2D, summed over the batch. It is bilinear:
//
//	∂L/∂x = ConvTranspose2D(gr, G),  ∂L/∂gr = Conv2D(x, G, nil)   (G = ∂L/∂out)
//
// Checked by TestGrad/ConvWeightGrad.
func ConvWeightGrad(x, gr *Tensor, g ConvGeom) *Tensor {
	g.mustImages("ConvWeightGrad", x)
	p := g.OutH() * g.OutW()
	if gr.Rows != x.Rows || gr.Cols%p != 0 || gr.Cols == 0 {
		panic(&MisuseError{Op: "ConvWeightGrad", Shapes: [][2]int{x.Shape(), gr.Shape()},
			Reason: fmt.Sprintf("want gr [n, Cout·OH·OW] with OH·OW = %d for geometry %+v", p, g)})
	}
	n, cout := x.Rows, gr.Cols/p
	out := result("ConvWeightGrad", cout, g.Patch(), x, gr)
	first := true
	convChunks(n, p, cout, g, func(s0, nb int, cols, pix []float64) {
		// out (+)= Ĝᵀ·X̃ with Ĝᵀ = pix [Cout, nb·P] and X̃ᵀ = cols [C·KH·KW, nb·P].
		kernels.Im2ColRows(cols, x.Data[s0*g.In():(s0+nb)*g.In()], nb, g.C, g.H, g.W, g.KH, g.KW, g.Stride, g.Pad)
		pix = toPixelRows(pix, gr.Data[s0*cout*p:(s0+nb)*cout*p], nb, cout, p)
		beta := 1.0
		if first {
			beta, first = 0, false
		}
		kernels.Gemm(false, true, cout, g.Patch(), nb*p, 1, pix, cols, beta, out.Data)
	})
	if out.recording() {
		out.backward = func(gg *Tensor) []*Tensor {
			return []*Tensor{
				ifGrad(x, func() *Tensor { return ConvTranspose2D(gr, gg, g) }),
				ifGrad(gr, func() *Tensor { return Conv2D(x, gg, nil, g) }),
			}
		}
	}
	return finish(out)
}

// mustPlanes panics with a *MisuseError naming op unless x is [n, c·h·w]
// with positive c, h, w.
func mustPlanes(op string, x *Tensor, c, h, w int) {
	if c < 1 || h < 1 || w < 1 || x.Cols != c*h*w {
		panic(&MisuseError{Op: op, Shapes: [][2]int{x.Shape()}, Reason: fmt.Sprintf("want [n, C·H·W] = [n, %d·%d·%d]", c, h, w)})
	}
}

// AvgPool2 returns the 2×2 average pooling (stride 2) of the images x
// [n, c·h·w] (h, w even): [n, c·(h/2)·(w/2)],
//
//	out[s, ch, oy, ox] = ¼ Σ_{dy, dx ∈ {0, 1}} x[s, ch, 2oy + dy, 2ox + dx]
//
// Its adjoint spreads each gradient over its block:
//
//	∂L/∂x = ¼ · Upsample2(g)
//
// Checked by TestGrad/AvgPool2; the kernel by TestPool_MatchesLoop.
func AvgPool2(x *Tensor, c, h, w int) *Tensor {
	mustPlanes("AvgPool2", x, c, h, w)
	if h%2 != 0 || w%2 != 0 {
		panic(&MisuseError{Op: "AvgPool2", Shapes: [][2]int{x.Shape()}, Reason: fmt.Sprintf("image %d×%d: height and width must be even", h, w)})
	}
	out := result("AvgPool2", x.Rows, x.Cols/4, x)
	kernels.AvgPool2(out.Data, x.Data, x.Rows, c, h, w)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Scale(Upsample2(g, c, h/2, w/2), 0.25)} }
	}
	return finish(out)
}

// Upsample2 returns the nearest-neighbour ×2 upsampling of the images x
// [n, c·h·w]: [n, c·2h·2w] with out[s, ch, y, x] = x[s, ch, ⌊y/2⌋, ⌊x/2⌋].
// Its adjoint sums each 2×2 block:
//
//	∂L/∂x = 4 · AvgPool2(g)
//
// Checked by TestGrad/Upsample2; the kernel by TestPool_MatchesLoop.
func Upsample2(x *Tensor, c, h, w int) *Tensor {
	mustPlanes("Upsample2", x, c, h, w)
	out := result("Upsample2", x.Rows, 4*x.Cols, x)
	kernels.Upsample2(out.Data, x.Data, 1, x.Rows, c, h, w)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{Scale(AvgPool2(g, c, 2*h, 2*w), 4)} }
	}
	return finish(out)
}

// channelCol returns e, one value per channel ([1, c] for all samples or
// [n, c] per sample), as the column [n·c, 1] that matches the rows of x
// [n, c·P] seen as [n·c, P], one row per channel plane. Built from Expand
// and Reshape.
func channelCol(op string, x, e *Tensor, c int) *Tensor {
	if c < 1 || x.Cols%c != 0 || e.Cols != c || (e.Rows != 1 && e.Rows != x.Rows) {
		panic(&MisuseError{Op: op, Shapes: [][2]int{x.Shape(), e.Shape()}, Reason: fmt.Sprintf("want x [n, C·P] and a per-channel e [1, C] or [n, C] with C = %d", c)})
	}
	if e.Rows != x.Rows {
		e = Expand(e, x.Rows, c)
	}
	return Reshape(e, x.Rows*c, 1)
}

// addCol returns a + col·1ᵀ: the column col [m, 1] added to every column of
// a [m, p] (AddRow's transpose).
//
//	∂L/∂a = g,  ∂L/∂col = SumCols(g)
func addCol(a, col *Tensor) *Tensor {
	out := result("AddCol", a.Rows, a.Cols, a, col)
	for i := 0; i < a.Rows; i++ {
		v, src, dst := col.Data[i], a.Data[i*a.Cols:(i+1)*a.Cols], out.Data[i*a.Cols:(i+1)*a.Cols]
		for j, x := range src {
			dst[j] = x + v
		}
	}
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor { return []*Tensor{g, SumCols(g)} }
	}
	return finish(out)
}

// AddChannels adds e, one value per channel and sample ([n, c]) or per
// channel ([1, c]), to every pixel of that channel of the images x [n, c·P]:
//
//	out[s, ch, p] = x[s, ch, p] + e[s, ch]
//
// (how a time or label embedding enters a convolutional block). Built from
// Reshape, Expand and a column broadcast, so ∂L/∂e[s, ch] = Σ_p g[s, ch, p].
// Checked by TestGrad/AddChannels.
func AddChannels(x, e *Tensor, c int) *Tensor {
	col := channelCol("AddChannels", x, e, c)
	return Reshape(addCol(Reshape(x, x.Rows*c, x.Cols/c), col), x.Rows, x.Cols)
}

// MulChannels multiplies every pixel of channel ch of the images x [n, c·P]
// by e[s, ch] (e [n, c] or [1, c]):
//
//	out[s, ch, p] = x[s, ch, p] · e[s, ch]
//
// Built from Reshape, Expand and MulCol. Checked by TestGrad/MulChannels.
func MulChannels(x, e *Tensor, c int) *Tensor {
	col := channelCol("MulChannels", x, e, c)
	return Reshape(MulCol(Reshape(x, x.Rows*c, x.Cols/c), col), x.Rows, x.Cols)
}

// GroupNorm normalizes the images x [n, c·P] over groups of c/groups
// channels, then scales and shifts every channel (Wu & He 2018, "Group
// Normalization", arXiv:1803.08494, §3.1, Eqs. (1)–(3)): with Sᵢ the
// m = (c/groups)·P values of group i of one sample,
//
//	μᵢ = (1/m) Σ_{k∈Sᵢ} x_k,  σᵢ² = (1/m) Σ_{k∈Sᵢ} (x_k − μᵢ)²
//	out_k = γ_ch · (x_k − μᵢ)/√(σᵢ² + eps) + β_ch
//
// gamma and beta are [1, c]; groups must divide c. The forward pass is one
// op (kernels.GroupNorm: two passes for μ and σ², one to normalize, scale
// and shift) that keeps only μ and 1/√(σ² + eps) per group. Its backward
// pass, with ĝ = ∂L/∂out, x̂ the normalized x, h = γ ⊙ ĝ and means over
// each group,
//
//	∂L/∂x = r·(h − mean(h) − x̂ ⊙ mean(h ⊙ x̂)),  r = 1/√(σ² + eps)
//	∂L/∂γ = Σ_{s,p} ĝ ⊙ x̂,  ∂L/∂β = Σ_{s,p} ĝ
//
// is the fused kernels.GroupNormBackward when the gradient is a plain
// value (Backward, Grad); when the backward pass is itself recorded
// (GradGraph), it is the backward pass of the composition of ops
// groupNormComposed (Reshape, SumCols, Square, Pow, MulCol, column
// broadcasts), so GroupNorm can be differentiated to any order. Checked by
// TestGrad/GroupNorm, GroupNorm/second, TestGroupNorm_Normalizes and
// TestGroupNorm_MatchesComposition.
func GroupNorm(x, gamma, beta *Tensor, groups, c int, eps float64) *Tensor {
	return groupNorm("GroupNorm", x, gamma, beta, groups, c, eps, false)
}

// GroupNormSiLU returns SiLU(GroupNorm(x, gamma, beta, groups, c, eps)),
// out = z ⊙ σ(z) with z GroupNorm's output (Wu & He 2018, arXiv:1803.08494,
// §3.1; the normalization then SiLU that opens every residual block of Ho,
// Jain & Abbeel 2020, arXiv:2006.11239, Appendix B), in one pass that keeps
// no [n, c·P] intermediate: the backward pass recomputes z. Its gradient is
// GroupNorm's with ĝ = g ⊙ SiLU′(z), SiLU′(z) = σ(z)·(1 + z·(1 − σ(z))),
// fused as GroupNorm's (kernels.GroupNormBackward) for a plain-value
// gradient and the composition SiLU(groupNormComposed(…)) when recorded.
// Checked by TestGrad/GroupNormSiLU, GroupNormSiLU/second and
// TestGroupNorm_MatchesComposition.
func GroupNormSiLU(x, gamma, beta *Tensor, groups, c int, eps float64) *Tensor {
	return groupNorm("GroupNormSiLU", x, gamma, beta, groups, c, eps, true)
}

// groupNorm is GroupNorm, followed by SiLU when silu is true, as one op
// named op.
func groupNorm(op string, x, gamma, beta *Tensor, groups, c int, eps float64, silu bool) *Tensor {
	if groups < 1 || c < 1 || c%groups != 0 || x.Cols%c != 0 || eps < 0 {
		panic(&MisuseError{Op: op, Shapes: [][2]int{x.Shape()}, Reason: fmt.Sprintf("%d groups must divide %d channels, which must divide the columns, and eps = %g ≥ 0", groups, c, eps)})
	}
	if gamma.Rows != 1 || gamma.Cols != c || beta.Rows != 1 || beta.Cols != c {
		panic(&MisuseError{Op: op, Shapes: [][2]int{gamma.Shape(), beta.Shape()}, Reason: fmt.Sprintf("gamma and beta must be [1, %d]", c)})
	}
	n, p := x.Rows, x.Cols/c
	out := result(op, n, x.Cols, x, gamma, beta)
	stats := x.arena.floats(2 * n * groups)
	kernels.GroupNorm(out.Data, stats, x.Data, gamma.Data, beta.Data, n, c, groups, p, eps, silu)
	if out.recording() {
		out.backward = func(g *Tensor) []*Tensor {
			if !g.noGraph {
				// A recorded backward pass: differentiate the composition,
				// through stand-ins so that only its own paths count.
				in := []*Tensor{Reshape(x, n, x.Cols), Reshape(gamma, 1, c), Reshape(beta, 1, c)}
				y := groupNormComposed(in[0], in[1], in[2], groups, c, eps)
				if silu {
					y = SiLU(y)
				}
				return GradGraph(y, g, in...)
			}
			dx, dgamma, dbeta := result(op+"Grad", n, x.Cols, g), result(op+"Grad", 1, c, g), result(op+"Grad", 1, c, g)
			kernels.GroupNormBackward(dx.Data, dgamma.Data, dbeta.Data, g.Data, x.Data, gamma.Data, beta.Data, stats, n, c, groups, p, silu)
			return []*Tensor{finish(dx), finish(dgamma), finish(dbeta)}
		}
	}
	return finish(out)
}

// groupNormComposed is GroupNorm written as a composition of ops (Reshape,
// SumCols, Neg, Square, Pow, MulCol and column broadcasts): GroupNorm's
// recorded backward pass differentiates it, and the tests compare the
// fused op with it.
func groupNormComposed(x, gamma, beta *Tensor, groups, c int, eps float64) *Tensor {
	n := x.Rows
	m := x.Cols / groups
	xr := Reshape(x, n*groups, m)
	mu := Scale(SumCols(xr), 1/float64(m))
	d := addCol(xr, Neg(mu))
	v := Scale(SumCols(Square(d)), 1/float64(m))
	xh := Reshape(MulCol(d, Pow(AddScalar(v, eps), -0.5)), n, x.Cols)
	return AddChannels(MulChannels(xh, gamma, c), beta, c)
}
