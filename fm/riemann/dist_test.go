package riemann

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/stats"
)

// ∫ f dA = 1 and −∫ f ln f dA = VMFEntropy(κ) by SphereQuadrature (200
// nodes in z: the κ = 50 bump, width 1/√κ ≈ 0.14, spans many nodes; the
// quadrature error is below 1e-10, checked against 400 nodes), the
// values 0.5353 (κ = 10) and −1.0741 (κ = 50) to 4 decimals, and a finite
// ln f at κ = 1000. Gauss–Legendre integrates z⁴ exactly (2/5·2π).
// Negative control: the entropy without its "− 1/κ" term is off by 1.
func TestVMF_NormalizedAndEntropy(t *testing.T) {
	zs, ws := gaussLegendre(7)
	s := 0.0
	for i := range zs {
		s += ws[i] * math.Pow(zs[i], 4)
	}
	require.InDelta(t, 0.4, s, 1e-15)
	mu := Sphere{D: 2}.Retract([]float64{1, 2, -0.5})
	for _, c := range []struct{ k, h float64 }{{10, 0.5353}, {50, -1.0741}, {0.5, math.NaN()}} {
		mass := SphereQuadrature(func(x []float64) float64 { return math.Exp(VMFLogDensity(mu, c.k, x)) }, 200)
		require.InDelta(t, 1, mass, 1e-10, "κ=%v", c.k)
		h := -SphereQuadrature(func(x []float64) float64 {
			lp := VMFLogDensity(mu, c.k, x)
			return math.Exp(lp) * lp
		}, 200)
		require.InDelta(t, VMFEntropy(c.k), h, 1e-10, "κ=%v", c.k)
		if !math.IsNaN(c.h) {
			require.InDelta(t, c.h, VMFEntropy(c.k), 5e-5)
		}
		wrong := math.Log(4*math.Pi*math.Sinh(c.k)/c.k) - c.k/math.Tanh(c.k)
		require.Greater(t, math.Abs(wrong-h), 0.5, "negative control")
	}
	require.False(t, math.IsInf(VMFLogDensity(mu, 1000, mu), 0))
	d, _ := Dataset("sphere-vmf")
	m := d.(VMFMixture)
	g := func(x []float64) float64 { lp := m.LogDensity(x); return math.Exp(lp) * lp }
	require.InDelta(t, SphereQuadrature(g, 200), SphereQuadrature(g, 400), 1e-9)
	require.InDelta(t, 1, SphereQuadrature(func(x []float64) float64 { return math.Exp(m.LogDensity(x)) }, 400), 1e-10)
	t.Logf("sphere-vmf: H = %.6f", m.Entropy())
}

// E[μ·x] = coth κ − 1/κ and E[x ⟂ μ] = 0 for SampleVMF (κ = 3 and 25), each
// within 5 standard errors computed over 20,000 draws; ‖x‖ = 1 to 1e-15.
// Negative control: the same draws miss coth 2κ − 1/2κ at κ = 3.
func TestVMF_SampleMean(t *testing.T) {
	rng := newRNG(70)
	mu := Sphere{D: 2}.Retract([]float64{0.3, -1, 0.2})
	e1, _ := orthoBasis(mu)
	for _, k := range []float64{3, 25} {
		var w, p []float64
		for i := 0; i < 20000; i++ {
			x := SampleVMF(mu, k, rng)
			require.InDelta(t, 1, norm(x), 1e-15)
			w, p = append(w, dot(mu, x)), append(p, dot(e1, x))
		}
		m, se := stats.MeanStdErr(w)
		require.InDelta(t, 1/math.Tanh(k)-1/k, m, 5*se, "κ=%v", k)
		pm, pse := stats.MeanStdErr(p)
		require.InDelta(t, 0, pm, 5*pse)
		if k == 3 {
			require.Greater(t, math.Abs(1/math.Tanh(2*k)-1/(2*k)-m), 5*se, "negative control")
		}
	}
}

// ∫ f dθ = 1 on the circle (trapezoid, 256 nodes), VonMisesEntropy equals
// the quadrature of −f ln f (1e-12) and the values 1.2663 (κ = 2), 0.8088
// (κ = 4), 0.2949 (κ = 10) to 4 decimals; the torus-vonmises mixture's
// entropy agrees between 128² and 256² nodes (1e-10) and its density
// integrates to 1. Negative control: ln(2π I₀) + κA (the sign of the second
// term flipped) is off.
func TestVonMises_NormalizedAndEntropy(t *testing.T) {
	const n = 256
	for _, c := range []struct{ k, h float64 }{{2, 1.2663}, {4, 0.8088}, {10, 0.2949}} {
		var mass, h float64
		for j := 0; j < n; j++ {
			th := 2 * math.Pi * float64(j) / n
			lp := VonMisesLogDensity(1.3, c.k, th)
			mass += math.Exp(lp) * 2 * math.Pi / n
			h -= math.Exp(lp) * lp * 2 * math.Pi / n
		}
		require.InDelta(t, 1, mass, 1e-12)
		require.InDelta(t, h, VonMisesEntropy(c.k), 1e-12)
		require.InDelta(t, c.h, VonMisesEntropy(c.k), 5e-5)
		l0, a := logI0Ratio(c.k)
		require.Greater(t, math.Abs(math.Log(2*math.Pi)+l0+c.k*a-h), 0.5, "negative control")
	}
	d, _ := Dataset("torus-vonmises")
	m := d.(VonMisesMixture)
	g := func(x []float64) float64 { lp := m.LogDensity(x); return math.Exp(lp) * lp }
	require.InDelta(t, TorusQuadrature(g, 128), TorusQuadrature(g, 256), 1e-10)
	require.InDelta(t, 1, TorusQuadrature(func(x []float64) float64 { return math.Exp(m.LogDensity(x)) }, 128), 1e-12)
	t.Logf("torus-vonmises: H = %.6f", m.Entropy())
}

// E cos(θ − μ) = I₁(κ)/I₀(κ) and E sin(θ − μ) = 0 for SampleVonMises
// (κ = 0.5, 4, 30), within 5 standard errors over 20,000 draws; every draw
// in [0, 2π). Negative control: the mean misses A(2κ) at κ = 0.5.
func TestVonMises_SampleMean(t *testing.T) {
	rng := newRNG(71)
	for _, k := range []float64{0.5, 4, 30} {
		var c, s []float64
		for i := 0; i < 20000; i++ {
			th := SampleVonMises(2.0, k, rng)
			require.True(t, th >= 0 && th < 2*math.Pi)
			c, s = append(c, math.Cos(th-2)), append(s, math.Sin(th-2))
		}
		_, a := logI0Ratio(k)
		m, se := stats.MeanStdErr(c)
		require.InDelta(t, a, m, 5*se, "κ=%v", k)
		sm, sse := stats.MeanStdErr(s)
		require.InDelta(t, 0, sm, 5*sse)
		if k == 0.5 {
			_, a2 := logI0Ratio(2 * k)
			require.Greater(t, math.Abs(a2-m), 5*se, "negative control")
		}
	}
}

// Every draw of torus-checkerboard is on a black square (finite density),
// the density integrates to 1 (the 256² trapezoid nodes split exactly into
// the 16 squares), H = ln 2π² = 2.9826, and a white square has density 0.
func TestTorusCheckerboard(t *testing.T) {
	d, err := Dataset("torus-checkerboard")
	require.NoError(t, err)
	x := d.Sample(5000, newRNG(72))
	counts := map[[2]int]int{}
	for i := 0; i < x.Rows; i++ {
		require.False(t, math.IsInf(d.LogDensity(x.Row(i)), -1))
		counts[[2]int{int(x.At(i, 0) / (math.Pi / 2)), int(x.At(i, 1) / (math.Pi / 2))}]++
	}
	require.Len(t, counts, 8)
	require.InDelta(t, 1, TorusQuadrature(func(p []float64) float64 { return math.Exp(d.LogDensity(p)) }, 256), 1e-12)
	require.InDelta(t, 2.9826, d.Entropy(), 5e-5)
	require.True(t, math.IsInf(d.LogDensity([]float64{math.Pi/2 + 0.1, 0.1}), -1), "white square")
	_, err = Dataset("nope")
	require.ErrorContains(t, err, "sphere-vmf")
}
