//go:build purego || !amd64

package cpu

import (
	"os"
	"runtime"
)

// detect reports the architecture and, on Linux, the model name of
// /proc/cpuinfo and the caches of /sys/devices/system/cpu/cpu0/cache; on
// arm64 also the core's MIDR_EL1 (implementer, part, variant, revision)
// from /sys/devices/system/cpu/cpu0/regs/identification/midr_el1 or
// /proc/cpuinfo (midr.go). Without CPUID (another architecture, or amd64
// under -tags purego, which uses no assembly) nothing else is read.
func detect() Info {
	c := Info{Arch: runtime.GOARCH}
	var cpuinfo string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		cpuinfo = string(b)
		c.Brand = fromProcCPUInfo(cpuinfo)
	}
	if c.Arch == "arm64" {
		b, _ := os.ReadFile("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1")
		identifyARM(&c, string(b), cpuinfo)
	}
	c.Caches = sysfsCaches(os.DirFS("/sys/devices/system/cpu/cpu0/cache"))
	return c
}
