package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// call runs the command line and returns its exit code, stdout and stderr.
func call(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDemo_Small(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := call("demo", "-out", dir, "-steps", "30", "-n", "64", "-grid", "8")
	require.Equal(t, 0, code, errs)
	last := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	require.Regexp(t, regexp.MustCompile(`^demo: dataset=8gaussians steps=30 nll=[-0-9.]+ entropy=2\.83[0-9]+ kl=[-0-9.]+ w2=[0-9.]+ seconds=[0-9.]+$`), last)
	for _, f := range []string{"model.safetensors", "report.json", "report.md", "samples.png", "trajectories.png", "density.png", "loss.png", "field_t050.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Positive(t, st.Size(), f)
	}
	var r demoReport
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r))
	require.Equal(t, 30, r.Steps)
	require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
}

func TestTrainSampleLoglikPlot_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.safetensors")
	code, _, errs := call("train", "-data", "moons", "-hidden", "16,16", "-steps", "20", "-batch", "32", "-out", ckpt)
	require.Equal(t, 0, code, errs)

	samples := filepath.Join(dir, "s.csv")
	code, _, errs = call("sample", "-checkpoint", ckpt, "-n", "50", "-ode-steps", "10", "-out", samples)
	require.Equal(t, 0, code, errs)
	b, err := os.ReadFile(samples)
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSpace(string(b)), "\n"), 50)

	npy := filepath.Join(dir, "s.npy")
	code, _, errs = call("sample", "-checkpoint", ckpt, "-n", "20", "-solver", "euler", "-ode-steps", "5", "-out", npy)
	require.Equal(t, 0, code, errs)

	code, out, errs := call("loglik", "-checkpoint", ckpt, "-data", samples, "-solver", "rk4", "-ode-steps", "10", "-out", filepath.Join(dir, "lp.csv"))
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "loglik: n=50 nll=")
	code, out, errs = call("loglik", "-checkpoint", ckpt, "-data", "moons", "-n", "40", "-solver", "rk4", "-ode-steps", "10")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "kl=", "a built-in dataset with a known entropy gives the KL")

	code, out, errs = call("plot", "-checkpoint", ckpt, "-n", "40", "-grid", "6", "-out", filepath.Join(dir, "pics"), "-format", "svg", "-times", "0.25,0.75")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "samples.svg")
	require.Contains(t, out, "field_t025.svg")
	code, _, errs = call("plot", "-checkpoint", ckpt, "-out", dir, "-times", "2")
	require.Equal(t, 2, code)
	require.Contains(t, errs, `-times "2"`)
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage: flowmatch <command>"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"train"}, 2, "missing required flag(s) -out"},
		{[]string{"train", "-out", "x.safetensors", "-path", "bogus"}, 2, `-path "bogus": want condot, ve or vp`},
		{[]string{"train", "-out", "x.safetensors", "-data", "nosuchset"}, 1, "nosuchset"},
		{[]string{"sample", "-checkpoint", "/nonexistent/m.safetensors", "-out", "s.csv"}, 1, "/nonexistent/m.safetensors"},
		{[]string{"sample", "-checkpoint", "m", "-out", "s.csv", "-solver", "rk5"}, 2, `-solver "rk5"`},
		{[]string{"bench", "-what", "dance"}, 2, `-what "dance"`},
		{[]string{"demo", "stray"}, 2, `unexpected argument "stray"`},
	} {
		code, _, errs := call(c.args...)
		require.Equal(t, c.code, code, "%v: %s", c.args, errs)
		require.Contains(t, errs, c.want, "%v", c.args)
	}
	code, _, errs := call("train", "-h")
	require.Equal(t, 0, code)
	require.Contains(t, errs, "-coupling")
}
