//go:build !purego

package kernels

import (
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

// TestGemm_UsesAsmKernel checks the kernel Gemm runs on this CPU: the
// AVX-512 one with AVX-512F (unless this model is tuned otherwise or known to
// downclock, preferKernel), else the AVX2 one with AVX2 and FMA.
func TestGemm_UsesAsmKernel(t *testing.T) {
	c := cpu.Detect()
	want := &goKernel
	switch {
	case c.AVX2 && c.FMA && c.AVX512F:
		want = preferKernel([]*microKernel{&goKernel, &asmKernel, &avx512Kernel}, c)
	case c.AVX2 && c.FMA:
		want = &asmKernel
	}
	if _, tuned := tunedPlans[cpuKey{c.Vendor, c.Family, c.Model}]; tuned {
		t.Skip("this CPU model has a tuned row")
	}
	if gemmDefault.kn != want {
		t.Fatalf("got the %s kernel, want %s", gemmDefault.kn.name, want.name)
	}
}
