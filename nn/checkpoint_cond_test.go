package nn

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// TestCheckpoint_CondRoundTrip: a label-conditioned and a vector-conditioned
// VelocityMLP come back with their context (Ctx, Classes, and MetaContext
// "label:K" or "vector:k" in the file, not in the returned extra metadata)
// and the same outputs bit for bit; an unconditional model writes no
// MetaContext (so older files, which have none, load with context 0);
// MetaContext is reserved in extra metadata.
func TestCheckpoint_CondRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rng := newRNG(13)
	for _, c := range []struct {
		m       *VelocityMLP
		meta    string
		classes int
	}{
		{NewLabelVelocityMLP(3, 10, []int{8}, autograd.ActSiLU, rng), "label:10", 10},
		{NewCondVelocityMLP(3, 4, []int{8}, autograd.ActTanh, rng), "vector:4", 0},
	} {
		path := filepath.Join(dir, "c.safetensors")
		require.NoError(t, SaveVelocityMLP(path, c.m, map[string]string{"steps": "7"}))
		f, err := safetensors.Read(path)
		require.NoError(t, err)
		assert.Equal(t, c.meta, f.Metadata[MetaContext])
		got, meta, err := LoadVelocityMLP(path)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"steps": "7"}, meta)
		assert.Equal(t, c.m.Ctx(), got.Ctx())
		assert.Equal(t, c.classes, got.Classes())
		x := autograd.Normal(4, 3, 0, 1, rng)
		ctx := autograd.Normal(4, c.m.Ctx(), 0, 1, rng)
		assert.Equal(t, c.m.ForwardCond(autograd.Scalar(0.2), x, ctx).Data, got.ForwardCond(autograd.Scalar(0.2), x, ctx).Data)
	}
	u := NewVelocityMLP(2, []int{4}, autograd.ActSiLU, rng)
	path := filepath.Join(dir, "u.safetensors")
	require.NoError(t, SaveVelocityMLP(path, u, nil))
	f, err := safetensors.Read(path)
	require.NoError(t, err)
	assert.NotContains(t, f.Metadata, MetaContext)
	got, _, err := LoadVelocityMLP(path)
	require.NoError(t, err)
	assert.Zero(t, got.Ctx())
	require.ErrorContains(t, SaveVelocityMLP(path, u, map[string]string{MetaContext: "label:3"}), "reserved")
}
