package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// TestLoadModel_CorruptCheckpoint: a checkpoint whose metadata value is
// missing, does not parse or is out of range (path keys and architecture
// keys alike) is an error naming the file, the key and the bad value, from
// loadModel and from the command (exit code 1, no output written); so are a
// truncated file and a checkpoint of an older flowmatch. Negative control:
// the uncorrupted checkpoint loads with its path and data.
func TestLoadModel_CorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	m := nn.NewVelocityMLP(2, []int{8}, ag.ActSiLU, rand.New(rand.NewPCG(1, 2)))
	meta, err := pathMeta(pathSpec{Name: "ve", SigmaMin: 0.01, SigmaMax: 5}, "moons")
	require.NoError(t, err)
	good := filepath.Join(dir, "good.safetensors")
	require.NoError(t, nn.SaveVelocityMLP(good, m, meta))
	f, err := safetensors.Read(good)
	require.NoError(t, err)
	full := f.Metadata // the model's, the path's and the command's keys

	_, p, gotMeta, err := loadModel(good)
	require.NoError(t, err, "negative control")
	assert.Equal(t, fm.VE{SigmaMin: 0.01, SigmaMax: 5}, p)
	assert.Equal(t, "moons", gotMeta[metaData])

	write := func(name string, edit func(map[string]string)) string {
		meta := map[string]string{}
		for k, v := range full {
			meta[k] = v
		}
		edit(meta)
		path := filepath.Join(dir, name+".safetensors")
		require.NoError(t, safetensors.Write(path, m.NamedParams(), meta))
		return path
	}
	const missing = "<missing>"
	for i, c := range []struct{ key, value string }{
		{fm.MetaSigmaMin, "abc"},
		{fm.MetaSigmaMin, "0,01"},
		{fm.MetaSigmaMax, ""},
		{fm.MetaSigmaMax, "0.001"},
		{fm.MetaSigmaMax, missing},
		{fm.MetaPath, "warp"},
		{fm.MetaPath, missing},
		{nn.MetaSizes, "3,x,2"},
		{nn.MetaActivation, "gelu"},
		{nn.MetaModel, "MLP"},
	} {
		t.Run(fmt.Sprintf("%s=%s", c.key, c.value), func(t *testing.T) {
			path := write(fmt.Sprint("bad", i), func(meta map[string]string) {
				if c.value == missing {
					delete(meta, c.key)
				} else {
					meta[c.key] = c.value
				}
			})
			value := c.value
			if value == missing {
				value = ""
			}
			want := fmt.Sprintf("metadata %s = %q", c.key, value)
			_, _, _, err := loadModel(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), want)

			out := filepath.Join(dir, fmt.Sprint("samples", i, ".csv"))
			var stdout, stderr bytes.Buffer
			code := run([]string{"sample", "-checkpoint", path, "-n", "5", "-out", out}, &stdout, &stderr)
			assert.Equal(t, 1, code, stderr.String())
			assert.Contains(t, stderr.String(), path)
			assert.Contains(t, stderr.String(), want)
			assert.NoFileExists(t, out)
		})
	}

	b, err := os.ReadFile(good)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.safetensors")
	require.NoError(t, os.WriteFile(truncated, b[:len(b)-5], 0o644))
	_, _, _, err = loadModel(truncated)
	require.ErrorContains(t, err, truncated)

	old := write("old", func(meta map[string]string) {
		for _, k := range []string{fm.MetaPath, fm.MetaSigmaMin, fm.MetaSigmaMax} {
			delete(meta, k)
		}
		meta["flowmatch.path"], meta["flowmatch.sigma_min"] = "condot", "0.0001"
	})
	_, _, _, err = loadModel(old)
	require.ErrorContains(t, err, `older flowmatch, which recorded the path as flowmatch.path = "condot"`)
}
