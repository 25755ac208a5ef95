package discrete

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestELBO_Bound checks the CTMC's ELBO on {0,…,3}² for the exact
// posterior of a weighted data set q, whose chain ends exactly at q
// (TestGillespie_ReproducesData): for every data point, ELBO(x₁) +
// quadrature error ≤ log q(x₁), the quadrature error estimated as
// |ELBO₄₈ − ELBO₂₄| (Gauss–Legendre on a smooth integrand). The
// Monte-Carlo ELBOEstimate over 100,000 draws of x₁ ~ q agrees with
// Σ q·ELBO within 5 standard errors (the integrand has a heavy tail near
// t = 1 for the uniform source: 20,000 draws put the mean 4 standard
// errors off, 400,000 within 1). Negative control: the bound is tight
// enough to tell q from the law without its weights: for some point,
// ELBO(x₁) > log q_flat(x₁).
func TestELBO_Bound(t *testing.T) {
	// Gauss–Legendre integrates t⁵ exactly with 3 nodes (1/6).
	x, w := gaussLegendre(3)
	s := 0.0
	for i := range x {
		s += w[i] * math.Pow(x[i], 5)
	}
	require.InDelta(t, 1.0/6, s, 1e-15)

	rng := newRNG(11)
	q := randomDist(4, 2, 5, rng)
	for _, p := range []Path{
		{Sched: Linear{}, Source: Uniform, V: 4, D: 2},
		{Sched: Cosine{}, Source: Mask, V: 4, D: 2},
	} {
		m := Exact{Path: p, Q: q}
		e24, e48 := ELBO(m, p, q.X, 24), ELBO(m, p, q.X, 48)
		avg, control := 0.0, false
		for j := range q.X {
			qerr := math.Abs(e48[j] - e24[j])
			gap := math.Log(q.W[j]) - e48[j]
			t.Logf("%v %v: x₁=%v log q = %.4f, ELBO = %.4f (quadrature error %.1g)", p.Sched, p.Source, q.X[j], math.Log(q.W[j]), e48[j], qerr)
			require.GreaterOrEqual(t, gap+qerr+64*0x1p-52*(1+math.Abs(e48[j])), 0.0, "ELBO above log q at %v", q.X[j])
			avg += q.W[j] * e48[j]
			if e48[j] > math.Log(1/float64(len(q.X)))+qerr {
				control = true
			}
		}
		require.True(t, control, "negative control: the ELBO cannot tell q from the unweighted law")
		draws := q.Sampler()(100000, rng)
		mean, se := ELBOEstimate(m, p, draws, rng)
		t.Logf("%v %v: Σ q·ELBO = %.4f, Monte Carlo %.4f ± %.4f, −H = %.4f", p.Sched, p.Source, avg, mean, se, -entropy(q.W))
		require.InDelta(t, avg, mean, 5*se)
	}
}
