package exercises

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/tutorials/internal/grade"
)

// The fields graded are exact: two classes of a Gaussian mixture on the
// CondOT path (σ_min = 0), class 0 at (±1.5, 0.5), class 1 at (0, −1);
// vNull is the pooled mixture's marginal field, vCond class 0's
// (Lipman et al. 2022, arXiv:2210.02747, Theorem 1).
var (
	class0 = &fm.Mixture{Means: [][]float64{{1.5, 0.5}, {-1.5, 0.5}}, Stds: []float64{0.4, 0.4}}
	pooled = &fm.Mixture{Means: [][]float64{{1.5, 0.5}, {-1.5, 0.5}, {0, -1}}, Stds: []float64{0.4, 0.4, 0.4}, Weights: []float64{1, 1, 2}}
	ws     = []float64{0, 1, 2, 4, -0.5, 1.5}
)

// cases are the (t, x) at which the fields are compared.
var cases = []struct {
	t float64
	x []float64
}{{0.2, []float64{0.3, -0.4}}, {0.6, []float64{1.2, 0.1}}, {0.9, []float64{-0.7, 0.8}}}

// allGuided concatenates f(vNull, vCond, w) over the cases and weights.
func allGuided(f func(vNull, vCond []float64, w float64) []float64) []float64 {
	var out []float64
	for _, c := range cases {
		vNull := fm.MixtureMarginal{Path: fm.CondOT{}, Data: pooled}.Field(c.t, c.x)
		vCond := fm.MixtureMarginal{Path: fm.CondOT{}, Data: class0}.Field(c.t, c.x)
		for _, w := range ws {
			out = append(out, f(vNull, vCond, w)...)
		}
	}
	return out
}

// referenceGuided is fm.Guided on the exact fields as a conditional model.
func referenceGuided() []float64 {
	var out []float64
	v := func(t, x, c *autograd.Tensor) *autograd.Tensor {
		m := fm.MixtureMarginal{Path: fm.CondOT{}, Data: pooled}
		if c.Data[0] == 1 {
			m.Data = class0
		}
		return autograd.FromSlice(1, x.Cols, m.Field(t.Data[0], x.Data))
	}
	for _, c := range cases {
		for _, w := range ws {
			out = append(out, fm.Guided(v, autograd.Scalar(1), autograd.Scalar(0), w)(autograd.Scalar(c.t), autograd.FromSlice(1, 2, c.x)).Data...)
		}
	}
	return out
}

// combine returns a·vNull + b·vCond.
func combine(vNull, vCond []float64, a, b float64) []float64 {
	out := make([]float64, len(vNull))
	for i := range out {
		out[i] = a*vNull[i] + b*vCond[i]
	}
	return out
}

// Hints of the diagnosed mistakes of GuidedField.
const (
	hintSwapped = "the weights are swapped: w = 1 must give the conditional field v(t, x, c) (README, The guided field)"
	hintHS      = "this is Ho & Salimans' formula with their weight taken for ours: their w_HS is our w − 1 (README, The guided field)"
	hintNoOneMW = "the unconditional field needs the weight 1 − w, so that the weights sum to 1"
	hintNoNull  = "the unconditional field is missing: ṽ mixes v(t, x, ∅) and v(t, x, c)"
)

func guidedMistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintSwapped, Got: allGuided(func(n, c []float64, w float64) []float64 { return combine(n, c, w, 1-w) })},
		{Hint: hintHS, Got: allGuided(func(n, c []float64, w float64) []float64 { return combine(n, c, -w, 1+w) })},
		{Hint: hintNoOneMW, Got: allGuided(func(n, c []float64, w float64) []float64 { return combine(n, c, 1, w) })},
		{Hint: hintNoNull, Got: allGuided(func(n, c []float64, w float64) []float64 { return combine(n, c, 0, w) })},
	}
}

// guidedTol: two products and a sum of O(1) values, a few roundings.
const guidedTol = 1e-13

func TestGuidedField(t *testing.T) {
	grade.Try(t, func() {
		grade.Check(t, "GuidedField", allGuided(GuidedField), referenceGuided(), guidedTol, guidedMistakes()...)
	})
}

// The dropout batch graded: 1,000 labels 0…9 in turn, p = 0.3, seed 7.
const (
	nLabels = 1000
	dropP   = 0.3
	classes = 10
)

func labels(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i % classes
	}
	return out
}

// referenceDrop is the rule of Ho & Salimans' Algorithm 1 as fm.DropContext
// applies it: one uniform u a label, in order, dropped when u < p
// (TestReference_IsDropContext).
func referenceDrop(in []int, p float64, rng *rand.Rand) []int {
	out := append([]int(nil), in...)
	for i := range out {
		if rng.Float64() < p {
			out[i] = NullLabel
		}
	}
	return out
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func dropWith(f func([]int, float64, *rand.Rand) []int) []float64 {
	return floats(f(labels(nLabels), dropP, rand.New(rand.NewPCG(7, 0))))
}

// Hints of the diagnosed mistakes of DropLabels.
const (
	hintOneMinusP = "you drop a label with probability 1 − p: keep it when u ≥ p"
	hintNullClass = "the null label is NullLabel (−1), not the number of classes: a one-hot row puts ∅ in the last column, but the label itself is −1"
	hintNullZero  = "the null label is NullLabel (−1); 0 is a real class"
	hintBatch     = "one draw decides for the whole batch: draw one u per label, so that each label is dropped independently"
)

func dropMistakes() []grade.Mistake {
	rule := func(drop func(u, p float64) bool, null int) func([]int, float64, *rand.Rand) []int {
		return func(in []int, p float64, rng *rand.Rand) []int {
			out := append([]int(nil), in...)
			for i := range out {
				if drop(rng.Float64(), p) {
					out[i] = null
				}
			}
			return out
		}
	}
	below := func(u, p float64) bool { return u < p }
	return []grade.Mistake{
		{Hint: hintOneMinusP, Got: dropWith(rule(func(u, p float64) bool { return u >= p }, NullLabel))},
		{Hint: hintNullClass, Got: dropWith(rule(below, classes))},
		{Hint: hintNullZero, Got: dropWith(rule(below, 0))},
		{Hint: hintBatch, Got: dropWith(func(in []int, p float64, rng *rand.Rand) []int {
			out := append([]int(nil), in...)
			if rng.Float64() < p {
				for i := range out {
					out[i] = NullLabel
				}
			}
			return out
		})},
	}
}

func TestDropLabels(t *testing.T) {
	grade.Try(t, func() {
		in := labels(nLabels)
		DropLabels(in, dropP, rand.New(rand.NewPCG(7, 0)))
		if !assert.Equal(t, labels(nLabels), in, "DropLabels changed the labels it was given: return a copy") {
			return
		}
		want := floats(referenceDrop(labels(nLabels), dropP, rand.New(rand.NewPCG(7, 0))))
		if !grade.Check(t, "DropLabels", dropWith(DropLabels), want, 0, dropMistakes()...) {
			// Right in law but not draw for draw? Say so.
			if rate, se := dropRate(DropLabels); math.Abs(rate-0.1) <= 4*se {
				t.Log("hint: the dropped fraction is right, but the draws differ from the library's: draw exactly one u = rng.Float64() per label, in order, and drop when u < p")
			}
			return
		}
		rate, se := dropRate(DropLabels)
		assert.InDelta(t, 0.1, rate, 4*se, "dropped fraction at p = 0.1 over 20,000 labels")
	})
}

// dropRate returns the fraction of 20,000 labels that f drops at p = 0.1,
// and its binomial standard error √(p(1 − p)/n).
func dropRate(f func([]int, float64, *rand.Rand) []int) (rate, se float64) {
	const n = 20000
	out := f(labels(n), 0.1, rand.New(rand.NewPCG(11, 0)))
	k := 0
	for _, y := range out {
		if y == NullLabel {
			k++
		}
	}
	return float64(k) / n, math.Sqrt(0.1 * 0.9 / n)
}

// TestDiagnosis feeds each diagnosed mistake to the graders and checks
// that its message carries the mistake's hint; the references pass.
func TestDiagnosis(t *testing.T) {
	want := referenceGuided()
	require.Empty(t, grade.Verdict("GuidedField", want, want, guidedTol, guidedMistakes()...))
	for _, m := range guidedMistakes() {
		msg := grade.Verdict("GuidedField", m.Got, want, guidedTol, guidedMistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
	wantDrop := floats(referenceDrop(labels(nLabels), dropP, rand.New(rand.NewPCG(7, 0))))
	require.Empty(t, grade.Verdict("DropLabels", wantDrop, wantDrop, 0, dropMistakes()...))
	for _, m := range dropMistakes() {
		msg := grade.Verdict("DropLabels", m.Got, wantDrop, 0, dropMistakes()...)
		assert.True(t, strings.Contains(msg, "hint: "+m.Hint), "mistake %q got message %q", m.Hint, msg)
	}
	// The statistical check rejects the probability 1 − p.
	rate, se := dropRate(func(in []int, p float64, rng *rand.Rand) []int {
		return referenceDrop(in, 1-p, rng)
	})
	assert.Greater(t, math.Abs(rate-0.1), 4*se)
}

// TestReference_IsDropContext checks that the grader's reference is the
// library's rule: fm.DropContext on the one-hot rows drops the same labels.
func TestReference_IsDropContext(t *testing.T) {
	in := labels(nLabels)
	want := referenceDrop(in, dropP, rand.New(rand.NewPCG(7, 0)))
	c := fm.DropContext(nn.LabelContext(in, classes), nn.LabelContext([]int{nn.NullLabel}, classes), dropP, rand.New(rand.NewPCG(7, 0)))
	for i := range want {
		assert.Equal(t, want[i] == NullLabel, c.At(i, classes) == 1, "row %d", i)
	}
}
