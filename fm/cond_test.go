package fm_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/fusedref"
	"github.com/flowmatch/flowmatch/nn"
)

// requireMisuse asserts that f panics with a *autograd.MisuseError whose
// message contains want.
func requireMisuse(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "want a panic naming %q", want)
		me, ok := r.(*autograd.MisuseError)
		require.True(t, ok, "panic value %T %v, want *autograd.MisuseError", r, r)
		assert.Contains(t, me.Error(), want)
	}()
	f()
}

// TestDropContext_Rate: each row is replaced by the null context with
// probability p, independently, so the dropped count is Binomial(n, p):
// the dropped fraction lies within k = 4 standard errors √(p(1−p)/n) of p.
// Kept rows are unchanged, dropped rows equal null, c itself is not
// modified, p = 0 and p = 1 drop none and all, and the same seed gives the
// same batch. Negative control: the same fraction is rejected as an
// estimate of p + 0.05.
func TestDropContext_Rate(t *testing.T) {
	const n, classes, k = 40000, 10, 4.0
	rng := newRNG(60)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(classes)
	}
	c := nn.LabelContext(labels, classes)
	orig := slices.Clone(c.Data)
	null := nn.LabelContext([]int{nn.NullLabel}, classes)
	rate := func(p float64) float64 {
		d := fm.DropContext(c, null, p, newRNG(61))
		dropped, changed := 0, 0
		for i := range n {
			row := d.Row(i)
			if slices.Equal(row, null.Data) {
				dropped++
			} else if !slices.Equal(row, c.Row(i)) {
				changed++
			}
		}
		require.Zero(t, changed, "kept rows are unchanged")
		return float64(dropped) / n
	}
	for _, p := range []float64{0.1, 0.5} {
		f := rate(p)
		se := math.Sqrt(p * (1 - p) / n)
		assert.InDelta(t, p, f, k*se, "p = %v: dropped fraction %v (tol %.3g)", p, f, k*se)
		wrong := p + 0.05
		assert.Greater(t, math.Abs(f-wrong), k*math.Sqrt(wrong*(1-wrong)/n), "negative control: %v is not a rate of %v", f, wrong)
		t.Logf("p = %v: dropped %.4f (±%.4f at k = %v)", p, f, k*se, k)
	}
	assert.Equal(t, 0.0, rate(0))
	assert.Equal(t, 1.0, rate(1))
	assert.Equal(t, orig, c.Data, "DropContext does not modify c")
	a := fm.DropContext(c, null, 0.3, newRNG(7))
	b := fm.DropContext(c, null, 0.3, newRNG(7))
	assert.Equal(t, a.Data, b.Data, "same seed, same batch")

	requireMisuse(t, "fm.DropContext", func() { fm.DropContext(c, null, 1.5, rng) })
	requireMisuse(t, "fm.DropContext", func() { fm.DropContext(c, null, math.NaN(), rng) })
	requireMisuse(t, "fm.DropContext", func() { fm.DropContext(c, autograd.Zeros(1, classes), 0.1, rng) })
	requireMisuse(t, "fm.DropContext", func() { fm.DropContext(c, null, 0.1, nil) })
}

// twoClasses draws the labelled 1-D data of TestTrain_Conditional: class 0
// is N(−2, 0.5²), class 1 is N(2, 0.5²), each with probability ½.
func twoClasses(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
	x := autograd.Zeros(n, 1)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(2)
		x.Data[i] = 4*float64(labels[i]) - 2 + 0.5*rng.NormFloat64()
	}
	return x, nn.LabelContext(labels, 2)
}

// TestTrain_Conditional trains a label-conditioned field on two classes of
// 1-D data, N(−2, 0.5²) and N(2, 0.5²), with label dropout 0.2 (fused
// step), and samples each class at w = 1 (fm.Guided of model.ForwardCond,
// RK4): at least 95% of the samples of each class land on its side of 0
// (the Bayes classifier, which would itself be right with probability
// Φ(4) ≈ 0.99997). At w = 0 (the unconditional field, learned from the
// dropped labels) about half of them do, within 4 standard errors; that
// field is also the negative control, which the class check rejects.
// Deterministic given the seeds.
func TestTrain_Conditional(t *testing.T) {
	model := nn.NewLabelVelocityMLP(1, 2, []int{32, 32}, autograd.ActSiLU, newRNG(62))
	null := nn.LabelContext([]int{nn.NullLabel}, 2)
	losses, err := fm.Train(model, fm.TrainConfig{Path: fm.CondOT{}, Cond: twoClasses, CondDrop: 0.2, Null: null,
		BatchSize: 128, Steps: 400, LR: 3e-3, Seed: 63, Fused: true})
	require.NoError(t, err)
	require.Len(t, losses, 400)
	const n = 500
	side := func(w float64, class int) float64 {
		v := fm.Guided(model.Frozen().ForwardCond, nn.LabelContext([]int{class}, 2), null, w)
		x, err := fm.Sample(v, fm.CondOT{}, n, 1, newRNG(64+uint64(class)), cnf.SolveOptions{Method: cnf.RK4, Steps: 20})
		require.NoError(t, err)
		right := 0
		for _, v := range x.Data {
			if (v > 0) == (class == 1) {
				right++
			}
		}
		return float64(right) / n
	}
	for class := range 2 {
		acc := side(1, class)
		t.Logf("class %d at w = 1: %.3f of %d samples on its side", class, acc, n)
		assert.GreaterOrEqual(t, acc, 0.95, "class %d", class)
	}
	// w = 0: the field trained on the dropped labels is the unconditional
	// one, whose samples fall on either side with probability ½: within
	// k = 4 standard errors √(¼/n) of ½. It is also the negative control of
	// the class check above, which it must fail.
	uncond := side(0, 0)
	se := math.Sqrt(0.25 / n)
	t.Logf("w = 0: %.3f of the samples on class 0's side (½ ± %.3f)", uncond, 4*se)
	assert.InDelta(t, 0.5, uncond, 4*se, "w = 0 must be the unconditional field")
	assert.Less(t, uncond, 0.95, "negative control: the unconditional field must fail the class check")
}

// TestTrain_CondMisuse: the conditional fields of TrainConfig are checked
// before any step: Cond with an unconditional model, Data with a
// conditional one, CondDrop outside [0, 1), CondDrop without Null, a Null
// of the wrong width and contexts of the wrong shape panic with a
// *autograd.MisuseError naming the field; a Coupling other than
// Independent is an error. The good conditional configs (labels with
// dropout, a vector context without) train, deterministically given the
// seed.
func TestTrain_CondMisuse(t *testing.T) {
	cond := func() *nn.VelocityMLP { return nn.NewLabelVelocityMLP(1, 2, []int{8}, autograd.ActSiLU, newRNG(65)) }
	null := nn.LabelContext([]int{nn.NullLabel}, 2)
	good := fm.TrainConfig{Path: fm.CondOT{}, Cond: twoClasses, CondDrop: 0.1, Null: null, BatchSize: 8, Steps: 2, LR: 1e-3}
	with := func(f func(c *fm.TrainConfig)) fm.TrainConfig {
		c := good
		f(&c)
		return c
	}
	for _, fused := range []bool{false, true} {
		run := func(seed uint64) []float64 {
			l, err := fm.Train(cond(), with(func(c *fm.TrainConfig) { c.Fused, c.Seed = fused, seed }))
			require.NoError(t, err, "the good config trains (fused %v)", fused)
			return l
		}
		a := run(1)
		assert.Equal(t, a, run(1), "the same seed gives the same run (data, contexts, dropout)")
		assert.NotEqual(t, a, run(2), "another seed, another run")
	}
	// A real-vector context (an observation) trains the same way, without
	// dropout; the model is an fm.CondVelocity through ForwardCond.
	vec := nn.NewCondVelocityMLP(1, 3, []int{8}, autograd.ActTanh, newRNG(66))
	var _ fm.CondVelocity = vec.ForwardCond
	for _, fused := range []bool{false, true} {
		_, err := fm.Train(vec, fm.TrainConfig{Path: fm.CondOT{}, BatchSize: 8, Steps: 2, LR: 1e-3, Fused: fused,
			Cond: func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
				return autograd.Normal(n, 1, 0, 1, rng), autograd.Normal(n, 3, 0, 1, rng)
			}})
		require.NoError(t, err, "a vector context trains (fused %v)", fused)
	}
	q := &fm.Empirical{Points: [][]float64{{1}, {2}}}
	for _, c := range []struct {
		want  string
		model *nn.VelocityMLP
		cfg   fm.TrainConfig
	}{
		{"TrainConfig.Cond is set for an unconditional model", nn.NewVelocityMLP(1, []int{8}, autograd.ActSiLU, newRNG(1)), with(func(c *fm.TrainConfig) { c.CondDrop, c.Null = 0, nil })},
		{"TrainConfig.Data or TrainConfig.Pairs is set for a conditional model", cond(), with(func(c *fm.TrainConfig) { c.Data = q.Sample })},
		{"TrainConfig.Cond is nil for a conditional model", cond(), with(func(c *fm.TrainConfig) { c.Cond = nil })},
		{"TrainConfig.CondDrop = 1", cond(), with(func(c *fm.TrainConfig) { c.CondDrop = 1 })},
		{"TrainConfig.CondDrop = -0.1", cond(), with(func(c *fm.TrainConfig) { c.CondDrop = -0.1 })},
		{"TrainConfig.CondDrop = NaN", cond(), with(func(c *fm.TrainConfig) { c.CondDrop = math.NaN() })},
		{"TrainConfig.Null is nil", cond(), with(func(c *fm.TrainConfig) { c.Null = nil })},
		{"TrainConfig.Null is [1,2]", cond(), with(func(c *fm.TrainConfig) { c.Null = autograd.Zeros(1, 2) })},
		{"TrainConfig.Cond returned x₁ nil: false, c nil: true", cond(), with(func(c *fm.TrainConfig) {
			c.Cond = func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
				x, _ := twoClasses(n, rng)
				return x, nil
			}
		})},
		{"TrainConfig.Cond gave contexts", cond(), with(func(c *fm.TrainConfig) {
			c.Cond = func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
				x, _ := twoClasses(n, rng)
				return x, autograd.Zeros(n, 2)
			}
		})},
	} {
		requireMisuse(t, c.want, func() { _, _ = fm.Train(c.model, c.cfg) })
	}
	_, err := fm.Train(cond(), with(func(c *fm.TrainConfig) { c.Coupling = fm.ExactOT{} }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use Independent")
	_, err = fm.Train(cond(), with(func(c *fm.TrainConfig) { c.Coupling = fm.Independent{} }))
	require.NoError(t, err, "Independent is the coupling of a conditional model")
	// A NaN context is data, not misuse: an error naming it.
	_, err = fm.Train(cond(), with(func(c *fm.TrainConfig) {
		c.Cond = func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
			x, ctx := twoClasses(n, rng)
			ctx.Data[4] = math.NaN()
			return x, ctx
		}
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "step 1: Cond gave the contexts c[1, 1] = NaN")
}

// netOf is the fused view of m's parameters, for fusedref.
func netOf(m *nn.VelocityMLP) fused.Net {
	net := fused.Net{Sizes: m.Net.Sizes(), Act: m.Net.Activation()}
	for _, l := range m.Net.Layers {
		net.W = append(net.W, l.W.Data)
		net.B = append(net.B, l.B.Data)
	}
	return net
}

// TestEvaluator_GuidedEqualsGuided: nn.Evaluator.EvalGuided, which stacks
// the null and conditional halves into one forward pass of 2n rows, equals
// the autograd fm.Guided(model.ForwardCond, c, null, w) for w ∈ {−0.5, 0,
// 0.5, 1, 2, 4}, in chunks (13 points, maxBatch 8), within the derived
// bound 2·(|1 − w|·b∅ + |w|·b_c) + 4u·(|(1 − w)·v∅| + |w·v_c|): b the
// fusedref.ErrorBound of each half's output (two implementations differ by
// at most twice it), plus the rounding of the final combination in each.
// Negative controls: swapping c and ∅ (the convention w ↔ 1 − w) and
// w·(1 + 10⁻⁶) are both rejected.
func TestEvaluator_GuidedEqualsGuided(t *testing.T) {
	const dim, classes, n = 2, 3, 13
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		t.Run(string(act), func(t *testing.T) {
			m := nn.NewLabelVelocityMLP(dim, classes, []int{32, 32}, act, newRNG(66))
			rng := newRNG(67)
			x := autograd.Normal(n, dim, 0, 1.5, rng)
			labels := make([]int, n)
			for i := range labels {
				labels[i] = rng.IntN(classes)
			}
			c := nn.LabelContext(labels, classes)
			null := nn.LabelContext([]int{nn.NullLabel}, classes)
			e, err := nn.NewEvaluator(m, 8)
			require.NoError(t, err)
			const tt = 0.7
			// The two halves' outputs and their rounding bounds.
			half := func(ctx *autograd.Tensor) (v, b []float64) {
				in := make([]float64, 0, n*(dim+1+classes+1))
				for i := range n {
					in = append(append(in, x.Row(i)...), tt)
					if ctx.Rows == 1 {
						in = append(in, ctx.Data...)
					} else {
						in = append(in, ctx.Row(i)...)
					}
				}
				net := netOf(m)
				return fusedref.Naive(net, in, n, make([]float64, n*dim)).Out, fusedref.ErrorBound(net, in, n, make([]float64, n*dim)).Out
			}
			vn, bn := half(null)
			vc, bc := half(c)
			got := make([]float64, n*dim)
			for _, w := range []float64{-0.5, 0, 0.5, 1, 2, 4} {
				want := fm.Guided(m.Frozen().ForwardCond, c, null, w)(autograd.Scalar(tt), x).Data
				e.EvalGuided(got, tt, x.Data, c.Data, null.Data, w)
				tol := make([]float64, n*dim)
				for i := range tol {
					tol[i] = 2*(math.Abs(1-w)*bn[i]+math.Abs(w)*bc[i]) + 4*0x1p-53*(math.Abs((1-w)*vn[i])+math.Abs(w*vc[i]))
					require.InDelta(t, want[i], got[i], tol[i], "w = %v, element %d: got %v want %v (tol %.3g)", w, i, got[i], want[i], tol[i])
				}
				if w == 0.5 {
					continue // swapping c and ∅ is the identity at w = ½
				}
				off := func(v []float64) int {
					k := 0
					for i := range v {
						if math.Abs(v[i]-want[i]) > tol[i] {
							k++
						}
					}
					return k
				}
				swapped := make([]float64, n*dim)
				e.EvalGuided(swapped, tt, x.Data, null.Data, c.Data[:classes+1], w) // ∅ and (one row of) c swapped
				assert.Positive(t, off(swapped), "w = %v: the swapped convention must be rejected", w)
				if w != 0 {
					moved := make([]float64, n*dim)
					e.EvalGuided(moved, tt, x.Data, c.Data, null.Data, w*(1+1e-6))
					assert.Positive(t, off(moved), "w = %v: w·(1 + 1e-6) must be rejected", w)
				}
			}
		})
	}
}
