package discrete

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// chi2Quantile returns the Wilson–Hilferty approximation of the upper
// quantile of χ² with k degrees of freedom at the standard normal quantile
// z: k·(1 − 2/(9k) + z·√(2/(9k)))³ (relative error below 1% for k ≥ 3 at
// z ≈ 5).
func chi2Quantile(k int, z float64) float64 {
	a := 2 / (9 * float64(k))
	return float64(k) * math.Pow(1-a+z*math.Sqrt(a), 3)
}

// zFalseAlarm is the standard normal quantile of a one-sided 10⁻⁶ false
// alarm rate per chi-square test.
const zFalseAlarm = 4.753

// chi2 returns Pearson's statistic of counts against expected
// probabilities, with cells whose expected count is below 5 merged into
// one, and its degrees of freedom.
func chi2(counts []int, prob []float64, n int) (stat float64, dof int) {
	var restObs, restExp float64
	cells := 0
	for k, pk := range prob {
		e := pk * float64(n)
		if e < 5 {
			restObs += float64(counts[k])
			restExp += e
			continue
		}
		d := float64(counts[k]) - e
		stat += d * d / e
		cells++
	}
	if restExp > 0 {
		d := restObs - restExp
		stat += d * d / restExp
		cells++
	} else if restObs > 0 {
		return math.Inf(1), cells
	}
	return stat, cells - 1
}

// TestGillespie_ReproducesData simulates the CTMC of the exact posterior
// of a weighted data set exactly (Gillespie, to t = 1 − 10⁻⁹) from 3,000
// source draws and compares the end states with q by a chi-square test at
// a 10⁻⁶ false-alarm rate (Wilson–Hilferty quantile; the truncation at
// 1 − 10⁻⁹ moves about 3,000·D·10⁻⁹ samples, below one). Linear and cosine
// schedulers, uniform and mask sources. Negative control: the chain of the
// posterior of the data without its weights fails the same test.
func TestGillespie_ReproducesData(t *testing.T) {
	rng := newRNG(5)
	q := randomDist(4, 3, 7, rng)
	flat := Dist{X: q.X, W: make([]float64, len(q.W))}
	for j := range flat.W {
		flat.W[j] = 1 / float64(len(q.W))
	}
	const n = 3000
	for _, p := range []Path{
		{Sched: Linear{}, Source: Uniform, V: 4, D: 3},
		{Sched: Cosine{}, Source: Mask, V: 4, D: 3},
	} {
		sp := SpaceOf(p)
		target := make([]float64, sp.Size())
		for j, x := range q.X {
			target[sp.Index(x)] = q.W[j]
		}
		run := func(m Denoiser) (float64, float64) {
			counts := make([]int, sp.Size())
			for _, x0 := range p.SampleSource(n, rng) {
				counts[sp.Index(Gillespie(m, p, x0, 1-1e-9, rng))]++
			}
			stat, dof := chi2(counts, target, n)
			return stat, chi2Quantile(dof, zFalseAlarm)
		}
		stat, thr := run(Exact{Path: p, Q: q})
		t.Logf("%v %v: χ² = %.2f, threshold %.2f", p.Sched, p.Source, stat, thr)
		require.Less(t, stat, thr, "%v %v: the exact chain does not end at q", p.Sched, p.Source)
		stat, thr = run(Exact{Path: p, Q: flat})
		require.Greater(t, stat, thr, "negative control %v %v", p.Sched, p.Source)
	}
}

// TestEuler_MatchesEulerDistribution checks that EulerDistribution is the
// law of the sampler Euler: 4,000 Euler samples with 4 steps (coarse, so
// that the law is far from q) against EulerDistribution's probabilities,
// chi-square at a 10⁻⁶ false-alarm rate. Negative control: the same
// samples against q (the limit of many steps) fail.
func TestEuler_MatchesEulerDistribution(t *testing.T) {
	rng := newRNG(6)
	q := randomDist(4, 3, 7, rng)
	const n, steps = 4000, 4
	for _, p := range []Path{
		{Sched: Linear{}, Source: Uniform, V: 4, D: 3},
		{Sched: Cosine{}, Source: Mask, V: 4, D: 3},
		{Sched: Polynomial{N: 2}, Source: Uniform, V: 5, D: 2},
	} {
		sp := SpaceOf(p)
		m := Exact{Path: p, Q: q2(p, q)}
		law := EulerDistribution(m, p, steps)
		sum := 0.0
		for _, v := range law {
			sum += v
		}
		require.InDelta(t, 1, sum, 1e-12, "EulerDistribution must stay a distribution")
		counts := make([]int, sp.Size())
		for _, x := range Euler(m, p, p.SampleSource(n, rng), steps, rng) {
			counts[sp.Index(x)]++
		}
		stat, dof := chi2(counts, law, n)
		thr := chi2Quantile(dof, zFalseAlarm)
		t.Logf("%v %v D=%d: χ² = %.2f, threshold %.2f", p.Sched, p.Source, p.D, stat, thr)
		require.Less(t, stat, thr)
		target := make([]float64, sp.Size())
		for j, x := range m.Q.X {
			target[sp.Index(x)] = m.Q.W[j]
		}
		stat, dof = chi2(counts, target, n)
		require.Greater(t, stat, chi2Quantile(dof, zFalseAlarm), "negative control %v %v", p.Sched, p.Source)
	}
}

// q2 returns q for a path of length 3, and for D = 2 the weighted data set
// of its points' first two tokens (merged duplicates).
func q2(p Path, q Dist) Dist {
	if p.D == 3 {
		return q
	}
	sp := Space{S: p.V, D: 2}
	w := map[int]float64{}
	for j, x := range q.X {
		w[sp.Index([]int{x[0] % p.V, x[1] % p.V})] += q.W[j]
	}
	var out Dist
	for k := range sp.Size() {
		if w[k] > 0 {
			out.X, out.W = append(out.X, sp.State(k)), append(out.W, w[k])
		}
	}
	return out
}

// TestPushForward_D2MatchesEnumeration checks the D = 2 product
// K₁ᵀ·diag(π)·K₂ against the enumeration of pairs, to rounding
// (16ε per entry of a sum of N terms ≤ 1).
func TestPushForward_D2MatchesEnumeration(t *testing.T) {
	rng := newRNG(7)
	sp := Space{S: 5, D: 2}
	N := sp.Size()
	pi := make([]float64, N)
	for k := range pi {
		pi[k] = rng.Float64() / float64(N)
	}
	K := [][]float64{make([]float64, N*sp.S), make([]float64, N*sp.S)}
	for i := range K {
		for k := range K[i] {
			K[i][k] = rng.Float64()
		}
	}
	a, b := pushForward(pi, K, sp), pushBrute(pi, K, sp)
	for k := range a {
		require.InDelta(t, b[k], a[k], 16*0x1p-52*float64(N), "entry %d", k)
	}
	// Negative control: K₁ and K₂ swapped.
	c := pushBrute(pi, [][]float64{K[1], K[0]}, sp)
	diff := 0.0
	for k := range a {
		diff = max(diff, math.Abs(a[k]-c[k]))
	}
	require.Greater(t, diff, 1e-3)
}
