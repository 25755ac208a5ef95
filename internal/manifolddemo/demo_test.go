package manifolddemo

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tiny run of each manifold data set ends with the demo line, fills the
// report and writes its pictures; an unknown data set is an error.
func TestRun(t *testing.T) {
	line := regexp.MustCompile(`(?m)^demo: dataset=\S+ steps=20 nll=-?\d+\.\d{4} entropy=-?\d+\.\d{4} kl=-?\d+\.\d{4} seconds=\d+\.\d$`)
	for _, name := range []string{"sphere-vmf", "torus-vonmises"} {
		var out, errb bytes.Buffer
		r, err := Run(Config{Data: name, Steps: 20, Batch: 32, Width: 8, N: 50, Out: t.TempDir()}, &out, &errb)
		require.NoError(t, err)
		require.Regexp(t, line, out.String())
		require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
		want := 4
		if name == "sphere-vmf" {
			want = 5
			require.Less(t, r.SphereDrift, 1e-12)
		}
		require.Len(t, r.Files, want)
		for _, f := range r.Files {
			st, err := os.Stat(f)
			require.NoError(t, err)
			require.Greater(t, st.Size(), int64(1000), f)
		}
	}
	_, err := Run(Config{Data: "moons", Steps: 1, Batch: 1, Width: 1, N: 2}, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "sphere-vmf")
}
