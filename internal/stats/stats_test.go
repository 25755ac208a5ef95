package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

const eps = 0x1p-52

func TestMeanStdErr(t *testing.T) {
	m, se := MeanStdErr([]float64{1, 2, 3, 4})
	assert.InDelta(t, 2.5, m, 4*eps)
	assert.InDelta(t, math.Sqrt(5.0/3/4), se, 4*eps)
	// A large offset: the one-pass formula Σx²/n − mean² cancels
	// catastrophically here (1e9² ≈ 1e18 ≫ 2⁵³), the two-pass one does not.
	xs := []float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4}
	m, se = MeanStdErr(xs)
	assert.InDelta(t, 1e9+2.5, m, 1e9*4*eps)
	assert.InDelta(t, math.Sqrt(5.0/3/4), se, 1e-6)
	// Negative control: the one-pass variance is wrong by far more than
	// the tolerance above, so the test would catch that formula.
	var s, s2 float64
	for _, v := range xs {
		s, s2 = s+v, s2+v*v
	}
	onePass := math.Sqrt(max((s2/4-(s/4)*(s/4))*4/3, 0) / 4)
	assert.Greater(t, math.Abs(onePass-math.Sqrt(5.0/3/4)), 1e-3)
	_, se = MeanStdErr([]float64{7})
	assert.True(t, math.IsNaN(se))
	m, _ = MeanStdErr(nil)
	assert.True(t, math.IsNaN(m))
}

func TestLogSumExp(t *testing.T) {
	assert.InDelta(t, math.Log(6), LogSumExp([]float64{0, math.Log(2), math.Log(3)}), 4*eps)
	// Stable where the naive sum overflows or underflows.
	assert.InDelta(t, 1000+math.Log(2), LogSumExp([]float64{1000, 1000}), 1000*4*eps)
	assert.InDelta(t, -1000+math.Log(2), LogSumExp([]float64{-1000, -1000}), 1000*4*eps)
	assert.True(t, math.IsInf(LogSumExp(nil), -1))
	assert.True(t, math.IsInf(LogSumExp([]float64{math.Inf(-1)}), -1))
	assert.True(t, math.IsInf(LogSumExp([]float64{0, math.Inf(1)}), 1))
}

// TestCategorical_Frequencies: each category's frequency is within 5
// standard errors √(p(1−p)/n) of its probability, zero weights are never
// drawn, and log-weights give the same draws as their exponentials.
func TestCategorical_Frequencies(t *testing.T) {
	w := []float64{1, 0, 3, 6}
	c := NewCategorical(w)
	require.Equal(t, 4, c.Len())
	const n = 200000
	counts := make([]int, len(w))
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		counts[c.Draw(rng)]++
	}
	for i, wi := range w {
		p := wi / 10
		se := math.Sqrt(p * (1 - p) / n)
		assert.InDelta(t, p, float64(counts[i])/n, 5*se+1e-12, "category %d", i)
	}
	assert.Zero(t, counts[1])
	lw := []float64{math.Log(1), math.Inf(-1), math.Log(3) + 800, math.Log(6)}
	cl := NewCategoricalLog(lw)
	assert.Equal(t, 2, cl.Draw(rng), "a log-weight 800 above the rest wins")
	a, b := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	cl = NewCategoricalLog([]float64{0, math.Inf(-1), math.Log(3), math.Log(6)})
	for range 1000 {
		require.Equal(t, c.Draw(a), cl.Draw(b))
	}
}

// TestChiSquare: counts (10, 20, 30) against the uniform law on 3 cells
// expect 20 each, so stat = (100 + 0 + 100)/20 = 10, and the χ² law with
// 2 degrees of freedom has the tail e^{−x/2}: p = e^{−5}. Negative control:
// the tail with 3 degrees of freedom (one too many, the classic slip) is
// 0.0186, not e^{−5} = 0.0067.
func TestChiSquare(t *testing.T) {
	stat, p := ChiSquare([]int{10, 20, 30}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
	require.InDelta(t, 10.0, stat, 1e-12)
	require.InDelta(t, math.Exp(-5), p, 1e-12)
	wrong := distuv.ChiSquared{K: 3}.Survival(stat)
	require.Greater(t, math.Abs(wrong-p), 1e-3, "negative control: 3 degrees of freedom must differ")
}
