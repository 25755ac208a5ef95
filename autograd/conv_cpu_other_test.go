//go:build !unix

package autograd

// cpuSeconds is not measured here; the benchmarks then report 0 CPU seconds.
func cpuSeconds() float64 { return 0 }
