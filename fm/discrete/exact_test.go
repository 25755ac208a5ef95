package discrete

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// randomDist returns n distinct random points of {0,…,V−1}^D with random
// weights (not uniform, so that forgetting q(x₁) changes the posterior).
func randomDist(V, D, n int, rng *rand.Rand) Dist {
	seen := map[int]bool{}
	sp := Space{S: V, D: D}
	var q Dist
	tot := 0.0
	for len(q.X) < n {
		k := rng.IntN(sp.Size())
		if seen[k] {
			continue
		}
		seen[k] = true
		w := 0.2 + rng.Float64()
		q.X = append(q.X, sp.State(k))
		q.W = append(q.W, w)
		tot += w
	}
	for j := range q.W {
		q.W[j] /= tot
	}
	return q
}

// scaled is a scheduler with a wrong derivative: κ̇·(1 − κ), i.e. the rate
// without its 1/(1 − κ) (a negative control).
type scaled struct{ Scheduler }

func (s scaled) DKappa(t float64) float64 { return s.Scheduler.DKappa(t) * (1 - s.Kappa(t)) }

func testPaths() []Path {
	var ps []Path
	for _, s := range []Scheduler{Linear{}, Polynomial{N: 2.5}, Cosine{}} {
		for _, src := range []Source{Uniform, Mask} {
			ps = append(ps, Path{Sched: s, Source: src, V: 4, D: 3})
		}
	}
	return ps
}

// kolmogorovResidual returns max_x |dp_t/dt − p_t·Q_t| with dp_t/dt from a
// Richardson-extrapolated central difference of Marginal, and a bound on
// that difference's own error: its truncation (estimated from the step
// halving, |R(h) − R(2h)|/15 for an O(h⁴) rule) plus rounding 8ε·max p/h.
func kolmogorovResidual(p, rates Path, q Dist, t float64) (res, bound float64) {
	const h = 1e-3
	diff := func(h float64) []float64 {
		a, b := Marginal(p, q, t+h), Marginal(p, q, t-h)
		for k := range a {
			a[k] = (a[k] - b[k]) / (2 * h)
		}
		return a
	}
	d1, d2, d4 := diff(h), diff(2*h), diff(4*h)
	pt := Marginal(p, q, t)
	pq := ApplyGenerator(rates, Exact{Path: rates, Q: q}, t, pt)
	for k := range pt {
		r1 := (4*d1[k] - d2[k]) / 3
		r2 := (4*d2[k] - d4[k]) / 3
		res = max(res, math.Abs(r1-pq[k]))
		bound = max(bound, math.Abs(r1-r2)/15+8*0x1p-52/h)
	}
	return res, bound
}

// TestKolmogorov_ExactRates checks the Kolmogorov forward equation
// dp_t/dt = p_t·Q_t (Gat et al. 2024, arXiv:2407.15595, eq. 3 and
// Theorem 3) for the marginal rates of the exact posterior of a weighted
// data set, on {0,…,3}³ (64 states, 125 with the mask), for the three
// schedulers and both sources, at t = 0.2, 0.5, 0.8. The target is 1e-8;
// the finite difference's own error bound (derived in kolmogorovResidual)
// is checked to be far below it. Negative controls: rates without the
// 1/(1 − κ_t) factor, and the posterior of the data without its weights,
// miss by more than 1e-6 (a hundred times the target).
func TestKolmogorov_ExactRates(t *testing.T) {
	q := randomDist(4, 3, 7, newRNG(1))
	flat := Dist{X: q.X, W: make([]float64, len(q.W))}
	for j := range flat.W {
		flat.W[j] = 1 / float64(len(q.W))
	}
	worst := 0.0
	for _, p := range testPaths() {
		for _, tt := range []float64{0.2, 0.5, 0.8} {
			res, bound := kolmogorovResidual(p, p, q, tt)
			require.Less(t, bound, 1e-9, "%v %v t=%v: the difference's error bound", p.Sched, p.Source, tt)
			require.LessOrEqual(t, res, 1e-8, "%v %v t=%v: got residual %.3g, want ≤ 1e-8", p.Sched, p.Source, tt, res)
			worst = max(worst, res)

			wrong := p
			wrong.Sched = scaled{p.Sched}
			res, _ = kolmogorovResidual(p, wrong, q, tt)
			require.Greater(t, res, 1e-6, "negative control (no 1/(1−κ)) %v %v t=%v", p.Sched, p.Source, tt)

			pt := Marginal(p, q, tt)
			pq := ApplyGenerator(p, Exact{Path: p, Q: flat}, tt, pt)
			ref := ApplyGenerator(p, Exact{Path: p, Q: q}, tt, pt)
			gap := 0.0
			for k := range pq {
				gap = max(gap, math.Abs(pq[k]-ref[k]))
			}
			require.Greater(t, gap, 1e-6, "negative control (posterior without q) %v %v t=%v", p.Sched, p.Source, tt)
		}
	}
	t.Logf("worst Kolmogorov residual %.3g (target 1e-8)", worst)
}

// TestScheduler_Derivative checks κ̇ against a central difference of κ
// (error h²·κ‴/6 + ε/h, tolerance 1e-7 at h = 1e-5 for these κ), κ₀ = 0,
// κ₁ = 1 and Inverse(κ_t) = t.
func TestScheduler_Derivative(t *testing.T) {
	for _, s := range []Scheduler{Linear{}, Polynomial{N: 2.5}, Polynomial{N: 1}, Cosine{}} {
		require.InDelta(t, 0, s.Kappa(0), 1e-15, "%v", s)
		require.InDelta(t, 1, s.Kappa(1), 1e-15, "%v", s)
		for _, tt := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
			const h = 1e-5
			fd := (s.Kappa(tt+h) - s.Kappa(tt-h)) / (2 * h)
			require.InDelta(t, fd, s.DKappa(tt), 1e-7, "%v t=%v", s, tt)
			require.InDelta(t, tt, s.Inverse(s.Kappa(tt)), 1e-12, "%v t=%v", s, tt)
		}
	}
	// Negative control: the cosine scheduler's κ̇ without its π/2 factor.
	c := Cosine{}
	fd := (c.Kappa(0.3+1e-5) - c.Kappa(0.3-1e-5)) / 2e-5
	require.Greater(t, math.Abs(fd-math.Sin(math.Pi*0.3)), 1e-3)
}
