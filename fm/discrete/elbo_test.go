package discrete

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// finalLaw returns the exact law of the model "the CTMC of the exact
// posterior of q run to tEnd, then one factorized draw x₁ⁱ ~ p(·|x, tEnd)":
// the chain is at the marginal p_tEnd at tEnd (TestKolmogorov_ExactRates),
// so π(x₁) = Σ_x p_tEnd(x)·Πᵢ p(x₁ⁱ|x, tEnd).
func finalLaw(p Path, q Dist, tEnd float64, x1 []int) float64 {
	ex := Exact{Path: p, Q: q}
	pt := Marginal(p, q, tEnd)
	pi := 0.0
	for k, x := range SpaceOf(p).All() {
		w := pt[k]
		post := ex.Posterior(tEnd, x)
		for i, a := range x1 {
			w *= post[i*p.V+a]
		}
		pi += w
	}
	return pi
}

// TestELBO_Bound checks the CTMC's ELBO (with its final draw at tEnd) on
// {0,…,3}² for the exact posterior of a weighted data set q, whose law is
// known exactly (finalLaw): ELBO(x₁) ≤ log π(x₁) at every data point, up
// to the quadrature error |ELBO₄₈ − ELBO₂₄| and rounding, at tEnd = 0.9 and
// 0.99. The Monte-Carlo ELBOEstimate over 20,000 draws x₁ ~ q agrees with
// Σ q·ELBO within 5 standard errors. Negative control: the bound is tight
// enough to separate the model from the one built on the unweighted data:
// for some point, ELBO(x₁) > log π_flat(x₁).
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
	flat := Dist{X: q.X, W: make([]float64, len(q.W))}
	for j := range flat.W {
		flat.W[j] = 1 / float64(len(q.W))
	}
	for _, p := range []Path{
		{Sched: Linear{}, Source: Uniform, V: 4, D: 2},
		{Sched: Cosine{}, Source: Mask, V: 4, D: 2},
	} {
		for _, tEnd := range []float64{0.9, 0.99} {
			m := Exact{Path: p, Q: q}
			e24, e48 := ELBO(m, p, q.X, tEnd, 24), ELBO(m, p, q.X, tEnd, 48)
			avg, control := 0.0, false
			for j := range q.X {
				err := math.Abs(e48[j]-e24[j]) + 64*0x1p-52*(1+math.Abs(e48[j]))
				logPi := math.Log(finalLaw(p, q, tEnd, q.X[j]))
				t.Logf("%v %v tEnd=%v: x₁=%v log π = %.4f, ELBO = %.4f (quadrature error %.1g)", p.Sched, p.Source, tEnd, q.X[j], logPi, e48[j], err)
				require.LessOrEqual(t, e48[j], logPi+err, "ELBO above log π at %v", q.X[j])
				avg += q.W[j] * e48[j]
				if e48[j] > math.Log(finalLaw(p, flat, tEnd, q.X[j]))+err {
					control = true
				}
			}
			require.True(t, control, "negative control: the ELBO cannot tell the model from the unweighted one")
			mean, se := ELBOEstimate(m, p, q.Sampler()(20000, rng), tEnd, rng)
			t.Logf("%v %v tEnd=%v: Σ q·ELBO = %.4f, Monte Carlo %.4f ± %.4f, −H = %.4f", p.Sched, p.Source, tEnd, avg, mean, se, -entropy(q.W))
			require.InDelta(t, avg, mean, 5*se)
		}
	}
}
