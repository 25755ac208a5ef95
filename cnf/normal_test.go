package cnf

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/require"
)

func TestNormalLogProb_Scaled(t *testing.T) {
	x := autograd.FromSlice(2, 2, []float64{0, 0, 3, -4})
	for _, s := range []float64{1, 0.5, 5} {
		lp := NormalLogProb(s)(x)
		for i := 0; i < 2; i++ {
			r2 := x.At(i, 0)*x.At(i, 0) + x.At(i, 1)*x.At(i, 1)
			want := -r2/(2*s*s) - math.Log(2*math.Pi*s*s) // d = 2
			require.InDelta(t, want, lp.Data[i], 1e-14, "s=%g row %d", s, i)
		}
	}
	require.Equal(t, StandardNormalLogProb(x).Data, NormalLogProb(1)(x).Data)
}
