//go:build !linux

package kernels

import "time"

// threadClock returns a wall clock: without Linux's per-thread CPU time the
// tuner measures elapsed time (see tune_linux.go).
func threadClock() (now func() time.Duration, done func(), ok bool) {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }, func() {}, false
}
