package steparenatest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// sink keeps the loop's allocations on the heap.
var sink [][]byte

// TestReportPerStep: a loop that allocates one 4 KiB slice a step reports
// about 4 KiB and 1 object a step, whatever its set-up allocates (64 KiB
// once), and a loop that allocates nothing a step reports about 0 (the
// control).
func TestReportPerStep(t *testing.T) {
	for _, c := range []struct {
		perStep     int
		wantB, tolB float64
	}{{4096, 4096, 512}, {0, 0, 512}} {
		run := func(steps int) {
			sink = append(sink[:0], make([]byte, 64<<10))
			for range steps {
				if c.perStep > 0 {
					sink = append(sink, make([]byte, c.perStep))
				}
			}
		}
		r := testing.Benchmark(func(b *testing.B) { ReportPerStep(b, run, 50) })
		require.InDelta(t, c.wantB, r.Extra["B/step"], c.tolB, "B/step of a loop allocating %d B a step", c.perStep)
		if c.perStep > 0 {
			require.InDelta(t, 1, r.Extra["allocs/step"], 0.5, "allocs/step")
		}
	}
}
