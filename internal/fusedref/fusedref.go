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
	val, _ := walk(net, x, n, g)
	return val
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
// at most 2·bound. It panics if net fails Check.
func ErrorBound(net fused.Net, x []float64, n int, g []float64) Result {
	if err := net.Check(); err != nil {
		panic(err)
	}
	_, mag := walk(net, x, n, g)
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

// walk evaluates the formulas of package fused's doc with plain loops and,
// alongside every computed quantity q, its magnitude M(q) of ErrorBound:
// val holds the values (Naive), mag the magnitudes before the factor K·u.
func walk(net fused.Net, x []float64, n int, g []float64) (val, mag Result) {
	L := len(net.Sizes) - 1
	d := net.Sizes[L]
	abs := math.Abs
	// mulDeriv returns a·σ′(z) and its magnitude M(a)·|σ′(z)| + |a|·M(z) + |a·σ′(z)|.
	mulDeriv := func(a, am, z, zm float64) (float64, float64) {
		ds := dact(net.Act, z)
		return a * ds, am*abs(ds) + abs(a)*zm + abs(a*ds)
	}
	absAll := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = abs(x)
		}
		return out
	}

	// Forward: zₗ = hₗ₋₁·Wₗ + bₗ, hₗ = σ(zₗ); zs, hs (and their
	// magnitudes zms, hms) keep the hidden layers for the passes below.
	var zs, zms, hs, hms [][]float64
	in, inM := x[:n*net.Sizes[0]], absAll(x[:n*net.Sizes[0]])
	for l := range L {
		a, b := net.Sizes[l], net.Sizes[l+1]
		z, zm := make([]float64, n*b), make([]float64, n*b)
		for i := range n {
			for k := range b {
				s, m := net.B[l][k], abs(net.B[l][k])
				for p := range a {
					s += in[i*a+p] * net.W[l][p*b+k]
					m += inM[i*a+p] * abs(net.W[l][p*b+k])
				}
				z[i*b+k], zm[i*b+k] = s, m
			}
		}
		if l == L-1 {
			val.Out, mag.Out = z, zm
			break
		}
		h, hm := make([]float64, n*b), make([]float64, n*b)
		for e, v := range z {
			h[e] = act(net.Act, v)
			hm[e] = abs(dact(net.Act, v))*zm[e] + abs(h[e])
		}
		zs, zms, hs, hms = append(zs, z), append(zms, zm), append(hs, h), append(hms, hm)
		in, inM = h, hm
	}

	// Backward: ∂Wₗ = hₗ₋₁ᵀ·δₗ, ∂bₗ = Σ_rows δₗ, δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ σ′(zₗ₋₁).
	delta, deltaM := append([]float64(nil), g[:n*d]...), absAll(g[:n*d])
	val.DW, val.DB = make([][]float64, L), make([][]float64, L)
	mag.DW, mag.DB = make([][]float64, L), make([][]float64, L)
	for l := L - 1; l >= 0; l-- {
		a, b := net.Sizes[l], net.Sizes[l+1]
		var h, hm []float64
		if l > 0 {
			h, hm = hs[l-1], hms[l-1]
		} else {
			h, hm = x[:n*a], absAll(x[:n*a])
		}
		dW, dB := make([]float64, a*b), make([]float64, b)
		dWm, dBm := make([]float64, a*b), make([]float64, b)
		for i := range n {
			for k := range b {
				dB[k] += delta[i*b+k]
				dBm[k] += deltaM[i*b+k]
				for p := range a {
					dW[p*b+k] += h[i*a+p] * delta[i*b+k]
					dWm[p*b+k] += hm[i*a+p] * deltaM[i*b+k]
				}
			}
		}
		val.DW[l], val.DB[l], mag.DW[l], mag.DB[l] = dW, dB, dWm, dBm
		if l == 0 {
			break
		}
		next, nextM := make([]float64, n*a), make([]float64, n*a)
		for i := range n {
			for p := range a {
				s, m := 0.0, 0.0
				for k := range b {
					s += delta[i*b+k] * net.W[l][p*b+k]
					m += deltaM[i*b+k] * abs(net.W[l][p*b+k])
				}
				e := i*a + p
				next[e], nextM[e] = mulDeriv(s, m, zs[l-1][e], zms[l-1][e])
			}
		}
		delta, deltaM = next, nextM
	}

	// Forward mode, one row i and one direction j at a time:
	// ż₁ = eⱼ·W₁, żₗ = ḣₗ₋₁·Wₗ, ḣₗ = σ′(zₗ) ⊙ żₗ; div = Σⱼ (ż_L)ⱼ.
	val.Div, mag.Div = make([]float64, n), make([]float64, n)
	for i := range n {
		for j := range d {
			tan, tanM := make([]float64, net.Sizes[0]), make([]float64, net.Sizes[0])
			tan[j], tanM[j] = 1, 1
			for l := range L {
				a, b := net.Sizes[l], net.Sizes[l+1]
				zt, ztm := make([]float64, b), make([]float64, b)
				for k := range b {
					for p := range a {
						zt[k] += tan[p] * net.W[l][p*b+k]
						ztm[k] += tanM[p] * abs(net.W[l][p*b+k])
					}
				}
				if l < L-1 {
					for k := range b {
						zt[k], ztm[k] = mulDeriv(zt[k], ztm[k], zs[l][i*b+k], zms[l][i*b+k])
					}
				}
				tan, tanM = zt, ztm
			}
			val.Div[i] += tan[j]
			mag.Div[i] += tanM[j]
		}
	}
	return val, mag
}

// depthK is K of ErrorBound.
func depthK(sizes []int, n int) float64 {
	k := n + 16*2*len(sizes)
	for _, s := range sizes {
		k += 2 * s
	}
	return float64(k)
}
