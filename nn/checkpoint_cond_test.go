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

// FuzzLoadVelocityMLP_Context writes the tensors of a 3 → 4 → 1 network
// under fuzzed MetaSizes and MetaContext values and loads the file: the
// loader never panics, every failure is a *safetensors.Error naming the
// file, and a model that loads has input width Dim()+1+Ctx() equal to its
// first size, Classes()+1 = Ctx() for a label context, and evaluates (by
// Forward for context 0, by ForwardCond otherwise) to [n, Dim()].
func FuzzLoadVelocityMLP_Context(f *testing.F) {
	for _, s := range [][2]string{
		{"3,4,1", "vector:1"}, {"3,4,1", "label:1"}, {"3,4,1", ""}, {"2,4,1", "none"},
		{"3,4,1", "label:0"}, {"3,4,1", "vector:+1"}, {"3,4,1", "label: 1"}, {"3,4,1", "vector:1:2"},
	} {
		f.Add(s[0], s[1])
	}
	dir := f.TempDir()
	m := NewMLP([]int{3, 4, 1}, autograd.ActSiLU, newRNG(14))
	f.Fuzz(func(t *testing.T, sizes, ctx string) {
		meta := map[string]string{MetaModel: "VelocityMLP", MetaSizes: sizes, MetaActivation: "silu"}
		if ctx != "none" {
			meta[MetaContext] = ctx
		}
		path := filepath.Join(dir, "fuzz.safetensors")
		require.NoError(t, safetensors.Write(path, m.NamedParams(), meta))
		v, _, err := LoadVelocityMLP(path)
		if err != nil {
			var se *safetensors.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, path, se.Path)
			return
		}
		require.Equal(t, v.Net.Sizes()[0], v.Dim()+1+v.Ctx())
		if v.Classes() > 0 {
			require.Equal(t, v.Classes()+1, v.Ctx())
		}
		x := autograd.Zeros(2, v.Dim())
		var out *autograd.Tensor
		if v.Ctx() == 0 {
			out = v.Forward(autograd.Scalar(0.5), x)
		} else {
			out = v.ForwardCond(autograd.Scalar(0.5), x, autograd.Zeros(1, v.Ctx()))
		}
		require.Equal(t, [2]int{2, v.Dim()}, out.Shape())
	})
}
