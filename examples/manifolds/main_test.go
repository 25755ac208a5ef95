package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tiny run ends with the demo line (internal/manifolddemo's TestRun checks
// the run itself); an unknown data set and a bad count are errors.
func TestRun(t *testing.T) {
	var out, errb bytes.Buffer
	require.NoError(t, run([]string{"-data", "torus-vonmises", "-steps", "20", "-width", "8", "-n", "50", "-batch", "32"}, &out, &errb))
	require.Contains(t, out.String(), "demo: dataset=torus-vonmises steps=20 nll=")
	require.ErrorContains(t, run([]string{"-data", "moons"}, &out, &errb), "sphere-vmf")
	require.ErrorContains(t, run([]string{"-steps", "0"}, &out, &errb), "-steps 0")
}
