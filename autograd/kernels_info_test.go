package autograd

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKernels_NamesGemm checks that the report has the GEMM kernel first.
func TestKernels_NamesGemm(t *testing.T) {
	k := Kernels()
	require.True(t, strings.HasPrefix(k, "gemm "), "Kernels() = %q, want a line starting with gemm", k)
	require.Contains(t, k, "; activations ")
}
