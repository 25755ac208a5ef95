//go:build !purego

package kernels

import (
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

// TestGemm_UsesAsmKernel checks the kernel Gemm runs on this CPU: the
// kernel and blocking of its tunedPlans row if it has one, else the AVX-512
// one with AVX-512F (unless this model is known to downclock,
// preferKernel), else the AVX2 one with AVX2 and FMA.
func TestGemm_UsesAsmKernel(t *testing.T) {
	c := cpu.Detect()
	want := &goKernel
	switch {
	case c.AVX2 && c.FMA && c.AVX512F:
		want = preferKernel([]*microKernel{&goKernel, &asmKernel, &avx512Kernel}, c)
	case c.AVX2 && c.FMA:
		want = &asmKernel
	}
	if r, tuned := tunedPlans[cpuKey{c.Vendor, c.Family, c.Model}]; tuned {
		for _, kn := range availableKernels() {
			if kn.name == r.Kernel {
				want = kn // the row's kernel, with the row's blocking
				if p := gemmDefault; p.mc != r.MC || p.kc != r.KC || p.nc != r.NC {
					t.Fatalf("tuned row %+v, got plan %s", r, p)
				}
			}
		}
	}
	if gemmDefault.kn != want {
		t.Fatalf("got the %s kernel, want %s", gemmDefault.kn.name, want.name)
	}
}
