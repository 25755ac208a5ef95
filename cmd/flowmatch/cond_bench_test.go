package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBench_TrainCond runs bench -what train-cond briefly: one line of the
// peer's form, key first.
func TestBench_TrainCond(t *testing.T) {
	code, out, errs := call("bench", "-what", "train-cond", "-hidden", "16", "-batch", "8", "-min-time", "0.05", "-warmup-steps", "1")
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, regexp.MustCompile(`(?m)^train_cond_steps_per_s=[0-9.]+ batch=8 steps=[0-9]+ .*dim=196 ctx=11 hidden=16 .*impl=flowmatch`), out)
	assert.Contains(t, out, "# cpu: ")
}
