package exercises

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm/discrete"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

type velocity func(dst []float64, p discrete.Path, t float64, x []int, post []float64)

// cases are the grader's inputs: both sources, three schedulers, random
// states (with masks) and random posteriors.
func cases() (paths []discrete.Path, ts []float64, xs [][]int, posts [][]float64) {
	rng := rand.New(rand.NewPCG(15, 1))
	for _, s := range []discrete.Scheduler{discrete.Linear{}, discrete.Polynomial{N: 2}, discrete.Cosine{}} {
		for _, src := range []discrete.Source{discrete.Uniform, discrete.Mask} {
			for range 4 {
				p := discrete.Path{Sched: s, Source: src, V: 4, D: 3}
				x := make([]int, p.D)
				for i := range x {
					x[i] = rng.IntN(p.States())
				}
				post := make([]float64, p.D*p.V)
				for i := 0; i < p.D; i++ {
					tot := 0.0
					for y := 0; y < p.V; y++ {
						post[i*p.V+y] = rng.Float64()
						tot += post[i*p.V+y]
					}
					for y := 0; y < p.V; y++ {
						post[i*p.V+y] /= tot
					}
				}
				paths, ts, xs, posts = append(paths, p), append(ts, 0.1+0.8*rng.Float64()), append(xs, x), append(posts, post)
			}
		}
	}
	return
}

// outputs concatenates f's rates over every case.
func outputs(t *testing.T, f velocity) []float64 {
	paths, ts, xs, posts := cases()
	var out []float64
	for k, p := range paths {
		dst := make([]float64, p.D*p.States())
		for i := range dst {
			dst[i] = 7 // not zeroed: a row left untouched shows
		}
		grade.Try(t, func() { f(dst, p, ts[k], xs[k], posts[k]) })
		out = append(out, dst...)
	}
	return out
}

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintNoInverse = "the jump coefficient is missing its 1/(1 − κ_t): reread how fast a token must jump when κ_t is near 1 (README, Math)."
	hintKappa     = "κ_t stands where its derivative κ̇_t belongs (README, Math)."
	hintNoDelta   = "the rows do not sum to 0: the rate of staying, −Σ_{y≠xⁱ} uⁱ(y, x), is missing (README, Math)."
	hintUnmasked  = "an unmasked token moves: under the mask source only masked positions jump (doc comment)."
)

// student is a deliberately wrong ProbabilityVelocity.
type student struct{ noInverse, kappa, noDelta, unmasked bool }

func (s student) velocity(dst []float64, p discrete.Path, t float64, x []int, post []float64) {
	c := p.Sched.DKappa(t) / (1 - p.Sched.Kappa(t))
	switch {
	case s.noInverse:
		c = p.Sched.DKappa(t)
	case s.kappa:
		c = p.Sched.Kappa(t) / (1 - p.Sched.Kappa(t))
	}
	S, V := p.States(), p.V
	for i := 0; i < p.D; i++ {
		row := dst[i*S : (i+1)*S]
		for y := range row {
			row[y] = 0
		}
		if p.Source == discrete.Mask && x[i] != V && !s.unmasked {
			continue
		}
		out := 0.0
		for y := 0; y < V; y++ {
			if y != x[i] || s.noDelta {
				row[y] = c * post[i*V+y]
				out += row[y]
			}
		}
		if !s.noDelta {
			row[x[i]] = -out
		}
	}
}

func mistakes(t *testing.T) []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintNoInverse, Got: outputs(t, student{noInverse: true}.velocity)},
		{Hint: hintKappa, Got: outputs(t, student{kappa: true}.velocity)},
		{Hint: hintNoDelta, Got: outputs(t, student{noDelta: true}.velocity)},
		{Hint: hintUnmasked, Got: outputs(t, student{unmasked: true}.velocity)},
	}
}

// TestProbabilityVelocity grades ProbabilityVelocity against discrete.Rate
// (to 1e-12 relative: the same arithmetic up to its order).
func TestProbabilityVelocity(t *testing.T) {
	grade.Check(t, "ProbabilityVelocity", outputs(t, ProbabilityVelocity), outputs(t, discrete.Rate), 1e-12, mistakes(t)...)
}

// TestDiagnosis: each deliberately wrong ProbabilityVelocity gets the hint
// of its mistake; the right one passes.
func TestDiagnosis(t *testing.T) {
	want, ms := outputs(t, discrete.Rate), mistakes(t)
	for _, c := range []struct {
		name, hint string
		st         student
	}{
		{"right", "", student{}},
		{"no 1/(1 − κ)", hintNoInverse, student{noInverse: true}},
		{"κ for κ̇", hintKappa, student{kappa: true}},
		{"no δ", hintNoDelta, student{noDelta: true}},
		{"unmasked moves", hintUnmasked, student{unmasked: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := outputs(t, c.st.velocity)
			if c.hint == "" {
				require.Empty(t, grade.Verdict("ProbabilityVelocity", got, want, 1e-12, ms...))
				return
			}
			require.Contains(t, grade.Verdict("ProbabilityVelocity", got, want, 1e-12, ms...), "hint: "+c.hint)
		})
	}
}
