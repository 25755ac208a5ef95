package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTutorial17 checks what the tutorial prints, on 500 samples. With
// g = 0 the SDE sampler is Euler's method on the ODE (rounding only). At
// 400 steps every sampler's −E log q(X) is within 4 standard errors
// (its own and the data's, combined) of the data's: the SDEs keep the
// marginals for every g, up to Euler–Maruyama's O(h) bias. Negative
// control: at 25 steps g = 2 is off by more than that (the bias grows with
// g²), and its error falls from 25 to 400 steps.
func TestTutorial17(t *testing.T) {
	out := t.TempDir()
	r, err := run(out, 500)
	require.NoError(t, err)
	assert.Less(t, r.ZeroIsODE, 1e-13)
	require.Len(t, r.Rows, 5)
	last := len(r.Steps) - 1
	for _, row := range r.Rows {
		tol := 4 * math.Hypot(row.SE[last], r.HSE)
		assert.InDelta(t, r.H, row.CE[last], tol, "%s at %d steps", row.Name, r.Steps[last])
	}
	g2 := r.Rows[3]
	require.Equal(t, "SDE g = 2", g2.Name)
	assert.Greater(t, g2.CE[0]-r.H, 4*math.Hypot(g2.SE[0], r.HSE), "negative control: 25 steps of g = 2")
	assert.Greater(t, g2.CE[0], g2.CE[last])
	_, err = os.Stat(filepath.Join(out, "figure.png"))
	require.NoError(t, err)
}
