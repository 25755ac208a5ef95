//go:build unix

package nn

import "syscall"

// cpuSeconds returns the CPU time (user + system) this process has used, so
// that benchmarks on a shared, loaded machine can report CPU-ms per step.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
