package notebooks

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/nb"
)

// goModEditCell is the first code cell every notebook must have (see README.md).
const goModEditCell = "!*go mod edit -replace=github.com/flowmatch/flowmatch=${GONB_DIR}/.. " +
	"-require=github.com/flowmatch/flowmatch@v0.0.0-00010101000000-000000000000 -require=github.com/janpfeifer/gonb@v0.11.4"

func notebookPaths(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*.ipynb")
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no notebooks in notebooks/")
	return paths
}

// readSources opens every Go, go.mod and go.sum file of the repository. The notebooks are
// built in a temporary module, out of sight of go test's cache; opening the files here makes
// a change to any of them invalidate the cached result of these tests.
func readSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			_, err = os.ReadFile(path)
		}
		return err
	})
	require.NoError(t, err)
}

// TestNotebooks runs every notebook and compares its outputs with the stored ones, as
// `go run ./cmd/nbrun -check notebooks/*.ipynb` does.
func TestNotebooks(t *testing.T) {
	readSources(t)
	for _, path := range notebookPaths(t) {
		t.Run(strings.TrimSuffix(path, ".ipynb"), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := nb.Check(ctx, path, nb.Options{}); err != nil {
				t.Fatalf("%v\n(run `go run ./cmd/nbrun -update %s` if the change is intended)", err, filepath.Join("notebooks", path))
			}
		})
	}
}

// TestNotebooks_Conventions checks what every notebook must have: GoNB's kernel, the go mod
// edit cell as the first code cell, cell ids, and at least one picture among its outputs.
func TestNotebooks_Conventions(t *testing.T) {
	for _, path := range notebookPaths(t) {
		t.Run(strings.TrimSuffix(path, ".ipynb"), func(t *testing.T) {
			n, err := nb.ReadFile(path)
			require.NoError(t, err)
			ks, _ := n.Metadata["kernelspec"].(map[string]any)
			assert.Equal(t, "gonb", ks["name"], "kernelspec name")
			assert.Equal(t, 4, n.NBFormat)
			assert.Equal(t, 5, n.NBFormatMinor)
			var firstCode *nb.Cell
			pictures := 0
			for i, c := range n.Cells {
				assert.NotEmpty(t, c.ID, "cell %d has no id", i+1)
				if c.Type != "code" {
					continue
				}
				if firstCode == nil {
					firstCode = c
				}
				for _, o := range c.Outputs {
					if o.Data["image/png"] != nil || o.Data["image/svg+xml"] != nil {
						pictures++
					}
				}
			}
			require.NotNil(t, firstCode, "no code cell")
			assert.Equal(t, goModEditCell, strings.TrimSpace(firstCode.Source), "first code cell")
			assert.Positive(t, pictures, "no picture among the stored outputs")
			assert.LessOrEqual(t, len(n.Cells), 16, "cells (keep notebooks short: ≤ ~12)")
		})
	}
}

// TestNotebooks_RoundTrip: re-serialising a stored notebook changes nothing (the files are
// in nbformat's own layout).
func TestNotebooks_RoundTrip(t *testing.T) {
	for _, path := range notebookPaths(t) {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		n, err := nb.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, string(raw), string(n.Marshal()), path)
	}
}
