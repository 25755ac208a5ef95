package fm_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// TestPathMetadata_RoundTrip: PathFromMetadata(PathMetadata(p)) is p, with
// every parameter bit for bit (1/3 and 1e-4 need 16–17 digits), and the
// zero VP comes back as its defaults with the same schedule to the bit.
// Negative control: the recorded σ_min moved by one ulp gives another path.
// PathMetadata refuses paths it cannot write down and out-of-range values.
func TestPathMetadata_RoundTrip(t *testing.T) {
	for _, c := range []struct{ in, want fm.Path }{
		{fm.CondOT{}, fm.CondOT{}},
		{fm.CondOT{SigmaMin: 1e-4}, fm.CondOT{SigmaMin: 1e-4}},
		{fm.VE{SigmaMin: 1.0 / 3, SigmaMax: 5}, fm.VE{SigmaMin: 1.0 / 3, SigmaMax: 5}},
		{fm.VP{BetaMin: 0.05, BetaMax: 1.0 / 3}, fm.VP{BetaMin: 0.05, BetaMax: 1.0 / 3}},
		{fm.VP{}, fm.VP{BetaMin: 0.1, BetaMax: 20}},
	} {
		meta, err := fm.PathMetadata(c.in)
		require.NoError(t, err, "%#v", c.in)
		got, err := fm.PathFromMetadata(meta)
		require.NoError(t, err, "%v", meta)
		assert.Equal(t, c.want, got, "%v", meta)
		for _, tt := range []float64{0, 0.3, 0.9} {
			a, da, s, ds := c.in.(fm.AffinePath).Schedule(tt)
			b, db, r, dr := got.(fm.AffinePath).Schedule(tt)
			assert.Equal(t, [4]float64{a, da, s, ds}, [4]float64{b, db, r, dr}, "%#v at t=%g", c.in, tt)
		}
	}

	meta, err := fm.PathMetadata(fm.CondOT{SigmaMin: 1e-4})
	require.NoError(t, err)
	meta[fm.MetaSigmaMin] = safetensors.FormatFloat(math.Nextafter(1e-4, 1))
	moved, err := fm.PathFromMetadata(meta)
	require.NoError(t, err)
	assert.NotEqual(t, fm.CondOT{SigmaMin: 1e-4}, moved, "negative control: one ulp is seen")

	for _, p := range []fm.Path{fm.FuncPath{}, fm.CondOT{SigmaMin: 1}, fm.VE{SigmaMin: 2, SigmaMax: 1}, fm.VP{BetaMin: -1, BetaMax: 1}, fm.CondOT{SigmaMin: math.NaN()}} {
		_, err := fm.PathMetadata(p)
		assert.Error(t, err, "%#v", p)
	}
}

// TestPathFromMetadata_BadValues: each missing, malformed or out-of-range
// value is a *safetensors.MetadataError naming its key and the bad value.
// Negative control: the unmodified metadata of each path loads.
func TestPathFromMetadata_BadValues(t *testing.T) {
	good := map[string]map[string]string{
		"condot": {fm.MetaPath: "condot", fm.MetaSigmaMin: "0.0001"},
		"ve":     {fm.MetaPath: "ve", fm.MetaSigmaMin: "0.01", fm.MetaSigmaMax: "5"},
		"vp":     {fm.MetaPath: "vp", fm.MetaBetaMin: "0.1", fm.MetaBetaMax: "20"},
	}
	for _, meta := range good {
		_, err := fm.PathFromMetadata(meta)
		require.NoError(t, err, "negative control %v", meta)
	}
	const missing = "<missing>"
	for _, c := range []struct{ path, key, value string }{
		{"condot", fm.MetaPath, missing},
		{"condot", fm.MetaPath, "ot"},
		{"condot", fm.MetaPath, ""},
		{"condot", fm.MetaSigmaMin, missing},
		{"condot", fm.MetaSigmaMin, ""},
		{"condot", fm.MetaSigmaMin, "abc"},
		{"condot", fm.MetaSigmaMin, "1e-4x"},
		{"condot", fm.MetaSigmaMin, "NaN"},
		{"condot", fm.MetaSigmaMin, "1"},
		{"condot", fm.MetaSigmaMin, "-0.1"},
		{"ve", fm.MetaSigmaMin, "0"},
		{"ve", fm.MetaSigmaMin, "+Inf"},
		{"ve", fm.MetaSigmaMax, "0.001"},
		{"ve", fm.MetaSigmaMax, missing},
		{"vp", fm.MetaBetaMin, "-1"},
		{"vp", fm.MetaBetaMin, "1e400"},
		{"vp", fm.MetaBetaMax, "0.05"},
		{"vp", fm.MetaBetaMax, "twenty"},
	} {
		t.Run(fmt.Sprintf("%s/%s=%s", c.path, c.key, c.value), func(t *testing.T) {
			meta := map[string]string{}
			for k, v := range good[c.path] {
				meta[k] = v
			}
			if c.value == missing {
				delete(meta, c.key)
			} else {
				meta[c.key] = c.value
			}
			_, err := fm.PathFromMetadata(meta)
			var me *safetensors.MetadataError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, c.key, me.Key)
			assert.Equal(t, meta[c.key], me.Value)
			assert.Contains(t, err.Error(), fmt.Sprintf("metadata %s = %q", c.key, meta[c.key]))
		})
	}
}

// A path is recorded in a checkpoint's metadata and rebuilt from it.
func ExamplePathMetadata() {
	meta, err := fm.PathMetadata(fm.VE{SigmaMin: 0.01, SigmaMax: 5})
	fmt.Println(meta, err)
	p, err := fm.PathFromMetadata(meta)
	fmt.Printf("%#v %v\n", p, err)
	meta[fm.MetaSigmaMax] = "5O" // a typo: the letter O
	_, err = fm.PathFromMetadata(meta)
	fmt.Println(err)
	// Output:
	// map[fm.path:ve fm.sigma_max:5 fm.sigma_min:0.01] <nil>
	// fm.VE{SigmaMin:0.01, SigmaMax:5} <nil>
	// metadata fm.sigma_max = "5O": not a finite number
}
