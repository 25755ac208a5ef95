//go:build !purego

package cpu

import (
	"os"
	"runtime"
)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

func detect() Info {
	c := Info{Arch: runtime.GOARCH}
	maxID, _, _, _ := cpuid(0, 0)
	var xcr0 uint32
	if maxID >= 1 {
		if _, _, ecx1, _ := cpuid(1, 0); ecx1&(1<<27) != 0 { // OSXSAVE: XGETBV is allowed
			xcr0, _ = xgetbv()
		}
	}
	decode(&c, cpuid, xcr0)
	if c.Brand == "" {
		if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
			c.Brand = fromProcCPUInfo(string(b))
		}
	}
	return c
}
