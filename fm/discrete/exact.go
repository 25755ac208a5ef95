package discrete

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// Space enumerates the S^D states of sequences of D tokens in {0, …, S−1}
// (the exact tests and the exact likelihood need S^D ≤ 2¹⁶). A state's
// index is Σᵢ xⁱ·S^(D−1−i).
type Space struct{ S, D int }

// SpaceOf returns the state space of a path: S = p.States().
func SpaceOf(p Path) Space { return Space{S: p.States(), D: p.D} }

// Size returns S^D.
func (s Space) Size() int {
	n := 1
	for range s.D {
		n *= s.S
	}
	return n
}

// Index returns the index of the state x.
func (s Space) Index(x []int) int {
	k := 0
	for _, a := range x {
		k = k*s.S + a
	}
	return k
}

// State returns the state with index k.
func (s Space) State(k int) []int {
	x := make([]int, s.D)
	for i := s.D - 1; i >= 0; i-- {
		x[i] = k % s.S
		k /= s.S
	}
	return x
}

// All returns every state, in index order.
func (s Space) All() [][]int {
	xs := make([][]int, s.Size())
	for k := range xs {
		xs[k] = s.State(k)
	}
	return xs
}

// Dist is a finite data distribution q(x₁) = Σⱼ wⱼ·δ(x₁, Xⱼ): points X and
// weights W that sum to 1.
type Dist struct {
	X [][]int
	W []float64
}

// Marginal returns the marginal path p_t(x) = Σ_{x₁} q(x₁)·p_t(x|x₁)
// (Gat et al. 2024, eq. 4) on every state of SpaceOf(p), in index order.
func Marginal(p Path, q Dist, t float64) []float64 {
	sp := SpaceOf(p)
	out := make([]float64, sp.Size())
	for k := range out {
		x := sp.State(k)
		for j, x1 := range q.X {
			out[k] += q.W[j] * p.CondProb(t, x, x1)
		}
	}
	return out
}

// Exact is the exact posterior of a finite data set, a Denoiser:
//
//	p(x₁ⁱ = y | x_t = x) = Σ_{x₁: x₁ⁱ = y} q(x₁)·p_t(x|x₁) / p_t(x)
//
// (Gat et al. 2024, eqs. 10–11). With it, Rate gives the marginal rate
// u_t(y, x) = Σ_{x₁} u_t(y, x|x₁)·p(x₁|x), which generates the marginal
// path (TestKolmogorov_ExactRates). A state with p_t(x) = 0 gets the
// uniform posterior (it is never visited).
type Exact struct {
	Path Path
	Q    Dist
}

// Posterior returns p(x₁ⁱ = · | x) at time t as [D·V].
func (e Exact) Posterior(t float64, x []int) []float64 {
	p := e.Path
	post := make([]float64, p.D*p.V)
	tot := 0.0
	for j, x1 := range e.Q.X {
		w := e.Q.W[j] * p.CondProb(t, x, x1)
		tot += w
		for i, a := range x1 {
			post[i*p.V+a] += w
		}
	}
	for k := range post {
		if tot > 0 {
			post[k] /= tot
		} else {
			post[k] = 1 / float64(p.V)
		}
	}
	return post
}

// Forward returns log p(x₁ⁱ = y | x_k, t_k) as logits [n, D·V].
func (e Exact) Forward(t *autograd.Tensor, x [][]int) *autograd.Tensor {
	probs := make([][]float64, len(x))
	for k, s := range x {
		tk := t.Data[0]
		if t.Rows > 1 {
			tk = t.Data[k]
		}
		probs[k] = e.Posterior(tk, s)
	}
	return logitsOf(probs)
}

// ApplyGenerator returns p·Q_t, (p·Q_t)(y) = Σ_x p(x)·Q_t(x, y), for a
// distribution p over SpaceOf(path), where Q_t is the generator whose
// rates are Rate of the posterior m: a jump changes one position,
// Q_t(x, x with xⁱ ← y) = uⁱ_t(y, x), and Q_t(x, x) = Σᵢ uⁱ_t(xⁱ, x). The
// Kolmogorov forward equation dp_t/dt = p_t·Q_t (Gat et al. 2024, eq. 3)
// holds for the exact posterior (TestKolmogorov_ExactRates).
func ApplyGenerator(path Path, m Denoiser, t float64, p []float64) []float64 {
	sp := SpaceOf(path)
	xs := sp.All()
	ts := make([]float64, len(xs))
	for k := range ts {
		ts[k] = t
	}
	posts := Probs(m, path, ts, xs)
	out := make([]float64, len(p))
	S := path.States()
	u := make([]float64, path.D*S)
	pow := make([]int, path.D)
	pow[path.D-1] = 1
	for i := path.D - 2; i >= 0; i-- {
		pow[i] = pow[i+1] * S
	}
	for k, x := range xs {
		if p[k] == 0 {
			continue
		}
		Rate(u, path, t, x, posts[k])
		for i := 0; i < path.D; i++ {
			for y := 0; y < S; y++ {
				r := u[i*S+y]
				if r == 0 {
					continue
				}
				out[k+(y-x[i])*pow[i]] += p[k] * r
			}
		}
	}
	return out
}

// entropy returns −Σ p log p (0·log 0 = 0).
func entropy(p []float64) float64 {
	h := 0.0
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}
