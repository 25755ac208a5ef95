// Package fusedref is the specification that autograd/fused is tested
// against, and no part of the library: Naive evaluates the network, its
// parameter gradients and its divergence with plain loops straight from the
// formulas of package fused's doc, and ErrorBound bounds the rounding error
// of any implementation of them. The tests of autograd/fused
// (TestWorkspace_MatchesReference), nn (TestTrainStep_MatchesAutograd,
// TestMLP_Structure) and cnf (TestFastDivergence_MatchesExact) import it;
// being under internal/, it is not part of the public API.
package fusedref

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
)

func sig(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func act(a autograd.Activation, z float64) float64 {
	if a == autograd.ActSiLU {
		return z * sig(z)
	}
	return math.Tanh(z)
}

func dact(a autograd.Activation, z float64) float64 {
	if a == autograd.ActSiLU {
		s := sig(z)
		return s * (1 + z*(1-s))
	}
	y := math.Tanh(z)
	return 1 - y*y
}

// Result holds what fused's Forward (Out), Backward for a seed g (DW, DB)
// and Divergence (Div) compute, as returned by Naive, or bounds on their
// rounding errors, as returned by ErrorBound.
type Result struct {
	Out    []float64   // [n, s_L]
	DW, DB [][]float64 // gradients for the seed g, shaped as the Net's W and B
	Div    []float64   // [n], divergence over the first s_L inputs

	// Intermediate values of Naive, by hidden layer l < L−1:
	z, h [][]float64 // zₗ₊₁ and hₗ₊₁, [n, width]
	p    [][]float64 // δ·Wᵀ before ⊙ σ′, [n, width]
	zt   [][]float64 // tangents ż, [n, d, width]
}

// Naive computes Forward, Backward (for the seed g = ∂L/∂out, from zero
// gradients) and Divergence of net at the n rows of x with plain loops, one
// scalar at a time, straight from the formulas of package fused's doc; the
// tangents are propagated one row and one direction at a time. It is slow,
// and it is the specification the fast paths are tested against. It panics
// if net fails Check.
func Naive(net fused.Net, x []float64, n int, g []float64) Result {
	if err := net.Check(); err != nil {
		panic(err)
	}
	return naive(net, x, n, g)
}

// ErrorBound returns, element by element, a bound on the rounding error of
// fused's Forward, Backward (seed g) and Divergence at x, and of any other
// implementation that forms the same sums in any order (autograd's ops,
// Naive): |computed − exact| ≤ bound, to first order in u = 2⁻⁵³.
//
// It is a running forward error analysis (Higham, Accuracy and Stability
// of Numerical Algorithms, 2002, §3.1–3.5). Every computed quantity q gets a
// magnitude M(q) with |error(q)| ≤ K·u·M(q):
//
//	inputs, weights, the seed g:   M = |value|          (exact)
//	q = Σₚ aₚ·bₚ (+ c):             M = Σₚ M(aₚ)·M(bₚ) (+ M(c))
//	h = σ(z):                      M = |σ′(z)|·M(z) + |h|
//	q = a ⊙ σ′(z):                 M = M(a)·|σ′(z)| + |a|·M(z) + |q|
//
// (the last uses |σ″| ≤ 1 for SiLU and tanh), and bound = K·u·M with
// K = Σₗ 2·sₗ + n + 32·(L+1): the inner-product lengths along the longest
// path (every layer forward and backward, the batch sum of ∂W) plus 16 ulps
// for each activation and each derivative (the vectorized kernels are within
// a few ulps of the reference loops). Two implementations therefore differ by
// at most 2·bound.
func ErrorBound(net fused.Net, x []float64, n int, g []float64) Result {
	mag := magnitudes(net, x, n, g, Naive(net, x, n, g))
	k := depthK(net.Sizes, n) * 0x1p-53
	scale := func(v []float64) {
		for i := range v {
			v[i] *= k
		}
	}
	scale(mag.Out)
	scale(mag.Div)
	for l := range mag.DW {
		scale(mag.DW[l])
		scale(mag.DB[l])
	}
	return mag
}

// naive computes the values, keeping the intermediates magnitudes needs.
func naive(net fused.Net, x []float64, n int, g []float64) Result {
	L := len(net.Sizes) - 1
	d := net.Sizes[L]
	var r Result
	// Forward: zₗ = hₗ₋₁·Wₗ + bₗ, hₗ = σ(zₗ).
	in := x[:n*net.Sizes[0]]
	for l := range L {
		a, b := net.Sizes[l], net.Sizes[l+1]
		z := make([]float64, n*b)
		for i := range n {
			for k := range b {
				s := net.B[l][k]
				for p := range a {
					s += in[i*a+p] * net.W[l][p*b+k]
				}
				z[i*b+k] = s
			}
		}
		if l == L-1 {
			r.Out = z
			break
		}
		h := make([]float64, n*b)
		for i, v := range z {
			h[i] = act(net.Act, v)
		}
		r.z, r.h = append(r.z, z), append(r.h, h)
		in = h
	}
	// Backward: ∂Wₗ = hₗ₋₁ᵀ·δₗ, ∂bₗ = Σ_rows δₗ, δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ σ′(zₗ₋₁).
	delta := append([]float64(nil), g[:n*d]...)
	r.DW, r.DB = make([][]float64, L), make([][]float64, L)
	r.p = make([][]float64, L-1)
	for l := L - 1; l >= 0; l-- {
		a, b := net.Sizes[l], net.Sizes[l+1]
		var h []float64
		if l > 0 {
			h = r.h[l-1]
		} else {
			h = x[:n*a]
		}
		r.DW[l], r.DB[l] = make([]float64, a*b), make([]float64, b)
		for i := range n {
			for k := range b {
				r.DB[l][k] += delta[i*b+k]
				for p := range a {
					r.DW[l][p*b+k] += h[i*a+p] * delta[i*b+k]
				}
			}
		}
		if l == 0 {
			break
		}
		prod, next := make([]float64, n*a), make([]float64, n*a)
		for i := range n {
			for p := range a {
				s := 0.0
				for k := range b {
					s += delta[i*b+k] * net.W[l][p*b+k]
				}
				prod[i*a+p] = s
				next[i*a+p] = s * dact(net.Act, r.z[l-1][i*a+p])
			}
		}
		r.p[l-1], delta = prod, next
	}
	// Forward mode, one row i and one direction j at a time:
	// ż₁ = eⱼ·W₁, żₗ = ḣₗ₋₁·Wₗ, ḣₗ = σ′(zₗ) ⊙ żₗ; div = Σⱼ (ż_L)ⱼ.
	r.Div = make([]float64, n)
	r.zt = make([][]float64, L-1)
	for l := range L - 1 {
		r.zt[l] = make([]float64, n*d*net.Sizes[l+1])
	}
	for i := range n {
		for j := range d {
			tan := make([]float64, net.Sizes[0])
			tan[j] = 1
			for l := range L {
				a, b := net.Sizes[l], net.Sizes[l+1]
				zt := make([]float64, b)
				for k := range b {
					for p := range a {
						zt[k] += tan[p] * net.W[l][p*b+k]
					}
				}
				if l == L-1 {
					tan = zt
					break
				}
				copy(r.zt[l][(i*d+j)*b:], zt)
				for k := range b {
					zt[k] *= dact(net.Act, r.z[l][i*b+k])
				}
				tan = zt
			}
			r.Div[i] += tan[j]
		}
	}
	return r
}

// magnitudes computes ErrorBound's M for every output, ex holding the
// values (from naive).
func magnitudes(net fused.Net, x []float64, n int, g []float64, ex Result) Result {
	L := len(net.Sizes) - 1
	d := net.Sizes[L]
	abs := math.Abs
	// mulDeriv is M(a ⊙ σ′(z)) at hidden layer l, element e, for M(a) = m.
	mulDeriv := func(l, e int, m, a float64, zm []float64) float64 {
		ds := dact(net.Act, ex.z[l][e])
		return m*abs(ds) + abs(a)*zm[e] + abs(a*ds)
	}
	var r Result
	var zms, hms [][]float64
	in := make([]float64, n*net.Sizes[0])
	for i := range in {
		in[i] = abs(x[i])
	}
	for l := range L {
		a, b := net.Sizes[l], net.Sizes[l+1]
		zm := make([]float64, n*b)
		for i := range n {
			for k := range b {
				s := abs(net.B[l][k])
				for p := range a {
					s += in[i*a+p] * abs(net.W[l][p*b+k])
				}
				zm[i*b+k] = s
			}
		}
		if l == L-1 {
			r.Out = zm
			break
		}
		hm := make([]float64, n*b)
		for e, m := range zm {
			hm[e] = abs(dact(net.Act, ex.z[l][e]))*m + abs(ex.h[l][e])
		}
		zms, hms = append(zms, zm), append(hms, hm)
		in = hm
	}
	delta := make([]float64, n*d)
	for i := range delta {
		delta[i] = abs(g[i])
	}
	r.DW, r.DB = make([][]float64, L), make([][]float64, L)
	for l := L - 1; l >= 0; l-- {
		a, b := net.Sizes[l], net.Sizes[l+1]
		var hm []float64
		if l > 0 {
			hm = hms[l-1]
		} else {
			hm = make([]float64, n*a)
			for i := range hm {
				hm[i] = abs(x[i])
			}
		}
		r.DW[l], r.DB[l] = make([]float64, a*b), make([]float64, b)
		for i := range n {
			for k := range b {
				r.DB[l][k] += delta[i*b+k]
				for p := range a {
					r.DW[l][p*b+k] += hm[i*a+p] * delta[i*b+k]
				}
			}
		}
		if l == 0 {
			break
		}
		next := make([]float64, n*a)
		for i := range n {
			for p := range a {
				s := 0.0
				for k := range b {
					s += delta[i*b+k] * abs(net.W[l][p*b+k])
				}
				e := i*a + p
				next[e] = mulDeriv(l-1, e, s, ex.p[l-1][e], zms[l-1])
			}
		}
		delta = next
	}
	r.Div = make([]float64, n)
	for i := range n {
		for j := range d {
			tan := make([]float64, net.Sizes[0])
			tan[j] = 1
			for l := range L {
				a, b := net.Sizes[l], net.Sizes[l+1]
				zt := make([]float64, b)
				for k := range b {
					for p := range a {
						zt[k] += tan[p] * abs(net.W[l][p*b+k])
					}
				}
				if l < L-1 {
					for k := range b {
						zt[k] = mulDeriv(l, i*b+k, zt[k], ex.zt[l][(i*d+j)*b+k], zms[l])
					}
				}
				tan = zt
			}
			r.Div[i] += tan[j]
		}
	}
	return r
}

// depthK is K of ErrorBound.
func depthK(sizes []int, n int) float64 {
	k := n + 16*2*len(sizes)
	for _, s := range sizes {
		k += 2 * s
	}
	return float64(k)
}
