package discrete

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// The ELBO of a CTMC (Campbell et al. 2024, arXiv:2402.04997, §3; Gat et
// al. 2024, arXiv:2407.15595, §3; Lipman et al. 2024, arXiv:2412.06264,
// §7.5.1). The path-space KL between two CTMCs with rates u and u_θ from
// the same start is ∫ E Σ_{y≠x} [u_θ − u + u·log(u/u_θ)] dt (Girsanov), the
// integrand of GKLLoss. The model is the model's chain run to tEnd < 1,
// then one factorized draw x₁ⁱ ~ p_θ(·|x_tEnd, tEnd) (what Euler's last step
// does when κ̇/(1 − κ) exceeds 1/h); the variational chain is the
// conditional chain of the mixture path given x₁. By Jensen,
//
//	log p_θ(x₁) ≥ −∫₀^tEnd E_{x_t ~ p_t(·|x₁)} ℓ_GKL(t, x_t, x₁) dt
//	             + E_{x ~ p_tEnd(·|x₁)} Σᵢ log p_θ(x₁ⁱ | x, tEnd)  =  ELBO(x₁)
//
// The final draw is needed: without it (tEnd = 1) a model whose
// p_θ(x₁ⁱ = xⁱ | x, t) does not tend to 1 as t → 1 keeps jumping, and the
// integral diverges like ∫ dt/(1 − t) for the linear κ.

// ELBO returns ELBO(x₁) for each x₁, with the t-integral by n-point
// Gauss–Legendre quadrature on [0, tEnd] and the expectations over x_t by
// enumerating SpaceOf(p) (exact; S^D ≤ 2¹² states). TestELBO_Bound.
func ELBO(m Denoiser, p Path, x1 [][]int, tEnd float64, n int) []float64 {
	sp := SpaceOf(p)
	if sp.Size() > 1<<12 {
		panic(autograd.Misuse("discrete.ELBO", "%d states: at most 2¹² (use ELBOEstimate)", sp.Size()))
	}
	if !(tEnd > 0 && tEnd < 1) {
		panic(autograd.Misuse("discrete.ELBO", "tEnd %v must lie in (0, 1)", tEnd))
	}
	nodes, weights := gaussLegendre(n)
	xs := sp.All()
	out := make([]float64, len(x1))
	rows := make([][]int, len(xs))
	eval := func(t, wt float64, terminal bool) {
		ts := make([]float64, len(xs))
		for k := range ts {
			ts[k] = t
		}
		logits := m.Forward(autograd.FromSlice(len(ts), 1, ts).NoGraph(), xs)
		for j, x := range x1 {
			for k := range rows {
				rows[k] = x
			}
			var l *autograd.Tensor
			if terminal {
				l = ceRows(logits, p, rows) // −Σᵢ log p_θ(x₁ⁱ | x)
			} else {
				l = gklRows("discrete.ELBO", logits, p, ts, xs, rows)
			}
			for k, xt := range xs {
				if w := p.CondProb(t, xt, x); w > 0 {
					out[j] -= wt * w * l.Data[k]
				}
			}
		}
	}
	for q, t := range nodes {
		eval(t*tEnd, weights[q]*tEnd, false)
	}
	eval(tEnd, 1, true)
	return out
}

// ELBOEstimate returns the Monte-Carlo mean and standard error of
// ELBO(x₁) over the rows of x1 (internal/stats.MeanStdErr): one draw
// t ~ U[0, tEnd), x_t ~ p_t(·|x₁) for the integral and one x ~ p_tEnd(·|x₁)
// for the final draw, per row. It needs no enumeration, so it serves any
// state space. TestELBO_Bound compares it with ELBO.
func ELBOEstimate(m Denoiser, p Path, x1 [][]int, tEnd float64, rng *rand.Rand) (mean, se float64) {
	p.check("discrete.ELBOEstimate", rng)
	if !(tEnd > 0 && tEnd < 1) {
		panic(autograd.Misuse("discrete.ELBOEstimate", "tEnd %v must lie in (0, 1)", tEnd))
	}
	n := len(x1)
	ts, te := make([]float64, n), make([]float64, n)
	for k := range ts {
		ts[k], te[k] = rng.Float64()*tEnd, tEnd
	}
	xt, xe := p.Sample(ts, x1, rng), p.Sample(te, x1, rng)
	l := gklRows("discrete.ELBOEstimate", m.Forward(autograd.FromSlice(n, 1, ts).NoGraph(), xt), p, ts, xt, x1)
	ce := ceRows(m.Forward(autograd.FromSlice(n, 1, te).NoGraph(), xe), p, x1)
	vals := make([]float64, n)
	for k := range vals {
		vals[k] = -tEnd*l.Data[k] - ce.Data[k]
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
