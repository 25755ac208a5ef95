package data

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDiscreteToy_Entropy checks the discrete toys: checkerboard-discrete
// has bins²/2 equally likely cells, so H = ln(bins²/2) exactly; every law
// sums to 1; 8gaussians-discrete's entropy approaches the differential
// entropy minus the log of the cell area Δ² (H ≈ 2.8313 − ln Δ², Δ = 8/bins),
// to within twice the leading error term of that identity, (Δ²/24)·J with
// J = 2/s² the Fisher information of one component (s = 0.5/√2, the
// mixture's is smaller): 0.021 at 64 bins; and is not the checkerboard's
// value (a negative control).
func TestDiscreteToy_Entropy(t *testing.T) {
	for _, bins := range []int{8, 64} {
		q, err := DiscreteToy("checkerboard-discrete", bins)
		require.NoError(t, err)
		require.Len(t, q.X, bins*bins/2)
		require.InDelta(t, math.Log(float64(bins*bins)/2), DiscreteEntropy(q), 1e-12)
	}
	q, err := DiscreteToy("8gaussians-discrete", 64)
	require.NoError(t, err)
	s := 0.0
	for _, w := range q.W {
		s += w
	}
	require.InDelta(t, 1, s, 1e-12)
	h := DiscreteEntropy(q)
	want := 2.8313 - 2*math.Log(8.0/64)
	t.Logf("8gaussians-discrete at 64 bins: H = %.4f nats (differential + ln(1/cell area) = %.4f)", h, want)
	delta, sd := 8.0/64, 0.5/math.Sqrt2
	require.InDelta(t, want, h, 2*delta*delta/24*2/(sd*sd))
	require.Greater(t, math.Abs(h-math.Log(2048)), 0.1)
	_, err = DiscreteToy("moons-discrete", 64)
	require.Error(t, err)
	_, err = DiscreteToy("checkerboard-discrete", 10)
	require.Error(t, err)
}
