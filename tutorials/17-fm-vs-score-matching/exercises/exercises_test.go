package exercises

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

type stepFunc func(x, u, score, z []float64, g, h float64) []float64

// cases: (x, u, score, z, g, h) with g ≠ 1 and h ≠ 1, so that g and g², h
// and √h differ.
var cases = []struct {
	x, u, s, z []float64
	g, h       float64
}{
	{[]float64{0.3, -1.2}, []float64{1.1, 0.4}, []float64{-0.5, 2.0}, []float64{0.7, -1.3}, 0.6, 0.04},
	{[]float64{2.1, 0.4}, []float64{-0.3, 0.9}, []float64{1.5, -0.2}, []float64{-0.2, 0.5}, 1.7, 0.01},
	{[]float64{-0.7, 1.9}, []float64{0.8, -1.6}, []float64{0.3, 0.6}, []float64{1.4, 0.1}, 3.0, 0.0025},
}

func all(f stepFunc) []float64 {
	var out []float64
	for _, c := range cases {
		out = append(out, f(c.x, c.u, c.s, c.z, c.g, c.h)...)
	}
	return out
}

func reference(x, u, score, z []float64, g, h float64) []float64 {
	out := make([]float64, len(x))
	for j := range x {
		out[j] = x[j] + h*(u[j]+g*g/2*score[j]) + g*math.Sqrt(h)*z[j]
	}
	return out
}

// tol: a few roundings of values of order 1.
const tol = 1e-13

const (
	hintG     = "the score's weight uses g where the SDE has g²/2 (README, Math: the family of SDEs)"
	hintHalf  = "the score's weight is g², twice too large: the Fokker–Planck terms cancel with g²/2 (README, Math)"
	hintH     = "the noise is scaled by h: a Brownian increment over a step of length h has standard deviation √h (README, Math)"
	hintSign  = "the score's sign is flipped: this is the forward (noising) direction, which leaves the marginals (README, Math)"
	hintNoise = "the noise g·√h·z is missing: this is Euler's step on the drift alone, not Euler–Maruyama"
)

func mistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintG, Got: all(func(x, u, s, z []float64, g, h float64) []float64 {
			return reference(x, u, grade.Scale(s, 1/g), z, g, h)
		})},
		{Hint: hintHalf, Got: all(func(x, u, s, z []float64, g, h float64) []float64 {
			return reference(x, u, grade.Scale(s, 2), z, g, h)
		})},
		{Hint: hintH, Got: all(func(x, u, s, z []float64, g, h float64) []float64 {
			return reference(x, u, s, grade.Scale(z, math.Sqrt(h)), g, h)
		})},
		{Hint: hintSign, Got: all(func(x, u, s, z []float64, g, h float64) []float64 {
			return reference(x, u, grade.Scale(s, -1), z, g, h)
		})},
		{Hint: hintNoise, Got: all(func(x, u, s, z []float64, g, h float64) []float64 {
			return reference(x, u, s, grade.Scale(z, 0), g, h)
		})},
	}
}

// sdeAgrees runs 20 steps of f on the exact field and score of N(0, I)
// data on CondOT (p_t = N(0, (t² + (1 − t)²)I)) from 5 points and compares
// them with fm.SampleSDE's own steps on the same draws, within rounding.
func sdeAgrees(t *testing.T, f stepFunc) {
	const n, steps, g = 5, 20, 0.8
	p := fm.CondOT{}
	vel := func(tt float64, x []float64) []float64 {
		c := (2*tt - 1) / (tt*tt + (1-tt)*(1-tt))
		return []float64{c * x[0], c * x[1]}
	}
	score := func(tt float64, x []float64) []float64 {
		c := -1 / (tt*tt + (1-tt)*(1-tt))
		return []float64{c * x[0], c * x[1]}
	}
	v := func(tt, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := range x.Rows {
			copy(out.Row(i), vel(tt.Data[i], x.Row(i)))
		}
		return out
	}
	x0 := autograd.Normal(n, 2, 0, 1, fm.NewRand(1))
	want, err := fm.SampleSDE(v, p, func(float64) float64 { return g }, x0, steps, fm.NewRand(2))
	require.NoError(t, err)
	// SampleSDE draws its ξ row by row, step by step, from its rng.
	zs := autograd.Normal(steps*n, 2, 0, 1, fm.NewRand(2))
	h := 1.0 / steps
	x := x0.Clone()
	for k := range steps {
		tk := float64(k) * h
		for i := range n {
			copy(x.Row(i), f(x.Row(i), vel(tk, x.Row(i)), score(tk, x.Row(i)), zs.Row(k*n+i), g, h))
		}
	}
	grade.Check(t, "EulerMaruyamaStep, 20 steps against fm.SampleSDE", x.Data, want.Data, 1e-12)
}

func check(t *testing.T, f stepFunc) {
	grade.Try(t, func() {
		if !grade.Check(t, "EulerMaruyamaStep", all(f), all(reference), tol, mistakes()...) {
			return
		}
		c := cases[0]
		zero := f(c.x, c.u, c.s, c.z, 0, c.h)
		for j := range zero {
			assert.InDelta(t, c.x[j]+c.h*c.u[j], zero[j], tol, "g = 0 must be Euler's step")
		}
		sdeAgrees(t, f)
	})
}

func TestEulerMaruyamaStep(t *testing.T) { check(t, EulerMaruyamaStep) }

// TestDiagnosis feeds each diagnosed mistake to the grader and checks that
// its message carries the mistake's hint; the reference passes, and
// reproduces fm.SampleSDE step by step.
func TestDiagnosis(t *testing.T) {
	want := all(reference)
	require.Empty(t, grade.Verdict("EulerMaruyamaStep", want, want, tol, mistakes()...))
	for _, m := range mistakes() {
		msg := grade.Verdict("EulerMaruyamaStep", m.Got, want, tol, mistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
	sdeAgrees(t, reference)
}
