package kernels

import (
	"fmt"
	"runtime"
)

// Describe names the kernels this build runs on this machine, one line for
// reports (flowmatch bench prints it), e.g.
//
//	gemm AVX2+FMA assembly 6x8 (mc 120, kc 256, nc 512); activations AVX-512 assembly, 8 lanes; amd64; threads 1
//
// The choice is made once, at program start, from the CPU's features
// (gemm_amd64.go, activation_amd64.go) and the purego build tag.
func Describe() string {
	return fmt.Sprintf("gemm %s (mc %d, kc %d, nc %d); activations %s; %s%s; threads %d",
		gemmKernel.name, gemmMC, gemmKC, gemmNC, activationKernels(), runtime.GOARCH, buildTag, Threads())
}
