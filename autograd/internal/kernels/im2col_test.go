package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference loops, identical to the doc comments of im2col.go.

func im2colRef(cols, x []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	for s := 0; s < n; s++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
							v := 0.0
							if 0 <= iy && iy < h && 0 <= ix && ix < w {
								v = x[s*c*h*w+(ch*h+iy)*w+ix]
							}
							cols[((s*oh+oy)*ow+ox)*c*kh*kw+(ch*kh+ky)*kw+kx] = v
						}
					}
				}
			}
		}
	}
}

func col2imRef(x, cols []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	clear(x)
	for s := 0; s < n; s++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
							if 0 <= iy && iy < h && 0 <= ix && ix < w {
								x[s*c*h*w+(ch*h+iy)*w+ix] += cols[((s*oh+oy)*ow+ox)*c*kh*kw+(ch*kh+ky)*kw+kx]
							}
						}
					}
				}
			}
		}
	}
}

func avgPool2Ref(dst, x []float64, n, c, h, w int) {
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			for oy := 0; oy < h/2; oy++ {
				for ox := 0; ox < w/2; ox++ {
					i := s*c*h*w + (ch*h+2*oy)*w + 2*ox
					dst[s*c*h*w/4+(ch*h/2+oy)*(w/2)+ox] = 0.25 * (x[i] + x[i+1] + x[i+w] + x[i+w+1])
				}
			}
		}
	}
}

func upsample2Ref(dst, x []float64, alpha float64, n, c, h, w int) {
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < 2*h; y++ {
				for xx := 0; xx < 2*w; xx++ {
					dst[s*c*4*h*w+(ch*2*h+y)*2*w+xx] = alpha * x[s*c*h*w+(ch*h+y/2)*w+xx/2]
				}
			}
		}
	}
}

// convShapes are the geometries the image kernels are checked on: odd and
// even sizes, stride 1 and 2, padding 0, 1 and 2, kernels 1×1 to 3×4 and
// kernels wider than the padded image in one direction.
var convShapes = []struct{ n, c, h, w, kh, kw, stride, pad int }{
	{1, 1, 1, 1, 1, 1, 1, 0},
	{2, 1, 5, 5, 3, 3, 1, 1},
	{2, 3, 7, 5, 3, 3, 2, 1},
	{3, 2, 6, 6, 3, 3, 2, 1},
	{1, 2, 4, 9, 2, 4, 1, 0},
	{2, 2, 5, 3, 3, 3, 1, 2},
	{1, 3, 8, 7, 3, 2, 3, 1},
	{2, 1, 2, 2, 5, 5, 1, 2},
	{1, 4, 14, 14, 3, 3, 1, 1},
}

// TestIm2Col_MatchesLoop compares Im2Col and Col2Im with their reference
// loops bit for bit (the fast versions only hoist the bounds checks and keep
// the order of every sum), and checks that Col2Im is Im2Col's adjoint:
// ⟨Im2Col x, y⟩ = ⟨x, Col2Im y⟩ to rounding (each side is one dot product of
// length L: |Δ| ≤ 2·L·u·Σ|terms|).
func TestIm2Col_MatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range convShapes {
		t.Run(fmt.Sprintf("%v", g), func(t *testing.T) {
			oh, ow := (g.h+2*g.pad-g.kh)/g.stride+1, (g.w+2*g.pad-g.kw)/g.stride+1
			nc := g.n * oh * ow * g.c * g.kh * g.kw
			x := randSlice(rng, g.n*g.c*g.h*g.w)
			got, want := randSlice(rng, nc), randSlice(rng, nc) // stale contents must be overwritten
			Im2Col(got, x, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			im2colRef(want, x, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("Im2Col[%d] = %v, want %v", i, got[i], want[i])
				}
			}
			y := randSlice(rng, nc)
			xg, xw := randSlice(rng, len(x)), randSlice(rng, len(x))
			Col2Im(xg, y, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			col2imRef(xw, y, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			for i := range xw {
				if xg[i] != xw[i] {
					t.Fatalf("Col2Im[%d] = %v, want %v", i, xg[i], xw[i])
				}
			}
			var lhs, rhs, mag float64
			for i := range y {
				lhs += want[i] * y[i]
				mag += math.Abs(want[i] * y[i])
			}
			for i := range x {
				rhs += x[i] * xg[i]
			}
			tol := 2 * float64(nc) * 0x1p-53 * mag
			if d := math.Abs(lhs - rhs); d > tol {
				t.Fatalf("⟨Im2Col x, y⟩ = %v, ⟨x, Col2Im y⟩ = %v (diff %g, tol %g)", lhs, rhs, d, tol)
			}
		})
	}
}

// TestPool_MatchesLoop compares AvgPool2 and Upsample2 with their reference
// loops bit for bit, on odd channel counts and non-square images.
func TestPool_MatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range []struct{ n, c, h, w int }{{1, 1, 2, 2}, {2, 3, 4, 6}, {3, 1, 8, 2}, {2, 5, 14, 14}} {
		x := randSlice(rng, g.n*g.c*g.h*g.w)
		got, want := randSlice(rng, len(x)/4), randSlice(rng, len(x)/4)
		AvgPool2(got, x, g.n, g.c, g.h, g.w)
		avgPool2Ref(want, x, g.n, g.c, g.h, g.w)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: AvgPool2[%d] = %v, want %v", g, i, got[i], want[i])
			}
		}
		up, upw := randSlice(rng, 4*len(x)), randSlice(rng, 4*len(x))
		Upsample2(up, x, 0.25, g.n, g.c, g.h, g.w)
		upsample2Ref(upw, x, 0.25, g.n, g.c, g.h, g.w)
		for i := range upw {
			if up[i] != upw[i] {
				t.Fatalf("%v: Upsample2[%d] = %v, want %v", g, i, up[i], upw[i])
			}
		}
	}
}
