package fm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
)

/*
Sampling by SDE (Song et al. 2021, arXiv:2011.13456, §4.3 and Appendix D.1;
Lipman et al. 2024, arXiv:2412.06264, §4.8 (score and velocity)).

If u_t generates p_t (the continuity equation ∂_t p + ∇·(p u) = 0), then for
any g_t ≥ 0 the SDE

	dX = [u_t(X) + (g_t²/2)·∇log p_t(X)] dt + g_t dW

has the same marginals p_t: its Fokker–Planck equation is
∂_t p = −∇·(p u) − ∇·(p (g²/2)∇log p) + (g²/2)Δp, and the last two terms
cancel because p ∇log p = ∇p. g = 0 is the ODE of flow matching. On an
affine Gaussian path the score is a function of the velocity
(ScoreFromVelocity), so a velocity model alone defines every member.

Euler–Maruyama on the grid t_k = k/N, h = 1/N:

	X_{k+1} = X_k + h·[u(t_k, X_k) + (g(t_k)²/2)·s(t_k, X_k)] + g(t_k)·√h·ξ_k,  ξ_k ~ N(0, I),

strong order ½, weak order 1 (Kloeden & Platen 1992, §14.1): expectations
carry an O(h) bias. The field is never evaluated at t = 1, where the score
of noise-free data does not exist.
*/

// SampleSDE integrates dX = [v(t, X) + (g_t²/2)·∇log p_t(X)] dt + g_t dW
// from t = 0 to 1 by steps Euler–Maruyama steps (derivation at the top of
// sde.go; Song et al. 2021, arXiv:2011.13456, §4.3), with the score from the
// velocity by the identity of the affine path p (ScoreFromVelocity):
//
//	X ← X + h·[(1 + g²c/2)·v + (g²e/2)·X] + g√h·ξ,  ∇log p_t = c·v + e·x.
//
// x0 [n, d] holds the start (e.g. SampleSource(p, …)) and is not changed; g
// nil means g = 0, which is Euler's method on the ODE (TestSampleSDE_ZeroIsODE).
// With the exact mixture field it reaches p₁ for several g
// (TestSampleSDE_ReachesData, whose negative control flips the score term).
// A state that stops being finite returns an error naming the step.
// v is evaluated in one arena for the run (its inputs enter it, Reset
// after each step), so a network's intermediate tensors are allocated once
// per run; the samples are those of the heap, bit for bit
// (TestSampleSDE_ArenaBitIdentical; BenchmarkSampleSDE measures the
// allocations).
func SampleSDE(v Velocity, p AffinePath, g func(t float64) float64, x0 *autograd.Tensor, steps int, rng *rand.Rand) (*autograd.Tensor, error) {
	if v == nil || p == nil || x0 == nil || steps < 1 || (g != nil && rng == nil) {
		panic(autograd.Misuse("fm.SampleSDE", "want a Velocity, an AffinePath, x0, steps ≥ 1 and an rng when g is set; got v nil: %v, p = %v, x0 nil: %v, steps = %d, rng nil: %v",
			v == nil, p, x0 == nil, steps, rng == nil))
	}
	n, d := x0.Rows, x0.Cols
	x := x0.Clone().NoGraph()
	h := 1 / float64(steps)
	tt := autograd.Zeros(n, 1).NoGraph()
	a := steparena.New() // v's evaluations reuse one another's memory
	for k := 0; k < steps; k++ {
		tk := float64(k) * h
		for i := range tt.Data {
			tt.Data[i] = tk
		}
		u := v(steparena.In(a, tt), steparena.In(a, x))
		gk, cu, cx := 0.0, 1.0, 0.0
		if g != nil {
			gk = g(tk)
			if gk != 0 {
				c, e := ScoreFromVelocity(p, tk)
				cu, cx = 1+gk*gk*c/2, gk*gk*e/2
			}
		}
		noise := gk * math.Sqrt(h)
		for i := 0; i < n*d; i++ {
			x.Data[i] += h * (cu*u.Data[i] + cx*x.Data[i])
			if noise != 0 {
				x.Data[i] += noise * rng.NormFloat64()
			}
			if math.IsNaN(x.Data[i]) || math.IsInf(x.Data[i], 0) {
				return nil, fmt.Errorf("fm.SampleSDE: row %d, column %d is %v after step %d of %d (t = %v, g = %v)", i/d, i%d, x.Data[i], k+1, steps, tk+h, gk)
			}
		}
		a.Reset() // u is spent
	}
	return x, nil
}
