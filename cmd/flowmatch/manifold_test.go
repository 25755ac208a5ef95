package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm/riemann"
	"github.com/flowmatch/flowmatch/internal/manifolddemo"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// TestDemo_Manifold: demo -data sphere-vmf trains on the sphere, ends with
// the demo line and writes report.json (kl = nll − H) and the pictures; a
// bad count is an error (TestCommands_Forms checks the routing).
func TestDemo_Manifold(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustRun(t, "demo", "-data", "sphere-vmf", "-steps", "20", "-batch", "32", "-width", "8", "-n", "50", "-out", dir)
	require.Contains(t, out, "demo: dataset=sphere-vmf steps=20 nll=")
	var r manifolddemo.Report
	readJSON(t, filepath.Join(dir, "report.json"), &r)
	require.InDelta(t, r.NLL-r.Entropy, r.KL, 1e-12)
	require.Less(t, r.SphereDrift, 1e-12)
	for _, f := range []string{"samples.png", "density.png", "data-density.png", "trajectories.png", "ortho.png", "model.safetensors"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
	}
	mustFail(t, 2, "-steps 0: want 1 to 100000000", "demo", "-data", "sphere-vmf", "-steps", "0", "-out", dir)
}

// TestDatasets_ListsManifolds checks that datasets lists the manifold data
// sets with their exact entropies.
func TestDatasets_ListsManifolds(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"datasets"}, &out, &errb), "stderr: %s", errb.String())
	require.Contains(t, out.String(), "sphere-vmf           on the sphere H = 1.2892 nats (exact; uniform: 2.5310)")
	require.Contains(t, out.String(), "torus-checkerboard   on the torus  H = 2.9826 nats (exact; uniform: 3.6758)")
}

// TestManifoldCommands: on each manifold a tiny train → sample → loglik →
// plot. train writes a riemann checkpoint (the manifold and the base in its
// metadata); sample writes points on the manifold (on S² |‖x‖ − 1| ≤
// 1e-12, on T² angles in [0, 2π)); loglik reports nll, entropy and kl with
// the Riemannian likelihood from the checkpoint's base (its per-point values
// equal riemann.LogLikelihoodFrom's; the uniform base is the negative
// control); plot draws the equal-area map or the periodic square. Flags that do not apply on a manifold, a wrapped normal on the
// sphere, a data set of the other manifold and a Euclidean checkpoint are
// clear errors.
func TestManifoldCommands(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ data, base string }{{"sphere-vmf", "uniform"}, {"torus-vonmises", "wrapped-normal:1"}} {
		r := newTrip(t, dir, c.data)
		ckpt, pts := r.ckpt, r.samples
		out, _ := r.run("train", "-data", c.data, "-base", c.base, "-steps", "20", "-batch", "32", "-hidden", "8,8")
		require.Contains(t, out, "train: "+c.data)
		f, err := safetensors.Read(ckpt)
		require.NoError(t, err)
		require.Equal(t, c.base, f.Metadata[riemann.MetaBase])
		require.Equal(t, map[string]string{"sphere-vmf": "sphere:2", "torus-vonmises": "torus:2"}[c.data], f.Metadata[riemann.MetaManifold])

		out, _ = r.run("sample", "-n", "200")
		require.Contains(t, out, "sample: wrote 200 points")
		x, err := data.ReadCSV(pts)
		require.NoError(t, err)
		require.Equal(t, 200, x.Rows)
		for i := 0; i < x.Rows; i++ {
			r := x.Row(i)
			if c.data == "sphere-vmf" {
				require.InDelta(t, 1, math.Sqrt(r[0]*r[0]+r[1]*r[1]+r[2]*r[2]), 1e-12, "row %d", i)
			} else {
				for _, a := range r {
					require.True(t, a >= 0 && a < 2*math.Pi, "row %d: %v", i, r)
				}
			}
		}
		out, _ = r.run("loglik", "-data", c.data, "-n", "20")
		require.Regexp(t, `loglik: n=20 nll=-?\d+\.\d{4}±\d+\.\d{4} nats on \w+:2, base `+c.base+` .* entropy=\d\.\d{4} kl=-?\d+\.\d{4}`, out)
		lpFile := filepath.Join(dir, c.data+"-logp.csv")
		out, _ = r.run("loglik", "-data", pts, "-n", "0", "-out", lpFile)
		require.Contains(t, out, "n=200 ")
		require.Contains(t, out, "no KL")
		// The command's log p₁ is the library's from the checkpoint's base
		// (one batch, the same solver; to 1e-12 because the command
		// re-normalizes the sphere's rows, a change of a rounding); scored
		// from the uniform base instead, the wrapped-normal model's values
		// differ.
		lp, err := data.ReadCSV(lpFile)
		require.NoError(t, err)
		ck, _, err := riemann.LoadCheckpoint(ckpt)
		require.NoError(t, err)
		opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-5, ATol: 1e-5, MaxSteps: 100000}
		want, _, err := riemann.LogLikelihoodFrom(ck.M, ck.Base, ck.Field(), x.NoGraph(), nil, opts)
		require.NoError(t, err)
		uni, _, err := riemann.LogLikelihoodFrom(ck.M, riemann.Uniform{M: ck.M}, ck.Field(), x.NoGraph(), nil, opts)
		require.NoError(t, err)
		worst := 0.0
		for i := 0; i < x.Rows; i++ {
			require.InDelta(t, want.LogP1.Data[i], lp.At(i, x.Cols), 1e-12, "row %d", i)
			worst = math.Max(worst, math.Abs(uni.LogP1.Data[i]-lp.At(i, x.Cols)))
		}
		if c.base != "uniform" {
			require.Greater(t, worst, 0.1, "negative control: the uniform base")
		}
		out, _ = r.run("plot", "-n", "50")
		for _, f := range []string{"samples.png", "density.png", "data-density.png", "trajectories.png"} {
			require.Contains(t, out, filepath.Join(r.plots, f))
		}
		mustFail(t, 2, "-sde 1: does not apply on a manifold", "sample", "-checkpoint", ckpt, "-sde", "1", "-out", pts)
		mustFail(t, 2, `-solver "dopri5": want rk4 or euler`, "sample", "-checkpoint", ckpt, "-solver", "dopri5", "-out", pts)
	}
	ckpt := filepath.Join(dir, "x.safetensors")
	mustFail(t, 2, "-path vp: does not apply on a manifold: the conditional path is the geodesic", "train", "-data", "sphere-vmf", "-path", "vp", "-out", ckpt)
	mustFail(t, 2, "-coupling ot: does not apply on a manifold", "train", "-data", "torus-vonmises", "-coupling", "ot", "-out", ckpt)
	mustFail(t, 2, "-base: base \"wrapped-normal:1\": the wrapped normal is a base on the torus only", "train", "-data", "sphere-vmf", "-base", "wrapped-normal:1", "-out", ckpt)
	mustFail(t, 2, "-base: base \"gauss\": want uniform or wrapped-normal:σ", "demo", "-data", "torus-vonmises", "-base", "gauss", "-out", dir)
	mustFail(t, 1, "-data torus-vonmises lives on torus:2 but the model on sphere:2", "loglik", "-checkpoint", filepath.Join(dir, "sphere-vmf.safetensors"), "-data", "torus-vonmises")
	euclid := filepath.Join(dir, "euclid.safetensors")
	require.NoError(t, nn.SaveVelocityMLP(euclid, nn.NewVelocityMLP(2, []int{4}, autograd.ActSiLU, newRand(0, 1)), nil))
	mustFail(t, 1, `metadata riemann.manifold = "": missing: not a manifold checkpoint`, "loglik", "-checkpoint", euclid, "-data", "sphere-vmf")
	require.False(t, manifoldCheckpointArg([]string{"-checkpoint", euclid}))
	require.True(t, manifoldCheckpointArg([]string{"--checkpoint=" + filepath.Join(dir, "sphere-vmf.safetensors")}))
}
