package data

// The exact density of FFJORD's pinwheel.
//
// A point is x = s·u with u = g_k(a, b) = R(−φ_k(a))·(a, b), where R(α) is the rotation by α,
//
//	k ~ U{0..K−1},  a ~ N(μ, σ_r²),  b ~ N(0, σ_t²),  φ_k(a) = 2πk/K + r·eᵃ
//
// (K = 5 arms, μ = 1, σ_r = 0.3, σ_t = 0.1, rate r = 0.25, scale s = 2). The rotation keeps the
// norm, so in polar coordinates (a, b) = ρ(cos β, sin β) and u = ρ(cos ψ, sin ψ) the map is
//
//	ρ ↦ ρ,   β ↦ ψ = β − φ_k(ρ cos β) = F(β) − 2πk/K,   F(β) = β − r·e^{ρ cos β}.
//
// Its Jacobian is triangular in (ρ, β) and the area element ρ dρ dβ is kept, so
//
//	det ∂u/∂(a, b) = ∂ψ/∂β = F'(β) = 1 + r·ρ sin β·e^{ρ cos β} = 1 + r·b·eᵃ
//
// and det ∂x/∂(a, b) = s²·(1 + r·b·eᵃ) (checked against a finite-difference Jacobian in
// TestPinwheel_Jacobian). The determinant vanishes on b = −eᵃ/r: g_k folds the plane there
// and is not injective. Every x therefore has, for each arm, all the β ∈ [0, 2π) with
//
//	F(β) − ψ ∈ 2πk/K + 2πℤ   (for the K arms together: F(β) − ψ ∈ (2π/K)ℤ)
//
// as preimages, and the change of variables sums over all of them:
//
//	p(x) = s⁻² Σ_{β: F(β) − ψ ∈ (2π/K)ℤ} (1/K)·N(a; μ, σ_r²)·N(b; 0, σ_t²) / |1 + r·b·eᵃ|,
//	(a, b) = ρ(cos β, sin β),  ρ = |x|/s.
//
// F(β + 2π) = F(β) + 2π, so each arm has at least one preimage. F' − 1 = r·q(β) with
// q(β) = ρ sin β e^{ρ cos β}, which is ≥ 0 on [0, π] and on (π, 2π) has the single minimum
// β* = 2π − arccos c*, c* = (√(1 + 4ρ²) − 1)/(2ρ) (from q' = ρ e^{ρ cos β}(cos β − ρ sin²β) = 0).
// So F has either no critical point or two, β₁ ∈ (π, β*) and β₂ ∈ (β*, 2π), found by
// bracketed Newton on the monotone pieces of F'; between them F is monotone and each level
// 2πj/K in its range has exactly one root, again found by bracketed Newton. For the built-in
// parameters F is monotone for ρ < 1.6955 (|x| < 3.39); beyond, an arm can have three
// preimages. The folded sheet (det < 0) carries a mass of only P(b < −e⁻ᵃ/r) ≈ 1.5·10⁻⁹, so
// TestPinwheel_Preimages also uses a pinwheel with rate 1 and σ_t = 0.2, where it is 4.5%.
//
// Preimages with a > μ + 20σ_r (weight < e⁻²⁰⁰ of the peak) are left out, which bounds the
// work (the number of roots grows like r·eᵃ): this drops nothing when |x| ≤ s(μ + 20σ_r) = 14
// and makes log p a lower bound farther out, where p < e⁻¹⁸⁰.

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Pinwheel is FFJORD's pinwheel (lib/toy_data.py): class k ~ U{0..4}, f = (1 + 0.3ε₁, 0.1ε₂),
// ε ~ N(0, I), angle a = 2πk/5 + 0.25·exp(f₁), and
//
//	x = 2·(f₁ cos a + f₂ sin a, −f₁ sin a + f₂ cos a)
//
// FFJORD draws exactly ⌊n/5⌋ points per class and shuffles; here the class is drawn uniformly
// per point (the same distribution). Its exact density sums over all preimages of x (the map
// folds the plane; see the top of pinwheel.go):
//
//	p(x) = ¼ Σ_{k, (f₁, f₂) ↦ x} (1/5)·N(f₁; 1, 0.3²)·N(f₂; 0, 0.1²) / |1 + 0.25·f₂·e^{f₁}|
//
// H ≈ 2.32 nats (Monte Carlo). Moments tested in TestToys_Moments, the density in
// TestPinwheel_Jacobian, TestPinwheel_Preimages, TestPinwheel_Normalised and
// TestPinwheel_Histogram, the entropy in TestEntropy_KnownValues.
type Pinwheel struct{}

func (Pinwheel) Name() string { return "pinwheel" }
func (Pinwheel) Dim() int     { return 2 }

func (Pinwheel) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	mustDraw("data.Pinwheel.Sample", n, rng)
	m := pinwheelFFJORD
	t := autograd.Zeros(n, 2)
	for i := range n {
		k := rng.IntN(m.arms)
		f1 := m.mu + m.sr*rng.NormFloat64()
		f2 := m.st * rng.NormFloat64()
		t.Data[2*i], t.Data[2*i+1] = m.forward(k, f1, f2)
	}
	return t
}

// LogDensity returns log p(x), exact up to the root-finding tolerance (~10⁻¹⁴ in β) for
// |x| ≤ 14 and a lower bound beyond, where p < e⁻¹⁸⁰ (see the top of pinwheel.go).
func (Pinwheel) LogDensity(x []float64) float64 { return pinwheelFFJORD.logDensity(x[0], x[1], nil) }

// Entropy returns the Monte-Carlo estimate of E[−log p(x)] over n samples with its standard
// error; log p exact.
func (p Pinwheel) Entropy(n int, rng *rand.Rand) (h, se float64) { return mcEntropy(p, n, rng) }

// pinwheelMap holds the parameters of a pinwheel: K arms, a ~ N(μ, σ_r²), b ~ N(0, σ_t²),
// rate r and scale s (see the top of this file).
type pinwheelMap struct {
	arms                    int
	mu, sr, st, rate, scale float64
}

var pinwheelFFJORD = pinwheelMap{arms: 5, mu: 1, sr: 0.3, st: 0.1, rate: 0.25, scale: 2}

// forward returns x = s·R(−φ_k(a))·(a, b), φ_k(a) = 2πk/K + r·eᵃ.
func (m pinwheelMap) forward(k int, a, b float64) (x, y float64) {
	sn, cs := math.Sincos(2*math.Pi*float64(k)/float64(m.arms) + m.rate*math.Exp(a))
	return m.scale * (a*cs + b*sn), m.scale * (-a*sn + b*cs)
}

// preimage is one (k, a, b) with forward(k, a, b) = x, and det = 1 + r·b·eᵃ, the Jacobian
// determinant of (a, b) ↦ x/s.
type preimage struct {
	k       int
	a, b    float64
	det     float64
	logTerm float64 // log of its term in p(x): −log K + log N(a) + log N(b) − log|det| − 2 log s
}

// preimages appends every preimage of (x, y) with a ≤ μ + 20σ_r to dst.
func (m pinwheelMap) preimages(dst []preimage, x, y float64) []preimage {
	u, v := x/m.scale, y/m.scale
	rho, psi := math.Hypot(u, v), math.Atan2(v, u)
	delta := 2 * math.Pi / float64(m.arms)
	aCut := m.mu + 20*m.sr

	// F(β) − ψ and F'(β), F'(β) and F''(β).
	g := func(b float64) (float64, float64) {
		sn, cs := math.Sincos(b)
		e := m.rate * math.Exp(rho*cs)
		return b - e - psi, 1 + e*rho*sn
	}
	dg := func(b float64) (float64, float64) {
		sn, cs := math.Sincos(b)
		e := m.rate * math.Exp(rho*cs)
		return 1 + e*rho*sn, e * rho * (cs - rho*sn*sn)
	}

	// Breakpoints of [0, 2π): the critical points of F and the ends of the window a ≤ aCut.
	bp := make([]float64, 0, 6)
	bp = append(bp, 0)
	if rho > 0 {
		cstar := (math.Sqrt(1+4*rho*rho) - 1) / (2 * rho)
		bstar := 2*math.Pi - math.Acos(cstar)
		if f1, _ := dg(bstar); f1 < 0 {
			bp = append(bp, solveMonotone(dg, math.Pi, bstar), solveMonotone(dg, bstar, 2*math.Pi))
		}
	}
	if rho > aCut {
		bc := math.Acos(aCut / rho)
		bp = append(bp, bc, 2*math.Pi-bc)
	}
	bp = append(bp, 2*math.Pi)
	sortSmall(bp)

	for i := 0; i+1 < len(bp); i++ {
		lo, hi := bp[i], bp[i+1]
		if !(hi > lo) || rho*math.Cos(0.5*(lo+hi)) > aCut {
			continue
		}
		glo, _ := g(lo)
		ghi, _ := g(hi)
		// Each β is counted once: the levels in [G(lo), G(hi)) on a rising piece and in
		// (G(hi), G(lo)] on a falling one.
		var j0, j1 float64
		if ghi >= glo {
			j0, j1 = math.Ceil(glo/delta), math.Ceil(ghi/delta)-1
		} else {
			j0, j1 = math.Floor(ghi/delta)+1, math.Floor(glo/delta)
		}
		for j := j0; j <= j1; j++ {
			level := j * delta
			beta := solveMonotone(func(b float64) (float64, float64) {
				f, d := g(b)
				return f - level, d
			}, lo, hi)
			sn, cs := math.Sincos(beta)
			a, b := rho*cs, rho*sn
			det := 1 + m.rate*b*math.Exp(a)
			k := int(math.Mod(j, float64(m.arms)))
			if k < 0 {
				k += m.arms
			}
			za, zb := (a-m.mu)/m.sr, b/m.st
			lt := -math.Log(float64(m.arms)) - 0.5*(za*za+zb*zb) - math.Log(2*math.Pi*m.sr*m.st) -
				math.Log(math.Abs(det)) - 2*math.Log(m.scale)
			dst = append(dst, preimage{k: k, a: a, b: b, det: det, logTerm: lt})
		}
	}
	return dst
}

// logDensity returns log Σ of the terms of the preimages of (x, y) that keep accepts (all of
// them when keep is nil; tests drop some as negative controls).
func (m pinwheelMap) logDensity(x, y float64, keep func(preimage) bool) float64 {
	var buf [16]preimage
	var terms [16]float64
	lt := terms[:0]
	for _, p := range m.preimages(buf[:0], x, y) {
		if keep == nil || keep(p) {
			lt = append(lt, p.logTerm)
		}
	}
	return stats.LogSumExp(lt)
}

// solveMonotone returns the root in [lo, hi] of a function f, given with its derivative, that
// is monotone there with f(lo) and f(hi) of opposite signs (or zero): Newton's method, falling
// back to bisection whenever a step leaves the bracket, to a bracket or step of 10⁻¹⁴.
func solveMonotone(f func(float64) (v, d float64), lo, hi float64) float64 {
	flo, _ := f(lo)
	if flo == 0 {
		return lo
	}
	sgn := 1.0 // orient so that sgn·f(lo) < 0
	if flo > 0 {
		sgn = -1
	}
	x := 0.5 * (lo + hi)
	for range 200 {
		v, d := f(x)
		v, d = sgn*v, sgn*d
		if v == 0 {
			return x
		}
		if v < 0 {
			lo = x
		} else {
			hi = x
		}
		nx := x - v/d
		if !(nx > lo && nx < hi) { // also catches d = 0
			nx = 0.5 * (lo + hi)
		}
		if math.Abs(nx-x) < 1e-14 || hi-lo < 1e-14 {
			return nx
		}
		x = nx
	}
	return x
}

// sortSmall sorts a short slice in place (insertion sort).
func sortSmall(s []float64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
