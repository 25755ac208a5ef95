package kernels

import (
	"runtime"
	"syscall"
	"time"
)

// threadClock returns a clock of the CPU time of the calling OS thread
// (getrusage RUSAGE_THREAD), and a function to call when done, which
// unlocks the goroutine from its thread. On a machine shared with other
// work, CPU time counts only this thread's running time, so speeds measured
// with it move far less with the load than wall-clock ones (they still drop
// a little: other work evicts the caches). ok is false if the call fails.
func threadClock() (now func() time.Duration, done func(), ok bool) {
	runtime.LockOSThread()
	now = func() time.Duration {
		var ru syscall.Rusage
		if syscall.Getrusage(1, &ru) != nil { // 1: RUSAGE_THREAD
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ru syscall.Rusage
	ok = syscall.Getrusage(1, &ru) == nil
	return now, runtime.UnlockOSThread, ok
}
