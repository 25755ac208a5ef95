package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm"
)

func TestEmpiricalMarginal_PosteriorFarFromData(t *testing.T) {
	// At x = 1000 with σ_t ≈ 0.5 every p_t(x|x₁ⁱ) underflows to 0 (exponent
	// ≈ −2·10⁶), yet the log-space weights are finite and sum to 1, and the
	// nearest point (in the q-weighted sense) takes all the weight.
	q := &fm.Empirical{Points: [][]float64{{0, 0}, {1, 0}, {0, 1}}, Weights: []float64{1, 1, 2}}
	m := fm.EmpiricalMarginal{Path: fm.CondOT{}, Data: q}
	x := []float64{1000, 0}
	require.Equal(t, 0.0, math.Exp(fm.CondLogProb(m.Path, 0.5, x, q.Points[1])), "the test needs underflow")
	w := m.Posterior(0.5, x)
	s := 0.0
	for _, v := range w {
		require.False(t, math.IsNaN(v))
		s += v
	}
	assert.InDelta(t, 1, s, 4*eps)
	assert.InDelta(t, 1, w[1], 4*eps, "the point x₁ = (1, 0) is nearest to x")
	u := m.Field(0.5, x)
	want := fm.CondField(m.Path, 0.5, x, q.Points[1])
	assert.InDeltaSlice(t, want, u, 1e-12*1000)
	assert.False(t, math.IsInf(m.LogProb(0.5, x), 0))
}

func TestMixtureMarginal_PointMassLimit(t *testing.T) {
	// With sₖ = 0 the mixture is the empirical distribution of its means,
	// and the two marginals must agree to rounding.
	means := [][]float64{{-1, 0.5}, {2, 1}, {0, -1.5}}
	w := []float64{0.2, 0.5, 0.3}
	mix := fm.MixtureMarginal{Path: fm.VP{}, Data: &fm.Mixture{Means: means, Stds: []float64{0, 0, 0}, Weights: w}}
	emp := fm.EmpiricalMarginal{Path: fm.VP{}, Data: &fm.Empirical{Points: means, Weights: w}}
	rng := newRNG(5)
	for trial := 0; trial < 20; trial++ {
		s := 0.05 + 0.9*rng.Float64()
		x := randVec(2, 1.5, rng)
		lp, le := mix.LogProb(s, x), emp.LogProb(s, x)
		assert.InDelta(t, le, lp, 64*eps*(1+math.Abs(le)))
		uf, ue := mix.Field(s, x), emp.Field(s, x)
		for j := range uf {
			assert.InDelta(t, ue[j], uf[j], 1e-12*(1+math.Abs(ue[j])))
		}
	}
	// Negative control: with sₖ > 0 the two differ.
	mix.Data.Stds = []float64{0.3, 0.3, 0.3}
	assert.Greater(t, math.Abs(mix.LogProb(0.9, []float64{0, 0})-emp.LogProb(0.9, []float64{0, 0})), 1e-3)
}

func TestMixture_SampleMoments(t *testing.T) {
	m := &fm.Mixture{Means: [][]float64{{-2}, {3}}, Stds: []float64{0.5, 1}, Weights: []float64{1, 3}}
	n := 20000
	x := m.Sample(n, newRNG(6))
	mean := 0.0
	for _, v := range x.Data {
		mean += v
	}
	mean /= float64(n)
	// Mixture mean 0.25·(−2) + 0.75·3 = 1.75; variance Σπ(s² + m²) − mean².
	want := 1.75
	variance := 0.25*(0.25+4) + 0.75*(1+9) - want*want
	se := math.Sqrt(variance / float64(n))
	assert.InDelta(t, want, mean, 5*se)
}
