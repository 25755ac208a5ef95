package exercises

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

type logFunc func(x, y []float64) []float64

var sphere = riemann.Sphere{D: 2}

// pairs are (x, y) at angles 0.3, 1.2 and 2.8 rad, in general position.
func pairs() [][2][]float64 {
	x := sphere.Retract([]float64{0.3, -0.5, 0.8})
	var out [][2][]float64
	e := sphere.Retract(sphere.Proj(x, []float64{1, 0.2, 0.1}))
	for _, a := range []float64{0.3, 1.2, 2.8} {
		out = append(out, [2][]float64{x, sphere.Exp(x, []float64{a * e[0], a * e[1], a * e[2]})})
		x, e = sphere.Retract([]float64{-0.6, 0.1, 0.4}), sphere.Retract(sphere.Proj(sphere.Retract([]float64{-0.6, 0.1, 0.4}), []float64{0, 1, 1}))
	}
	return out
}

// all concatenates f on every pair: what the graders compare.
func all(f logFunc) []float64 {
	var out []float64
	for _, p := range pairs() {
		out = append(out, f(p[0], p[1])...)
	}
	return out
}

// tol: a Log at angle ≤ 2.8 is a few dozen roundings times θ/sin θ ≤ 9:
// relative 1e-12.
const tol = 1e-12

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintProj    = "right direction, wrong length: y − (x·y)x has length sin θ, not the angle θ (README, Math: the logarithm map)"
	hintChord   = "this is the chord y − x, which is not tangent at x: remove the component along x (README, Math)"
	hintSwapped = "this is Log_y(x), the velocity at y towards x: the arguments are swapped"
	hintUnit    = "a unit vector: Log_x(y) has length θ = d(x, y), the geodesic distance (README, Math)"
	hintNotProj = "length θ but along y itself, which is not tangent at x: use the part of y orthogonal to x"
)

func mistakes() []grade.Mistake {
	proj := func(x, y []float64) []float64 { return sphere.Proj(x, y) }
	return []grade.Mistake{
		{Hint: hintProj, Got: all(proj)},
		{Hint: hintChord, Got: all(func(x, y []float64) []float64 { return []float64{y[0] - x[0], y[1] - x[1], y[2] - x[2]} })},
		{Hint: hintSwapped, Got: all(func(x, y []float64) []float64 { return sphere.Log(y, x) })},
		{Hint: hintUnit, Got: all(func(x, y []float64) []float64 { return sphere.Retract(proj(x, y)) })},
		{Hint: hintNotProj, Got: all(func(x, y []float64) []float64 {
			th := sphere.Dist(x, y)
			return []float64{th * y[0], th * y[1], th * y[2]}
		})},
	}
}

func check(t *testing.T, f logFunc) {
	grade.Try(t, func() {
		if !grade.Check(t, "SphereLog", all(f), all(sphere.Log), tol, mistakes()...) {
			return
		}
		for _, p := range pairs() {
			v := f(p[0], p[1])
			dot := v[0]*p[0][0] + v[1]*p[0][1] + v[2]*p[0][2]
			assert.InDelta(t, 0, dot, 1e-13, "x·Log_x(y) = %v, want 0 (tangent)", dot)
			back := sphere.Exp(p[0], v)
			for i := range back {
				assert.InDelta(t, p[1][i], back[i], 1e-12, "Exp_x(Log_x(y)) = %v, want y = %v", back, p[1])
			}
		}
	})
}

func TestSphereLog(t *testing.T) { check(t, SphereLog) }

// TestDiagnosis feeds each diagnosed mistake, and a flipped sign, to the
// grader and checks that its message carries the mistake's hint; the
// library's Log passes.
func TestDiagnosis(t *testing.T) {
	want := all(sphere.Log)
	require.Empty(t, grade.Verdict("SphereLog", want, want, tol, mistakes()...))
	for _, m := range mistakes() {
		msg := grade.Verdict("SphereLog", m.Got, want, tol, mistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
	flipped := grade.Scale(want, -1)
	msg := grade.Verdict("SphereLog", flipped, want, tol, mistakes()...)
	assert.Contains(t, msg, "opposite sign")
	// The angles differ, so the projection's length sin θ is no constant
	// factor of θ: its hint comes from the mistake table, not from Factor.
	_, isFactor := grade.Factor(mistakes()[0].Got, want)
	assert.False(t, isFactor)
	assert.Greater(t, math.Abs(want[0]), 0.0)
}
