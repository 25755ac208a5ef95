package grade

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerdict(t *testing.T) {
	want := []float64{1, -2, 3}
	assert.Empty(t, Verdict("f", []float64{1, -2, 3 + 1e-15}, want, 1e-12), "agreement within tol")
	assert.Contains(t, Verdict("f", []float64{1, -2}, want, 1e-12), "got 2 values, want 3")
	m := Mistake{Hint: "the special mistake", Got: []float64{1, 2, 3}}
	msg := Verdict("f", []float64{1, 2, 3}, want, 1e-12, m)
	assert.Contains(t, msg, "value 1: got 2 want -2")
	assert.Contains(t, msg, "hint: the special mistake")
	assert.Contains(t, Verdict("f", []float64{-1, 2, -3}, want, 1e-12), "opposite sign")
	assert.Contains(t, Verdict("f", []float64{3, -6, 9}, want, 1e-12), "times 3:")
	// Negative control: an answer that is wrong in no recognizable way gets no hint.
	msg = Verdict("f", []float64{1, 0, 3}, want, 1e-12, m)
	assert.NotEmpty(t, msg)
	assert.False(t, strings.Contains(msg, "hint"), "no hint for an unrecognized answer: %s", msg)
}

func TestFactor(t *testing.T) {
	c, ok := Factor([]float64{0.5, 1, -1.5}, []float64{1, 2, -3})
	assert.True(t, ok)
	assert.InDelta(t, 0.5, c, 1e-15)
	_, ok = Factor([]float64{0.5, 1, -1.4}, []float64{1, 2, -3})
	assert.False(t, ok, "not one constant factor")
	_, ok = Factor([]float64{1}, []float64{0})
	assert.False(t, ok, "no factor of a zero answer")
}
