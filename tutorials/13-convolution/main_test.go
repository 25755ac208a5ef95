package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTutorial13 checks what the tutorial prints.
func TestTutorial13(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Images: 16}
	r, err := run(cfg)
	require.NoError(t, err)
	require.Len(t, r.Sizes, 4)
	want := [][2]int{{28, 28}, {14, 14}, {7, 7}, {5, 5}}
	for i, s := range r.Sizes {
		assert.Equal(t, want[i], [2]int{s.OutH, s.OutW}, "%+v", s.Geom)
	}
	// Two orders of the same sums: within the derived rounding bound.
	assert.LessOrEqual(t, r.LoopErr, r.LoopBound)
	// Adjoints: two dot products of ≤ 10⁴ terms, relative error ≤ 2·10⁴·u ≈ 2e-12.
	assert.Less(t, r.AdjointErr, 2e-12)
	assert.Less(t, r.PoolUpAdjErr, 2e-12)
	// Same sums of 27 products in another order: a few ulps of values ≤ ~50.
	assert.Less(t, r.RotatedErr, 1e-12)
	// L is linear in x: central differences err by rounding only, ~u·|L|/h ≈ 1e-10 relative.
	assert.Less(t, r.CentralErr, 1e-8)
	// The unrotated kernel is a different operator (negative control).
	assert.Greater(t, r.WrongKernel, 0.1)
	require.NoError(t, r.SecondOrder)
	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
