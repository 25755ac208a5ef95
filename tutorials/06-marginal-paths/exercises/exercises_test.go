package exercises

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
)

const eps = 0x1p-52

type posterior func(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64

// data is six points in 2-D with weights 1:2:…:32, normalized.
func data() (points [][]float64, q []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	tot := 0.0
	for i := 0; i < 6; i++ {
		points = append(points, []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()})
		q = append(q, math.Pow(2, float64(i)))
		tot += q[i]
	}
	for i := range q {
		q[i] /= tot
	}
	return points, q
}

// paths are a CondOT path and an x₁-dependent σ path, so the normalizer
// (2πσ²)^{−d/2} differs between points and cannot be dropped.
func paths() map[string]fm.Path {
	return map[string]fm.Path{
		"CondOT": fm.CondOT{SigmaMin: 0.05},
		"xDependentSigma": fm.FuncPath{
			MeanFunc: func(t float64, x1 []float64) (mu, dmu []float64) {
				return []float64{t * x1[0], t * x1[1]}, x1
			},
			StdFunc: func(t float64, x1 []float64) (float64, float64) {
				s1 := 0.1 + 0.1*math.Abs(x1[0])
				return 1 - (1-s1)*t, -(1 - s1)
			},
		},
	}
}

// point is one (path, t, x) at which the weights are compared.
type point struct {
	name string
	p    fm.Path
	t    float64
	x    []float64
}

// points200 returns 200 random (t, x ~ p_t) for each path, in a fixed order.
func points200() []point {
	points, _ := data()
	var out []point
	for _, name := range []string{"CondOT", "xDependentSigma"} {
		p := paths()[name]
		rng := rand.New(rand.NewPCG(2, 2))
		for k := 0; k < 200; k++ {
			tt := rng.Float64()
			out = append(out, point{name, p, tt, fm.SampleCond(p, tt, points[rng.IntN(len(points))], rng)})
		}
	}
	return out
}

// weights concatenates post's weights at every point (one per data point each).
func weights(t *testing.T, post posterior) []float64 {
	points, q := data()
	var out []float64
	for _, c := range points200() {
		w := post(c.p, c.t, c.x, points, q)
		require.Len(t, w, len(points), "%s: one weight per point", c.name)
		out = append(out, w...)
	}
	return out
}

// fromLogTerms returns the normalized weights exp(ℓᵢ − logsumexp ℓ) for the log-terms
// ℓᵢ = ell(p, t, x, x₁ⁱ, qᵢ) at every point: the right weights for the right ℓ, and a likely
// mistake for a wrong one.
func fromLogTerms(ell func(p fm.Path, t float64, x, x1 []float64, q float64) float64) posterior {
	return func(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
		l := make([]float64, len(points))
		for i := range points {
			l[i] = ell(p, t, x, points[i], q[i])
		}
		lse := stats.LogSumExp(l)
		for i := range l {
			l[i] = math.Exp(l[i] - lse)
		}
		return l
	}
}

// library is fm.EmpiricalMarginal.Posterior.
func library(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
	return fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points, Weights: q}}.Posterior(t, x)
}

// matchTol: a log-sum-exp over six terms, ~100ε.
const matchTol = 128 * eps

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintNoQ        = "the prior weights qᵢ are missing"
	hintNormalizer = "a term of log p_t(x|x₁ⁱ) that depends on i is missing"
	hintTimes      = "t and 1 − t are swapped"
	hintSign       = "the weights favour the least likely points"
	hintNotSummed  = "the weights do not sum to 1"
	hintQTwice     = "qᵢ enters twice"
)

// posteriorMistakes returns what each likely mistake returns at points200.
func posteriorMistakes(t *testing.T) []grade.Mistake {
	sqDist := func(p fm.Path, t float64, x, x1 []float64) float64 {
		mu, _ := p.Mean(t, x1)
		s, _ := p.Std(t, x1)
		r2 := 0.0
		for j := range x {
			r2 += (x[j] - mu[j]) * (x[j] - mu[j])
		}
		return r2 / (2 * s * s)
	}
	unnormalized := func(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
		l := make([]float64, len(points))
		m := math.Inf(-1)
		for i := range points {
			l[i] = math.Log(q[i]) + fm.CondLogProb(p, t, x, points[i])
			m = max(m, l[i])
		}
		for i := range l {
			l[i] = math.Exp(l[i] - m)
		}
		return l
	}
	return []grade.Mistake{
		{Hint: hintNoQ + ": each point's weight is its prior probability times its likelihood (Lipman et al. 2022, eq. 8; README, Math).",
			Got: weights(t, fromLogTerms(func(p fm.Path, t float64, x, x1 []float64, _ float64) float64 { return fm.CondLogProb(p, t, x, x1) }))},
		{Hint: hintNormalizer + ": when σ_t depends on x₁ the Gaussian's normalizing constant differs between points and does not cancel. Use the whole log-density.",
			Got: weights(t, fromLogTerms(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
				return math.Log(q) - sqDist(p, t, x, x1)
			}))},
		{Hint: hintTimes + ": your weights are those of time 1 − t. t = 0 is noise, t = 1 is data.",
			Got: weights(t, fromLogTerms(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
				return math.Log(q) + fm.CondLogProb(p, 1-t, x, x1)
			}))},
		{Hint: hintSign + ": a sign in the exponent is flipped (the weights are a softmax of −ℓ instead of ℓ).",
			Got: weights(t, fromLogTerms(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
				return -(math.Log(q) + fm.CondLogProb(p, t, x, x1))
			}))},
		{Hint: hintNotSummed + ": after subtracting the maximum, divide by the sum (subtract the log-sum-exp in log space).",
			Got: weights(t, unnormalized)},
		{Hint: hintQTwice + " (log qᵢ added twice, or qᵢ multiplied after the log-space normalization).",
			Got: weights(t, fromLogTerms(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
				return 2*math.Log(q) + fm.CondLogProb(p, t, x, x1)
			}))},
	}
}

// agree returns the worst |got − want| over points200 (the negative control's measure).
func agree(t *testing.T, post posterior) float64 {
	got, want := weights(t, post), weights(t, library)
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(got[i]-want[i]))
	}
	return worst
}

// TestPosterior_MatchesLibrary: at 400 random (t, x) the weights equal the library's to
// rounding (a log-sum-exp over six terms: ~100ε), which also makes them sum to 1. A wrong
// answer is compared with the likely mistakes, and the failure says which one it resembles.
func TestPosterior_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		grade.Check(t, "Posterior", weights(t, Posterior), weights(t, library), matchTol, posteriorMistakes(t)...)
	})
}

// TestPosterior_TwoPointsClosedForm: for two points and a path with one σ,
// the weight of point 0 is the logistic function
//
//	w₀ = 1/(1 + exp(−z)),  z = log(q₀/q₁) + (‖x − μ₁‖² − ‖x − μ₀‖²)/(2σ_t²),  μᵢ = t·x₁ⁱ.
func TestPosterior_TwoPointsClosedForm(t *testing.T) {
	grade.Try(t, func() {
		p := fm.CondOT{SigmaMin: 0.1}
		points := [][]float64{{1, 0}, {-1, 0.5}}
		q := []float64{0.3, 0.7}
		for _, c := range []struct{ t, x0, x1 float64 }{{0.2, 0.1, 0.1}, {0.5, 0.4, -0.3}, {0.9, -0.8, 0.5}, {0.7, 0.05, 0.2}} {
			x := []float64{c.x0, c.x1}
			s, _ := p.Std(c.t, nil)
			var d [2]float64
			for i, pt := range points {
				a, b := x[0]-c.t*pt[0], x[1]-c.t*pt[1]
				d[i] = a*a + b*b
			}
			z := math.Log(q[0]/q[1]) + (d[1]-d[0])/(2*s*s)
			want := 1 / (1 + math.Exp(-z))
			got := Posterior(p, c.t, x, points, q)
			require.Len(t, got, 2)
			assert.InDelta(t, want, got[0], 64*eps*(1+math.Abs(z)), "t=%v x=%v: got %v want %v", c.t, x, got[0], want)
			assert.InDelta(t, 1-want, got[1], 64*eps*(1+math.Abs(z)), "t=%v x=%v", c.t, x)
		}
	})
}

// TestPosterior_FarFromData: at t = 0.99 (σ_t ≈ 0.06) and x 50 units from
// the data every p_t(x|x₁ⁱ) underflows to 0, yet the weights must be
// finite, sum to 1 and equal the library's (which puts almost all weight on
// the point whose mean is nearest). The direct quotient gives NaN here.
func TestPosterior_FarFromData(t *testing.T) {
	grade.Try(t, func() {
		points, q := data()
		p := fm.CondOT{SigmaMin: 0.05}
		x := []float64{50, -30}
		got := Posterior(p, 0.99, x, points, q)
		want := fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points, Weights: q}}.Posterior(0.99, x)
		require.Len(t, got, len(points))
		for i := range got {
			require.False(t, math.IsNaN(got[i]) || math.IsInf(got[i], 0),
				"weight %d is %v 50 units from the data: every p_t(x|x₁ⁱ) underflows to 0 there, so work in log space and subtract the largest log-term before exponentiating (README, Exercises)", i, got[i])
			assert.InDelta(t, want[i], got[i], 128*eps, "weight %d: got %v want %v", i, got[i], want[i])
		}
	})
}

// TestGrader_CatchesMissingQ is the grader's negative control: the common
// slip, weights ∝ p_t(x|x₁ⁱ) without qᵢ, fails the comparison
// with the library by far more than its tolerance.
func TestGrader_CatchesMissingQ(t *testing.T) {
	noQ := func(p fm.Path, tt float64, x []float64, points [][]float64, q []float64) []float64 {
		return fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points}}.Posterior(tt, x)
	}
	worst := agree(t, noQ)
	assert.Greater(t, worst, 0.1, "a posterior without q passed: worst difference %g", worst)
}

// TestDiagnosis: each deliberately wrong Posterior, written as a student might, gets the hint
// of its mistake; the right one passes.
func TestDiagnosis(t *testing.T) {
	want, ms := weights(t, library), posteriorMistakes(t)
	// student computes ℓᵢ with logTerm, then normalizes as the exercise suggests.
	student := func(logTerm func(p fm.Path, t float64, x, x1 []float64, q float64) float64, normalize bool) posterior {
		return func(p fm.Path, t float64, x []float64, points [][]float64, q []float64) []float64 {
			l := make([]float64, len(points))
			m := math.Inf(-1)
			for i := range points {
				l[i] = logTerm(p, t, x, points[i], q[i])
				m = max(m, l[i])
			}
			sum := 0.0
			for i := range l {
				l[i] = math.Exp(l[i] - m)
				sum += l[i]
			}
			if normalize {
				for i := range l {
					l[i] /= sum
				}
			}
			return l
		}
	}
	right := func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
		return math.Log(q) + fm.CondLogProb(p, t, x, x1)
	}
	for _, c := range []struct {
		name, hint string
		post       posterior
	}{
		{"right", "", student(right, true)},
		{"no q", hintNoQ, student(func(p fm.Path, t float64, x, x1 []float64, _ float64) float64 { return fm.CondLogProb(p, t, x, x1) }, true)},
		{"no normalizer", hintNormalizer, student(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
			mu, _ := p.Mean(t, x1)
			s, _ := p.Std(t, x1)
			r2 := 0.0
			for j := range x {
				r2 += (x[j] - mu[j]) * (x[j] - mu[j])
			}
			return math.Log(q) - r2/(2*s*s)
		}, true)},
		{"t and 1 − t swapped", hintTimes, student(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
			return right(p, 1-t, x, x1, q)
		}, true)},
		{"sign flipped", hintSign, student(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 { return -right(p, t, x, x1, q) }, true)},
		{"not normalized", hintNotSummed, student(right, false)},
		{"q twice", hintQTwice, student(func(p fm.Path, t float64, x, x1 []float64, q float64) float64 {
			return math.Log(q) + right(p, t, x, x1, q)
		}, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("Posterior", weights(t, c.post), want, matchTol, ms...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}
