//go:build purego || (!amd64 && !arm64)

package kernels

// archKernels returns no assembly micro-kernel: this build runs the
// portable one.
func archKernels() []*microKernel { return nil }
