// Package steparenatest holds the benchmark half of package steparena: the
// loop that measures a steady step's allocations and reports them, written
// once for every training and sampling loop's benchmark.
package steparenatest

import (
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
)

// ReportPerStep runs steparena.PerStep(run, k) in b's loop and reports the
// bytes and heap objects one steady-state step allocates as the metrics
// B/step and allocs/step (b's ns/op is then the time of the 3k steps of
// one measurement). TestReportPerStep.
func ReportPerStep(b *testing.B, run func(steps int), k int) {
	var bytes, objects float64
	for b.Loop() {
		bytes, objects = steparena.PerStep(run, k)
	}
	b.ReportMetric(bytes, "B/step")
	b.ReportMetric(objects, "allocs/step")
}

// HeapAndArena runs ReportPerStep as two sub-benchmarks: "heap", with
// steparena.New returning nil, and "arena", with it returning a new
// autograd.Arena, so that each loop's benchmark shows what the arena saves.
// run(b, steps) runs a whole loop of that many steps and is handed the
// sub-benchmark, so that it can stop it (b.Fatal must be called from the
// goroutine of the benchmark that fails). A loop that takes its arena as an
// argument gets it from steparena.New.
func HeapAndArena(b *testing.B, run func(b *testing.B, steps int), k int) {
	for _, c := range []struct {
		name  string
		arena func() *autograd.Arena
	}{{"heap", steparena.Heap}, {"arena", autograd.NewArena}} {
		b.Run(c.name, func(b *testing.B) {
			defer steparena.Set(c.arena)()
			ReportPerStep(b, func(steps int) { run(b, steps) }, k)
		})
	}
}
