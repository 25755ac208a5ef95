package exercises

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

type convFunc func(a, da, s, ds float64, x, v []float64) []float64

// cases are (path, t) pairs away from the ends, where the conversion exists.
var cases = []struct {
	p fm.AffinePath
	t float64
}{{fm.CondOT{}, 0.3}, {fm.CondOT{}, 0.8}, {fm.Cosine{}, 0.5}, {fm.VP{}, 0.4}, {fm.VP{}, 0.9}}

var points = [][]float64{{0.3, -1.2}, {2.1, 0.4}, {-0.7, 1.9}}

// mixture is a 3-component Gaussian mixture whose exact marginal field
// and data mean the graders use.
var mixture = &fm.Mixture{Means: [][]float64{{-1, 0.5}, {1.5, -1}, {0.3, 1.2}}, Stds: []float64{0.4, 0.7, 0.25}, Weights: []float64{1, 2, 1.5}}

// all concatenates f on every case and point, with v the exact field.
func all(f convFunc) []float64 {
	var out []float64
	for _, c := range cases {
		m := fm.MixtureMarginal{Path: c.p, Data: mixture}
		a, da, s, ds := c.p.Schedule(c.t)
		for _, x := range points {
			out = append(out, f(a, da, s, ds, x, m.Field(c.t, x))...)
		}
	}
	return out
}

// exact is E[x₁ | x_t = x] of the mixture by its own closed form.
func exact() []float64 {
	var out []float64
	for _, c := range cases {
		m := fm.MixtureMarginal{Path: c.p, Data: mixture}
		for _, x := range points {
			out = append(out, m.DataMean(c.t, x)...)
		}
	}
	return out
}

// tol: a handful of roundings, divided by Δ = α′σ − ασ′ ≥ 0.05 here.
const tol = 1e-12

const (
	hintSign    = "the determinant's sign is flipped: write both equations (the point, the velocity) and eliminate x̂₀ again (README, Math)"
	hintNoX     = "the term in x is missing: x̂₀ is unknown too, and eliminating it brings in the point x (README, Math)"
	hintSwapped = "α and σ are exchanged: x_t = α_t x₁ + σ_t x₀, the data carries α (README, Math)"
	hintVel     = "this is the velocity itself, not x̂₁"
)

func mistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintSign, Got: all(func(a, da, s, ds float64, x, v []float64) []float64 {
			return grade.Scale(reference(a, da, s, ds, x, v), -1)
		})},
		{Hint: hintNoX, Got: all(func(a, da, s, ds float64, x, v []float64) []float64 { return reference(a, da, s, 0, x, v) })},
		{Hint: hintSwapped, Got: all(func(a, da, s, ds float64, x, v []float64) []float64 { return reference(s, ds, a, da, x, v) })},
		{Hint: hintVel, Got: all(func(a, da, s, ds float64, x, v []float64) []float64 { return v })},
	}
}

func reference(a, da, s, ds float64, x, v []float64) []float64 {
	D := da*s - a*ds
	out := make([]float64, len(x))
	for j := range x {
		out[j] = (s*v[j] - ds*x[j]) / D
	}
	return out
}

func check(t *testing.T, f convFunc) {
	grade.Try(t, func() {
		if grade.Check(t, "DataFromVelocity", all(f), all(reference), tol, mistakes()...) {
			// And against the mixture's own E[x₁ | x_t = x].
			grade.Check(t, "DataFromVelocity vs E[x₁|x_t]", all(f), exact(), 1e-11)
		}
	})
}

func TestDataFromVelocity(t *testing.T) { check(t, DataFromVelocity) }

// TestDiagnosis feeds each diagnosed mistake to the grader and checks that
// its message carries the mistake's hint; the reference passes and agrees
// with the mixture's closed-form E[x₁ | x_t = x] (fm.MixtureMarginal.DataMean).
func TestDiagnosis(t *testing.T) {
	want := all(reference)
	require.Empty(t, grade.Verdict("DataFromVelocity", want, want, tol, mistakes()...))
	require.Empty(t, grade.Verdict("DataFromVelocity", want, exact(), 1e-11))
	for _, m := range mistakes() {
		msg := grade.Verdict("DataFromVelocity", m.Got, want, tol, mistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
}
