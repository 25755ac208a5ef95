package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tiny run of each data set ends with the demo line (nll, entropy, kl);
// with -out the pictures are written; an unknown data set and a bad count
// are errors.
func TestRun(t *testing.T) {
	line := regexp.MustCompile(`(?m)^demo: dataset=\S+ steps=20 nll=-?\d+\.\d{4} entropy=-?\d+\.\d{4} kl=-?\d+\.\d{4} seconds=\d+\.\d$`)
	for _, name := range []string{"sphere-vmf", "torus-vonmises"} {
		var out, errb bytes.Buffer
		dir := t.TempDir()
		require.NoError(t, run([]string{"-data", name, "-steps", "20", "-width", "8", "-n", "50", "-batch", "32", "-out", dir}, &out, &errb))
		require.Regexp(t, line, out.String())
		want := []string{"samples.png", "density.png", "data-density.png", "trajectories.png"}
		if name == "sphere-vmf" {
			want = append(want, "ortho.png")
		}
		for _, f := range want {
			st, err := os.Stat(filepath.Join(dir, f))
			require.NoError(t, err)
			require.Greater(t, st.Size(), int64(1000), f)
		}
	}
	var out, errb bytes.Buffer
	require.ErrorContains(t, run([]string{"-data", "moons"}, &out, &errb), "sphere-vmf")
	require.ErrorContains(t, run([]string{"-steps", "0"}, &out, &errb), "-steps 0")
}
