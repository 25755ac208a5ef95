package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun: a tiny run prints both tables; bad flags are errors.
func TestRun(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, run([]string{"-steps", "5", "-seeds", "2", "-n", "40"}, &b))
	out := b.String()
	for _, s := range []string{"NFE vs W₂²", "ExpInt2", "Dopri5 tol", "NFE vs held-out NLL − H", "FM vs DSM", "DSM SDE", "NLL − H = "} {
		assert.Contains(t, out, s)
	}
	assert.Equal(t, 6+1+1+3+1+1+4, strings.Count(out, "\n"), out)
	assert.Equal(t, 2, strings.Count(out, "NLL − H = "), out)
	assert.Error(t, run([]string{"-seeds", "1"}, &b))
}
