package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/fusedref"
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

// outBound returns fusedref.ErrorBound's bound on the rounding error of the
// network's output at the packed input rows in [n, dim+1+ctx]: any two
// implementations forming the same sums differ by at most twice it.
func outBound(t *testing.T, m *VelocityMLP, in []float64, n int) []float64 {
	net, err := fusedNet(m)
	require.NoError(t, err)
	return fusedref.ErrorBound(net, in, n, make([]float64, n*m.Dim())).Out
}

// TestLabelContext_IsEmbedding: a label model's output equals the network
// computed with an explicit embedding lookup, z₁ = x·Wₓ + t·w_t + E[y] + b₁
// with E the rows of the first weight that multiply the one-hot columns
// (row `classes` for NullLabel), then the other layers, within twice the
// rounding bound of fusedref.ErrorBound (both form the same sums; the
// lookup drops the exact zero terms). Negative control: looking up the
// next label's row differs by far more than the bound.
func TestLabelContext_IsEmbedding(t *testing.T) {
	const dim, classes = 2, 3
	m := NewLabelVelocityMLP(dim, classes, []int{8, 8}, autograd.ActSiLU, newRNG(20))
	require.Equal(t, classes+1, m.Ctx())
	require.Equal(t, classes, m.Classes())
	labels := []int{0, 2, NullLabel, 1, 2, NullLabel}
	n := len(labels)
	rng := newRNG(21)
	x := autograd.Normal(n, dim, 0, 1, rng)
	tt := autograd.Uniform(n, 1, 0, 1, rng)
	c := LabelContext(labels, classes)
	got := m.ForwardCond(tt, x, c).NoGraph()

	lookup := func(shift int) []float64 {
		W1, b1 := m.Net.Layers[0].W, m.Net.Layers[0].B
		h1 := W1.Cols
		z := autograd.Zeros(n, h1)
		for i, y := range labels {
			col := y
			if y == NullLabel {
				col = classes
			}
			col = (col + shift) % (classes + 1)
			E := W1.Data[(dim+1+col)*h1 : (dim+2+col)*h1] // the embedding row of label y
			for k := range h1 {
				s := 0.0
				for p := range dim {
					s += x.Data[i*dim+p] * W1.Data[p*h1+k]
				}
				s += tt.Data[i] * W1.Data[dim*h1+k]
				z.Data[i*h1+k] = s + E[k] + b1.Data[k]
			}
		}
		h := m.Net.act.Apply(z)
		for l, ly := range m.Net.Layers[1:] {
			h = ly.Forward(h)
			if l+2 < len(m.Net.Layers) {
				h = m.Net.act.Apply(h)
			}
		}
		return h.Data
	}
	in := make([]float64, n*m.width())
	packInput(in, x.Data, tt.Data, c.Data, dim, m.Ctx(), n)
	bound := outBound(t, m, in, n)
	want := lookup(0)
	for i := range want {
		assert.InDelta(t, want[i], got.Data[i], 2*bound[i], "element %d: got %v want %v (tol %.3g)", i, got.Data[i], want[i], 2*bound[i])
	}
	off := 0
	for i, v := range lookup(1) {
		if math.Abs(v-got.Data[i]) > 2*bound[i] {
			off++
		}
	}
	assert.Equal(t, len(want), off, "negative control: every output of the wrong embedding row must differ")
}

// TestLabelContext_Misuse: the one-hot rows, the null label's column, and
// the misuses (a label ≥ classes, a negative label other than NullLabel, no
// classes, no labels) that panic with a *autograd.MisuseError.
func TestLabelContext_Misuse(t *testing.T) {
	c := LabelContext([]int{1, NullLabel, 0}, 2)
	assert.Equal(t, [2]int{3, 3}, c.Shape())
	assert.Equal(t, []float64{0, 1, 0, 0, 0, 1, 1, 0, 0}, c.Data)
	requireMisuse(t, "labels[1] = 2", func() { LabelContext([]int{0, 2}, 2) })
	requireMisuse(t, "labels[0] = -2", func() { LabelContext([]int{-2}, 2) })
	requireMisuse(t, "0 classes", func() { LabelContext([]int{0}, 0) })
	requireMisuse(t, "0 labels", func() { LabelContext(nil, 3) })
	requireMisuse(t, "classes 0", func() { NewLabelVelocityMLP(2, 0, []int{4}, autograd.ActSiLU, newRNG(1)) })
	requireMisuse(t, "context width -1", func() { NewCondVelocityMLP(2, -1, []int{4}, autograd.ActSiLU, newRNG(1)) })
}

// TestForwardCond_Contexts: one context row [1, ctx] is broadcast to every
// point (bit for bit the same as the expanded rows), a scalar time too; a
// conditional model's Forward, an unconditional model's ForwardCond and a
// context of the wrong width panic with a *autograd.MisuseError that says
// what to call; Frozen keeps the context.
func TestForwardCond_Contexts(t *testing.T) {
	rng := newRNG(22)
	m := NewCondVelocityMLP(2, 3, []int{8}, autograd.ActTanh, rng)
	assert.Equal(t, 3, m.Ctx())
	assert.Equal(t, 0, m.Classes())
	x := autograd.Normal(5, 2, 0, 1, rng)
	c := autograd.Normal(1, 3, 0, 1, rng)
	got := m.ForwardCond(autograd.Scalar(0.4), x, c)
	want := m.ForwardCond(autograd.Full(5, 1, 0.4), x, autograd.Expand(c, 5, 3))
	assert.Equal(t, want.Data, got.Data)
	other := m.ForwardCond(autograd.Scalar(0.4), x, autograd.Scale(c, 2))
	assert.NotEqual(t, want.Data, other.Data, "the context matters")
	f := m.Frozen()
	assert.Equal(t, 3, f.Ctx())
	assert.Equal(t, want.Data, f.ForwardCond(autograd.Scalar(0.4), x, c).Data)

	requireMisuse(t, "call ForwardCond", func() { m.Forward(autograd.Scalar(0.4), x) })
	u := NewVelocityMLP(2, []int{8}, autograd.ActTanh, rng)
	requireMisuse(t, "call Forward(t, x)", func() { u.ForwardCond(autograd.Scalar(0.4), x, c) })
	requireMisuse(t, "want c [n,3]", func() { m.ForwardCond(autograd.Scalar(0.4), x, autograd.Zeros(5, 2)) })
	requireMisuse(t, "want c [n,3]", func() { m.ForwardCond(autograd.Scalar(0.4), x, autograd.Zeros(4, 3)) })
}

// condBatch draws a flow-matching batch (fmBatch) with random one-hot
// label contexts of the given number of classes (NullLabel included).
func condBatch(n, dim, classes int, seed uint64) (xt, t, c, u []float64) {
	xt, t, u = fmBatch(n, dim, seed)
	rng := newRNG(seed + 100)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(classes+1) - 1
	}
	return xt, t, LabelContext(labels, classes).Data, u
}

// TestTrainStep_MatchesAutogradCond is TestTrainStep_MatchesAutograd for a
// label-conditioned model (ctx = 11, the MNIST shape's context): the fused
// LossGradCond equals ForwardCond + Backward within twice
// fusedref.ErrorBound, for SiLU and tanh and batches 1, 7 and 64. Negative
// controls: moving one weight of the embedding table by 1e-6 fails the
// comparison, and so does the loss of other labels.
func TestTrainStep_MatchesAutogradCond(t *testing.T) {
	const dim, classes = 3, 10
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		for _, n := range []int{1, 7, 64} {
			t.Run(fmt.Sprintf("%s/batch=%d", act, n), func(t *testing.T) {
				m := NewLabelVelocityMLP(dim, classes, []int{64, 64}, act, newRNG(23))
				xt, ts, c, u := condBatch(n, dim, classes, uint64(n))
				want := autogradLoss(m, xt, ts, c, u)
				wantG := grads(m)
				bound, lb := lossBound(t, m, xt, ts, c, u)

				opt := NewAdam(m.Params(), 1e-3)
				opt.ZeroGrad()
				s, err := NewTrainStep(m, 64)
				require.NoError(t, err)
				got := s.LossGradCond(ts, xt, c, u)
				assert.InDelta(t, want, got, 2*lb, "loss")
				assert.Zero(t, countOff(t, "grad", grads(m), wantG, bound, true))

				// Negative control 1: a weight of the embedding row of the
				// first point's label moved by 1e-6.
				opt.ZeroGrad()
				label := 0
				for c[label] != 1 {
					label++
				}
				w := m.Net.Layers[0].W
				k := (dim+1+label)*w.Cols + 3
				w.Data[k] += 1e-6
				s.LossGradCond(ts, xt, c, u)
				w.Data[k] -= 1e-6
				assert.Positive(t, countOff(t, "perturbed", grads(m), wantG, bound, false))

				// Negative control 2: other labels give another loss.
				_, _, c2, _ := condBatch(n, dim, classes, uint64(n)+7)
				c2[0], c2[1] = c[1], c[0] // at least the first row differs
				opt.ZeroGrad()
				other := s.LossGradCond(ts, xt, c2, u)
				assert.Greater(t, math.Abs(other-want), 2*lb)

				requireMisuse(t, "call LossGradCond", func() { s.LossGrad(ts, xt, u) })
				requireMisuse(t, "len(c)", func() { s.LossGradCond(ts, xt, c[:len(c)-1], u) })
			})
		}
	}
}

// TestEvaluator_EqualsForwardCond is TestEvaluator_EqualsForward for a
// conditional model: EvalCond returns exactly what ForwardCond returns,
// chunk by chunk, with one context per point or one context row for all;
// EvalDivCond's v equals EvalCond's; nothing is allocated after the first
// calls. Eval on a conditional model and EvalCond on an unconditional one
// panic.
func TestEvaluator_EqualsForwardCond(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		t.Run(string(act), func(t *testing.T) {
			m := NewCondVelocityMLP(2, 3, []int{32, 32}, act, newRNG(24))
			e, err := NewEvaluator(m.Frozen(), 8)
			require.NoError(t, err)
			assert.Equal(t, 3, e.Ctx())
			xt, _, _ := fmBatch(19, 2, 5)
			c := autograd.Normal(19, 3, 0, 1, newRNG(25)).Data
			got := make([]float64, len(xt))
			e.EvalCond(got, 0.3, xt, c)
			for i0 := 0; i0 < 19; i0 += 8 {
				k := min(8, 19-i0)
				v := m.ForwardCond(autograd.Scalar(0.3), autograd.FromSlice(k, 2, xt[2*i0:2*(i0+k)]).NoGraph(), autograd.FromSlice(k, 3, c[3*i0:3*(i0+k)]))
				assert.Equal(t, v.Data, got[2*i0:2*(i0+k)], "rows %d…", i0)
			}
			e.EvalCond(got[:14], 0.3, xt[:14], c[:3])
			v := m.ForwardCond(autograd.Scalar(0.3), autograd.FromSlice(7, 2, xt[:14]), autograd.FromSlice(1, 3, c[:3]))
			assert.Equal(t, v.Data, got[:14], "one context row for every point")
			vd, div := make([]float64, 14), make([]float64, 7)
			e.EvalDivCond(vd, div, 0.3, xt[:14], c[:3])
			assert.Equal(t, v.Data, vd)
			g := make([]float64, 14)
			assert.Zero(t, testing.AllocsPerRun(5, func() {
				e.EvalCond(got, 0.5, xt, c)
				e.EvalDivCond(vd, div, 0.3, xt[:14], c[:21])
				e.EvalGuided(g, 0.3, xt[:14], c[:3], c[3:6], 2)
			}))
			requireMisuse(t, "call EvalCond", func() { e.Eval(got, 0.5, xt) })
			requireMisuse(t, "call EvalDivCond", func() { e.EvalDiv(vd, div, 0.5, xt[:14]) })
			requireMisuse(t, "call EvalCond", func() { e.EvalRows(got, make([]float64, 19), xt) })
			requireMisuse(t, "len(c) = 4", func() { e.EvalCond(got, 0.5, xt, c[:4]) })
			requireMisuse(t, "len(null) = 2", func() { e.EvalGuided(g, 0.5, xt[:14], c[:3], c[:2], 2) })
			u, err := NewEvaluator(NewVelocityMLP(2, []int{4}, act, newRNG(1)), 8)
			require.NoError(t, err)
			requireMisuse(t, "unconditional", func() { u.EvalCond(got, 0.5, xt, c) })
		})
	}
}

// TestEvaluator_DivCond: EvalDivCond's divergence in x equals the autograd
// one, Σ_d ∂v_d/∂x_d from one vector-Jacobian product per output
// dimension of ForwardCond, within twice fusedref.ErrorBound's divergence
// bound, with one context per point and one row for all. Negative control:
// the divergence at other contexts differs by more than the bound.
func TestEvaluator_DivCond(t *testing.T) {
	const dim, ctx, n = 3, 2, 9
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		t.Run(string(act), func(t *testing.T) {
			m := NewCondVelocityMLP(dim, ctx, []int{16, 16}, act, newRNG(26))
			rng := newRNG(27)
			x := autograd.Normal(n, dim, 0, 1, rng)
			c := autograd.Normal(n, ctx, 0, 1, rng)
			autogradDiv := func(c *autograd.Tensor) []float64 {
				xv := x.Clone().SetRequiresGrad(true)
				v := m.Frozen().ForwardCond(autograd.Scalar(0.6), xv, c)
				div := make([]float64, n)
				for d := range dim {
					seed := autograd.Zeros(n, dim)
					for i := range n {
						seed.Data[i*dim+d] = 1
					}
					g := autograd.Grad(v, seed, xv)[0]
					for i := range n {
						div[i] += g.Data[i*dim+d]
					}
				}
				return div
			}
			e, err := NewEvaluator(m, 4)
			require.NoError(t, err)
			got, dst := make([]float64, n), make([]float64, n*dim)
			e.EvalDivCond(dst, got, 0.6, x.Data, c.Data)
			divBound := func(c []float64) []float64 {
				in := make([]float64, n*m.width())
				packInput(in, x.Data, []float64{0.6}, c, dim, ctx, n)
				net, err := fusedNet(m)
				require.NoError(t, err)
				return fusedref.ErrorBound(net, in, n, make([]float64, n*dim)).Div
			}
			bound := divBound(c.Data)
			want := autogradDiv(c)
			for i := range want {
				assert.InDelta(t, want[i], got[i], 2*bound[i], "row %d: got %v want %v (tol %.3g)", i, got[i], want[i], 2*bound[i])
			}
			c2 := autograd.Scale(c, -1)
			other := autogradDiv(c2)
			off := 0
			for i := range other {
				if math.Abs(other[i]-got[i]) > 2*bound[i] {
					off++
				}
			}
			assert.Equal(t, n, off, "negative control: other contexts give other divergences")
			// One context row for every point.
			e.EvalDivCond(dst, got, 0.6, x.Data, c.Data[:ctx])
			want = autogradDiv(autograd.FromSlice(1, ctx, c.Data[:ctx]))
			bound = divBound(c.Data[:ctx])
			for i := range want {
				assert.InDelta(t, want[i], got[i], 2*bound[i], "broadcast row %d: got %v want %v (tol %.3g)", i, got[i], want[i], 2*bound[i])
			}
		})
	}
}
