package fm

/*
Exact conditional fields of a labelled Gaussian mixture, and classifier-free
guidance with them.

The data are pairs (x₁, c): a class c ∈ {0, …, C−1} with probability π_c,
then x₁ ~ q(·|c) = Σₖ π_{k|c} N(m_{ck}, s_{ck}² I). On an affine path
x_t = a_t x₁ + σ_t x₀ (AffinePath) the class-conditional path is Theorem 1
of Lipman et al. 2022 (arXiv:2210.02747, §3.1, eqs. 6 and 8) applied to the
data q(·|c) alone, so it is the MixtureMarginal of class c:

	p_t(x|c) = Σₖ π_{k|c} N(x; a_t m_{ck}, v_{ck} I),  v_{ck} = σ_t² + a_t² s_{ck}²,
	u_t(x|c) = E[u_t(x|x₁) | x_t = x, c].

The unconditional path is the MixtureMarginal of the pooled mixture
q = Σ_c π_c q(·|c) (component weights π_c π_{k|c}), and, by the tower
property, its field is the class average under the posterior of the class
given x_t:

	p_t(x) = Σ_c π_c p_t(x|c),
	u_t(x) = Σ_c p_t(c|x) u_t(x|c),   p_t(c|x) = π_c p_t(x|c)/p_t(x).

At t = 1 on a path with σ₁ = 0 and a₁ = 1 (CondOT with σ_min = 0, VP,
LinearVP, Cosine), p₁(c|x) is the Bayes posterior of the data, which
BayesPosterior computes from q directly.

Velocity and score. For an affine path every marginal field is linear in
its score with coefficients that do not depend on the data (Tweedie's
identity, Efron 2011; VelocityScore):

	u_t(x) = a_t·x + b_t·∇log p_t(x),  a_t = α′/α,  b_t = α′σ²/α − σσ′.

The data q(·|c) are data too, so the same a_t, b_t give
u_t(x|c) = a_t·x + b_t·∇log p_t(x|c). Classifier-free guidance (Ho &
Salimans 2022, arXiv:2207.12598; for flows Zheng et al. 2023,
arXiv:2311.13443) mixes the two fields, and because the map from score to
field is affine with weights summing to 1,

	(1 − w)·u_t(x) + w·u_t(x|c) = a_t·x + b_t·[w·∇log p_t(x|c) + (1 − w)·∇log p_t(x)]
	                            = a_t·x + b_t·[∇log p_t(x) + w·∇log p_t(c|x)],

the field of the guided score: the unconditional score plus w times the
score of the exact classifier p_t(c|x). At w = 1 the flow from N(0, I)
ends at q(·|c), at w = 0 at q; for other w the guided field is not the
marginal field of any path in general, and its samples are tilted towards
regions where p_t(c|x) is large. TestGuided_ExactFieldIsGuidedScore checks
the identity, TestGuided_Endpoints the two ends and TestGuided_ClassHistogram
the tilt.
*/

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// LabelledMixture is a labelled Gaussian mixture on an affine path: class c
// has probability π_c ∝ ClassWeights[c] (nil: uniform) and the data of class
// c are the Gaussian mixture Classes[c], q(x₁|c) = Σₖ π_{k|c} N(m_{ck}, s_{ck}² I).
// Its class-conditional marginal path and field (Lipman et al. 2022,
// arXiv:2210.02747, Theorem 1 on that class's components) are
//
//	p_t(x|c) = Σₖ π_{k|c} N(x; a_t m_{ck}, (σ_t² + a_t² s_{ck}²) I),  u_t(x|c) = E[u_t(x|x₁) | x_t = x, c],
//
// (Class), the unconditional ones those of the pooled mixture
// q = Σ_c π_c q(·|c) (Marginal), with u_t(x) = Σ_c p_t(c|x)·u_t(x|c)
// (ClassPosterior). Both are linear in their scores with the same
// coefficients (Tweedie's identity, Efron 2011; VelocityScore), so guiding
// the exact fields with fm.Guided is guiding the scores (Ho & Salimans 2022,
// arXiv:2207.12598; Zheng et al. 2023, arXiv:2311.13443); derivation at the
// top of condmixture.go. Tested by TestLabelledMixture_FieldIsLinearInScore,
// TestLabelledMixture_ScoreIsGradLogProb,
// TestLabelledMixture_FieldAveragesClasses and
// TestGuided_ExactFieldIsGuidedScore.
//
// Every component needs a standard deviation s_{ck} > 0 for the densities
// at t = 1 (BayesPosterior) to exist. A LabelledMixture without a path,
// without classes, with an empty class, with means of different lengths or
// with bad weights is misuse (a *autograd.MisuseError panic;
// TestLabelledMixture_Misuse).
type LabelledMixture struct {
	Path         AffinePath
	Classes      []Mixture
	ClassWeights []float64 // unnormalized, ≥ 0; nil means uniform
}

// check panics with a *autograd.MisuseError naming op unless m is usable,
// and returns the dimension of the data.
func (m *LabelledMixture) check(op string) int {
	if m == nil {
		panic(autograd.Misuse(op, "nil *LabelledMixture; want a path and classes"))
	}
	if m.Path == nil {
		panic(autograd.Misuse(op, "nil Path; want an AffinePath such as fm.CondOT{}"))
	}
	logWeights(op, len(m.Classes), m.ClassWeights)
	d := -1
	for c := range m.Classes {
		cl := &m.Classes[c]
		if len(cl.Means) == 0 {
			panic(autograd.Misuse(op, "class %d has no components; want at least one", c))
		}
		cl.LogWeights()
		cl.checkStds()
		for k, mk := range cl.Means {
			if d < 0 {
				d = len(mk)
			}
			if len(mk) != d || d == 0 {
				panic(autograd.Misuse(op, "class %d component %d has %d coordinates, class 0 component 0 has %d; want the same positive number", c, k, len(mk), d))
			}
		}
	}
	return d
}

// NumClasses returns C, the number of classes.
func (m *LabelledMixture) NumClasses() int { return len(m.Classes) }

// Dim returns the dimension d of the data.
func (m *LabelledMixture) Dim() int { return m.check("fm.LabelledMixture.Dim") }

// LogClassWeights returns log π_c, normalized so that Σ_c π_c = 1.
func (m *LabelledMixture) LogClassWeights() []float64 {
	m.check("fm.LabelledMixture.LogClassWeights")
	return logWeights("fm.LabelledMixture", len(m.Classes), m.ClassWeights)
}

// Class returns the exact class-conditional marginal path of class c,
// p_t(x|c) and u_t(x|c), with its LogProb, Field, Score and Posterior
// (Lipman et al. 2022, Theorem 1, on the components of class c alone).
// c outside [0, C) is misuse.
func (m *LabelledMixture) Class(c int) MixtureMarginal {
	m.check("fm.LabelledMixture.Class")
	if c < 0 || c >= len(m.Classes) {
		panic(autograd.Misuse("fm.LabelledMixture.Class", "class %d; want 0 ≤ c < %d", c, len(m.Classes)))
	}
	return MixtureMarginal{Path: m.Path, Data: &m.Classes[c]}
}

// Pooled returns the unconditional data q = Σ_c π_c q(·|c) as one Mixture,
// component k of class c with weight π_c·π_{k|c}.
func (m *LabelledMixture) Pooled() *Mixture {
	lc := m.LogClassWeights()
	out := &Mixture{}
	for c := range m.Classes {
		cl := &m.Classes[c]
		lk := cl.LogWeights()
		for k, mk := range cl.Means {
			out.Means = append(out.Means, mk)
			out.Stds = append(out.Stds, cl.Stds[k])
			out.Weights = append(out.Weights, math.Exp(lc[c]+lk[k]))
		}
	}
	return out
}

// Marginal returns the exact unconditional marginal path p_t(x) and field
// u_t(x) = Σ_c p_t(c|x)·u_t(x|c): the MixtureMarginal of Pooled.
func (m *LabelledMixture) Marginal() MixtureMarginal {
	return MixtureMarginal{Path: m.Path, Data: m.Pooled()}
}

// ClassPosterior returns p_t(c|x) = π_c p_t(x|c) / Σ_c′ π_c′ p_t(x|c′), the
// exact probability that x_t = x carries label c, for every c, computed in
// log space. Checked through u_t(x) = Σ_c p_t(c|x) u_t(x|c) by
// TestLabelledMixture_FieldAveragesClasses.
func (m *LabelledMixture) ClassPosterior(t float64, x []float64) []float64 {
	lp := m.LogClassWeights()
	for c := range lp {
		lp[c] += m.Class(c).LogProb(t, x)
	}
	return normalizeLog(lp)
}

// BayesPosterior returns the Bayes class posterior of the data,
// p(c|x) = π_c q(x|c) / Σ_c′ π_c′ q(x|c′), whatever the path (it is
// ClassPosterior at t = 1 on a path with a₁ = 1, σ₁ = 0). The Bayes
// classifier argmax_c p(c|x) has the smallest error of all classifiers.
// Every component needs s_{ck} > 0. Used to classify samples by
// TestGuided_ClassHistogram.
func (m *LabelledMixture) BayesPosterior(x []float64) []float64 {
	data := LabelledMixture{Path: CondOT{}, Classes: m.Classes, ClassWeights: m.ClassWeights}
	return data.ClassPosterior(1, x)
}

// normalizeLog turns log-weights into probabilities in place.
func normalizeLog(lp []float64) []float64 {
	z := stats.LogSumExp(lp)
	for i := range lp {
		lp[i] = math.Exp(lp[i] - z)
	}
	return lp
}

// Sample draws n labelled data points: a class c with probability π_c, then
// x₁ ~ q(·|c) (a component k with probability π_{k|c}, then m_{ck} + s_{ck}ε,
// ε ~ N(0, I)). It returns x₁ [n, d] and the labels. A nil rng or n < 0 is
// misuse. TestLabelledMixture_Sample.
func (m *LabelledMixture) Sample(n int, rng *rand.Rand) (*autograd.Tensor, []int) {
	d := m.check("fm.LabelledMixture.Sample")
	if rng == nil {
		panic(autograd.Misuse("fm.LabelledMixture.Sample", "rng is nil; want a *rand.Rand (e.g. fm.NewRand(seed))"))
	}
	if n < 0 {
		panic(autograd.Misuse("fm.LabelledMixture.Sample", "n = %d; want ≥ 0", n))
	}
	cls := stats.NewCategoricalLog(m.LogClassWeights())
	comp := make([]stats.Categorical, len(m.Classes))
	for c := range m.Classes {
		comp[c] = stats.NewCategoricalLog(m.Classes[c].LogWeights())
	}
	x, labels := autograd.Zeros(n, d), make([]int, n)
	for r := range n {
		c := cls.Draw(rng)
		k := comp[c].Draw(rng)
		labels[r] = c
		mk, sk := m.Classes[c].Means[k], m.Classes[c].Stds[k]
		row := x.Row(r)
		for j := range row {
			row[j] = mk[j] + sk*rng.NormFloat64()
		}
	}
	return x, labels
}

// CondVelocity returns the exact conditional field as a CondVelocity, so
// that fm.Guided applies to it as to a trained model:
//
//	v(t, x, c) = u_t(x|c) for a one-hot row c on class c,  v(t, x, ∅) = u_t(x)
//
// The context has the layout of nn.LabelContext: one row per point [n, C+1]
// (or one row [1, C+1] for all), the one-hot of the class, with the null
// label ∅ in the last column (index C). t is [n, 1] or [1, 1]. The result
// is a constant [n, d] tensor (no gradient flows through it). A row that is
// not one-hot is misuse. Used by TestGuided_ExactFieldIsGuidedScore and
// TestGuided_Endpoints.
func (m *LabelledMixture) CondVelocity() CondVelocity {
	d := m.check("fm.LabelledMixture.CondVelocity")
	nc := len(m.Classes)
	fields := make([]MixtureMarginal, nc+1)
	for c := range nc {
		fields[c] = m.Class(c)
	}
	fields[nc] = m.Marginal()
	return func(t, x, ctx *autograd.Tensor) *autograd.Tensor {
		const op = "fm.LabelledMixture.CondVelocity"
		n := x.Rows
		switch {
		case x.Cols != d:
			panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{x.Shape()}, Reason: "x must have the mixture's dimension"})
		case t.Cols != 1 || (t.Rows != n && t.Rows != 1):
			panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: "t must be [n,1] or [1,1]"})
		case ctx.Cols != nc+1 || (ctx.Rows != n && ctx.Rows != 1):
			panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{ctx.Shape(), x.Shape()}, Reason: "the context must be [n, classes+1] or [1, classes+1], null label last"})
		}
		out := autograd.Zeros(n, d)
		for i := range n {
			ti := t.Data[min(i, t.Rows-1)]
			c := oneHot(op, ctx.Row(min(i, ctx.Rows-1)))
			copy(out.Row(i), fields[c].Field(ti, x.Row(i)))
		}
		return out
	}
}

// oneHot returns the column holding the single 1 of a one-hot row.
func oneHot(op string, row []float64) int {
	at := -1
	for j, v := range row {
		switch {
		case v == 0:
		case v == 1 && at < 0:
			at = j
		default:
			panic(autograd.Misuse(op, "context row %v is not one-hot; want a single 1 (column %d is the null label)", row, len(row)-1))
		}
	}
	if at < 0 {
		panic(autograd.Misuse(op, "context row %v is all zero; want a single 1 (column %d is the null label)", row, len(row)-1))
	}
	return at
}
