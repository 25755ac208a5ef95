package kernels

/*
Image kernels for convolution.

An image batch is stored [n, C·H·W], each row C-major, then H, then W:
element (s, c, y, x) lives at s·C·H·W + (c·H + y)·W + x. A convolution with
kernel KH×KW, stride S and zero padding P has the output size

	OH = (H + 2P − KH)/S + 1,  OW = (W + 2P − KW)/S + 1,

and im2col lays out, for each output pixel, the KH·KW·C input values it sees
as one row of a [n·OH·OW, C·KH·KW] matrix, so that the convolution is one
GEMM against the kernel stored [Cout, C·KH·KW] (PyTorch's [Cout, C, KH, KW]
flattened). col2im is its adjoint: it adds every row back onto the pixels it
came from (pixels seen by several windows receive the sum).
*/

// Im2Col fills cols [n·OH·OW, C·KH·KW] from x [n, C·H·W]:
//
//	for s := 0; s < n; s++ {
//		for oy := 0; oy < oh; oy++ {
//			for ox := 0; ox < ow; ox++ {
//				for ch := 0; ch < c; ch++ {
//					for ky := 0; ky < kh; ky++ {
//						for kx := 0; kx < kw; kx++ {
//							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
//							v := 0.0
//							if 0 <= iy && iy < h && 0 <= ix && ix < w {
//								v = x[s*c*h*w+(ch*h+iy)*w+ix]
//							}
//							cols[((s*oh+oy)*ow+ox)*c*kh*kw+(ch*kh+ky)*kw+kx] = v
//						}
//					}
//				}
//			}
//		}
//	}
//
// with oh = (h+2·pad−kh)/stride+1 and ow = (w+2·pad−kw)/stride+1. The
// implementation computes each kernel row's in-bounds run once.
func Im2Col(cols, x []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	k := c * kh * kw
	cols = cols[:n*oh*ow*k]
	x = x[:n*c*h*w]
	for s := 0; s < n; s++ {
		img := x[s*c*h*w : (s+1)*c*h*w]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				row := cols[((s*oh+oy)*ow+ox)*k : ((s*oh+oy)*ow+ox+1)*k]
				x0 := ox*stride - pad
				lo, hi := max(0, -x0), min(kw, w-x0) // kx with 0 ≤ x0+kx < w
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < kh; ky++ {
						dst := row[(ch*kh+ky)*kw : (ch*kh+ky+1)*kw]
						iy := oy*stride - pad + ky
						if iy < 0 || iy >= h || lo >= hi {
							clear(dst)
							continue
						}
						src := img[(ch*h+iy)*w+x0+lo : (ch*h+iy)*w+x0+hi]
						for kx := 0; kx < lo; kx++ {
							dst[kx] = 0
						}
						for i, v := range src { // runs are short (KW): a loop beats copy's call
							dst[lo+i] = v
						}
						for kx := hi; kx < kw; kx++ {
							dst[kx] = 0
						}
					}
				}
			}
		}
	}
}

// Col2Im is Im2Col's adjoint: it sets x [n, C·H·W] to the sum, over every
// window that saw a pixel, of that window's entry in cols [n·OH·OW, C·KH·KW]:
//
//	clear(x)
//	for s, oy, ox, ch, ky, kx (as in Im2Col) {
//		iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
//		if 0 <= iy && iy < h && 0 <= ix && ix < w {
//			x[s*c*h*w+(ch*h+iy)*w+ix] += cols[((s*oh+oy)*ow+ox)*c*kh*kw+(ch*kh+ky)*kw+kx]
//		}
//	}
//
// Entries that fall on the zero padding are dropped. The sums run in the
// reference loop's order, so the result is bit-identical to it.
func Col2Im(x, cols []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	k := c * kh * kw
	cols = cols[:n*oh*ow*k]
	x = x[:n*c*h*w]
	clear(x)
	for s := 0; s < n; s++ {
		img := x[s*c*h*w : (s+1)*c*h*w]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				row := cols[((s*oh+oy)*ow+ox)*k : ((s*oh+oy)*ow+ox+1)*k]
				x0 := ox*stride - pad
				lo, hi := max(0, -x0), min(kw, w-x0)
				if lo >= hi {
					continue
				}
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < kh; ky++ {
						iy := oy*stride - pad + ky
						if iy < 0 || iy >= h {
							continue
						}
						src := row[(ch*kh+ky)*kw+lo : (ch*kh+ky)*kw+hi]
						dst := img[(ch*h+iy)*w+x0+lo : (ch*h+iy)*w+x0+hi]
						for i, v := range src {
							dst[i] += v
						}
					}
				}
			}
		}
	}
}

// AvgPool2 sets dst [n, C·(H/2)·(W/2)] to the means of the 2×2 blocks of
// x [n, C·H·W] (h and w even; rows of images, as Im2Col):
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
