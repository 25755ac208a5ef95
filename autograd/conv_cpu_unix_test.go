//go:build unix

package autograd

import "syscall"

// cpuSeconds returns the CPU time (user + system) this process has used, so
// that benchmarks on a shared, loaded machine can report work per CPU-second
// besides work per wall-second.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
