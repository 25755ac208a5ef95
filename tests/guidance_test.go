package tests

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
)

// Conditional fields and classifier-free guidance on an exact labelled
// Gaussian mixture (fm.LabelledMixture; derivation at the top of
// fm/condmixture.go). On an affine path every marginal field is linear in
// its score with data-free coefficients (Tweedie's identity, Efron 2011;
// fm.VelocityScore), class by class too, so guiding exact fields (Ho &
// Salimans 2022, arXiv:2207.12598; Zheng et al. 2023, arXiv:2311.13443) is
// guiding scores; integrating the exact guided field ends at q(·|c) for
// w = 1 and at q for w = 0.

// guidancePaths are the affine schedules the identities are checked on.
func guidancePaths() []namedPath {
	return []namedPath{
		{"CondOT", fm.CondOT{SigmaMin: 0.01}},
		{"CondOT0", fm.CondOT{}},
		{"VP", fm.VP{}},
		{"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 5}},
		{"Cosine", fm.Cosine{}},
		{"LinearVP", fm.LinearVP{}},
	}
}

// threeClasses is a labelled 2-D mixture with unequal class weights, two
// components in two of the classes, and some overlap between classes.
func threeClasses(p fm.AffinePath) *fm.LabelledMixture {
	return &fm.LabelledMixture{
		Path: p,
		Classes: []fm.Mixture{
			{Means: [][]float64{{-2, 0}, {-1, 1.5}}, Stds: []float64{0.5, 0.4}},
			{Means: [][]float64{{1.5, 0.5}, {2, -1.5}}, Stds: []float64{0.6, 0.4}, Weights: []float64{2, 1}},
			{Means: [][]float64{{0, -2}}, Stds: []float64{0.5}},
		},
		ClassWeights: []float64{0.5, 0.3, 0.2},
	}
}

// twoOverlapping is a labelled 2-D mixture of two equally likely classes
// N((∓0.5, 0), 0.8² I) that overlap: the Bayes accuracy is Φ(0.5/0.8) ≈ 0.73.
func twoOverlapping(p fm.AffinePath) *fm.LabelledMixture {
	return &fm.LabelledMixture{
		Path: p,
		Classes: []fm.Mixture{
			{Means: [][]float64{{-0.5, 0}}, Stds: []float64{0.8}},
			{Means: [][]float64{{0.5, 0}}, Stds: []float64{0.8}},
		},
	}
}

// fieldScore returns, for class c (or c < 0: unconditional), the exact field
// and score at (t, x).
func fieldScore(m *fm.LabelledMixture, c int, t float64, x []float64) (u, s []float64) {
	mm := m.Marginal()
	if c >= 0 {
		mm = m.Class(c)
	}
	return mm.Field(t, x), mm.Score(t, x)
}

func absMax(v []float64) float64 {
	r := 0.0
	for _, x := range v {
		r = max(r, math.Abs(x))
	}
	return r
}

// guidanceTimes are interior times and the data end (the fields are finite
// at t = 1 on every path here, since every sₖ > 0).
var guidanceTimes = []float64{0.05, 0.2, 0.5, 0.8, 0.95, 1}

// TestLabelledMixture_FieldIsLinearInScore: for every class c and for the
// unconditional path, the exact marginal field is a_t·x + b_t·∇log p_t
// with (a_t, b_t) = fm.VelocityScore, on CondOT (σ_min = 0.01 and 0), VP,
// VE, Cosine and LinearVP, at 6 times × 8 points. Tolerance: rounding of
// the few dozen operations on each side, 64u·(|u| + |a||x| + |b||∇log p|).
// Negative control: class c's field against the unconditional score (the
// relation is per class: the other class's score is not its score).
func TestLabelledMixture_FieldIsLinearInScore(t *testing.T) {
	rng := newRNG(101)
	worst := 0.0
	for _, np := range guidancePaths() {
		p := np.p.(fm.AffinePath)
		m := threeClasses(p)
		for _, tt := range guidanceTimes {
			a, b := fm.VelocityScore(p, tt)
			for range 8 {
				x := randVec(2, 2, rng)
				_, sAll := fieldScore(m, -1, tt, x)
				for c := -1; c < m.NumClasses(); c++ {
					u, s := fieldScore(m, c, tt, x)
					got, wrong := make([]float64, 2), make([]float64, 2)
					for j := range x {
						got[j] = a*x[j] + b*s[j]
						wrong[j] = a*x[j] + b*sAll[j]
					}
					tol := 64 * eps * (absMax(u) + math.Abs(a)*absMax(x) + math.Abs(b)*absMax(s))
					d := maxAbsDiff(got, u)
					if tol > 0 { // Cosine at t = 1: α′ = σσ′ = 0, so u = a = b = 0 exactly
						worst = max(worst, d/tol)
					}
					require.LessOrEqual(t, d, tol, "%s t=%v class %d x=%v: got %v want %v (tol %.3g)", np.name, tt, c, x, got, u, tol)
					if c >= 0 && maxAbsDiff(s, sAll) > 1e-6*absMax(s) && math.Abs(b) > 1e-3 {
						require.Greater(t, maxAbsDiff(wrong, u), 100*tol, "%s t=%v class %d: negative control (unconditional score) passed", np.name, tt, c)
					}
				}
			}
		}
	}
	t.Logf("u_t(x|c) = a_t x + b_t ∇log p_t(x|c): worst |error|/tol = %.3f over 6 paths × 6 times × 8 points × 4 fields", worst)
}

// TestLabelledMixture_ScoreIsGradLogProb: the class-conditional and the
// unconditional scores are the gradients of the LogProbs, by central
// differences with h = 10⁻⁴·min(1, √v) (v the narrowest component variance
// at t): tolerance 4·(Richardson truncation |D(2h) − D(h)|/3 + rounding
// 64u·|log p|/h). Negative control: class c's score against the gradient
// of the unconditional log-density.
func TestLabelledMixture_ScoreIsGradLogProb(t *testing.T) {
	rng := newRNG(102)
	for _, np := range guidancePaths() {
		p := np.p.(fm.AffinePath)
		m := threeClasses(p)
		for _, tt := range []float64{0.1, 0.5, 0.9, 1} {
			al, _, sg, _ := p.Schedule(tt)
			h := 1e-4 * min(1, math.Sqrt(sg*sg+al*al*0.4*0.4))
			for range 4 {
				x := randVec(2, 2, rng)
				all := m.Marginal()
				for c := -1; c < m.NumClasses(); c++ {
					mm := all
					if c >= 0 {
						mm = m.Class(c)
					}
					s := mm.Score(tt, x)
					for j := range x {
						fd := func(lp func(float64, []float64) float64, h float64) float64 {
							y := slices.Clone(x)
							y[j] += h
							up := lp(tt, y)
							y[j] -= 2 * h
							return (up - lp(tt, y)) / (2 * h)
						}
						d1, d2 := fd(mm.LogProb, h), fd(mm.LogProb, 2*h)
						tol := 4 * (math.Abs(d2-d1)/3 + 64*eps*(1+math.Abs(mm.LogProb(tt, x)))/h)
						require.InDelta(t, d1, s[j], tol, "%s t=%v class %d x=%v j=%d: got %v want %v (tol %.3g)", np.name, tt, c, x, j, s[j], d1, tol)
						if c >= 0 {
							other := fd(all.LogProb, h)
							if math.Abs(other-d1) > 1e3*tol {
								require.Greater(t, math.Abs(other-s[j]), tol, "%s t=%v class %d: negative control passed", np.name, tt, c)
							}
						}
					}
				}
			}
		}
	}
}

// TestLabelledMixture_FieldAveragesClasses: the unconditional field is the
// class-conditional fields averaged under the exact class posterior,
// u_t(x) = Σ_c p_t(c|x)·u_t(x|c) (the tower property; Theorem 1 of Lipman
// et al. 2022 over labels), within rounding 64u·max|u_t(x|c)|. Negative
// control: the prior π_c in place of p_t(c|x).
func TestLabelledMixture_FieldAveragesClasses(t *testing.T) {
	rng := newRNG(103)
	for _, np := range guidancePaths() {
		m := threeClasses(np.p.(fm.AffinePath))
		pi := m.LogClassWeights()
		for _, tt := range guidanceTimes {
			for range 8 {
				x := randVec(2, 2, rng)
				post := m.ClassPosterior(tt, x)
				got, wrong := make([]float64, 2), make([]float64, 2)
				scale := 0.0
				for c := range post {
					uc := m.Class(c).Field(tt, x)
					scale = max(scale, absMax(uc))
					for j := range got {
						got[j] += post[c] * uc[j]
						wrong[j] += math.Exp(pi[c]) * uc[j]
					}
				}
				u := m.Marginal().Field(tt, x)
				tol := 64 * eps * scale
				require.LessOrEqual(t, maxAbsDiff(got, u), tol, "%s t=%v x=%v: Σ p(c|x) u(x|c) = %v, u(x) = %v (tol %.3g)", np.name, tt, x, got, u, tol)
				if maxAbsDiff(wrong, u) > 1e-6*scale {
					require.Greater(t, maxAbsDiff(wrong, u), 100*tol, "%s t=%v: negative control passed", np.name, tt)
				}
			}
		}
	}
}

// TestGuided_ExactFieldIsGuidedScore: fm.Guided of the exact conditional
// fields (fm.LabelledMixture.CondVelocity, a batch of 16 points with a
// label per row) equals the field of the guided score,
//
//	(1 − w)·u_t(x) + w·u_t(x|c) = a_t·x + b_t·[w·∇log p_t(x|c) + (1 − w)·∇log p_t(x)],
//
// for w = 0, 1, 2, 4 and −0.5, on every path and time of
// guidanceTimes. Tolerance: rounding, 64u·(|a||x| + |b|(|w||∇log p_t(x|c)| +
// |1 − w||∇log p_t(x)|) + |w||u_t(x|c)| + |1 − w||u_t(x)|). Negative control:
// guidance with the field of the wrong class (c + 1 mod C) differs by far
// more than the tolerance.
func TestGuided_ExactFieldIsGuidedScore(t *testing.T) {
	rng := newRNG(104)
	const n = 16
	for _, np := range guidancePaths() {
		p := np.p.(fm.AffinePath)
		m := threeClasses(p)
		nc := m.NumClasses()
		v := m.CondVelocity()
		labels, wrongLabels, nulls := make([]int, n), make([]int, n), make([]int, n)
		for i := range labels {
			labels[i] = i % nc
			wrongLabels[i] = (i + 1) % nc
			nulls[i] = nn.NullLabel
		}
		ctx, wrongCtx, null := nn.LabelContext(labels, nc), nn.LabelContext(wrongLabels, nc), nn.LabelContext(nulls, nc)
		for _, tt := range guidanceTimes {
			x := autograd.Zeros(n, 2)
			for i := range n {
				copy(x.Row(i), randVec(2, 2, rng))
			}
			tc := autograd.Full(1, 1, tt)
			a, b := fm.VelocityScore(p, tt)
			for _, w := range []float64{0, 1, 2, 4, -0.5} {
				got := fm.Guided(v, ctx, null, w)(tc, x)
				bad := fm.Guided(v, wrongCtx, null, w)(tc, x)
				for i := range n {
					xi := x.Row(i)
					uc, sc := fieldScore(m, labels[i], tt, xi)
					u, s := fieldScore(m, -1, tt, xi)
					want := make([]float64, 2)
					for j := range want {
						want[j] = a*xi[j] + b*(w*sc[j]+(1-w)*s[j])
					}
					tol := 64 * eps * (math.Abs(a)*absMax(xi) + math.Abs(b)*(math.Abs(w)*absMax(sc)+math.Abs(1-w)*absMax(s)) +
						math.Abs(w)*absMax(uc) + math.Abs(1-w)*absMax(u))
					require.LessOrEqual(t, maxAbsDiff(got.Row(i), want), tol, "%s t=%v w=%v row %d (class %d): got %v want %v (tol %.3g)", np.name, tt, w, i, labels[i], got.Row(i), want, tol)
					if w != 0 && math.Abs(w*b)*maxAbsDiff(sc, m.Class(wrongLabels[i]).Score(tt, xi)) > 1e-6*absMax(want) {
						require.Greater(t, maxAbsDiff(bad.Row(i), want), 100*tol, "%s t=%v w=%v row %d: negative control (wrong class) passed", np.name, tt, w, i)
					}
				}
			}
		}
	}
}

// guidedSample integrates the exact guided field of class c (c < 0: the
// null label) with weight w from x₀ by RK4 with the given steps, t = 0 → 1.
func guidedSample(t *testing.T, m *fm.LabelledMixture, c int, w float64, x0 *autograd.Tensor, steps int) *autograd.Tensor {
	t.Helper()
	nc := m.NumClasses()
	v := fm.Guided(m.CondVelocity(), nn.LabelContext([]int{c}, nc), nn.LabelContext([]int{nn.NullLabel}, nc), w)
	x1, _, err := cnf.Integrate(cnf.FieldOf(v), x0, 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
	require.NoError(t, err)
	return x1
}

// classSample draws n points of class c (c < 0: of the pooled mixture).
func classSample(m *fm.LabelledMixture, c, n int, seed uint64) *autograd.Tensor {
	rng := newRNG(seed)
	if c < 0 {
		return m.Pooled().Sample(n, rng)
	}
	return m.Classes[c].Sample(n, rng)
}

func w2(t *testing.T, x, y *autograd.Tensor) float64 {
	t.Helper()
	d2, err := metrics.W2Squared(x, y)
	require.NoError(t, err)
	return math.Sqrt(d2)
}

// TestGuided_Endpoints: integrating the exact guided field from
// x₀ ~ N(0, I) (CondOT, σ_min = 0, so p₁ = q exactly; RK4, 40 steps) ends at
// q(·|c) for w = 1, for each class c, and at q for w = 0. Each is measured
// by the exact W₂ between n = 150 flowed points and 150 fresh points of the
// target, over R = 10 independent repeats, against the sampling floor: W₂
// between two independent 150-point samples of the target, over 10 other
// repeats. Both are draws of the same statistic when the flow is exact, so
// the check is mean(W₂) − mean(floor) ≤ k·√(se² + se_floor²), k the
// Student-t quantile (18 degrees of freedom) at a family-wise α = 10⁻³ over
// the 4 checks. RK4's error is measured too (40 against 80 steps) and is
// required to be below 10⁻³ of the floor. Negative control: the samples of
// class c at w = 1 against q(·|c + 1) are far above the floor (> 10 k·se).
func TestGuided_Endpoints(t *testing.T) {
	const n, reps, steps = 150, 10, 40
	m := threeClasses(fm.CondOT{})
	nc := m.NumClasses()
	k := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 2*reps - 2}.Quantile(1 - 1e-3/(2*float64(nc+1)))
	for c := -1; c < nc; c++ {
		w := 1.0
		if c < 0 {
			w = 0
		}
		var dist, floor, off []float64
		for r := range reps {
			seed := uint64(1000*(c+2) + 10*r)
			x0 := fm.SampleSource(m.Path, n, 2, newRNG(seed))
			x1 := guidedSample(t, m, c, w, x0, steps)
			if r == 0 {
				fine := guidedSample(t, m, c, w, x0, 2*steps)
				floorScale := w2(t, classSample(m, c, n, seed+1), classSample(m, c, n, seed+2))
				require.Less(t, maxAbsDiff(x1.Data, fine.Data), 1e-3*floorScale, "class %d: RK4 %d vs %d steps", c, steps, 2*steps)
			}
			dist = append(dist, w2(t, x1, classSample(m, c, n, seed+3)))
			floor = append(floor, w2(t, classSample(m, c, n, seed+4), classSample(m, c, n, seed+5)))
			if c >= 0 {
				off = append(off, w2(t, x1, classSample(m, (c+1)%nc, n, seed+6)))
			}
		}
		md, sd := meanSE(dist)
		mf, sf := meanSE(floor)
		tol := k * math.Hypot(sd, sf)
		what := fmt.Sprintf("class %d, w = 1", c)
		if c < 0 {
			what = "unconditional, w = 0"
		}
		t.Logf("%s: W₂(flow, target) = %.4f ± %.4f, floor W₂(target, target) = %.4f ± %.4f (n = %d, %d repeats; tol %.4f)", what, md, sd, mf, sf, n, reps, tol)
		assert.LessOrEqual(t, md-mf, tol, "%s: got W₂ %.4f, floor %.4f (tol %.4f)", what, md, mf, tol)
		if c >= 0 {
			mo, so := meanSE(off)
			t.Logf("  negative control, against class %d: W₂ = %.4f ± %.4f", (c+1)%nc, mo, so)
			assert.Greater(t, mo-mf, 10*k*math.Hypot(so, sf), "%s: negative control (other class) is at the floor", what)
		}
	}
}

// TestGuided_ClassHistogram: the labels of samples of the exact guided
// flow (CondOT σ_min = 0, RK4 40 steps), read by the exact Bayes posterior
// of the data p(c|x).
//
//   - w = 0: each of 600 samples gets a label drawn from p(·|x). If the
//     samples follow q, the labels follow π exactly (E_q[p(c|x)] = π_c), so
//     Pearson's χ² against π has a p-value above α = 10⁻³. Negative control:
//     the same test on the flow of the mixture with its class weights
//     reversed rejects (p < α).
//   - w = 1: the Bayes accuracy of 300 samples of each class (the fraction
//     with argmax_c′ p(c′|x) = c) agrees with that of 2,000 exact samples of
//     the class within k standard errors (k = Φ⁻¹(1 − α/2m), m = 3 classes).
//   - w = 1, 2, 4 on two overlapping classes: the same 400 noise points
//     flowed at each w; at w = 1 the mean posterior p(c|x) of the requested
//     class agrees with its mean over 2,000 exact samples of the class
//     (within k standard errors), and it increases with w, each step by
//     more than k standard errors of the paired differences.
func TestGuided_ClassHistogram(t *testing.T) {
	const steps, alpha = 40, 1e-3
	m := threeClasses(fm.CondOT{})
	nc := m.NumClasses()
	pi := m.LogClassWeights()
	for c := range pi {
		pi[c] = math.Exp(pi[c])
	}
	histogram := func(lm *fm.LabelledMixture, seed uint64) []int {
		rng := newRNG(seed)
		x := guidedSample(t, lm, -1, 0, fm.SampleSource(lm.Path, 600, 2, rng), steps)
		counts := make([]int, nc)
		for i := range x.Rows {
			post := m.BayesPosterior(x.Row(i))
			u, c := rng.Float64(), 0
			for c < nc-1 && u >= post[c] {
				u -= post[c]
				c++
			}
			counts[c]++
		}
		return counts
	}
	counts := histogram(m, 201)
	stat, pv := stats.ChiSquare(counts, pi)
	t.Logf("w = 0: labels %v of 600 against π = %.2f: χ² = %.3f on %d dof, p = %.4f", counts, pi, stat, nc-1, pv)
	assert.Greater(t, pv, alpha, "w = 0: class histogram %v is not π (χ² %.3f)", counts, stat)
	rev := *m
	rev.ClassWeights = []float64{0.2, 0.3, 0.5}
	bad := histogram(&rev, 202)
	stat, pv = stats.ChiSquare(bad, pi)
	t.Logf("  negative control (class weights reversed): labels %v, χ² = %.1f, p = %.3g", bad, stat, pv)
	assert.Less(t, pv, alpha, "negative control: the reversed mixture passed the χ² test")

	z := distuv.UnitNormal.Quantile(1 - alpha/(2*float64(nc)))
	accuracy := func(x *autograd.Tensor, c int) (acc, se float64) {
		hits := make([]float64, x.Rows)
		for i := range hits {
			post := m.BayesPosterior(x.Row(i))
			if slices.Index(post, slices.Max(post)) == c {
				hits[i] = 1
			}
		}
		return meanSE(hits)
	}
	for c := range nc {
		got, sg := accuracy(guidedSample(t, m, c, 1, fm.SampleSource(m.Path, 300, 2, newRNG(uint64(210+c))), steps), c)
		want, sw := accuracy(classSample(m, c, 2000, uint64(220+c)), c)
		t.Logf("w = 1, class %d: accuracy %.4f ± %.4f, Bayes accuracy of the class %.4f ± %.4f", c, got, sg, want, sw)
		assert.InDelta(t, want, got, z*math.Hypot(sg, sw), "w = 1, class %d", c)
	}

	two := twoOverlapping(fm.CondOT{})
	x0 := fm.SampleSource(two.Path, 400, 2, newRNG(230))
	var prev []float64
	for _, w := range []float64{1, 2, 4} {
		x := guidedSample(t, two, 1, w, x0, steps)
		post := make([]float64, x.Rows)
		for i := range post {
			post[i] = two.BayesPosterior(x.Row(i))[1]
		}
		mp, sp := meanSE(post)
		if prev != nil {
			diff := make([]float64, len(post))
			for i := range diff {
				diff[i] = post[i] - prev[i]
			}
			md, sd := meanSE(diff)
			t.Logf("w = %v: mean p(c|x) = %.4f ± %.4f, up by %.4f ± %.4f from the previous w", w, mp, sp, md, sd)
			assert.Greater(t, md, z*sd, "w = %v: p(c|x) did not increase", w)
		} else {
			exact := classSample(two, 1, 2000, 231)
			pe := make([]float64, exact.Rows)
			for i := range pe {
				pe[i] = two.BayesPosterior(exact.Row(i))[1]
			}
			me, se := meanSE(pe)
			t.Logf("w = 1: mean p(c|x) = %.4f ± %.4f; of 2,000 exact samples of the class %.4f ± %.4f", mp, sp, me, se)
			assert.InDelta(t, me, mp, z*math.Hypot(sp, se), "w = 1, two overlapping classes")
		}
		prev = post
	}
}

// TestGuided_TrainedModelTracksExact: a label-conditional MLP
// (nn.NewLabelVelocityMLP, 2 hidden layers of 64, 500 steps of batch 256,
// label dropout 0.2) trained on the two overlapping classes, guided with
// fm.Guided at w = 1, 2, 4 from the same 400 noise points as the exact
// guided flow, tilts its samples as the exact guidance does: the mean Bayes
// posterior p(c|x) of its samples increases with w (each step by more than
// k standard errors of the paired differences, k = Φ⁻¹(1 − 10⁻³/4)), and at
// each w it is nearer to the exact flow's value at that w than to the exact
// value at the neighbouring w (so the model's guidance resolves the w grid).
// Skipped with -short (training).
func TestGuided_TrainedModelTracksExact(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for 500 steps")
	}
	const steps = 40
	two := twoOverlapping(fm.CondOT{})
	model := nn.NewLabelVelocityMLP(2, 2, []int{64, 64}, autograd.ActSiLU, newRNG(240))
	null := nn.LabelContext([]int{nn.NullLabel}, 2)
	cond := func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
		x, labels := two.Sample(n, rng)
		return x, nn.LabelContext(labels, 2)
	}
	_, err := fm.Train(model, fm.TrainConfig{Path: two.Path, Cond: cond, CondDrop: 0.2, Null: null,
		BatchSize: 256, Steps: 500, LR: 3e-3, Seed: 241, Fused: true, LRSchedule: fm.CosineSchedule})
	require.NoError(t, err)
	x0 := fm.SampleSource(two.Path, 400, 2, newRNG(242))
	meanPost := func(x *autograd.Tensor) []float64 {
		p := make([]float64, x.Rows)
		for i := range p {
			p[i] = two.BayesPosterior(x.Row(i))[1]
		}
		return p
	}
	ws := []float64{1, 2, 4}
	exact, trained := make([]float64, len(ws)), make([][]float64, len(ws))
	for i, w := range ws {
		exact[i], _ = meanSE(meanPost(guidedSample(t, two, 1, w, x0, steps)))
		v := fm.Guided(model.Frozen().ForwardCond, nn.LabelContext([]int{1}, 2), null, w)
		x, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
		require.NoError(t, err)
		trained[i] = meanPost(x)
	}
	k := distuv.UnitNormal.Quantile(1 - 1e-3/4)
	for i, w := range ws {
		m, se := meanSE(trained[i])
		t.Logf("w = %v: mean p(c|x) of the trained model's samples %.4f ± %.4f, of the exact guided flow %.4f", w, m, se, exact[i])
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(ws) {
				assert.Less(t, math.Abs(m-exact[i]), math.Abs(m-exact[j]), "w = %v: the model is nearer the exact value at w = %v", w, ws[j])
			}
		}
		if i > 0 {
			diff := make([]float64, len(trained[i]))
			for r := range diff {
				diff[r] = trained[i][r] - trained[i-1][r]
			}
			md, sd := meanSE(diff)
			assert.Greater(t, md, k*sd, "w = %v: the trained model's p(c|x) did not increase (%.4f ± %.4f)", w, md, sd)
		}
	}
}
