package riemann

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// A sphere checkpoint (VelocityMLP, uniform base) and a torus checkpoint
// (TorusMLP, wrapped-normal base) load back to the same manifold, base and
// field, bit for bit, with the extra metadata. A model that does not fit
// its manifold panics with a *autograd.MisuseError. Negative control: a
// model with other weights gives another field.
func TestCheckpoint_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	x := map[string]*autograd.Tensor{
		"sphere": Sphere{D: 2}.Uniform(7, newRNG(1)),
		"torus":  Torus{D: 2}.Uniform(7, newRNG(2)),
	}
	for _, c := range []Checkpoint{
		{M: Sphere{D: 2}, Base: Uniform{M: Sphere{D: 2}}, Model: nn.NewVelocityMLP(3, []int{8, 8}, autograd.ActSiLU, newRNG(3))},
		{M: Torus{D: 2}, Base: NewWrappedNormal(2, 0.7), Model: NewTorusMLP(2, []int{8}, autograd.ActTanh, newRNG(4))},
	} {
		file := filepath.Join(dir, c.M.Name()+".safetensors")
		require.NoError(t, SaveCheckpoint(file, c, map[string]string{"flowmatch.data": "x"}))
		got, meta, err := LoadCheckpoint(file)
		require.NoError(t, err)
		require.Equal(t, "x", meta["flowmatch.data"])
		require.Equal(t, ManifoldSpec(c.M), ManifoldSpec(got.M))
		require.Equal(t, c.Base.String(), got.Base.String())
		require.Equal(t, c.Base.LogDensity([]float64{1, 2, 0}[:c.M.Ambient()]), got.Base.LogDensity([]float64{1, 2, 0}[:c.M.Ambient()]))
		xs := x[c.M.Name()]
		want, have := c.Field()(0.3, xs), got.Field()(0.3, xs)
		require.Equal(t, want.Data, have.Data, "%s: the loaded field", c.M.Name())
		other := NewTorusMLP(2, []int{8}, autograd.ActTanh, newRNG(5))
		if c.M.Name() == "sphere" {
			other := Checkpoint{M: c.M, Base: c.Base, Model: nn.NewVelocityMLP(3, []int{8, 8}, autograd.ActSiLU, newRNG(6))}
			require.NotEqual(t, want.Data, other.Field()(0.3, xs).Data, "negative control")
		} else {
			require.NotEqual(t, want.Data, Checkpoint{M: c.M, Base: c.Base, Model: other}.Field()(0.3, xs).Data, "negative control")
		}
	}
	var me *autograd.MisuseError
	func() {
		defer func() { require.ErrorAs(t, recover().(error), &me) }()
		_ = SaveCheckpoint(filepath.Join(dir, "bad.safetensors"), Checkpoint{M: Torus{D: 2}, Base: Uniform{M: Torus{D: 2}},
			Model: nn.NewVelocityMLP(2, []int{4}, autograd.ActSiLU, newRNG(7))}, nil)
	}()
	require.Equal(t, "riemann.SaveCheckpoint", me.Op)
}

// Corrupt metadata are errors naming the file, the key and the value: a
// missing manifold (a Euclidean checkpoint), a manifold that does not
// parse or does not fit the network, a missing, empty or unknown base, and
// a wrapped normal on the sphere.
func TestCheckpoint_BadMetadata(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "torus.safetensors")
	require.NoError(t, SaveCheckpoint(good, Checkpoint{M: Torus{D: 2}, Base: Uniform{M: Torus{D: 2}}, Model: NewTorusMLP(2, []int{4}, autograd.ActSiLU, newRNG(1))}, nil))
	sphere := filepath.Join(dir, "sphere.safetensors")
	require.NoError(t, SaveCheckpoint(sphere, Checkpoint{M: Sphere{D: 2}, Base: Uniform{M: Sphere{D: 2}}, Model: nn.NewVelocityMLP(3, []int{4}, autograd.ActSiLU, newRNG(2))}, nil))
	euclid := filepath.Join(dir, "euclid.safetensors")
	require.NoError(t, nn.SaveVelocityMLP(euclid, nn.NewVelocityMLP(2, []int{4}, autograd.ActSiLU, newRNG(3)), nil))
	rewrite := func(src, name string, edit func(map[string]string)) string {
		f, err := safetensors.Read(src)
		require.NoError(t, err)
		var ts []safetensors.Named
		for _, n := range f.Names {
			ts = append(ts, safetensors.Named{Name: n, T: f.Tensors[n]})
		}
		edit(f.Metadata)
		out := filepath.Join(dir, name+".safetensors")
		require.NoError(t, safetensors.Write(out, ts, f.Metadata))
		return out
	}
	for _, c := range []struct {
		file, key, value string
	}{
		{euclid, MetaManifold, ""},
		{rewrite(good, "m1", func(m map[string]string) { m[MetaManifold] = "torus:x" }), MetaManifold, "torus:x"},
		{rewrite(good, "m2", func(m map[string]string) { m[MetaManifold] = "cylinder:2" }), MetaManifold, "cylinder:2"},
		{rewrite(good, "m3", func(m map[string]string) { m[MetaManifold] = "torus:3" }), MetaManifold, "torus:3"},
		{rewrite(sphere, "m4", func(m map[string]string) { m[MetaManifold] = "sphere:3" }), MetaManifold, "sphere:3"},
		{rewrite(good, "b1", func(m map[string]string) { delete(m, MetaBase) }), MetaBase, ""},
		{rewrite(good, "b2", func(m map[string]string) { m[MetaBase] = "" }), MetaBase, ""},
		{rewrite(good, "b3", func(m map[string]string) { m[MetaBase] = "wrapped-normal:-1" }), MetaBase, "wrapped-normal:-1"},
		{rewrite(sphere, "b4", func(m map[string]string) { m[MetaBase] = "wrapped-normal:1" }), MetaBase, "wrapped-normal:1"},
	} {
		_, _, err := LoadCheckpoint(c.file)
		require.Error(t, err, "%s", c.file)
		var se *safetensors.Error
		require.ErrorAs(t, err, &se)
		require.Equal(t, c.file, se.Path)
		var me *safetensors.MetadataError
		require.True(t, errors.As(err, &me), "%v", err)
		require.Equal(t, c.key, me.Key, "%v", err)
		require.Equal(t, c.value, me.Value, "%v", err)
		t.Log(err)
	}
	// A sphere checkpoint whose network is not a VelocityMLP's.
	_, _, err := LoadCheckpoint(rewrite(good, "k1", func(m map[string]string) { m[MetaManifold] = "sphere:2" }))
	require.ErrorContains(t, err, nn.MetaModel)
}
