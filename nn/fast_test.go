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

// fmBatch draws a flow-matching batch as the PyTorch peer does: x₀ ~ N(0, I),
// x₁ ~ N(0, 4I), t ~ U[0, 1], x_t = (1 − (1 − σ_min)t)x₀ + t·x₁ and
// u = x₁ − (1 − σ_min)x₀, σ_min = 1e-4.
func fmBatch(n, dim int, seed uint64) (xt, t, u []float64) {
	const sigmaMin = 1e-4
	rng := newRNG(seed)
	xt, t, u = make([]float64, n*dim), make([]float64, n), make([]float64, n*dim)
	for i := range n {
		t[i] = rng.Float64()
		for d := range dim {
			x0, x1 := rng.NormFloat64(), 2*rng.NormFloat64()
			xt[i*dim+d] = (1-(1-sigmaMin)*t[i])*x0 + t[i]*x1
			u[i*dim+d] = x1 - (1-sigmaMin)*x0
		}
	}
	return xt, t, u
}

// autogradLoss is the generic path: L = Mean(SumCols((v − u)²)), Backward,
// with v = ForwardCond(t, xt, c) when c is not nil.
func autogradLoss(m *VelocityMLP, xt, t, c, u []float64) float64 {
	n, dim := len(t), m.Dim()
	var v *autograd.Tensor
	if c != nil {
		v = m.ForwardCond(autograd.FromSlice(n, 1, t), autograd.FromSlice(n, dim, xt), autograd.FromSlice(n, m.Ctx(), c))
	} else {
		v = m.Forward(autograd.FromSlice(n, 1, t), autograd.FromSlice(n, dim, xt))
	}
	loss := autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(v, autograd.FromSlice(n, dim, u)))))
	loss.Backward()
	return loss.Item()
}

func grads(m *VelocityMLP) [][]float64 {
	var g [][]float64
	for _, p := range m.Params() {
		g = append(g, append([]float64(nil), p.Grad...))
	}
	return g
}

// lossBound returns ErrorBound of the fused network at the batch for the
// seed g = ∂L/∂v = (2/n)(v − u) (computed by the naive reference) as
// [W₁, b₁, W₂, b₂, …], and the loss's bound: L sums n·dim squares of
// residuals r whose error is at most bound(v) each, so
// |ΔL| ≤ (1/n)·Σ (2|r|·bound(v) + (n·dim + 2)·u·r²).
func lossBound(t *testing.T, m *VelocityMLP, xt, ts, c, u []float64) ([][]float64, float64) {
	net, err := fusedNet(m)
	require.NoError(t, err)
	n, dim := len(ts), m.Dim()
	in := make([]float64, n*m.width())
	packInput(in, xt, ts, c, dim, m.Ctx(), n)
	g := make([]float64, n*dim)
	ref := fusedref.Naive(net, in, n, g)
	for i := range g {
		g[i] = 2 * (ref.Out[i] - u[i]) / float64(n)
	}
	b := fusedref.ErrorBound(net, in, n, g)
	var out [][]float64
	for l := range b.DW {
		out = append(out, b.DW[l], b.DB[l])
	}
	lb := 0.0
	for i, v := range ref.Out {
		r := v - u[i]
		lb += 2*math.Abs(r)*b.Out[i] + float64(n*dim+2)*0x1p-53*r*r
	}
	return out, lb / float64(n)
}

// countOff counts elements with |a − b| > 2·bound (both within bound of the
// exact value).
func countOff(t *testing.T, name string, a, b, bound [][]float64, report bool) int {
	t.Helper()
	bad := 0
	for p := range a {
		for i := range a[p] {
			tol := 2 * bound[p][i]
			if !(math.Abs(a[p][i]-b[p][i]) <= tol) {
				if report && bad < 3 {
					t.Errorf("%s param %d [%d]: got %v want %v (tol %.3g)", name, p, i, a[p][i], b[p][i], tol)
				}
				bad++
			}
		}
	}
	return bad
}

// TestTrainStep_MatchesAutograd: the fused loss and gradients equal the
// autograd path's within twice fusedref.ErrorBound (a first-order rounding
// bound, K·u times the gradient recomputed on absolute values, K ≈ 2·Σ
// widths + batch), for SiLU and tanh and batches 1, 7 and 256 on the peer
// architecture 3 → 256 → 256 → 256 → 2, and batch 600 (three chunks of
// fused.Workspace.LossGrad's data-parallel step) on 3 → 32 → 32 → 32 → 2.
// Negative control: moving one weight by 1e-6 makes the comparison fail.
func TestTrainStep_MatchesAutograd(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		for _, n := range []int{1, 7, 256, 600} {
			t.Run(fmt.Sprintf("%s/batch=%d", act, n), func(t *testing.T) {
				width := 256
				if n > 256 {
					width = 32 // the naive reference is slow
				}
				m := NewVelocityMLP(2, []int{width, width, width}, act, newRNG(1))
				xt, ts, u := fmBatch(n, 2, uint64(n))
				want := autogradLoss(m, xt, ts, nil, u)
				wantG := grads(m)
				bound, lb := lossBound(t, m, xt, ts, nil, u)

				opt := NewAdam(m.Params(), 1e-3)
				opt.ZeroGrad()
				s, err := NewTrainStep(m, max(256, n))
				require.NoError(t, err)
				got := s.LossGrad(ts, xt, u)
				assert.InDelta(t, want, got, 2*lb, "loss")
				assert.Zero(t, countOff(t, "grad", grads(m), wantG, bound, true))

				// Accumulation: a second call adds the same gradient again.
				s.LossGrad(ts, xt, u)
				twice := grads(m)
				for p := range twice {
					for i := range twice[p] {
						twice[p][i] /= 2
					}
				}
				assert.Zero(t, countOff(t, "grad/2", twice, wantG, bound, true))

				// Negative control.
				opt.ZeroGrad()
				w := m.Net.Layers[1].W.Data
				w[5] += 1e-6
				s.LossGrad(ts, xt, u)
				w[5] -= 1e-6
				assert.Positive(t, countOff(t, "perturbed", grads(m), wantG, bound, false))
			})
		}
	}
}

// TestTrainStep_NoAllocs: a training step (loss and gradients, Adam step,
// zeroing the gradients) allocates nothing in steady state, unconditional
// (LossGrad) and conditional (LossGradCond).
func TestTrainStep_NoAllocs(t *testing.T) {
	m := NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRNG(2))
	s, err := NewTrainStep(m, 256)
	require.NoError(t, err)
	opt := NewAdam(m.Params(), 1e-3)
	xt, ts, u := fmBatch(256, 2, 3)
	step := func() {
		opt.ZeroGrad()
		s.LossGrad(ts, xt, u)
		opt.Step()
	}
	step()
	assert.Zero(t, testing.AllocsPerRun(10, step))

	// The conditional step (the MNIST context width, 11) allocates nothing
	// either.
	mc := NewLabelVelocityMLP(2, 10, []int{64, 64}, autograd.ActSiLU, newRNG(2))
	sc, err := NewTrainStep(mc, 64)
	require.NoError(t, err)
	optc := NewAdam(mc.Params(), 1e-3)
	xt, ts, c, u := condBatch(64, 2, 10, 4)
	stepc := func() {
		optc.ZeroGrad()
		sc.LossGradCond(ts, xt, c, u)
		optc.Step()
	}
	stepc()
	assert.Zero(t, testing.AllocsPerRun(10, stepc))
}

func TestTrainStep_Errors(t *testing.T) {
	m := NewVelocityMLP(2, []int{8}, autograd.ActReLU, newRNG(3))
	_, err := NewTrainStep(m, 4)
	require.Error(t, err)
	_, err = NewEvaluator(m, 4)
	require.Error(t, err)
	m = NewVelocityMLP(2, []int{8}, autograd.ActTanh, newRNG(3))
	_, err = NewTrainStep(m.Frozen(), 4)
	require.Error(t, err)
	_, err = NewTrainStep(m, 0)
	require.Error(t, err)
	s, err := NewTrainStep(m, 4)
	require.NoError(t, err)
	xt, ts, u := fmBatch(5, 2, 1)
	assert.Panics(t, func() { s.LossGrad(ts, xt, u) }, "batch 5 > 4")
}

// TestEvaluator_EqualsForward: Eval and EvalRows return exactly what the
// autograd Forward returns, batch by batch (the fused forward calls the
// same kernels on the same shapes), for both activations; EvalDiv's v
// equals Eval's; a batch larger than maxBatch is evaluated chunk by chunk.
func TestEvaluator_EqualsForward(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		t.Run(string(act), func(t *testing.T) {
			m := NewVelocityMLP(2, []int{32, 32}, act, newRNG(4))
			e, err := NewEvaluator(m.Frozen(), 8)
			require.NoError(t, err)
			xt, ts, _ := fmBatch(19, 2, 5)
			got := make([]float64, len(xt))
			e.EvalRows(got, ts, xt)
			for i0 := 0; i0 < 19; i0 += 8 {
				c := min(8, 19-i0)
				v := m.Forward(autograd.FromSlice(c, 1, ts[i0:i0+c]), autograd.FromSlice(c, 2, xt[2*i0:2*(i0+c)]).NoGraph())
				assert.Equal(t, v.Data, got[2*i0:2*(i0+c)], "rows %d…", i0)
			}
			e.Eval(got[:14], 0.3, xt[:14])
			v := m.Forward(autograd.Scalar(0.3), autograd.FromSlice(7, 2, xt[:14]))
			assert.Equal(t, v.Data, got[:14])
			vd, div := make([]float64, 14), make([]float64, 7)
			e.EvalDiv(vd, div, 0.3, xt[:14])
			assert.Equal(t, v.Data, vd)
			assert.Zero(t, testing.AllocsPerRun(5, func() {
				e.Eval(got, 0.5, xt)
				e.EvalDiv(vd, div, 0.3, xt[:14])
			}))
		})
	}
}
