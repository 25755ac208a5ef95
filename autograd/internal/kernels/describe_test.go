package kernels

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDescribe checks that the report names the micro-kernel Gemm runs and
// the activation kernels Exp runs.
func TestDescribe(t *testing.T) {
	d := Describe()
	require.True(t, strings.HasPrefix(d, "gemm "+gemmDefault.kn.name+" "), "Describe() = %q, want it to start with gemm %s", d, gemmDefault.kn.name)
	require.Contains(t, d, "activations "+activationKernels()+";")
	t.Log(d)
}
