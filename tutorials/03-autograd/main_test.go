package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
)

const eps = 0x1p-52

// TestTutorial03 checks every claim the tutorial prints.
func TestTutorial03(t *testing.T) {
	cfg := Config{Out: t.TempDir()}
	r, err := run(cfg)
	require.NoError(t, err)

	// Part 1: small integers, so the engine and the hand computation agree
	// exactly.
	assert.Equal(t, []float64{-6, -4, 16}, []float64{r.U, r.V, r.L})
	assert.Equal(t, 16.0, r.HandA)
	assert.Equal(t, -16.0, r.HandB)
	assert.Equal(t, r.HandA, r.EngineA, "∂L/∂a: got %v want %v", r.EngineA, r.HandA)
	assert.Equal(t, r.HandB, r.EngineB, "∂L/∂b: got %v want %v", r.EngineB, r.HandB)

	// Part 2: the diamond agrees with the product rule to rounding (a few
	// operations on numbers of size ≤ 3); the one-path answer does not.
	tol := 16 * eps * 3
	assert.InDelta(t, r.DiamondWant, r.DiamondGot, tol, "diamond: got %v want %v (tol %g)", r.DiamondGot, r.DiamondWant, tol)
	assert.Greater(t, math.Abs(r.DiamondOnePath-r.DiamondWant), 100*tol, "negative control: one path gave the right answer")
	assert.Equal(t, []float64{4, 8, 4}, []float64{r.GradOnce, r.GradTwice, r.GradAfterZero})

	// Part 3: GradCheck passes the right backward and the library's SiLU,
	// and reports the wrong one as a *GradCheckError (negative control).
	assert.NoError(t, r.CheckRight)
	assert.NoError(t, r.CheckLibrary)
	var gce *ag.GradCheckError
	assert.True(t, errors.As(r.CheckWrong, &gce), "the wrong backward was not caught: %v", r.CheckWrong)

	// Part 4: second derivatives to rounding; the values are ≤ 1 in size and
	// each comes from ~10 operations.
	assert.Less(t, r.SecondMaxErr, 64*eps, "tanh″: got max error %g", r.SecondMaxErr)
	assert.NoError(t, r.CheckSecond)
	assert.Less(t, r.DivergenceTrainedErr, 64*eps, "∂(div v)/∂w: error %g", r.DivergenceTrainedErr)

	_, err = os.Stat(filepath.Join(cfg.Out, "silu-derivatives.png"))
	require.NoError(t, err)
}
