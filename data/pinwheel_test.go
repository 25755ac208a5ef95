package data

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/stats"
)

// pinwheelFolded is a pinwheel with a large fold (rate 1, σ_t = 0.2): det < 0 on ~4.5% of the
// mass, so three preimages per arm are common.
var pinwheelFolded = pinwheelMap{arms: 5, mu: 1, sr: 0.3, st: 0.2, rate: 1, scale: 1}

// TestPinwheel_Jacobian checks det ∂x/∂(a, b) = s²(1 + r·b·eᵃ) against central differences of
// forward, at points on both sides of the fold. With step h the error of an entry is at most
// h²/6·M₃ + ε·M₀/h (M_i bounds the i-th derivative: each derivative of cos(φ(a)) brings a
// factor ≤ 1 + φ'(a), φ' = r·eᵃ), and the determinant's error is ≤ 2·(entry error)·M₁.
func TestPinwheel_Jacobian(t *testing.T) {
	m := pinwheelFFJORD
	rng := newRNG(21)
	const h = 1e-5
	folded := 0
	for range 400 {
		k := rng.IntN(m.arms)
		a, b := -1+4.5*rng.Float64(), -1+2*rng.Float64()
		var jac [2][2]float64
		for c, d := range [][2]float64{{h, 0}, {0, h}} {
			xp, yp := m.forward(k, a+d[0], b+d[1])
			xm, ym := m.forward(k, a-d[0], b-d[1])
			jac[0][c], jac[1][c] = (xp-xm)/(2*h), (yp-ym)/(2*h)
		}
		fd := jac[0][0]*jac[1][1] - jac[0][1]*jac[1][0]
		want := m.scale * m.scale * (1 + m.rate*b*math.Exp(a))
		g := 1 + m.rate*math.Exp(a)
		r := math.Abs(a) + math.Abs(b) + 1
		m1 := m.scale * r * g
		eEntry := h*h/6*m.scale*r*g*g*g + 1e-16*m.scale*r/h
		tol := 2 * eEntry * m1
		require.InDelta(t, want, fd, tol, "a=%.3f b=%.3f: got %.9g want %.9g (tol %.2g)", a, b, fd, want, tol)
		if want < 0 {
			folded++
		}
		// Negative control: the flipped sign 1 − r·b·eᵃ is caught wherever r·b·eᵃ matters.
		wrong := m.scale * m.scale * (1 - m.rate*b*math.Exp(a))
		if math.Abs(wrong-want) > 10*tol {
			assert.Greater(t, math.Abs(fd-wrong), tol)
		}
	}
	assert.Greater(t, folded, 5, "some points lie beyond the fold (det < 0)")
}

// TestPinwheel_Preimages draws (k, a, b), maps it to x and checks that preimages(x) contains
// it, that every preimage maps back to x, and that each arm has an odd number of preimages
// (F(β) − ψ winds once around the circle). The root tolerance 10⁻¹⁴ in β becomes an error
// ≲ 10⁻¹³/|det| in (a, b) (the residual divided by F' = det), so the tolerance is
// 10⁻¹⁰·(1 + 1/|det|). Negative control: one root per arm, as a solver that assumes F
// monotone finds, misses the points beyond the fold.
func TestPinwheel_Preimages(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    pinwheelMap
	}{{"ffjord", pinwheelFFJORD}, {"folded", pinwheelFolded}} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			rng := newRNG(22)
			var buf []preimage
			found, missedNaive, beyond := 0, 0, 0
			for range 3000 {
				k := rng.IntN(m.arms)
				// A box reaching far along a (where eᵃ makes the fold) and across b.
				a := m.mu + m.sr*(-4+12*rng.Float64())
				b := m.st * (-8 + 16*rng.Float64())
				x, y := m.forward(k, a, b)
				det := 1 + m.rate*b*math.Exp(a)
				tol := 1e-10 * (1 + 1/math.Abs(det))
				buf = m.preimages(buf[:0], x, y)
				perArm := make([]int, m.arms)
				ok := false
				for _, p := range buf {
					perArm[p.k]++
					xb, yb := m.forward(p.k, p.a, p.b)
					require.InDelta(t, x, xb, 1e-9*m.scale*(1+math.Abs(x)), "round trip")
					require.InDelta(t, y, yb, 1e-9*m.scale*(1+math.Abs(y)), "round trip")
					if p.k == k && math.Abs(p.a-a) <= tol && math.Abs(p.b-b) <= tol {
						ok = true
					}
				}
				for j, c := range perArm {
					require.Equal(t, 1, c%2, "arm %d has %d preimages of (%.4f, %.4f)", j, c, x, y)
				}
				require.True(t, ok, "(k, a, b) = (%d, %.6f, %.6f) not among the preimages %v", k, a, b, buf)
				found++
				if det < 0 {
					beyond++
				}
				if !naiveFinds(m, x, y, k, a, b, tol) {
					missedNaive++
				}
			}
			assert.Equal(t, 3000, found)
			assert.Greater(t, beyond, 10, "points beyond the fold")
			assert.GreaterOrEqual(t, missedNaive, beyond, "a monotone-F solver misses every point beyond the fold")
		})
	}
}

// naiveFinds reports whether bisection for F(β) − ψ = 2πk/K on [0, 2π), assuming F monotone
// (one preimage per arm), returns (a, b).
func naiveFinds(m pinwheelMap, x, y float64, k int, a, b, tol float64) bool {
	u, v := x/m.scale, y/m.scale
	rho, psi := math.Hypot(u, v), math.Atan2(v, u)
	g := func(be float64) float64 { return be - m.rate*math.Exp(rho*math.Cos(be)) - psi }
	// The level 2πk/K + 2πn that G(0) ≤ level < G(0) + 2π.
	level := 2 * math.Pi * float64(k) / float64(m.arms)
	level += 2 * math.Pi * math.Ceil((g(0)-level)/(2*math.Pi))
	lo, hi := 0.0, 2*math.Pi
	for range 100 {
		mid := 0.5 * (lo + hi)
		if g(mid) < level {
			lo = mid
		} else {
			hi = mid
		}
	}
	sn, cs := math.Sincos(lo)
	return math.Abs(rho*cs-a) <= tol && math.Abs(rho*sn-b) <= tol
}

// pinwheelGrid returns ∫p and −∫p log p by the trapezoid rule with step h on [−6.5, 6.5]²
// (p negligible at the border), for the log-density lp.
func pinwheelGrid(lp func(x, y float64) float64, h float64) (mass, ent float64) {
	for x := -6.5; x <= 6.5; x += h {
		for y := -6.5; y <= 6.5; y += h {
			if l := lp(x, y); !math.IsInf(l, -1) {
				mass += math.Exp(l)
				ent -= l * math.Exp(l)
			}
		}
	}
	return mass * h * h, ent * h * h
}

// TestPinwheel_Normalised checks ∫p = 1 on a grid. The error of the step-h/2 sum is estimated
// by its difference from the step-h sum (the trapezoid error falls at least 2× per halving;
// here far faster, p being smooth), plus the mass outside [−6.5, 6.5]² (ρ > 3.25 needs
// a > 2.98 or |b| > 1.3: < Q(6.6) + 2Q(13)) and the whole mass of the folded sheet, whose
// edge is an integrable singularity the grid resolves poorly (P(b < −e⁻ᵃ/r), by 1-D
// quadrature). −∫p log p on the same grids is compared with Entropy("pinwheel") (k standard
// errors). Negative controls: leaving out the preimages of one arm loses its 1/5. Leaving out
// the Jacobian keeps ∫ = E|1 + r·b·eᵃ| = 1 + O(10⁻⁹), since E[b] = 0 — this check cannot see
// it, so TestPinwheel_Histogram does.
func TestPinwheel_Normalised(t *testing.T) {
	m := pinwheelFFJORD
	lp := func(x, y float64) float64 { return m.logDensity(x, y, nil) }
	const h = 0.1
	m1, e1 := pinwheelGrid(lp, h)
	m2, e2 := pinwheelGrid(lp, h/2)
	q := func(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }
	outside := q((2.98-m.mu)/m.sr) + 2*q(1.3/m.st)
	fold := pinwheelFoldMass(m)
	tol := math.Abs(m1-m2) + outside + fold + 1e-12
	assert.InDelta(t, 1, m2, tol, "∫p: got %.12f (step h: %.12f)", m2, m1)

	h0, se, err := Entropy("pinwheel")
	require.NoError(t, err)
	etol := kSE*se + math.Abs(e1-e2) + 1e-6
	assert.InDelta(t, e2, h0, etol, "H: Monte Carlo %.5f ± %.5f, quadrature %.6f (step h: %.6f)", h0, se, e2, e1)

	noArm := func(x, y float64) float64 {
		return m.logDensity(x, y, func(p preimage) bool { return p.k != 0 })
	}
	mw, _ := pinwheelGrid(noArm, h)
	assert.Greater(t, math.Abs(mw-1), 100*tol, "one arm left out: ∫ = %.6f", mw)
	noJac := func(x, y float64) float64 {
		var buf [16]preimage
		var lt []float64
		for _, p := range m.preimages(buf[:0], x, y) {
			lt = append(lt, p.logTerm+math.Log(math.Abs(p.det)))
		}
		return stats.LogSumExp(lt)
	}
	mj, _ := pinwheelGrid(noJac, h)
	assert.InDelta(t, 1, mj, 1e-5, "without the Jacobian ∫ stays 1 (E[det] = 1)")
}

// pinwheelFoldMass returns P(det < 0) = P(b < −e⁻ᵃ/r) = ∫ N(a; μ, σ_r²) Q(e⁻ᵃ/(r σ_t)) da by
// the midpoint rule on μ ± 10σ_r.
func pinwheelFoldMass(m pinwheelMap) float64 {
	const n = 20000
	da := 20 * m.sr / n
	var s float64
	for i := range n {
		a := m.mu - 10*m.sr + (float64(i)+0.5)*da
		z := (a - m.mu) / m.sr
		s += math.Exp(-z*z/2) / (math.Sqrt(2*math.Pi) * m.sr) * 0.5 * math.Erfc(math.Exp(-a)/(m.rate*m.st)/math.Sqrt2) * da
	}
	return s
}

// TestPinwheel_Histogram compares counts of n samples in cells of side 0.25 with n·P(cell),
// P by 3×3-point Gauss–Legendre per cell (error ~(w/2σ)⁶/(2·10⁶) relative for a bump of width
// σ = 0.2: negligible against Poisson noise). Cells with n·P < 5 are pooled. Pearson's χ²
// has mean df and standard deviation √(2df); the test allows df + k·√(2df). Negative control:
// the density without the Jacobian term (off by a factor 1 + r·b·eᵃ, ~±10%) fails.
func TestPinwheel_Histogram(t *testing.T) {
	m := pinwheelFFJORD
	const n, w, lim = 200000, 0.25, 6.5
	nc := int(math.Round(2 * lim / w))
	counts := make([]float64, nc*nc)
	x := Pinwheel{}.Sample(n, newRNG(23))
	outside := 0.0
	for i := range n {
		cx, cy := int(math.Floor((x.At(i, 0)+lim)/w)), int(math.Floor((x.At(i, 1)+lim)/w))
		if cx < 0 || cy < 0 || cx >= nc || cy >= nc {
			outside++
			continue
		}
		counts[cx*nc+cy]++
	}
	gl := [3]float64{-math.Sqrt(0.6), 0, math.Sqrt(0.6)}
	glw := [3]float64{5.0 / 9, 8.0 / 9, 5.0 / 9}
	chi2 := func(lp func(x, y float64) float64) (float64, int) {
		var stat, restObs, restExp float64
		cells := 0
		for cx := range nc {
			for cy := range nc {
				x0, y0 := -lim+(float64(cx)+0.5)*w, -lim+(float64(cy)+0.5)*w
				var p float64
				for i := range 3 {
					for j := range 3 {
						p += glw[i] * glw[j] * math.Exp(lp(x0+gl[i]*w/2, y0+gl[j]*w/2))
					}
				}
				e := n * p * w * w / 4
				o := counts[cx*nc+cy]
				if e < 5 {
					restObs += o
					restExp += e
					continue
				}
				stat += (o - e) * (o - e) / e
				cells++
			}
		}
		restObs += outside
		restExp = math.Max(restExp, 1e-300) // outside the box: mass < 10⁻¹⁰
		stat += (restObs - restExp) * (restObs - restExp) / restExp
		return stat, cells // cells + 1 bins, df = cells
	}
	stat, df := chi2(func(x, y float64) float64 { return m.logDensity(x, y, nil) })
	limit := float64(df) + kSE*math.Sqrt(2*float64(df))
	assert.Less(t, stat, limit, "χ² = %.1f with df = %d (tol %.1f)", stat, df, limit)
	bad, _ := chi2(func(x, y float64) float64 {
		var buf [16]preimage
		var lt []float64
		for _, p := range m.preimages(buf[:0], x, y) {
			lt = append(lt, p.logTerm+math.Log(math.Abs(p.det)))
		}
		return stats.LogSumExp(lt)
	})
	assert.Greater(t, bad, limit, "without the Jacobian: χ² = %.1f", bad)
}
