package fm

/*
Marginal paths and fields (Lipman et al. 2022, arXiv:2210.02747, §3.1,
eqs. 6–8 and Theorem 1).

Mixing the conditional paths over the data distribution q gives

	p_t(x) = ∫ p_t(x|x₁) q(x₁) dx₁,
	u_t(x) = ∫ u_t(x|x₁) p_t(x|x₁) q(x₁) / p_t(x) dx₁ = E[u_t(x|x₁) | x_t = x].

(the weight q(x₁)p_t(x|x₁)/p_t(x) is the paper's eq. 8; a version without
q(x₁) is a slip of some write-ups, used as a negative control in the tests).
Theorem 1: if each u_t(·|x₁) generates p_t(·|x₁), then u_t generates p_t.

Empirical q = Σᵢ qᵢ δ(x₁ − x₁ⁱ), any Path: the integrals are sums,

	p_t(x) = Σᵢ qᵢ p_t(x|x₁ⁱ),  u_t(x) = Σᵢ wᵢ(x) u_t(x|x₁ⁱ),
	wᵢ(x) = qᵢ p_t(x|x₁ⁱ) / Σⱼ qⱼ p_t(x|x₁ʲ),

with log wᵢ = log qᵢ + log p_t(x|x₁ⁱ) − logsumexp, so that far from the data,
where every p_t(x|x₁ⁱ) underflows, the weights are still right.

Gaussian mixture q = Σₖ πₖ N(mₖ, sₖ² I), affine path μ_t = a_t x₁, σ_t(x₁) = σ_t.
Given component k, x₁ ~ N(mₖ, sₖ² I) and x_t = σ_t x₀ + a_t x₁ with x₀ ~ N(0, I)
independent, so x_t | k ~ N(a_t mₖ, vₖ I) with

	vₖ(t) = σ_t² + a_t² sₖ²,  p_t(x) = Σₖ πₖ N(x; a_t mₖ, vₖ I).

The field given k is E[u_t(x|x₁) | x_t = x, k]. With u_t(x|x₁) =
(σ′/σ)x + (a′ − a σ′/σ)x₁ and the Gaussian conditional mean
E[x₁ | x_t = x, k] = mₖ + (a sₖ²/vₖ)(x − a mₖ), the coefficient of (x − a mₖ) is

	σ′/σ + (a′ − aσ′/σ)·a sₖ²/vₖ = (σ′σ + a a′ sₖ²)/vₖ = v′ₖ/(2vₖ)

and the constant is (σ′/σ)a mₖ + (a′ − aσ′/σ)mₖ = a′mₖ. So

	u_t(x|k) = v′ₖ/(2vₖ)·(x − a_t mₖ) + a′_t mₖ,   v′ₖ = 2σ_tσ′_t + 2a_t a′_t sₖ²,

which is the Theorem-3 field of the Gaussian path N(a_t mₖ, vₖ I) itself, and

	u_t(x) = Σₖ rₖ(x) u_t(x|k),  rₖ(x) ∝ πₖ N(x; a_t mₖ, vₖ I).

As sₖ → 0 this is the empirical marginal with points mₖ
(TestMixtureMarginal_PointMassLimit); Theorem 1 for it is checked by
TestTheorem1_ContinuityMixture.
*/

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Sampler draws n data points [n, d] from a distribution using rng.
// Empirical.Sample and Mixture.Sample are Samplers.
type Sampler func(n int, rng *rand.Rand) *autograd.Tensor

// Marginal is a marginal probability path p_t with its generating field u_t
// (Lipman et al. 2022, §3.1, eqs. 6 and 8).
type Marginal interface {
	// LogProb returns log p_t(x).
	LogProb(t float64, x []float64) float64
	// Field returns u_t(x).
	Field(t float64, x []float64) []float64
}

// Empirical is the finite data distribution q = Σᵢ qᵢ δ(x₁ − x₁ⁱ), with
// qᵢ ∝ Weights[i] (nil Weights: uniform).
type Empirical struct {
	Points  [][]float64
	Weights []float64 // unnormalized, ≥ 0; nil means uniform
}

// LogWeights returns log qᵢ, normalized so that Σᵢ qᵢ = 1. An Empirical
// without points, with a weight per point missing, or with a weight that is
// negative or not finite, or all zero, is misuse (a *autograd.MisuseError
// panic). TestEmpirical_Misuse.
func (e *Empirical) LogWeights() []float64 {
	if e == nil {
		panic(autograd.Misuse("fm.Empirical", "nil *Empirical; want data points"))
	}
	return logWeights("fm.Empirical", len(e.Points), e.Weights)
}

// logWeights returns log(wᵢ/Σw) for n categories (uniform for nil w),
// panicking with a *autograd.MisuseError naming op on bad weights.
func logWeights(op string, n int, w []float64) []float64 {
	if n == 0 {
		panic(autograd.Misuse(op, "no points; want at least one"))
	}
	lw := make([]float64, n)
	if w == nil {
		for i := range lw {
			lw[i] = -math.Log(float64(n))
		}
		return lw
	}
	if len(w) != n {
		panic(autograd.Misuse(op, "%d weights for %d points", len(w), n))
	}
	tot := 0.0
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			panic(autograd.Misuse(op, "Weights[%d] = %v; want finite and ≥ 0", i, v))
		}
		tot += v
	}
	if !(tot > 0) || math.IsInf(tot, 0) {
		panic(autograd.Misuse(op, "the weights sum to %v; want a positive, finite sum", tot))
	}
	for i, v := range w {
		lw[i] = math.Log(v / tot)
	}
	return lw
}

// Sample draws n points [n, d] with replacement, point i with probability
// qᵢ (one rng.Float64 a draw). Misuse (no points, points of different
// lengths, n < 0, a nil rng) panics with a *autograd.MisuseError.
func (e *Empirical) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	cat := stats.NewCategoricalLog(e.LogWeights())
	d := checkDraw("fm.Empirical.Sample", e.Points, n, rng)
	out := autograd.Zeros(n, d)
	for r := 0; r < n; r++ {
		copy(out.Row(r), e.Points[cat.Draw(rng)])
	}
	return out
}

// checkDraw panics with a *autograd.MisuseError unless rng is set, n ≥ 0
// and every point has the same positive length, which it returns.
func checkDraw(op string, points [][]float64, n int, rng *rand.Rand) int {
	if rng == nil {
		panic(autograd.Misuse(op, "rng is nil; want a *rand.Rand (e.g. fm.NewRand(seed))"))
	}
	if n < 0 {
		panic(autograd.Misuse(op, "n = %d; want ≥ 0", n))
	}
	d := len(points[0])
	for i, p := range points {
		if len(p) != d || d == 0 {
			panic(autograd.Misuse(op, "point %d has %d coordinates, point 0 has %d; want the same positive number", i, len(p), d))
		}
	}
	return d
}

// Mixture is the Gaussian mixture q = Σₖ πₖ N(mₖ, sₖ² I), with πₖ ∝ Weights[k]
// (nil: uniform).
type Mixture struct {
	Means   [][]float64
	Stds    []float64 // sₖ ≥ 0, one per component
	Weights []float64 // unnormalized; nil means uniform
}

// LogWeights returns log πₖ, normalized. Misuse as for Empirical.LogWeights.
func (m *Mixture) LogWeights() []float64 {
	if m == nil {
		panic(autograd.Misuse("fm.Mixture", "nil *Mixture; want components"))
	}
	return logWeights("fm.Mixture", len(m.Means), m.Weights)
}

// Sample draws n points [n, d]: a component k with probability πₖ, then
// mₖ + sₖ ε with ε ~ N(0, I). Misuse (no components, a standard deviation
// per component missing or negative, means of different lengths, n < 0, a
// nil rng) panics with a *autograd.MisuseError. Tested by
// TestMixture_SampleMoments.
func (m *Mixture) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	cat := stats.NewCategoricalLog(m.LogWeights())
	d := checkDraw("fm.Mixture.Sample", m.Means, n, rng)
	m.checkStds()
	out := autograd.Zeros(n, d)
	for r := 0; r < n; r++ {
		k := cat.Draw(rng)
		row := out.Row(r)
		for j := range row {
			row[j] = m.Means[k][j] + m.Stds[k]*rng.NormFloat64()
		}
	}
	return out
}

// checkStds panics with a *autograd.MisuseError unless there is one
// standard deviation sₖ ≥ 0 per component.
func (m *Mixture) checkStds() {
	if len(m.Stds) != len(m.Means) {
		panic(autograd.Misuse("fm.Mixture", "%d standard deviations for %d means", len(m.Stds), len(m.Means)))
	}
	for k, s := range m.Stds {
		if !(s >= 0) || math.IsInf(s, 0) {
			panic(autograd.Misuse("fm.Mixture", "Stds[%d] = %v; want finite and ≥ 0", k, s))
		}
	}
}

// EmpiricalMarginal is the marginal path and field of an Empirical q under
// any Path (Lipman et al. 2022, §3.1, eqs. 6 and 8):
//
//	p_t(x) = Σᵢ qᵢ p_t(x|x₁ⁱ),  u_t(x) = Σᵢ wᵢ(x) u_t(x|x₁ⁱ),  wᵢ ∝ qᵢ p_t(x|x₁ⁱ).
//
// Tested by TestTheorem1_ContinuityEmpirical.
type EmpiricalMarginal struct {
	Path Path
	Data *Empirical
}

// logJoint returns log qᵢ + log p_t(x|x₁ⁱ) for each i.
func (m EmpiricalMarginal) logJoint(t float64, x []float64) []float64 {
	lj := m.Data.LogWeights()
	for i, x1 := range m.Data.Points {
		lj[i] += CondLogProb(m.Path, t, x, x1)
	}
	return lj
}

// Posterior returns the weights wᵢ(x) = qᵢ p_t(x|x₁ⁱ) / p_t(x), the
// posterior probability that x_t = x came from x₁ⁱ, computed in log space
// (finite and summing to 1 even where every p_t(x|x₁ⁱ) underflows).
// Tested by TestEmpiricalMarginal_PosteriorFarFromData.
func (m EmpiricalMarginal) Posterior(t float64, x []float64) []float64 {
	lj := m.logJoint(t, x)
	z := stats.LogSumExp(lj)
	for i := range lj {
		lj[i] = math.Exp(lj[i] - z)
	}
	return lj
}

// LogProb returns log p_t(x) = logsumexpᵢ(log qᵢ + log p_t(x|x₁ⁱ)).
func (m EmpiricalMarginal) LogProb(t float64, x []float64) float64 {
	return stats.LogSumExp(m.logJoint(t, x))
}

// Field returns u_t(x) = Σᵢ wᵢ(x)·u_t(x|x₁ⁱ).
func (m EmpiricalMarginal) Field(t float64, x []float64) []float64 {
	w := m.Posterior(t, x)
	out := make([]float64, len(x))
	for i, x1 := range m.Data.Points {
		u := CondField(m.Path, t, x, x1)
		for j := range out {
			out[j] += w[i] * u[j]
		}
	}
	return out
}

// MixtureMarginal is the marginal path and field of a Gaussian Mixture q
// under an AffinePath (derivation at the top of marginal.go):
//
//	p_t(x) = Σₖ πₖ N(x; a_t mₖ, vₖ I),  vₖ = σ_t² + a_t² sₖ²,
//	u_t(x) = Σₖ rₖ(x)·(v′ₖ/(2vₖ)·(x − a_t mₖ) + a′_t mₖ),  rₖ ∝ πₖ N(x; a_t mₖ, vₖ I).
//
// The coefficient v′ₖ/2 = σ_tσ′_t + a_t a′_t sₖ² uses AffinePath.SigmaDSigma,
// so the field is finite at t = 1 for VP (where σ′₁ = −∞) when every
// sₖ > 0 (TestMixtureMarginal_VPFieldAtDataEnd). Tested by
// TestTheorem1_ContinuityMixture and TestMixtureMarginal_PointMassLimit.
type MixtureMarginal struct {
	Path AffinePath
	Data *Mixture
}

// components returns, for each k, log πₖ + log N(x; a mₖ, vₖ I), and the
// field of component k at x.
func (m MixtureMarginal) components(t float64, x []float64) (lj []float64, u [][]float64) {
	a, da, s, _ := m.Path.Schedule(t)
	ssd := m.Path.SigmaDSigma(t)
	lj = m.Data.LogWeights()
	m.Data.checkStds()
	u = make([][]float64, len(lj))
	d := float64(len(x))
	for k, mk := range m.Data.Means {
		sk := m.Data.Stds[k]
		v := s*s + a*a*sk*sk
		dv := 2*ssd + 2*a*da*sk*sk // v′ₖ with σσ′ finite where σ′ is not
		r2 := 0.0
		u[k] = make([]float64, len(x))
		for j := range x {
			r := x[j] - a*mk[j]
			r2 += r * r
			u[k][j] = dv/(2*v)*r + da*mk[j]
		}
		lj[k] += -0.5*d*math.Log(2*math.Pi*v) - r2/(2*v)
	}
	return lj, u
}

// Posterior returns the responsibilities rₖ(x) = πₖ N(x; a_t mₖ, vₖ I)/p_t(x),
// computed in log space.
func (m MixtureMarginal) Posterior(t float64, x []float64) []float64 {
	lj, _ := m.components(t, x)
	z := stats.LogSumExp(lj)
	for k := range lj {
		lj[k] = math.Exp(lj[k] - z)
	}
	return lj
}

// LogProb returns log p_t(x) = logsumexpₖ(log πₖ + log N(x; a_t mₖ, vₖ I)).
func (m MixtureMarginal) LogProb(t float64, x []float64) float64 {
	lj, _ := m.components(t, x)
	return stats.LogSumExp(lj)
}

// Field returns u_t(x) = Σₖ rₖ(x)·u_t(x|k).
func (m MixtureMarginal) Field(t float64, x []float64) []float64 {
	lj, u := m.components(t, x)
	z := stats.LogSumExp(lj)
	out := make([]float64, len(x))
	for k := range lj {
		w := math.Exp(lj[k] - z)
		for j := range out {
			out[j] += w * u[k][j]
		}
	}
	return out
}

// MarginalFieldBatch returns u_t(x) row by row as a constant [n, d] tensor
// (a regression target: no gradient flows through it). t is [n, 1].
func MarginalFieldBatch(m Marginal, t, x *autograd.Tensor) *autograd.Tensor {
	if t.Rows != x.Rows || t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "fm.MarginalFieldBatch", Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: fmt.Sprintf("t must be [%d,1]", x.Rows)})
	}
	out := autograd.Zeros(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		copy(out.Row(i), m.Field(t.Data[i], x.Row(i)))
	}
	return out
}
