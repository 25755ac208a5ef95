package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference loops, identical to the doc comments of im2col.go: im2colRowsRef
// and col2imRowsRef (shift moves every input column by one: the negative
// control's off-by-one tap), avgPool2Ref and upsample2Ref.
func im2colRowsRef(cols, x []float64, n, c, h, w, kh, kw, stride, pad, shift int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	for ch := 0; ch < c; ch++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				for s := 0; s < n; s++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx+shift
							v := 0.0
							if 0 <= iy && iy < h && 0 <= ix && ix < w {
								v = x[s*c*h*w+(ch*h+iy)*w+ix]
							}
							cols[((ch*kh+ky)*kw+kx)*n*oh*ow+(s*oh+oy)*ow+ox] = v
						}
					}
				}
			}
		}
	}
}

func col2imRowsRef(x, cols []float64, n, c, h, w, kh, kw, stride, pad int) {
	oh, ow := (h+2*pad-kh)/stride+1, (w+2*pad-kw)/stride+1
	clear(x)
	for ch := 0; ch < c; ch++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				for s := 0; s < n; s++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
							if 0 <= iy && iy < h && 0 <= ix && ix < w {
								x[s*c*h*w+(ch*h+iy)*w+ix] += cols[((ch*kh+ky)*kw+kx)*n*oh*ow+(s*oh+oy)*ow+ox]
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
// even sizes, strides 1 to 3, padding 0, 1 and 2, kernels 1×1 to 5×5 and
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

// TestIm2ColRows_MatchesLoop compares Im2ColRows and Col2ImRows with their
// reference loops bit for bit on every geometry of convShapes (strides 1 to
// 3, paddings 0 to 2, kernels wider than the padded image) and checks that
// Col2ImRows is its adjoint, ⟨Im2ColRows x, y⟩ = ⟨x, Col2ImRows y⟩ to the
// rounding of two dot products of length L (|Δ| ≤ 2·L·u·Σ|terms|).
// Negative control: the reference with every tap shifted by one column
// differs from Im2ColRows on each geometry where a shift moves a value, and
// is not Col2ImRows' adjoint there (its ⟨·, y⟩ misses the bound).
func TestIm2ColRows_MatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, g := range convShapes {
		t.Run(fmt.Sprintf("%v", g), func(t *testing.T) {
			oh, ow := (g.h+2*g.pad-g.kh)/g.stride+1, (g.w+2*g.pad-g.kw)/g.stride+1
			k, np := g.c*g.kh*g.kw, g.n*oh*ow
			x := randSlice(rng, g.n*g.c*g.h*g.w)
			got, want := randSlice(rng, k*np), randSlice(rng, k*np) // stale contents must be overwritten
			Im2ColRows(got, x, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			im2colRowsRef(want, x, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, 0)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("Im2ColRows[%d] = %v, want %v (bit for bit)", i, got[i], want[i])
				}
			}
			shifted := make([]float64, k*np)
			im2colRowsRef(shifted, x, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, 1)
			differs := false
			for i := range want {
				differs = differs || shifted[i] != got[i]
			}
			if g.w > 1 && !differs {
				t.Fatalf("control: a reference with every tap shifted by one column agrees with Im2ColRows")
			}
			y := randSlice(rng, k*np)
			xg, xw := randSlice(rng, len(x)), randSlice(rng, len(x))
			Col2ImRows(xg, y, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			col2imRowsRef(xw, y, g.n, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			for i := range xw {
				if math.Float64bits(xg[i]) != math.Float64bits(xw[i]) {
					t.Fatalf("Col2ImRows[%d] = %v, want %v (bit for bit)", i, xg[i], xw[i])
				}
			}
			var lhs, rhs, mag, bad float64
			for i := range y {
				lhs += want[i] * y[i]
				mag += math.Abs(want[i] * y[i])
				bad += shifted[i] * y[i]
			}
			for i := range x {
				rhs += x[i] * xg[i]
			}
			tol := 2 * float64(k*np) * 0x1p-53 * mag
			if d := math.Abs(lhs - rhs); d > tol {
				t.Fatalf("⟨Im2ColRows x, y⟩ = %v, ⟨x, Col2ImRows y⟩ = %v (diff %g, tol %g)", lhs, rhs, d, tol)
			}
			if d := math.Abs(bad - rhs); g.w > 1 && d <= tol {
				t.Fatalf("control: ⟨shifted x, y⟩ = %v is within %g of ⟨x, Col2ImRows y⟩ = %v", bad, tol, rhs)
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

// BenchmarkIm2Col times Im2ColRows and its adjoint Col2ImRows on a U-Net
// block's input (batch 4 of 32 channels of 14×14, 3×3, padding 1), and
// Im2ColRows at the U-Net's half resolution (one image of 32 channels of
// 7×7).
func BenchmarkIm2Col(b *testing.B) {
	const n, c, h, w = 4, 32, 14, 14
	rng := rand.New(rand.NewPCG(7, 8))
	b.Run("Im2ColRows/7x7", func(b *testing.B) {
		x7, cols7 := randSlice(rng, c*7*7), make([]float64, 9*c*7*7)
		for b.Loop() {
			Im2ColRows(cols7, x7, 1, c, 7, 7, 3, 3, 1, 1)
		}
	})
	x := randSlice(rng, n*c*h*w)
	cols := make([]float64, n*h*w*c*9)
	b.Run("Im2ColRows", func(b *testing.B) {
		for b.Loop() {
			Im2ColRows(cols, x, n, c, h, w, 3, 3, 1, 1)
		}
	})
	b.Run("Col2ImRows", func(b *testing.B) {
		for b.Loop() {
			Col2ImRows(x, cols, n, c, h, w, 3, 3, 1, 1)
		}
	})
}
