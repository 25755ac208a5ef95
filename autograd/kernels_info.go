package autograd

import "github.com/flowmatch/flowmatch/autograd/internal/kernels"

// Kernels names the float64 kernels this build runs on this machine, one
// line for reports (`flowmatch bench` prints it beside the CPU): the GEMM
// micro-kernel and its blocking, the activation kernels, the architecture
// and build tag, and the thread count, e.g.
//
//	gemm AVX2+FMA assembly 6x8 (mc 120, kc 256, nc 512); activations AVX-512 assembly, 8 lanes; amd64; threads 1
//
// They are chosen once, at program start, from the CPU's features
// (TestKernels_NamesGemm checks the line's form).
func Kernels() string { return kernels.Describe() }
