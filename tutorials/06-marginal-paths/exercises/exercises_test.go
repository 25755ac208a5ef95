package exercises

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/fm"
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

// agree reports the worst |got − want| over random (t, x ~ p_t) and checks
// that every weight vector sums to 1.
func agree(t *testing.T, post posterior) float64 {
	points, q := data()
	worst := 0.0
	for name, p := range paths() {
		rng := rand.New(rand.NewPCG(2, 2))
		lib := fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points, Weights: q}}
		for k := 0; k < 200; k++ {
			tt := rng.Float64()
			x := fm.SampleCond(p, tt, points[rng.IntN(len(points))], rng)
			got, want := post(p, tt, x, points, q), lib.Posterior(tt, x)
			require.Len(t, got, len(points), "%s: one weight per point", name)
			s := 0.0
			for i := range got {
				s += got[i]
				worst = max(worst, math.Abs(got[i]-want[i]))
			}
			require.InDelta(t, 1, s, 16*eps*float64(len(points)), "%s: weights sum to %v, want 1", name, s)
		}
	}
	return worst
}

// TestPosterior_MatchesLibrary: at 400 random (t, x) the weights equal the
// library's to rounding (a log-sum-exp over six terms: ~100ε).
func TestPosterior_MatchesLibrary(t *testing.T) {
	grade.Try(t, func() {
		worst := agree(t, Posterior)
		assert.LessOrEqual(t, worst, 128*eps, "got worst difference %g want ≤ %g", worst, 128*eps)
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
			require.False(t, math.IsNaN(got[i]) || math.IsInf(got[i], 0), "weight %d is %v", i, got[i])
			assert.InDelta(t, want[i], got[i], 128*eps, "weight %d: got %v want %v", i, got[i], want[i])
		}
	})
}

// TestGrader_CatchesMissingQ is the grader's negative control: the seed's
// printed formula, weights ∝ p_t(x|x₁ⁱ) without qᵢ, fails the comparison
// with the library by far more than its tolerance.
func TestGrader_CatchesMissingQ(t *testing.T) {
	noQ := func(p fm.Path, tt float64, x []float64, points [][]float64, q []float64) []float64 {
		return fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: points}}.Posterior(tt, x)
	}
	worst := agree(t, noQ)
	assert.Greater(t, worst, 0.1, "a posterior without q passed: worst difference %g", worst)
}
