package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBench_ReportsCPUAndKernels checks that bench prints the CPU and the
// kernels chosen as two "# " lines before its metrics, which
// scripts/bench-vs-torch keeps with each result and skips when it reads a
// metric (its first key=value line).
func TestBench_ReportsCPUAndKernels(t *testing.T) {
	var out, errs bytes.Buffer
	err := runBench([]string{"-what", "sample", "-sample-points", "8", "-ode-steps", "1"}, &out, &errs)
	require.NoError(t, err, errs.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, "got %q", out.String())
	require.True(t, strings.HasPrefix(lines[0], "# cpu: ") && strings.Contains(lines[0], "isa: "), "line 1: got %q want # cpu: … isa: …", lines[0])
	require.True(t, strings.HasPrefix(lines[1], "# kernels: gemm "), "line 2: got %q want # kernels: gemm …", lines[1])
	require.True(t, strings.HasPrefix(lines[2], "sample_points_per_s="), "line 3: got %q", lines[2])
}
