package riemann

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The wrapped normal's density integrates to 1 on T² by the trapezoid rule
// with n nodes per angle. The rule's error is derived, not tuned: the
// Fourier coefficients of one angle's density are e^{−m²σ²/2}e^{−imμ}/2π,
// and the n-node rule on a 2π-periodic function returns Σ_m c_{mn}·2π, so
// per angle |Q − 1| ≤ 2Σ_{m≥1} e^{−m²n²σ²/2} ≤ q = 2e^{−n²σ²/2}/(1 −
// e^{−n²σ²/2}); the truncated lattice sum is low by a relative ε =
// TruncationBound(σ, Terms(σ)) at most; and the sum of n² terms rounds by
// n²·2⁻⁵³ relative. So |∫p − 1| ≤ (1+q)² − 1 + 2ε + n²·2⁻⁵³·4. Checked for
// σ = 0.3 (nodes must resolve the bump), 1 and 3 (the lattice sum
// matters), where K = Terms(σ) = 1, 2 and 4; the bound of the truncation
// is checked against the next omitted pair of terms at δ = π. Negative
// control: the k = 0 term alone (no lattice sum) misses the wrapped mass,
// 1 − P(|σz| < π)² = 0.503 at σ = 3 (to 10⁻³: the truncated density has
// a kink at δ = ±π, where the rule is only O(h²)), and fails the same bound.
func TestWrappedNormal_IntegratesToOne(t *testing.T) {
	for _, c := range []struct {
		sigma float64
		n, k  int
	}{{0.3, 64, 1}, {1, 32, 2}, {3, 32, 4}} {
		w := NewWrappedNormal(2, c.sigma)
		w.Mu = []float64{1.3, 4.0}
		require.Equal(t, c.k, Terms(c.sigma), "σ = %v", c.sigma)
		eps := TruncationBound(c.sigma, c.k)
		// The first omitted pair at δ = π, relative to the kept sum there.
		s2 := c.sigma * c.sigma
		kept, next := 0.0, 0.0
		for k := -c.k; k <= c.k; k++ {
			kept += math.Exp(-math.Pow(math.Pi+2*math.Pi*float64(k), 2) / (2 * s2))
		}
		for _, k := range []int{c.k + 1, -c.k - 1} {
			next += math.Exp(-math.Pow(math.Pi+2*math.Pi*float64(k), 2) / (2 * s2))
		}
		require.LessOrEqual(t, next/kept, eps, "σ = %v: the bound must cover the first omitted terms", c.sigma)
		e := math.Exp(-float64(c.n*c.n) * s2 / 2)
		q := 2 * e / (1 - e)
		tol := (1+q)*(1+q) - 1 + 2*eps + 4*float64(c.n*c.n)*0x1p-53
		got := TorusQuadrature(func(x []float64) float64 { return math.Exp(w.LogDensity(x)) }, c.n)
		t.Logf("σ = %v, K = %d, ε = %.2g: ∫p − 1 = %.3g (tol %.3g)", c.sigma, c.k, eps, got-1, tol)
		require.InDelta(t, 1, got, tol, "σ = %v", c.sigma)
		if c.sigma == 3 {
			bad := TorusQuadrature(func(x []float64) float64 { return math.Exp(unwrapped{w}.LogDensity(x)) }, c.n)
			require.Greater(t, math.Abs(bad-1), 100*tol, "negative control: ∫p = %v", bad)
			require.InDelta(t, 1-math.Pow(math.Erf(math.Pi/(c.sigma*math.Sqrt2)), 2), 1-bad, 1e-3)
		}
	}
	require.False(t, math.IsInf(NewWrappedNormal(1, 0.01).LogDensity([]float64{0}), 0), "the antipode of the mode at σ = 0.01 is finite in log space")
}

// Samples of the wrapped normal match its density: χ² of 40,000 draws on
// the 8×8 grid of cells of side π/4 against the cells' probabilities
// (Gauss–Legendre 8×8 inside each cell on LogDensity), 63 degrees of
// freedom, p-value by the regularized incomplete gamma function; p must
// exceed 10⁻³ (the seed is fixed: the test is deterministic). σ = 1.5, so
// about 4% of the mass wraps around. Negative controls: the same draws
// against the unwrapped density's cells, and draws at σ = 1.6, give
// p < 10⁻⁶.
func TestWrappedNormal_SamplesMatchDensity(t *testing.T) {
	const cells, n = 8, 40000
	w := NewWrappedNormal(2, 1.5)
	w.Mu = []float64{0.4, 3.5}
	prob := func(logp func([]float64) float64) []float64 {
		zs, ws := gaussLegendre(8)
		h := 2 * math.Pi / cells
		p := make([]float64, cells*cells)
		for a := 0; a < cells; a++ {
			for b := 0; b < cells; b++ {
				s := 0.0
				for i, zi := range zs {
					for j, zj := range zs {
						x := []float64{(float64(a) + (zi+1)/2) * h, (float64(b) + (zj+1)/2) * h}
						s += ws[i] * ws[j] * math.Exp(logp(x))
					}
				}
				p[a*cells+b] = s * h * h / 4
			}
		}
		return p
	}
	pval := func(sigma float64, p []float64) float64 {
		s := WrappedNormal{Mu: w.Mu, Sigma: sigma}
		x := s.Sample(n, newRNG(90))
		counts := make([]float64, cells*cells)
		for i := 0; i < n; i++ {
			a := int(x.At(i, 0) / (2 * math.Pi / cells))
			b := int(x.At(i, 1) / (2 * math.Pi / cells))
			counts[a*cells+b]++
		}
		chi2 := 0.0
		for k, c := range counts {
			e := n * p[k]
			chi2 += (c - e) * (c - e) / e
		}
		return chi2PValue(chi2, cells*cells-1)
	}
	good := prob(w.LogDensity)
	sum := 0.0
	for _, v := range good {
		sum += v
	}
	require.InDelta(t, 1, sum, 1e-9)
	p := pval(1.5, good)
	t.Logf("χ² p-value %.3f (63 dof, %d draws)", p, n)
	require.Greater(t, p, 1e-3)
	require.Less(t, pval(1.5, prob(unwrapped{w}.LogDensity)), 1e-6, "negative control: unwrapped density")
	require.Less(t, pval(1.6, good), 1e-6, "negative control: draws at σ = 1.6")
}

// chi2PValue returns P(χ²_k ≥ x) = Q(k/2, x/2), the regularized upper
// incomplete gamma function: its series for x < a + 1, Lentz's continued
// fraction otherwise (Press et al., Numerical Recipes, §6.2), to 1e-15.
func chi2PValue(x float64, k int) float64 {
	a, z := float64(k)/2, x/2
	lg, _ := math.Lgamma(a)
	pre := math.Exp(-z + a*math.Log(z) - lg)
	if z < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 10000 && term > sum*1e-16; n++ {
			term *= z / (a + float64(n))
			sum += term
		}
		return 1 - pre*sum
	}
	const tiny = 1e-300
	b := z + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 10000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		if math.Abs(d*c-1) < 1e-16 {
			break
		}
	}
	return pre * h
}

// chi2PValue against values known in closed form: k = 2 gives e^{−x/2};
// k = 1 gives erfc(√(x/2)).
func TestChi2PValue(t *testing.T) {
	for _, x := range []float64{0.1, 1, 3, 10, 40} {
		require.InDelta(t, math.Exp(-x/2), chi2PValue(x, 2), 1e-14, "k=2 x=%v", x)
		require.InDelta(t, math.Erfc(math.Sqrt(x/2)), chi2PValue(x, 1), 1e-13, "k=1 x=%v", x)
	}
}
