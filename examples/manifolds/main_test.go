package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tiny run ends with the demo line (internal/manifolddemo's TestRun checks
// the run itself), also from a wrapped-normal base; an unknown data set, a
// bad count and a wrapped normal on the sphere are errors.
func TestRun(t *testing.T) {
	var out, errb bytes.Buffer
	require.NoError(t, run([]string{"-data", "torus-vonmises", "-steps", "20", "-width", "8", "-n", "50", "-batch", "32"}, &out, &errb))
	require.Contains(t, out.String(), "demo: dataset=torus-vonmises steps=20 nll=")
	require.ErrorContains(t, run([]string{"-data", "moons"}, &out, &errb), "sphere-vmf")
	require.ErrorContains(t, run([]string{"-steps", "0"}, &out, &errb), "-steps 0")
	out.Reset()
	require.NoError(t, run([]string{"-data", "torus-vonmises", "-base", "wrapped-normal:1", "-steps", "20", "-width", "8", "-n", "50", "-batch", "32"}, &out, &errb))
	require.Contains(t, out.String(), "demo: dataset=torus-vonmises steps=20 nll=")
	require.ErrorContains(t, run([]string{"-data", "sphere-vmf", "-base", "wrapped-normal:1"}, &out, &errb), "torus only")
}
