//go:build !unix

package nn

// cpuSeconds is not measured here; the benchmarks then report 0 CPU seconds.
func cpuSeconds() float64 { return 0 }
