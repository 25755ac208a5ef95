package steparenatest

import (
	"flag"
	"testing"

	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/stretchr/testify/require"
)

// sink keeps the loop's allocations on the heap.
var sink [][]byte

// TestReportPerStep: a loop that allocates one 4 KiB slice a step reports
// about 4 KiB and 1 object a step, whatever its set-up allocates (64 KiB
// once), and a loop that allocates nothing a step reports about 0 (the
// control).
func TestReportPerStep(t *testing.T) {
	oneRound(t)
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

// TestHeapAndArena: the "heap" sub-benchmark's loop gets no arena from
// steparena.New and the "arena" one gets one; run is handed the
// sub-benchmark that runs it, not the parent; and steparena.New is the
// default again afterwards.
func TestHeapAndArena(t *testing.T) {
	oneRound(t)
	var parent *testing.B
	got := map[*testing.B]bool{} // sub-benchmark → New returned an arena
	testing.Benchmark(func(b *testing.B) {
		parent = b
		HeapAndArena(b, func(sb *testing.B, steps int) {
			got[sb] = steparena.New() != nil
		}, 1)
	})
	withArena := 0
	for sb, a := range got {
		require.NotSame(t, parent, sb, "run must get the sub-benchmark")
		if a {
			withArena++
		}
	}
	require.Len(t, got, 2, "two sub-benchmarks")
	require.Equal(t, 1, withArena, "one of them with an arena")
	require.NotNil(t, steparena.New(), "the default constructor is restored")
}

// oneRound makes testing.Benchmark run its loop once (-test.benchtime 1x)
// for the rest of t, instead of for a second.
func oneRound(t *testing.T) {
	old := flag.Lookup("test.benchtime").Value.String()
	require.NoError(t, flag.Set("test.benchtime", "1x"))
	t.Cleanup(func() { flag.Set("test.benchtime", old) })
}
