package discrete

import (
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
	"github.com/stretchr/testify/require"
)

// TestCheckpoint_RoundTrip saves and loads a PosteriorMLP and checks that
// the path and the logits are identical; a file whose scheduler metadata
// is changed fails to load, naming the key, and a plain MLP file is not a
// PosteriorMLP (negative controls).
func TestCheckpoint_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []Path{
		{Sched: Cosine{}, Source: Mask, V: 5, D: 3},
		{Sched: Polynomial{N: 1.5}, Source: Uniform, V: 4, D: 2},
	} {
		m := NewPosteriorMLP(p, 3, []int{8}, autograd.ActTanh, newRNG(13))
		file := filepath.Join(dir, "m.safetensors")
		require.NoError(t, SavePosteriorMLP(file, m, map[string]string{"flowmatch.data": "toy"}))
		got, meta, err := LoadPosteriorMLP(file)
		require.NoError(t, err)
		require.Equal(t, "toy", meta["flowmatch.data"])
		require.Equal(t, p, got.Path)
		x := SpaceOf(p).All()
		tt := autograd.Full(len(x), 1, 0.3)
		require.Equal(t, m.Forward(tt, x).Data, got.Forward(tt, x).Data)

		f, err := safetensors.Read(file)
		require.NoError(t, err)
		f.Metadata[MetaScheduler] = "quadratic"
		var ts []safetensors.Named
		for _, n := range f.Names {
			ts = append(ts, safetensors.Named{Name: n, T: f.Tensors[n]})
		}
		require.NoError(t, safetensors.Write(file, ts, f.Metadata))
		_, _, err = LoadPosteriorMLP(file)
		require.ErrorContains(t, err, MetaScheduler)
	}
	plain := filepath.Join(dir, "mlp.safetensors")
	require.NoError(t, nn.SaveMLP(plain, nn.NewMLP([]int{2, 3}, autograd.ActSiLU, newRNG(14)), nil))
	_, _, err := LoadPosteriorMLP(plain)
	require.ErrorContains(t, err, MetaModel)
}
