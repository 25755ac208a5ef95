package kernels

import (
	"fmt"
	"runtime"
)

// Describe names the kernels this build runs on this machine, one line for
// reports (flowmatch bench prints it), e.g.
//
//	gemm AVX-512 assembly 16x8 (mc 128, kc 512, nc 4096; tuned for AuthenticAMD family 26 model 2); activations AVX-512 assembly, 8 lanes; amd64; threads 1
//
// The choice is made once, at program start, from the CPU's features,
// model and caches (gemm_plan.go, gemm_amd64.go, gemm_arm64.go,
// activation_amd64.go) and the purego build tag. On arm64 it reads, e.g.
//
//	gemm NEON assembly 8x6 (mc 128, kc 256, nc 1020; derived from assumed caches); activations Go loops; arm64; threads 1
func Describe() string {
	return fmt.Sprintf("gemm %s; activations %s; %s%s; threads %d",
		gemmDefault, activationKernels(), runtime.GOARCH, buildTag, Threads())
}
