package nn

import (
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckpoint_ModelRoundTrip: SaveVelocityMLP/LoadVelocityMLP and
// SaveMLP/LoadMLP restore architecture and weights exactly (same outputs,
// bit for bit) and the extra metadata; loading the wrong kind and reserved
// extra keys are errors.
func TestCheckpoint_ModelRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rng := newRNG(11)
	v := NewVelocityMLP(2, []int{16, 8}, autograd.ActTanh, rng)
	path := filepath.Join(dir, "v.safetensors")
	require.NoError(t, SaveVelocityMLP(path, v, map[string]string{"steps": "5000"}))
	got, meta, err := LoadVelocityMLP(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"steps": "5000"}, meta)
	assert.Equal(t, 2, got.Dim())
	assert.Equal(t, v.Net.Sizes(), got.Net.Sizes())
	assert.Equal(t, autograd.ActTanh, got.Net.Activation())
	x := autograd.Normal(5, 2, 0, 1, rng)
	tt := autograd.Uniform(5, 1, 0, 1, rng)
	assert.Equal(t, v.Forward(tt, x).Data, got.Forward(tt, x).Data)
	for _, p := range got.Params() {
		assert.True(t, p.RequiresGrad(), "a loaded model can be trained further")
	}

	m := NewMLP([]int{3, 4, 1}, autograd.ActELU, rng)
	mpath := filepath.Join(dir, "m.safetensors")
	require.NoError(t, SaveMLP(mpath, m, nil))
	gm, meta, err := LoadMLP(mpath)
	require.NoError(t, err)
	assert.Empty(t, meta)
	xm := autograd.Normal(2, 3, 0, 1, rng)
	assert.Equal(t, m.Forward(xm).Data, gm.Forward(xm).Data)

	_, _, err = LoadVelocityMLP(mpath)
	require.ErrorContains(t, err, `metadata nn.model = "MLP": want "VelocityMLP"`)
	_, _, err = LoadMLP(path)
	require.ErrorContains(t, err, `want "MLP"`)
	err = SaveMLP(mpath, m, map[string]string{MetaSizes: "1"})
	require.ErrorContains(t, err, "reserved")
	var se *safetensors.Error
	require.ErrorAs(t, err, &se)
}

// TestCheckpoint_BadMetadata: an architecture value that is missing, does
// not parse, or contradicts the tensors is a *safetensors.Error naming the
// file, with a *safetensors.MetadataError naming the key and the bad value;
// absurd sizes are caught before anything is allocated; so is a
// MetaContext that does not parse or contradicts MetaSizes. Negative
// control: the same tensors with the right metadata load.
func TestCheckpoint_BadMetadata(t *testing.T) {
	dir := t.TempDir()
	m := NewMLP([]int{3, 4, 1}, autograd.ActELU, newRNG(12))
	write := func(name string, meta map[string]string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, safetensors.Write(path, m.NamedParams(), meta))
		return path
	}
	good := map[string]string{MetaModel: "MLP", MetaSizes: "3,4,1", MetaActivation: "elu"}
	_, _, err := LoadMLP(write("good", good))
	require.NoError(t, err, "negative control")

	for _, c := range []struct{ key, value, want string }{
		{MetaModel, "", `want "MLP"`},
		{MetaModel, "Transformer", `want "MLP"`},
		{MetaActivation, "gelu", "not a known activation"},
		{MetaActivation, "", "not a known activation"},
		{MetaSizes, "", "not a list of positive sizes"},
		{MetaSizes, "3,x,1", "not a list of positive sizes"},
		{MetaSizes, "3,-4,1", "not a list of positive sizes"},
		{MetaSizes, "3", "needs at least two sizes"},
	} {
		meta := map[string]string{}
		for k, v := range good {
			meta[k] = v
		}
		meta[c.key] = c.value
		path := write("bad", meta)
		_, _, err := LoadMLP(path)
		var se *safetensors.Error
		require.ErrorAs(t, err, &se, "%s = %q", c.key, c.value)
		assert.Equal(t, path, se.Path)
		var me *safetensors.MetadataError
		require.ErrorAs(t, err, &me, "%s = %q", c.key, c.value)
		assert.Equal(t, c.key, me.Key)
		assert.Equal(t, c.value, me.Value)
		assert.Contains(t, err.Error(), c.want)
	}

	// Sizes that parse but contradict the tensors (or ask for absurd
	// memory) fail the shape check before anything is allocated.
	for _, sizes := range []string{"3,5,1", "3,4", "1000000000,1000000000,1"} {
		path := write("contradicts", map[string]string{MetaModel: "MLP", MetaSizes: sizes, MetaActivation: "elu"})
		_, _, err := LoadMLP(path)
		require.ErrorContains(t, err, "tensors do not match", sizes)
		assert.Contains(t, err.Error(), path)
	}
	nonVel := write("nonvel", map[string]string{MetaModel: "VelocityMLP", MetaSizes: "3,4,1", MetaActivation: "elu"})
	_, _, err = LoadVelocityMLP(nonVel)
	require.ErrorContains(t, err, `metadata nn.sizes = "3,4,1": a velocity field on ℝ^1 needs 2 inputs`)

	// The context of a conditional VelocityMLP (MetaContext): 3 inputs for
	// 1 output is x, t and one context column, so "vector:1" loads (the
	// negative control) and every bad value names the file, key and value.
	vel := map[string]string{MetaModel: "VelocityMLP", MetaSizes: "3,4,1", MetaActivation: "elu"}
	withCtx := func(v string) map[string]string {
		meta := map[string]string{MetaContext: v}
		for k, v := range vel {
			meta[k] = v
		}
		return meta
	}
	vm, _, err := LoadVelocityMLP(write("vector1", withCtx("vector:1")))
	require.NoError(t, err, "negative control")
	assert.Equal(t, 1, vm.Ctx())
	for _, c := range []struct{ value, want string }{
		{"", `want "label:K" or "vector:k"`},
		{"label", `want "label:K" or "vector:k"`},
		{"vector:0", "positive count"},
		{"vector:-3", "positive count"},
		{"image:1", `want "label:K" or "vector:k"`},
		{"vector:2", "context width 2 needs 4 inputs"},
		{"label:1", "context width 2 needs 4 inputs"},
		{"vector:99999999999999999999", "positive count"},
		{"vector:+1", "positive count"},
		{"vector:01", "positive count"},
	} {
		path := write("badctx", withCtx(c.value))
		_, _, err := LoadVelocityMLP(path)
		var se *safetensors.Error
		require.ErrorAs(t, err, &se, "%q", c.value)
		assert.Equal(t, path, se.Path)
		var me *safetensors.MetadataError
		require.ErrorAs(t, err, &me, "%q", c.value)
		assert.Equal(t, MetaContext, me.Key)
		assert.Equal(t, c.value, me.Value)
		assert.Contains(t, err.Error(), c.want)
	}
}
