package discrete

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
)

// stepKernel writes into dst [S] the one-step law of position i under the
// discrete Euler step of size h from rates u [S] (Rate's row for i), with
// xi the current token:
//
//	P(xⁱ → y) = min(1, h·λ)·u(y)/λ for y ≠ xⁱ,  P(xⁱ → xⁱ) = 1 − min(1, h·λ)
//
// with λ = Σ_{y≠xⁱ} u(y) the exit rate. For h·λ ≤ 1 this is δ + h·u
// (Gat et al. 2024, arXiv:2407.15595, eq. 14); the clip keeps it a
// probability when h·λ > 1 (near t = 1, where κ̇/(1 − κ) grows).
func stepKernel(dst, u []float64, xi int, h float64) {
	lambda := -u[xi]
	jump := min(1, h*lambda)
	for y := range dst {
		dst[y] = 0
		if y != xi && lambda > 0 {
			dst[y] = jump * u[y] / lambda
		}
	}
	dst[xi] = 1 - jump
}

// EulerTimes returns the time grid of Euler with the given number of
// steps: t_k = k/steps, k = 0, …, steps−1 (each step starts at t_k and
// has size 1/steps, so the last step ends at t = 1).
func EulerTimes(steps int) []float64 {
	ts := make([]float64, steps)
	for k := range ts {
		ts[k] = float64(k) / float64(steps)
	}
	return ts
}

// Euler simulates the CTMC of the model's rates from the states x0 (a
// copy is returned) with the discrete Euler step (Gat et al. 2024,
// arXiv:2407.15595, eq. 14; Lipman et al. 2024, arXiv:2412.06264, §7.5.2):
// at each step every position i jumps independently, to y with
// probability h·uⁱ_t(y, x) (stepKernel). The chain it simulates is the one
// whose exact distribution EulerDistribution computes
// (TestEuler_MatchesEulerDistribution). The model is evaluated in one
// arena for the run (as by EulerDistribution and Gillespie), each step
// reusing the memory of the one before; the states are those of the heap,
// bit for bit (TestEuler_ArenaBitIdentical; BenchmarkEuler measures the
// allocations).
func Euler(m Denoiser, p Path, x0 [][]int, steps int, rng *rand.Rand) [][]int {
	p.check("discrete.Euler", rng)
	if steps < 1 {
		panic(autograd.Misuse("discrete.Euler", "steps %d must be positive", steps))
	}
	x := make([][]int, len(x0))
	for k := range x0 {
		x[k] = append([]int(nil), x0[k]...)
	}
	S := p.States()
	h := 1 / float64(steps)
	u := make([]float64, p.D*S)
	kern := make([]float64, S)
	ts := make([]float64, len(x))
	a := steparena.New() // the model's evaluations reuse one another's memory
	for _, t := range EulerTimes(steps) {
		for k := range ts {
			ts[k] = t
		}
		posts := probs(m, p, ts, x, a)
		for k := range x {
			Rate(u, p, t, x[k], posts[k])
			for i := 0; i < p.D; i++ {
				stepKernel(kern, u[i*S:(i+1)*S], x[k][i], h)
				x[k][i] = draw(kern, rng)
			}
		}
	}
	return x
}

func draw(w []float64, rng *rand.Rand) int {
	r := rng.Float64()
	last := 0
	for y, v := range w {
		if v <= 0 {
			continue
		}
		last = y
		if r < v {
			return y
		}
		r -= v
	}
	return last
}

// Gillespie simulates the CTMC of the model's rates exactly (no time
// step) from the state x0 until tEnd < 1, by thinning (Lewis and Shedler
// 1979) against the bound D·κ̇_t/(1 − κ_t) on the total jump rate, whose
// integral −D·log(1 − κ_t) inverts in closed form: from t, the next
// candidate time τ solves 1 − κ_τ = (1 − κ_t)·e^{−E/D}, E ~ Exp(1). At τ
// a uniformly chosen position i is accepted with probability
// λⁱ(x, τ)/(κ̇/(1 − κ)) = Σ_{y≠xⁱ} p(x₁ⁱ = y | x), and then jumps to y
// with probability ∝ p(x₁ⁱ = y | x). The expected number of candidates is
// D·log((1 − κ_t)/(1 − κ_{tEnd})) (e.g. 62 for D = 3 and linear κ from 0
// to 1 − 10⁻⁹). TestGillespie_ReproducesData checks that the exact
// posterior's chain ends at q (chi-square).
func Gillespie(m Denoiser, p Path, x0 []int, tEnd float64, rng *rand.Rand) []int {
	p.check("discrete.Gillespie", rng)
	if !(tEnd > 0 && tEnd < 1) {
		panic(autograd.Misuse("discrete.Gillespie", "tEnd %v must lie in (0, 1)", tEnd))
	}
	x := append([]int(nil), x0...)
	kEnd := p.Sched.Kappa(tEnd)
	k := 0.0
	w := make([]float64, p.V)
	a := steparena.New() // the model's evaluations reuse one another's memory
	for {
		k = 1 - (1-k)*math.Exp(-rng.ExpFloat64()/float64(p.D))
		if k >= kEnd {
			return x
		}
		tau := p.Sched.Inverse(k)
		i := rng.IntN(p.D)
		if p.Source == Mask && x[i] != p.V {
			continue
		}
		post := probs(m, p, []float64{tau}, [][]int{x}, a)[0][i*p.V : (i+1)*p.V]
		out := 0.0
		for y := range w {
			w[y] = 0
			if y != x[i] {
				w[y] = post[y]
				out += post[y]
			}
		}
		if rng.Float64() >= out {
			continue
		}
		for y := range w {
			w[y] /= out
		}
		x[i] = draw(w, rng)
	}
}

// EulerDistribution returns the exact law after the Euler chain of the
// model's rates with the given number of steps, started from p₀, on every
// state of SpaceOf(p) (index order): the model's exact likelihood
// p_θ(x₁) = EulerDistribution(…)[Index(x₁)] of the sampler Euler. Each
// step maps π to π′(y) = Σ_x π(x)·Πᵢ Kᵢ(yⁱ|x), Kᵢ the one-position kernel
// (stepKernel): for D = 2 as the product K₁ᵀ·diag(π)·K₂ (autograd.MatMulTN,
// O(S^D·S²) a step), otherwise by enumerating the S^D × S^D pairs. Needs
// S^D ≤ 2¹⁶. TestEuler_MatchesEulerDistribution.
func EulerDistribution(m Denoiser, p Path, steps int) []float64 {
	sp := SpaceOf(p)
	N, S := sp.Size(), p.States()
	if N > 1<<16 || (p.D != 2 && N > 1<<12) {
		panic(autograd.Misuse("discrete.EulerDistribution", "%d states: at most 2¹⁶ for D = 2, 2¹² otherwise", N))
	}
	xs := sp.All()
	pi := make([]float64, N)
	for k, x := range xs {
		pi[k] = 1
		for _, a := range x {
			pi[k] *= p.P0(a)
		}
	}
	h := 1 / float64(steps)
	ts := make([]float64, N)
	u := make([]float64, p.D*S)
	K := make([][]float64, p.D) // K[i][k·S + y] = Kᵢ(y | x_k)
	for i := range K {
		K[i] = make([]float64, N*S)
	}
	a := steparena.New() // the model's evaluations reuse one another's memory
	for _, t := range EulerTimes(steps) {
		for k := range ts {
			ts[k] = t
		}
		posts := probs(m, p, ts, xs, a)
		for k, x := range xs {
			Rate(u, p, t, x, posts[k])
			for i := 0; i < p.D; i++ {
				stepKernel(K[i][k*S:(k+1)*S], u[i*S:(i+1)*S], x[i], h)
			}
		}
		pi = pushForward(pi, K, sp)
	}
	return pi
}

func pushForward(pi []float64, K [][]float64, sp Space) []float64 {
	N, S := len(pi), sp.S
	if sp.D == 2 {
		a := autograd.Zeros(N, S).NoGraph()
		for k := range N {
			for y := range S {
				a.Data[k*S+y] = pi[k] * K[0][k*S+y]
			}
		}
		b := autograd.FromSlice(N, S, K[1]).NoGraph()
		return autograd.MatMulTN(a, b).Data // [S, S], index y¹·S + y²
	}
	return pushBrute(pi, K, sp)
}

// pushBrute is pushForward by enumeration of the S^D × S^D pairs.
func pushBrute(pi []float64, K [][]float64, sp Space) []float64 {
	N, S := len(pi), sp.S
	out := make([]float64, N)
	for k := range N {
		if pi[k] == 0 {
			continue
		}
		for j := range N {
			y := sp.State(j)
			w := pi[k]
			for i, a := range y {
				w *= K[i][k*S+a]
				if w == 0 {
					break
				}
			}
			out[j] += w
		}
	}
	return out
}
