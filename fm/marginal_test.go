package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
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
		assert.InDeltaSlice(t, emp.Posterior(s, x), mix.Posterior(s, x), 1e-12, "posteriors")
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

// TestMixtureMarginal_VPFieldAtDataEnd: for VP, σ₁ = 0 and σ′₁ = −∞, but
// σσ′ = −a a′ → −β_min/2, so the marginal field of a mixture with widths
// sₖ > 0 has a finite limit at t = 1:
//
//	u₁(x) = Σₖ rₖ(x)·((−β_min/2 + (β_min/2)·sₖ²)/sₖ² · (x − mₖ) + (β_min/2)·mₖ),
//	rₖ ∝ πₖ N(x; mₖ, sₖ² I).
//
// Field(1, x) equals it to rounding, and Field(1 − h, x) approaches it at
// rate O(h) (checked at h = 1e-6 against 10·|u(1 − 1e-3) − u(1)|·(h/1e-3)).
// Negative control: the factor written with σ′ itself, 2σσ′ = 2·σ₁·σ′₁, is
// NaN at t = 1.
func TestMixtureMarginal_VPFieldAtDataEnd(t *testing.T) {
	q := &fm.Mixture{Means: [][]float64{{-1, 0.5}, {2, 1}}, Stds: []float64{0.4, 0.7}, Weights: []float64{1, 2}}
	p := fm.VP{}
	m := fm.MixtureMarginal{Path: p, Data: q}
	rng := newRNG(7)
	lw := q.LogWeights()
	b := 0.1 / 2 // β_min/2
	for trial := 0; trial < 10; trial++ {
		x := randVec(2, 1.5, rng)
		got := m.Field(1, x)
		// The limit, by hand.
		lj := make([]float64, 2)
		for k, mk := range q.Means {
			s2 := q.Stds[k] * q.Stds[k]
			r2 := 0.0
			for j := range x {
				r2 += (x[j] - mk[j]) * (x[j] - mk[j])
			}
			lj[k] = lw[k] - math.Log(2*math.Pi*s2) - r2/(2*s2)
		}
		z := math.Log(math.Exp(lj[0]) + math.Exp(lj[1]))
		want := make([]float64, 2)
		for k, mk := range q.Means {
			s2 := q.Stds[k] * q.Stds[k]
			r := math.Exp(lj[k] - z)
			for j := range x {
				want[j] += r * ((-b+b*s2)/s2*(x[j]-mk[j]) + b*mk[j])
			}
		}
		far := m.Field(1-1e-3, x)
		near := m.Field(1-1e-6, x)
		for j := range x {
			require.False(t, math.IsNaN(got[j]) || math.IsInf(got[j], 0), "u_1(%v) = %v", x, got)
			assert.InDelta(t, want[j], got[j], 1e-13*(1+math.Abs(want[j])), "x = %v", x)
			tol := 10 * math.Abs(far[j]-got[j]) * 1e-3
			assert.InDelta(t, got[j], near[j], tol, "u at 1 − 1e-6 must approach u_1: got %v want %v (tol %.3g)", near[j], got[j], tol)
		}
	}
	_, _, s, ds := p.Schedule(1)
	assert.True(t, math.IsNaN(2*s*ds), "negative control: σ₁·σ′₁ from Schedule is 0·∞ = NaN, got %v", 2*s*ds)
	assert.InDelta(t, -b, p.SigmaDSigma(1), 1e-16)
}

// TestEmpirical_Misuse: an empty or nil Empirical, bad weights and a nil
// rng panic with *autograd.MisuseError (not a runtime error), for the
// samplers and the marginals that use them.
func TestEmpirical_Misuse(t *testing.T) {
	isMisuse := func(name string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			err, ok := r.(error)
			require.True(t, ok, "%s: want a *autograd.MisuseError panic, got %v", name, r)
			var me *autograd.MisuseError
			assert.ErrorAs(t, err, &me, "%s", name)
		}()
		f()
	}
	rng := newRNG(1)
	empty := &fm.Empirical{}
	isMisuse("empty Sample", func() { empty.Sample(3, rng) })
	isMisuse("empty marginal", func() { fm.EmpiricalMarginal{Path: fm.CondOT{}, Data: empty}.Field(0.5, []float64{0}) })
	isMisuse("nil Data", func() { fm.EmpiricalMarginal{Path: fm.CondOT{}}.LogProb(0.5, []float64{0}) })
	isMisuse("negative weight", func() { (&fm.Empirical{Points: [][]float64{{0}, {1}}, Weights: []float64{1, -1}}).LogWeights() })
	isMisuse("zero weights", func() { (&fm.Empirical{Points: [][]float64{{0}}, Weights: []float64{0}}).LogWeights() })
	isMisuse("ragged points", func() { (&fm.Empirical{Points: [][]float64{{0}, {1, 2}}}).Sample(2, rng) })
	ok := &fm.Empirical{Points: [][]float64{{0}, {1}}}
	isMisuse("nil rng", func() { ok.Sample(2, nil) })
	isMisuse("empty Mixture", func() { (&fm.Mixture{}).Sample(2, rng) })
	isMisuse("Mixture nil rng", func() { (&fm.Mixture{Means: [][]float64{{0}}, Stds: []float64{1}}).Sample(2, nil) })
	isMisuse("Mixture without Stds", func() { (&fm.Mixture{Means: [][]float64{{0}}}).Sample(2, rng) })
	isMisuse("SampleCond nil rng", func() { fm.SampleCond(fm.CondOT{}, 0.5, []float64{1}, nil) })
	isMisuse("SampleSource nil rng", func() { fm.SampleSource(fm.CondOT{}, 2, 1, nil) })
	isMisuse("CFMFloor nil rng", func() {
		fm.CFMFloor(fm.CondOT{}, fm.EmpiricalMarginal{Path: fm.CondOT{}, Data: ok}, ok.Sample, 10, nil)
	})
	// The working calls.
	assert.Equal(t, 3, ok.Sample(3, rng).Rows)
	assert.NotPanics(t, func() {
		fm.CFMFloor(fm.CondOT{}, fm.EmpiricalMarginal{Path: fm.CondOT{}, Data: ok}, ok.Sample, 10, rng)
	})
}
