package discrete

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// The ELBO of a CTMC (Campbell et al. 2024, arXiv:2402.04997, §3; Gat et
// al. 2024, arXiv:2407.15595, §3; Lipman et al. 2024, arXiv:2412.06264,
// §7.5.1). The conditional chain of the mixture path, started at x₀ ~ p₀,
// ends at x₁ almost surely, and it and the model's chain start from the
// same p₀. The path-space KL between two CTMCs with rates u and u_θ is
// ∫ E Σ_{y≠x} [u_θ − u + u·log(u/u_θ)] dt (Girsanov), so by Jensen
//
//	log p_θ(x₁) ≥ −∫₀¹ E_{x_t ~ p_t(·|x₁)} ℓ_GKL(t, x_t, x₁) dt = ELBO(x₁)
//
// with ℓ_GKL the per-row GKLLoss. p_θ here is the law at t = 1 of the
// model's continuous-time chain (Gillespie's), not of Euler's finite steps.

// ELBO returns ELBO(x₁) for each x₁, with the t-integral by n-point
// Gauss–Legendre quadrature on [0, 1] and the expectation over x_t by
// enumerating SpaceOf(p) (exact; S^D ≤ 2¹² states). TestELBO_Bound.
func ELBO(m Denoiser, p Path, x1 [][]int, n int) []float64 {
	sp := SpaceOf(p)
	if sp.Size() > 1<<12 {
		panic(autograd.Misuse("discrete.ELBO", "%d states: at most 2¹² (use ELBOEstimate)", sp.Size()))
	}
	nodes, weights := gaussLegendre(n)
	xs := sp.All()
	out := make([]float64, len(x1))
	for q, t := range nodes {
		ts := make([]float64, len(xs))
		for k := range ts {
			ts[k] = t
		}
		tt := autograd.FromSlice(len(ts), 1, ts).NoGraph()
		logits := m.Forward(tt, xs)
		for j, x := range x1 {
			rows := make([][]int, len(xs))
			for k := range rows {
				rows[k] = x
			}
			l := gklRows("discrete.ELBO", logits, p, ts, xs, rows)
			for k, xt := range xs {
				if w := p.CondProb(t, xt, x); w > 0 {
					out[j] -= weights[q] * w * l.Data[k]
				}
			}
		}
	}
	return out
}

// ELBOEstimate returns the Monte-Carlo mean and standard error of
// ELBO(x₁) over the rows of x1, one draw t ~ U[0, 1), x_t ~ p_t(·|x₁) per
// row (internal/stats.MeanStdErr). It needs no enumeration, so it serves
// any state space. TestELBO_Bound compares it with ELBO.
func ELBOEstimate(m Denoiser, p Path, x1 [][]int, rng *rand.Rand) (mean, se float64) {
	p.check("discrete.ELBOEstimate", rng)
	ts := make([]float64, len(x1))
	for k := range ts {
		ts[k] = rng.Float64()
	}
	xt := p.Sample(ts, x1, rng)
	logits := m.Forward(autograd.FromSlice(len(ts), 1, ts).NoGraph(), xt)
	l := gklRows("discrete.ELBOEstimate", logits, p, ts, xt, x1)
	vals := make([]float64, len(x1))
	for k := range vals {
		vals[k] = -l.Data[k]
	}
	return stats.MeanStdErr(vals)
}

// gaussLegendre returns the n-point Gauss–Legendre nodes and weights on
// [0, 1] (Newton's method on Pₙ from Chebyshev starting points).
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := range n {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, z
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*z*p1-float64(k-1)*p0)/float64(k)
			}
			if n == 1 {
				p0, p1 = 1, z
			}
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) < 1e-15 {
				break
			}
		}
		x[i] = (1 - z) / 2
		w[i] = 1 / ((1 - z*z) * dp * dp)
	}
	return x, w
}
