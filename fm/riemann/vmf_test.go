package riemann

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/stats"
)

// besselITrapezoid returns ln I_n(x) for integer n by the trapezoid rule
// with 2048 nodes on I_n(x) = (1/π)∫₀^π cos(nθ) e^{x cos θ} dθ, scaled by
// e^{−x}: the integrand is periodic and analytic, so the rule converges
// geometrically (to rounding for x ≤ 2000). An oracle independent of
// logBesselI; the sum is compensated (Kahan), so its rounding error is at
// most about 6u·Σ|tⱼ| (each term has a relative error of a few u: cos, exp,
// the products), returned relative to the sum as tol: it matters where the
// terms cancel (I₄ at small x).
func besselITrapezoid(n int, x float64) (logI, tol float64) {
	const m = 2048
	var s, c, abs float64
	for j := 0; j < m; j++ {
		th := 2 * math.Pi * float64(j) / m
		term := math.Cos(float64(n)*th) * math.Exp(x*(math.Cos(th)-1))
		y := term - c
		t := s + y
		c = (t - s) - y
		s = t
		abs += math.Abs(term)
	}
	return x + math.Log(s/m), 6 * 0x1p-53 * abs / math.Abs(s)
}

// logBesselI against closed forms, ln I_{1/2}(x) = ½ln(2/πx) + ln sinh x
// and ln I_{3/2}(x) = ½ln(2/πx) + ln(cosh x − sinh x/x), and against the
// trapezoid rule for I₀, I₁ and I₄, at x on both sides of the switch
// between the series and the expansion (x = 25, and 2ν² = 32 for ν = 4),
// up to x = 1000: relative error of I (absolute in ln I) below 2e-14, plus
// the oracle's own rounding bound where its terms cancel.
// Negative control: the expansion cut after its first term (e^x/√(2πx),
// error ≈ (4ν² − 1)/(8x)) is off by more than 1e-3 at x = 25.5.
func TestLogBesselI(t *testing.T) {
	logSinhX := func(x float64) float64 { return logSinh(x) }
	xs := []float64{0.01, 0.5, 3, 10, 24.9, 25.1, 31.9, 32.1, 60, 300, 1000}
	for _, x := range xs {
		half := 0.5 * math.Log(2/(math.Pi*x))
		require.InDelta(t, half+logSinhX(x), logBesselI(0.5, x), 2e-14, "ν=1/2 x=%v", x)
		// cosh x − sinh x/x = e^x/2·((1 + e^{−2x}) − (1 − e^{−2x})/x)
		e := math.Exp(-2 * x)
		i32 := x - math.Ln2 + math.Log((1+e)-(1-e)/x)
		if x < 0.1 { // cancellation: use the series x²/3 + x⁴/30 + x⁶/840 of cosh x − sinh x/x
			i32 = math.Log(x*x/3 + math.Pow(x, 4)/30 + math.Pow(x, 6)/840)
		}
		require.InDelta(t, half+i32, logBesselI(1.5, x), 2e-14, "ν=3/2 x=%v", x)
		for _, n := range []int{0, 1, 4} {
			want, tol := besselITrapezoid(n, x)
			require.InDelta(t, want, logBesselI(float64(n), x), 2e-14+tol, "ν=%d x=%v", n, x)
		}
	}
	for _, nu := range []float64{0, 1, 0.5 * 3} {
		lead := logBesselIAsym(nu, 25.5, 0)
		require.Greater(t, math.Abs(lead-logBesselI(nu, 25.5)), 1e-3, "negative control ν=%v", nu)
	}
	require.False(t, math.IsInf(logBesselI(49.5, 1e5), 0))
}

// The vMF normalizer on S^d: on S², ln C_3(κ) = ln(κ/(4π sinh κ)) to 1e-13
// and VMFEntropyD(2, κ) = VMFEntropy(κ); on S³, S⁴ and S⁵, C_p(κ)·vol(S^{d−1})·
// ∫₀^π e^{κ cos θ} sin^{d−1}θ dθ = 1 by Gauss–Legendre in θ with 400 nodes
// (an analytic integrand: the rule's error is below rounding at these κ,
// checked against 200 nodes), to 1e-12. Negative control: the normalizer
// with I_{p/2} in place of I_{p/2−1} fails the same check.
func TestVMF_NormalizerSd(t *testing.T) {
	for _, k := range []float64{0.01, 1, 10, 50, 1000} {
		require.InDelta(t, math.Log(k)-math.Log(4*math.Pi)-logSinh(k), VMFLogNormalizer(2, k), 1e-13*math.Max(1, k), "κ=%v", k)
		require.InDelta(t, VMFEntropy(k), VMFEntropyD(2, k), 1e-12*math.Max(1, k), "κ=%v", k)
	}
	mass := func(d int, k, logC float64, nodes int) float64 {
		zs, ws := gaussLegendre(nodes)
		s := 0.0
		for i, z := range zs {
			th := math.Pi * (z + 1) / 2
			s += ws[i] * math.Exp(logC+k*math.Cos(th)) * math.Pow(math.Sin(th), float64(d-1))
		}
		return s * math.Pi / 2 * math.Exp(Sphere{D: d - 1}.LogVolume())
	}
	for _, d := range []int{3, 4, 5} {
		for _, k := range []float64{0.5, 10, 100} {
			m400, m200 := mass(d, k, VMFLogNormalizer(d, k), 400), mass(d, k, VMFLogNormalizer(d, k), 200)
			require.InDelta(t, m400, m200, 1e-13, "quadrature converged d=%d κ=%v", d, k)
			require.InDelta(t, 1, m400, 1e-12, "d=%d κ=%v", d, k)
			p := float64(d + 1)
			wrong := (p/2-1)*math.Log(k) - p/2*math.Log(2*math.Pi) - logBesselI(p/2, k)
			require.Greater(t, math.Abs(mass(d, k, wrong, 400)-1), 1e-2, "negative control d=%d κ=%v", d, k)
		}
	}
}

// Wood's sampler on S³ and S⁵ (κ = 1, 10, 200), 20,000 draws each: the
// draws lie on S^d to 1e-14, E[μ·x] = A_p(κ), E[(μ·x)²] = 1 − d·A_p(κ)/κ
// (from E[xxᵀ] = (A/κ)I + (1 − pA/κ)μμᵀ) and the entropy −E[ln f] =
// VMFEntropyD, each within 5 standard errors computed from the draws; the
// component along a direction orthogonal to μ has mean 0. Negative
// control: A of the wrong dimension (S^{d−1}) misses the mean by more
// than 5 s.e. at κ = 1 and 10.
func TestVMF_SampleMeanSd(t *testing.T) {
	rng := newRNG(72)
	for _, d := range []int{3, 5} {
		mu := make([]float64, d+1)
		for i := range mu {
			mu[i] = float64(i+1) * math.Pow(-1, float64(i))
		}
		mu = Sphere{D: d}.Retract(mu)
		perp := Sphere{D: d}.Retract(Sphere{D: d}.Proj(mu, []float64{1, 0, 0, 0, 0, 0}[:d+1]))
		for _, k := range []float64{1, 10, 200} {
			var w, w2, lf, p []float64
			for i := 0; i < 20000; i++ {
				x := SampleVMF(mu, k, rng)
				require.InDelta(t, 1, norm(x), 1e-14)
				c := dot(mu, x)
				w, w2 = append(w, c), append(w2, c*c)
				lf, p = append(lf, -VMFLogDensity(mu, k, x)), append(p, dot(perp, x))
			}
			a := VMFMeanCosine(d, k)
			m, se := stats.MeanStdErr(w)
			require.InDelta(t, a, m, 5*se, "E[μ·x] d=%d κ=%v", d, k)
			m2, se2 := stats.MeanStdErr(w2)
			require.InDelta(t, 1-float64(d)*a/k, m2, 5*se2, "E[(μ·x)²] d=%d κ=%v", d, k)
			h, hse := stats.MeanStdErr(lf)
			require.InDelta(t, VMFEntropyD(d, k), h, 5*hse, "entropy d=%d κ=%v", d, k)
			pm, pse := stats.MeanStdErr(p)
			require.InDelta(t, 0, pm, 5*pse, "orthogonal mean d=%d κ=%v", d, k)
			t.Logf("S^%d κ = %v: E[μ·x] = %.5f ± %.5f (A = %.5f), H = %.4f ± %.4f (exact %.4f)", d, k, m, se, a, h, hse, VMFEntropyD(d, k))
			if k <= 10 {
				require.Greater(t, math.Abs(VMFMeanCosine(d-1, k)-m), 5*se, "negative control d=%d κ=%v", d, k)
			}
		}
	}
}
