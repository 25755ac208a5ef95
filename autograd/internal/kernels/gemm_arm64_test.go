//go:build !purego

package kernels

import (
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/stretchr/testify/require"
)

// TestGemm_UsesNEONKernel checks that Gemm runs the NEON 8×6 kernel on
// arm64 (with the blocking of the CPU's tunedPlans row if it has one) and
// that Describe, which flowmatch bench and autograd.Kernels print, names it.
func TestGemm_UsesNEONKernel(t *testing.T) {
	c := cpu.Detect()
	require.Equal(t, []*microKernel{&goKernel, &neonKernel}, availableKernels())
	if r, tuned := tunedFor(c); tuned && r.Kernel == goKernel.name {
		require.Same(t, &goKernel, gemmDefault.kn, "tuned row %+v", r)
		return
	}
	require.Same(t, &neonKernel, gemmDefault.kn, "got plan %s", gemmDefault)
	require.True(t, strings.HasPrefix(Describe(), "gemm NEON assembly 8x6 ("), "Describe() = %q", Describe())
}
