package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseActivation(t *testing.T) {
	for _, a := range Activations() {
		got, err := ParseActivation(" " + string(a) + " ")
		require.NoError(t, err)
		assert.Equal(t, a, got)
		x := FromSlice(1, 3, []float64{-1, 0.5, 2})
		assert.Len(t, a.Apply(x).Data, 3)
	}
	got, err := ParseActivation("SiLU")
	require.NoError(t, err)
	assert.Equal(t, ActSiLU, got)
	_, err = ParseActivation("gelu")
	require.ErrorContains(t, err, `"gelu"`)
	require.ErrorContains(t, err, "silu")
	assert.Panics(t, func() { Activation("gelu").Apply(Zeros(1, 1)) })
	// Values at a point, against the formulas of the constants' comment.
	x := 0.7
	want := map[Activation]float64{
		ActSiLU: x / (1 + math.Exp(-x)), ActTanh: math.Tanh(x), ActReLU: x,
		ActELU: x, ActSoftplus: math.Log1p(math.Exp(x)),
	}
	for a, w := range want {
		assert.InDelta(t, w, a.Apply(Scalar(x)).Item(), 4*epsilon, fmt.Sprint(a))
	}
	assert.InDelta(t, math.Expm1(-0.7), ActELU.Apply(Scalar(-0.7)).Item(), 4*epsilon)
	assert.Zero(t, ActReLU.Apply(Scalar(-0.7)).Item())
}

// epsilon is the float64 machine epsilon, 2⁻⁵².
const epsilon = 0x1p-52
