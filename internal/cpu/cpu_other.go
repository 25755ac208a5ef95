//go:build purego || !amd64

package cpu

import (
	"os"
	"runtime"
)

// detect reports the architecture and, on Linux, the model name of
// /proc/cpuinfo and the caches of /sys/devices/system/cpu/cpu0/cache:
// without CPUID (another architecture, or amd64 under -tags purego, which
// uses no assembly) nothing else is read.
func detect() Info {
	c := Info{Arch: runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		c.Brand = fromProcCPUInfo(string(b))
	}
	c.Caches = sysfsCaches(os.DirFS("/sys/devices/system/cpu/cpu0/cache"))
	return c
}
