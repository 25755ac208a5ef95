//go:build !purego

package kernels

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdamStep_AVX2BitIdentical runs TestAdamStep_BitIdentical's check on
// the 4-lane kernel, which CPUs without AVX-512 run.
func TestAdamStep_AVX2BitIdentical(t *testing.T) {
	if !haveVecMath {
		t.Skip("CPU lacks AVX2/FMA")
	}
	withAVX512(false, func() { require.NoError(t, adamMismatch(adamStepper{"AdamStep/AVX2", AdamStep})) })
}
