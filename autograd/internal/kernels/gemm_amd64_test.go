//go:build !purego

package kernels

import "testing"

func TestGemm_UsesAsmKernel(t *testing.T) {
	if !hasAVX2FMA() {
		t.Skip("CPU lacks AVX2 or FMA: Gemm uses the portable kernel")
	}
	if gemmKernel != &asmKernel {
		t.Fatalf("got the %dx%d kernel, want the AVX2 6x8 one", gemmKernel.mr, gemmKernel.nr)
	}
}
