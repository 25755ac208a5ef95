package kernels

/*
Image kernels for convolution.

An image batch is stored [n, C·H·W], each row C-major, then H, then W:
element (s, c, y, x) lives at s·C·H·W + (c·H + y)·W + x. A convolution with
kernel KH×KW, stride S and zero padding P has the output size

	OH = (H + 2P − KH)/S + 1,  OW = (W + 2P − KW)/S + 1.

im2col lays out the KH·KW·C input values each output pixel sees so that the
convolution is one GEMM against the kernel stored [Cout, C·KH·KW]
(PyTorch's [Cout, C, KH, KW] flattened); col2im is its adjoint: it adds
every entry back onto the pixel it came from (pixels seen by several
windows receive the sum).

There is one patch layout, the transposed one: Im2ColRows writes one row per
kernel tap (c, ky, kx) and one column per output pixel, [C·KH·KW, n·OH·OW].
For a fixed tap and output row (s, oy) the values are
x[s, c, iy, ox·S − P + kx] for ox = 0 … OW−1: with stride 1 a contiguous
run of the input row, shifted by kx − P, with zeros where the window hangs
over the border. So the kernel copies runs of OW values (one per tap,
sample and output row); the layout with one row per output pixel,
[n·OH·OW, C·KH·KW], would copy runs of KW (3 for a 3×3 kernel), where the
loop overhead dominates.

In this layout the convolution of one sample is W·X̃ᵀ [Cout, OH·OW], which
is already the sample's output row [Cout·OH·OW] (channels first), so
Conv2D, ConvTranspose2D and ConvWeightGrad need no transposition; the
public autograd.Im2Col and Col2Im, which keep one row per output pixel,
transpose each sample's block (see autograd/ops_conv.go).
*/

// Im2ColRows fills the patch matrix cols [C·KH·KW, n·OH·OW], one row per
// kernel tap and one column per output pixel, from x [n, C·H·W]:
//
//	for ch := 0; ch < c; ch++ {
//		for ky := 0; ky < kh; ky++ {
//			for kx := 0; kx < kw; kx++ {
//				for s := 0; s < n; s++ {
//					for oy := 0; oy < oh; oy++ {
//						for ox := 0; ox < ow; ox++ {
//							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
//							v := 0.0
//							if 0 <= iy && iy < h && 0 <= ix && ix < w {
//								v = x[s*c*h*w+(ch*h+iy)*w+ix]
//							}
//							cols[((ch*kh+ky)*kw+kx)*n*oh*ow+(s*oh+oy)*ow+ox] = v
//						}
//					}
//				}
//			}
//		}
//	}
//
// with oh = (h+2·pad−kh)/stride+1 and ow = (w+2·pad−kw)/stride+1. The
// implementation computes each tap's in-bounds run of ox once and copies it.
// TestIm2ColRows_MatchesLoop.
func Im2ColRows(cols, x []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	np := n * oh * ow
	cols = cols[:c*kh*kw*np]
	x = x[:n*c*h*w]
	for ch := 0; ch < c; ch++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				row := cols[((ch*kh+ky)*kw+kx)*np : ((ch*kh+ky)*kw+kx+1)*np]
				lo, hi := tapRun(ow, w, kx, stride, pad)
				for s := 0; s < n; s++ {
					plane := x[(s*c+ch)*h*w : (s*c+ch+1)*h*w]
					for oy := 0; oy < oh; oy++ {
						dst := row[(s*oh+oy)*ow : (s*oh+oy+1)*ow]
						iy := oy*stride - pad + ky
						if iy < 0 || iy >= h || lo >= hi {
							clear(dst)
							continue
						}
						// The zeros at the ends of a run are one or two
						// values: a loop beats a call to clear.
						for ox := 0; ox < lo; ox++ {
							dst[ox] = 0
						}
						for ox := hi; ox < ow; ox++ {
							dst[ox] = 0
						}
						src := plane[iy*w : (iy+1)*w]
						if stride == 1 {
							copy(dst[lo:hi], src[lo-pad+kx:hi-pad+kx])
							continue
						}
						for ox := lo; ox < hi; ox++ {
							dst[ox] = src[ox*stride-pad+kx]
						}
					}
				}
			}
		}
	}
}

// Col2ImRows is Im2ColRows' adjoint: it sets x [n, C·H·W] to the sum, over
// every window that saw a pixel, of that window's entry in cols
// [C·KH·KW, n·OH·OW]:
//
//	clear(x)
//	for ch, ky, kx, s, oy, ox (as in Im2ColRows) {
//		iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
//		if 0 <= iy && iy < h && 0 <= ix && ix < w {
//			x[s*c*h*w+(ch*h+iy)*w+ix] += cols[((ch*kh+ky)*kw+kx)*n*oh*ow+(s*oh+oy)*ow+ox]
//		}
//	}
//
// Entries that fall on the zero padding are dropped. The sums run in the
// reference loop's order, so the result is bit-identical to it.
// TestIm2ColRows_MatchesLoop.
func Col2ImRows(x, cols []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	np := n * oh * ow
	cols = cols[:c*kh*kw*np]
	x = x[:n*c*h*w]
	for ch := 0; ch < c; ch++ {
		// Only channel ch's taps reach its planes: clear them now, so that
		// they are still in cache for the taps' sums.
		for s := 0; s < n; s++ {
			clear(x[(s*c+ch)*h*w : (s*c+ch+1)*h*w])
		}
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				row := cols[((ch*kh+ky)*kw+kx)*np : ((ch*kh+ky)*kw+kx+1)*np]
				lo, hi := tapRun(ow, w, kx, stride, pad)
				if lo >= hi {
					continue
				}
				for s := 0; s < n; s++ {
					plane := x[(s*c+ch)*h*w : (s*c+ch+1)*h*w]
					for oy := 0; oy < oh; oy++ {
						iy := oy*stride - pad + ky
						if iy < 0 || iy >= h {
							continue
						}
						src := row[(s*oh+oy)*ow+lo : (s*oh+oy)*ow+hi]
						dst := plane[iy*w : (iy+1)*w]
						if stride == 1 {
							dst = dst[lo-pad+kx : hi-pad+kx]
							for i, v := range src {
								dst[i] += v
							}
							continue
						}
						for i, v := range src {
							dst[(lo+i)*stride-pad+kx] += v
						}
					}
				}
			}
		}
	}
}

// tapRun returns the output columns [lo, hi) whose input column
// ox·stride − pad + kx lies in [0, w), clamped to [0, ow); lo ≥ hi when
// there are none.
func tapRun(ow, w, kx, stride, pad int) (lo, hi int) {
	if a := pad - kx; a > 0 {
		lo = (a + stride - 1) / stride
	}
	if b := w + pad - kx; b > 0 {
		hi = (b + stride - 1) / stride
	}
	return min(lo, ow), min(hi, ow)
}

// AvgPool2 sets dst [n, C·(H/2)·(W/2)] to the means of the 2×2 blocks of
// x [n, C·H·W] (h and w even; rows of images, as Im2ColRows):
//
//	for s, ch, oy < h/2, ox < w/2 {
//		i := s*c*h*w + (ch*h+2*oy)*w + 2*ox
//		dst[s*c*h*w/4+(ch*h/2+oy)*(w/2)+ox] = 0.25 * (x[i] + x[i+1] + x[i+w] + x[i+w+1])
//	}
func AvgPool2(dst, x []float64, n, c, h, w int) {
	h2, w2 := h/2, w/2
	dst = dst[:n*c*h2*w2]
	x = x[:n*c*h*w]
	for p := 0; p < n*c; p++ { // one plane (s, ch) at a time
		src, out := x[p*h*w:(p+1)*h*w], dst[p*h2*w2:(p+1)*h2*w2]
		for oy := 0; oy < h2; oy++ {
			r0, r1 := src[2*oy*w:(2*oy+1)*w], src[(2*oy+1)*w:(2*oy+2)*w]
			o := out[oy*w2 : (oy+1)*w2]
			for ox := range o {
				o[ox] = 0.25 * (r0[2*ox] + r0[2*ox+1] + r1[2*ox] + r1[2*ox+1])
			}
		}
	}
}

// Upsample2 sets dst [n, C·2H·2W] to x [n, C·H·W] with every pixel repeated
// into a 2×2 block, times alpha (nearest-neighbour upsampling for alpha = 1;
// alpha = 1/4 gives AvgPool2's adjoint):
//
//	for s, ch, y < 2*h, x < 2*w {
//		dst[s*c*4*h*w+(ch*2*h+y)*2*w+x] = alpha * x[s*c*h*w+(ch*h+y/2)*w+x/2]
//	}
func Upsample2(dst, x []float64, alpha float64, n, c, h, w int) {
	h2, w2 := 2*h, 2*w
	dst = dst[:n*c*h2*w2]
	x = x[:n*c*h*w]
	for p := 0; p < n*c; p++ {
		src, out := x[p*h*w:(p+1)*h*w], dst[p*h2*w2:(p+1)*h2*w2]
		for y := 0; y < h; y++ {
			r := src[y*w : (y+1)*w]
			o0, o1 := out[2*y*w2:(2*y+1)*w2], out[(2*y+1)*w2:(2*y+2)*w2]
			for j, v := range r {
				v *= alpha
				o0[2*j], o0[2*j+1] = v, v
			}
			copy(o1, o0)
		}
	}
}
