package riemann

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

// The von Mises–Fisher law on S^d ⊂ ℝ^p, p = d + 1, with mean direction μ
// and concentration κ > 0 (Mardia & Jupp 2000, "Directional Statistics",
// §9.3.2):
//
//	f(x) = C_p(κ)·e^{κ μ·x},   C_p(κ) = κ^{p/2−1} / ((2π)^{p/2} I_{p/2−1}(κ)),
//
// with respect to the area of S^d, where I_ν is the modified Bessel function
// of the first kind. Its mean resultant length is E[μ·x] = A_p(κ) =
// I_{p/2}(κ)/I_{p/2−1}(κ), and its entropy H = −ln C_p(κ) − κ·A_p(κ). On S²
// (p = 3, I_{1/2}(κ) = √(2/πκ)·sinh κ) C_3(κ) = κ/(4π sinh κ).
//
// logBesselI computes ln I_ν(x) for ν ≥ 0 and x > 0 without overflow:
//
//   - for x ≤ max(25, 2ν²), the power series (Abramowitz & Stegun 9.6.10) in log space,
//     I_ν(x) = Σ_k (x/2)^{2k+ν}/(k!·Γ(k+ν+1)), summed (positive terms) until
//     past its peak k ≈ x/2 the terms fall below 10⁻¹⁸ of the sum;
//   - otherwise the large-argument expansion (Abramowitz & Stegun 9.7.1),
//     I_ν(x) = e^x/√(2πx)·Σ_k (−1)^k a_k(ν)/x^k, a_k(ν) = Π_{j=1}^k
//     (4ν² − (2j−1)²)/(k!·8^k), summed until a term is below 10⁻¹⁷ of the
//     sum or the terms start to grow; for x > max(25, 2ν²) the ratio of
//     successive terms is at most ¼ until j ≈ 2ν, and the smallest term
//     is about e^{−2x} < 10⁻²¹, so the truncation is below rounding (the
//     neglected companion term is e^{−2x} smaller still).
//
// TestLogBesselI checks both branches against I_{1/2} and I_{3/2} in closed
// form and I₀, I₁ by the trapezoid rule, on both sides of the switch.

// logBesselI returns ln I_ν(x) for ν ≥ 0 and x > 0 (see above).
func logBesselI(nu, x float64) float64 {
	if x > 25 && x > 2*nu*nu {
		return logBesselIAsym(nu, x, 1000)
	}
	lx2 := math.Log(x / 2)
	lg, _ := math.Lgamma(nu + 1)
	lt := -lg // ln of the k-th term without the (x/2)^ν factor
	m, s := lt, 1.0
	for k := 0; k < 100000; k++ {
		lt += 2*lx2 - math.Log(float64(k+1)) - math.Log(float64(k)+nu+1)
		if lt > m {
			s, m = s*math.Exp(m-lt)+1, lt
		} else {
			s += math.Exp(lt - m)
		}
		if float64(k) > x/2 && lt < m+math.Log(s)-41.5 { // e^{−41.5} ≈ 10⁻¹⁸
			break
		}
	}
	return nu*lx2 + m + math.Log(s)
}

// logBesselIAsym is the large-argument expansion of ln I_ν(x) with at most
// terms terms after the leading 1 (see logBesselI).
func logBesselIAsym(nu, x float64, terms int) float64 {
	mu := 4 * nu * nu
	sum, term := 1.0, 1.0
	for k := 1; k <= terms; k++ {
		next := -term * (mu - float64((2*k-1)*(2*k-1))) / (float64(k) * 8 * x)
		if math.Abs(next) >= math.Abs(term) && k > 1 {
			break
		}
		term = next
		sum += term
		if math.Abs(term) < 1e-17*math.Abs(sum) {
			break
		}
	}
	return x - 0.5*math.Log(2*math.Pi*x) + math.Log(sum)
}

// VMFLogNormalizer returns ln C_p(κ) = (p/2 − 1) ln κ − (p/2) ln 2π −
// ln I_{p/2−1}(κ) for the von Mises–Fisher law on S^d, p = d + 1, κ > 0
// (see the top of vmf.go; Mardia & Jupp 2000, §9.3.2):
// f(x) = C_p(κ) e^{κ μ·x}. On S² it is ln(κ/(4π sinh κ)). Tested by
// TestVMF_NormalizerSd (1-D quadrature on S³…S⁵, the S² closed form).
func VMFLogNormalizer(d int, kappa float64) float64 {
	if d < 1 || !(kappa > 0) {
		panic(autograd.Misuse("riemann.VMFLogNormalizer", "want d ≥ 1 (got %d) and κ > 0 (got %v)", d, kappa))
	}
	p := float64(d + 1)
	return (p/2-1)*math.Log(kappa) - p/2*math.Log(2*math.Pi) - logBesselI(p/2-1, kappa)
}

// VMFMeanCosine returns A_p(κ) = I_{p/2}(κ)/I_{p/2−1}(κ) = E[μ·x] for the
// von Mises–Fisher law on S^d, p = d + 1 (coth κ − 1/κ on S²). Tested by
// TestVMF_SampleMeanSd.
func VMFMeanCosine(d int, kappa float64) float64 {
	p := float64(d + 1)
	return math.Exp(logBesselI(p/2, kappa) - logBesselI(p/2-1, kappa))
}

// VMFEntropyD returns the entropy of the von Mises–Fisher law on S^d,
//
//	H = −ln C_p(κ) − κ·A_p(κ),  p = d + 1,
//
// since E[ln f] = ln C_p + κ E[μ·x]; on S² it equals VMFEntropy(κ). Tested
// by TestVMF_NormalizerSd (against VMFEntropy on S²) and
// TestVMF_SampleMeanSd (Monte Carlo −E ln f on S³ and S⁵).
func VMFEntropyD(d int, kappa float64) float64 {
	return -VMFLogNormalizer(d, kappa) - kappa*VMFMeanCosine(d, kappa)
}

// sampleVMFWood draws one point of the von Mises–Fisher law on S^d, d =
// len(mu) − 1, by Wood's (1994) rejection sampler for w = μ·x, whose
// density on [−1, 1] is ∝ e^{κw}(1 − w²)^{(d−2)/2} ("Simulation of the von
// Mises Fisher distribution", Comm. Statist. Simul. Comput. 23(1)):
//
//	b = d/(2κ + √(4κ² + d²)),  x₀ = (1 − b)/(1 + b),  c = κx₀ + d·ln(1 − x₀²);
//	repeat: Z ~ Beta(d/2, d/2), W = (1 − (1 + b)Z)/(1 − (1 − b)Z), U ~ U(0, 1)
//	until κW + d·ln(1 − x₀W) − c ≥ ln U,
//
// then x = Wμ + √(1 − W²)·v with v uniform on the unit sphere of the
// tangent space at μ. Beta(d/2, d/2) is χ²_d/(χ²_d + χ²_d′) of independent
// chi-squares (sums of d squared normals), and b is written in the form
// without the cancellation of (−2κ + √(4κ² + d²))/d at large κ.
func sampleVMFWood(mu []float64, kappa float64, rng *rand.Rand) []float64 {
	d := float64(len(mu) - 1)
	b := d / (2*kappa + math.Sqrt(4*kappa*kappa+d*d))
	x0 := (1 - b) / (1 + b)
	c := kappa*x0 + d*math.Log(1-x0*x0)
	chi2 := func() float64 {
		s := 0.0
		for range len(mu) - 1 {
			z := rng.NormFloat64()
			s += z * z
		}
		return s
	}
	var w float64
	for {
		a, bb := chi2(), chi2()
		z := a / (a + bb)
		w = (1 - (1+b)*z) / (1 - (1-b)*z)
		u := rng.Float64()
		if kappa*w+d*math.Log(1-x0*w)-c >= math.Log(u) {
			break
		}
	}
	v := make([]float64, len(mu))
	for {
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		vm := dot(v, mu)
		for i := range v {
			v[i] -= vm * mu[i]
		}
		if n := norm(v); n > 1e-8 {
			for i := range v {
				v[i] /= n
			}
			break
		}
	}
	r := math.Sqrt(math.Max(0, (1-w)*(1+w)))
	x := make([]float64, len(mu))
	for i := range x {
		x[i] = w*mu[i] + r*v[i]
	}
	return Sphere{D: len(mu) - 1}.Retract(x)
}
