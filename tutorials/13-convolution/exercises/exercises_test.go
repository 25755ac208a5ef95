package exercises

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

type gradFunc func(gr, w []float64, g autograd.ConvGeom) []float64

// geoms: stride 1 with padding, stride 2 with padding, a 2×3 kernel without
// padding; 2 input and 3 output channels.
var geoms = []autograd.ConvGeom{
	{C: 2, H: 5, W: 6, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{C: 2, H: 7, W: 7, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{C: 2, H: 5, W: 6, KH: 2, KW: 3, Stride: 1, Pad: 0},
}

const cout = 3

// all concatenates f on every geometry, with fixed random gr and w.
func all(f gradFunc) []float64 {
	rng := rand.New(rand.NewPCG(13, 13))
	var out []float64
	for _, g := range geoms {
		gr := make([]float64, cout*g.OutH()*g.OutW())
		w := make([]float64, cout*g.Patch())
		for i := range gr {
			gr[i] = rng.NormFloat64()
		}
		for i := range w {
			w[i] = rng.NormFloat64()
		}
		out = append(out, f(gr, w, g)...)
	}
	return out
}

// loop is the backward pass as a loop, with switches for the diagnosed
// mistakes.
func loop(rotate, noStride, noPad, overwrite bool) gradFunc {
	return func(gr, w []float64, g autograd.ConvGeom) []float64 {
		dx := make([]float64, g.In())
		s, p := g.Stride, g.Pad
		if noStride {
			s = 1
		}
		if noPad {
			p = 0
		}
		for o := 0; o < cout; o++ {
			for oy := 0; oy < g.OutH(); oy++ {
				for ox := 0; ox < g.OutW(); ox++ {
					for c := 0; c < g.C; c++ {
						for ky := 0; ky < g.KH; ky++ {
							for kx := 0; kx < g.KW; kx++ {
								iy, ix := oy*s-p+ky, ox*s-p+kx
								if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
									continue
								}
								wy, wx := ky, kx
								if rotate {
									wy, wx = g.KH-1-ky, g.KW-1-kx
								}
								v := gr[(o*g.OutH()+oy)*g.OutW()+ox] * w[o*g.Patch()+(c*g.KH+wy)*g.KW+wx]
								if overwrite {
									dx[(c*g.H+iy)*g.W+ix] = v
								} else {
									dx[(c*g.H+iy)*g.W+ix] += v
								}
							}
						}
					}
				}
			}
		}
		return dx
	}
}

// tol: each gradient is a sum of at most Cout·KH·KW = 27 products of
// standard normals, in another order than autograd's: relative 1e-12.
const tol = 1e-12

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintRotate    = "the kernel is rotated by 180°: that rotation belongs to the full-correlation form of the gradient, not to the loop that sends each product back to the pixel it read (README, Math: the backward pass)"
	hintStride    = "right for stride 1, wrong for stride 2: output pixel (oy, ox) reads input row oy·S − P + ky (README, Math)"
	hintPad       = "the padding is left out: output pixel (oy, ox) reads input row oy·S − P + ky, and pixels on the padding receive nothing (README, Math)"
	hintOverwrite = "a pixel read by several windows must receive the sum of their gradients: add, do not assign (README, Math: why backward accumulates)"
)

func mistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintRotate, Got: all(loop(true, false, false, false))},
		{Hint: hintStride, Got: all(loop(false, true, false, false))},
		{Hint: hintPad, Got: all(loop(false, false, true, false))},
		{Hint: hintOverwrite, Got: all(loop(false, false, false, true))},
	}
}

func TestInputGrad(t *testing.T) {
	grade.Try(t, func() {
		grade.Check(t, "InputGrad", all(InputGrad), all(loop(false, false, false, false)), tol, mistakes()...)
	})
}

// TestDiagnosis feeds each diagnosed mistake, and a flipped sign, to the
// grader and checks that its message carries the mistake's hint; the
// correct loop passes, and agrees with autograd (the solution).
func TestDiagnosis(t *testing.T) {
	want := all(loop(false, false, false, false))
	require.Empty(t, grade.Verdict("InputGrad", want, want, tol, mistakes()...))
	for _, m := range mistakes() {
		msg := grade.Verdict("InputGrad", m.Got, want, tol, mistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
	msg := grade.Verdict("InputGrad", grade.Scale(want, -1), want, tol, mistakes()...)
	assert.Contains(t, msg, "opposite sign")
}
