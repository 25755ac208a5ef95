package main

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/nn"
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

// TestThreads_BitIdentical trains the workload's model (3 → 256 → 256 →
// 256 → 2, SiLU, the fused step, CondOT, 8gaussians) for 4 steps at batch
// 512, whose products are split across threads (gemmParallelMin is 2²¹
// multiply-adds), then samples 1,200 points by RK4 in 4 steps, with
// -threads 1, 2 and 4: every loss and every sample must have the same bits
// (on this 2-core machine 4 threads are oversubscribed: a correctness
// check, not a speed one). The negative control is the comparison itself,
// which must see a one-ulp change in one loss.
func TestThreads_BitIdentical(t *testing.T) {
	defer nn.SetThreads(1)
	run := func(threads int) (losses, samples []float64) {
		src, err := openData("data", "8gaussians")
		require.NoError(t, err)
		spec := trainSpec{Data: src, Path: pathSpec{Name: "condot", SigmaMin: 1e-4}, Coupling: "independent",
			Hidden: []int{256, 256, 256}, Act: "silu", Steps: 4, Batch: 512, LR: 1e-3, Schedule: "constant", Seed: 7}
		require.NoError(t, checkThreads(threads))
		m, losses, err := trainModel(spec, threads, io.Discard)
		require.NoError(t, err)
		p, err := spec.Path.build()
		require.NoError(t, err)
		opts, err := solveOptions("rk4", 4, 0)
		require.NoError(t, err)
		s, err := sample(m, p, 1200, opts, newRand(7, 3), 0, threads, nil)
		require.NoError(t, err)
		return losses, s.X.Data
	}
	same := func(a, b []float64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return false
			}
		}
		return true
	}
	losses1, samples1 := run(1)
	require.Len(t, losses1, 4)
	for _, threads := range []int{2, 4} {
		losses, samples := run(threads)
		require.True(t, same(losses, losses1), "threads %d: losses %v, with 1 thread %v", threads, losses, losses1)
		require.True(t, same(samples, samples1), "threads %d: samples differ from 1 thread's", threads)
	}
	off := append([]float64(nil), losses1...)
	off[2] = math.Nextafter(off[2], math.Inf(1))
	require.False(t, same(off, losses1), "a one-ulp change went unseen")
}

// TestBench_Tune runs bench -what gemm -tune on tiny products, one round,
// and checks it prints the table (the plan in use marked once) and the row
// for the source; then -what gemm alone, one line per size; without -what
// gemm, -tune is a usage error.
func TestBench_Tune(t *testing.T) {
	var out, errs bytes.Buffer
	err := runBench([]string{"-what", "gemm", "-tune", "-gemm-sizes", "16,24", "-tune-trial", "0.0001", "-tune-rounds", "1"}, &out, &errs)
	require.NoError(t, err, errs.String())
	text := out.String()
	require.Contains(t, text, "\nkernel ")
	require.Equal(t, 1, strings.Count(text, "(the plan in use)"), text)
	require.Regexp(t, `# row for tunedPlans in autograd/internal/kernels/gemm_plan.go:\n\t\{"[^"]*", \d+, \d+\}: \{"[^"]+", \d+, \d+, \d+\}, // `, text)

	out.Reset()
	err = runBench([]string{"-what", "gemm", "-gemm-sizes", "16,24", "-min-time", "0.001"}, &out, &errs)
	require.NoError(t, err, errs.String())
	require.Regexp(t, `(?m)^gemm_gflops=[0-9.]+ n=16 clock=\S+ dtype=float64 threads=1 impl=flowmatch\ngemm_gflops=[0-9.]+ n=24 `, out.String())

	err = runBench([]string{"-what", "train", "-tune"}, &out, &errs)
	require.ErrorContains(t, err, "-what gemm")
	err = runBench([]string{"-what", "gemm", "-gemm-sizes", "4"}, &out, &errs)
	require.ErrorContains(t, err, "-gemm-sizes")
}
