package tests

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm"
)

// Theorem 1 of Lipman et al. 2022 (arXiv:2210.02747, §3.1): if u_t(·|x₁)
// generates p_t(·|x₁) for every x₁, the marginal field (eq. 8)
//
//	u_t(x) = ∫ u_t(x|x₁) p_t(x|x₁) q(x₁)/p_t(x) dx₁ = E[u_t(x|x₁) | x_t = x]
//
// generates the marginal path p_t(x) = ∫ p_t(x|x₁) q(x₁) dx₁ (eq. 6), i.e. the
// continuity equation ∂ₜp_t + div(p_t u_t) = 0 holds (Lipman §2; Villani
// 2009). A common slip drops q(x₁) from the weight of eq. 8; the negative
// controls below make that slip and watch the continuity equation fail.

// continuityWorst evaluates the continuity residual of the density of m and
// the given field at random (t, x) with x ~ p_t (drawn as ψ_t(x₀) from
// x₁ ~ data), and returns the worst |r|/tol (≤ 1: the residual vanishes
// within the finite-difference error) and the worst tol/scale (how small a
// residual, relative to its terms, the check can see).
func continuityWorst(p fm.Path, m fm.Marginal, field func(t float64, x []float64) []float64, data fm.Sampler, seed uint64) (worst, resolution float64, msg string) {
	rng := newRNG(seed)
	const points = 25
	x1s := data(points, rng)
	for i := 0; i < points; i++ {
		x1 := x1s.Row(i)
		s := 0.05 + 0.9*rng.Float64()
		x := fm.Flow(p, s, randVec(len(x1), 1, rng), x1)
		sg, _ := p.Std(s, x1)
		h := 1e-3 * min(1, sg) // resolve the narrowest Gaussian in x and in t
		r, scale, tol := continuity(m, field, s, x, h)
		if q := math.Abs(r) / tol; q > worst {
			worst = q
			msg = fmt.Sprintf("t=%.3f x=%.3g: residual %.3g, terms %.3g (tol %.3g)", s, x, r, scale, tol)
		}
		resolution = max(resolution, tol/scale)
	}
	return worst, resolution, msg
}

// logContinuity logs what a continuity check compared: the worst residual
// against its derived finite-difference tolerance, and how small a residual
// (relative to the size of its terms) the check resolves.
func logContinuity(t *testing.T, what string, worst, resolution float64, msg string) {
	t.Helper()
	t.Logf("Theorem 1 (%s): ∂ₜp_t + div(p_t u_t) = 0 at 25 random (t, x): worst |r|/tol = %.3f ≤ 1, at %s; the check resolves residuals down to %.1e of the terms",
		what, worst, msg, resolution)
}

// threeBumps is a non-uniform Gaussian mixture in 2-D.
func threeBumps(weights []float64) *fm.Mixture {
	return &fm.Mixture{
		Means:   [][]float64{{-2, 0}, {1.5, 1}, {0.5, -2}},
		Stds:    []float64{0.3, 0.5, 0.2},
		Weights: weights,
	}
}

func affinePaths() []namedPath {
	var out []namedPath
	for _, np := range allPaths() {
		if _, ok := np.p.(fm.AffinePath); ok {
			out = append(out, np)
		}
	}
	return out
}

func TestTheorem1_ContinuityMixture(t *testing.T) {
	q := threeBumps([]float64{0.6, 0.3, 0.1})
	for i, np := range affinePaths() {
		t.Run(np.name, func(t *testing.T) {
			p := np.p.(fm.AffinePath)
			m := fm.MixtureMarginal{Path: p, Data: q}
			worst, res, msg := continuityWorst(p, m, m.Field, q.Sample, uint64(20+i))
			logContinuity(t, np.name+", mixture q", worst, res, msg)
			assert.LessOrEqual(t, worst, 1.0, msg)
			require.Less(t, res, 1e-3, "the check must resolve residuals far below its terms")

			// Negative control: the responsibilities without q's weights πₖ.
			noQ := fm.MixtureMarginal{Path: p, Data: threeBumps(nil)}
			worst, _, _ = continuityWorst(p, m, noQ.Field, q.Sample, uint64(20+i))
			t.Logf("negative control (weights without q(x₁)): worst |r|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "dropping q(x₁) from the weights must break the continuity equation")
		})
	}
}

// flipDS returns p with the sign of σ′_t flipped, so that its generic
// conditional field has a flipped σ′/σ term while μ and σ are unchanged.
func flipDS(p fm.Path) fm.FuncPath {
	return fm.FuncPath{
		MeanFunc: p.Mean,
		StdFunc: func(t float64, x1 []float64) (float64, float64) {
			s, ds := p.Std(t, x1)
			return s, -ds
		},
		Start: p.SourceStd(),
	}
}

func TestTheorem1_ContinuityEmpirical(t *testing.T) {
	points := [][]float64{{-1.5, 0.5}, {0, 1.5}, {1.2, -0.3}, {0.3, -1.4}, {2, 1}}
	q := &fm.Empirical{Points: points, Weights: []float64{1, 2, 4, 8, 16}}
	for i, np := range allPaths() {
		t.Run(np.name, func(t *testing.T) {
			m := fm.EmpiricalMarginal{Path: np.p, Data: q}
			worst, res, msg := continuityWorst(np.p, m, m.Field, q.Sample, uint64(30+i))
			logContinuity(t, np.name+", empirical q", worst, res, msg)
			assert.LessOrEqual(t, worst, 1.0, msg)
			require.Less(t, res, 1e-3, "the check must resolve residuals far below its terms")

			// Negative control 1: weights ∝ p_t(x|x₁ⁱ) only (the common slip).
			noQ := fm.EmpiricalMarginal{Path: np.p, Data: &fm.Empirical{Points: points}}
			worst, _, _ = continuityWorst(np.p, m, noQ.Field, q.Sample, uint64(30+i))
			t.Logf("negative control 1 (weights without q(x₁)): worst |r|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "dropping q(x₁) from the weights must break the continuity equation")

			// Negative control 2: a flipped sign in the conditional field.
			flipped := fm.EmpiricalMarginal{Path: flipDS(np.p), Data: q}
			worst, _, _ = continuityWorst(np.p, m, flipped.Field, q.Sample, uint64(30+i))
			t.Logf("negative control 2 (σ′/σ term of u_t(x|x₁) flipped): worst |r|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "a flipped conditional field must break the continuity equation")
		})
	}
}

// randAntisym returns a random d×d antisymmetric matrix R = A − Aᵀ.
func randAntisym(d int, rng *rand.Rand) [][]float64 {
	r := make([][]float64, d)
	for i := range r {
		r[i] = make([]float64, d)
	}
	for i := 0; i < d; i++ {
		for j := i + 1; j < d; j++ {
			a := rng.NormFloat64()
			r[i][j], r[j][i] = a, -a
		}
	}
	return r
}

// TestTheorem1_DivergenceFreePerturbation shows that the generating field is
// not unique: for an isotropic Gaussian p_t = N(μ, v I), adding
// w(x) = R(x − μ) with R antisymmetric keeps the continuity equation, since
// div(p w) = ∇p·w + p·tr R = −p/v·(x − μ)ᵀR(x − μ) + 0 = 0; adding
// S(x − μ) with S symmetric (not divergence-free against p) breaks it.
func TestTheorem1_DivergenceFreePerturbation(t *testing.T) {
	const d = 3
	q := &fm.Mixture{Means: [][]float64{{0.5, -1, 2}}, Stds: []float64{0.7}}
	for i, np := range affinePaths() {
		t.Run(np.name, func(t *testing.T) {
			p := np.p.(fm.AffinePath)
			m := fm.MixtureMarginal{Path: p, Data: q}
			rng := newRNG(uint64(40 + i))
			R := randAntisym(d, rng)
			S := randAntisym(d, rng)
			for a := 0; a < d; a++ {
				for b := 0; b < d; b++ {
					S[a][b] = math.Abs(S[a][b]) // symmetric: |A − Aᵀ| is
				}
				S[a][a] = 0.5
			}
			perturbed := func(M [][]float64) func(s float64, x []float64) []float64 {
				return func(s float64, x []float64) []float64 {
					a, _, _, _ := p.Schedule(s)
					u := m.Field(s, x)
					for r := 0; r < d; r++ {
						for c := 0; c < d; c++ {
							u[r] += M[r][c] * (x[c] - a*q.Means[0][c])
						}
					}
					return u
				}
			}
			worst, res, msg := continuityWorst(p, m, perturbed(R), q.Sample, uint64(50+i))
			logContinuity(t, np.name+", u + R(x − μ), R antisymmetric", worst, res, msg)
			assert.LessOrEqual(t, worst, 1.0, "antisymmetric perturbation: %s", msg)
			require.Less(t, res, 1e-3)
			worst, _, _ = continuityWorst(p, m, perturbed(S), q.Sample, uint64(50+i))
			t.Logf("negative control (u + S(x − μ), S symmetric): worst |r|/tol = %.3g, must be > 1", worst)
			assert.Greater(t, worst, 1.0, "a perturbation that is not divergence-free must break the continuity equation")
		})
	}
}
