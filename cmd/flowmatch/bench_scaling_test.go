package main

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBench_Scaling runs bench -what scaling tiny (batch 8, 0.05 s a
// measurement, one round) and checks the shape of its output: the two "# "
// lines of every bench, the step's rate on 1 and 2 threads (2 when -threads
// is 1), the rate of 2 single-thread copies, the ratios line, whose
// efficiency is scaling/machine, the one-sentence summary and, on a busy
// machine only, the load warning; -rounds 0 is a usage error.
func TestBench_Scaling(t *testing.T) {
	for _, threads := range []string{"1", "2"} {
		var out, errs bytes.Buffer
		err := runBench([]string{"-what", "scaling", "-batch", "8", "-min-time", "0.05", "-rounds", "1",
			"-warmup-steps", "1", "-threads", threads}, &out, &errs)
		require.NoError(t, err, errs.String())
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		require.True(t, len(lines) == 8 || len(lines) == 9 && strings.HasPrefix(lines[8], "# load average above"), "got %q", out.String())
		require.True(t, strings.HasPrefix(lines[0], "# cpu: ") && strings.HasPrefix(lines[1], "# kernels: "), "got %q", out.String())
		kv := func(line string) map[string]string {
			m := map[string]string{}
			for _, f := range strings.Fields(line) {
				k, v, ok := strings.Cut(f, "=")
				require.True(t, ok, "field %q of %q is not key=value", f, line)
				m[k] = v
			}
			return m
		}
		num := func(m map[string]string, key string) float64 {
			v, err := strconv.ParseFloat(m[key], 64)
			require.NoError(t, err, "%s in %v", key, m)
			require.True(t, v > 0 && !math.IsInf(v, 0), "%s = %v, want a positive rate or ratio", key, v)
			return v
		}
		one, two, copies, ratios := kv(lines[2]), kv(lines[3]), kv(lines[4]), kv(lines[5])
		r1, r2, c2 := num(one, "train_steps_per_s"), num(two, "train_steps_per_s"), num(copies, "copies_steps_per_s")
		require.Equal(t, []string{"1", "2", "2", "8"}, []string{one["threads"], two["threads"], copies["copies"], one["batch"]})
		s, m, e := num(ratios, "scaling"), num(ratios, "machine"), num(ratios, "efficiency")
		// Printed with 3 decimals: each ratio is within 5e-4 of its value.
		require.InDelta(t, r2/r1, s, 5e-4+1e-4*r2/r1, "scaling")
		require.InDelta(t, c2/r1, m, 5e-4+1e-4*c2/r1, "machine")
		require.InDelta(t, r2/c2, e, 5e-4+1e-4*r2/c2, "efficiency")
		// One round: the per-round ratios are the ones above.
		var ps, pm, pe float64
		_, err = fmt.Sscanf(lines[6], "# per round (the ratios of one round's three measurements, taken seconds apart): scaling %f, machine %f, efficiency %f", &ps, &pm, &pe)
		require.NoError(t, err, "got %q", lines[6])
		require.Equal(t, []float64{s, m, e}, []float64{ps, pm, pe}, "per-round ratios")
		require.True(t, strings.HasPrefix(lines[7], "# the step scales "), "got %q", lines[7])
	}
	var out, errs bytes.Buffer
	err := runBench([]string{"-what", "scaling", "-rounds", "0"}, &out, &errs)
	require.ErrorContains(t, err, "-rounds")
}

// TestMedianRange: the median of an odd and an even count, in any order,
// with the range; one value alone.
func TestMedianRange(t *testing.T) {
	require.Equal(t, "1.700 (1.500–1.900)", medianRange([]float64{1.9, 1.5, 1.7}))
	require.Equal(t, "1.650 (1.500–1.900)", medianRange([]float64{1.9, 1.5, 1.6, 1.7}))
	require.Equal(t, "1.234", medianRange([]float64{1.234}))
}
