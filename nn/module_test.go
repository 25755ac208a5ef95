package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
	"github.com/flowmatch/flowmatch/internal/fusedref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eps = 0x1p-52 // float64 machine epsilon

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// mlpFromParams returns an MLP of the given activation whose layers use the
// tensors ws = [W₁, b₁, W₂, b₂, …], so that GradCheck can vary them.
func mlpFromParams(act autograd.Activation, ws []*autograd.Tensor) *MLP {
	m := &MLP{act: act}
	for i := 0; i < len(ws); i += 2 {
		m.Layers = append(m.Layers, &Linear{W: ws[i], B: ws[i+1]})
	}
	return m
}

func TestGrad(t *testing.T) {
	rng := newRNG(1)
	t.Run("Linear", func(t *testing.T) {
		l := NewLinear(3, 4, rng)
		x := autograd.Normal(5, 3, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			return (&Linear{W: xs[1], B: xs[2]}).Forward(xs[0])
		}, []*autograd.Tensor{x, l.W, l.B}, nil)
		require.NoError(t, err)
	})
	for _, act := range autograd.Activations() {
		t.Run("MLP/"+string(act), func(t *testing.T) {
			m := NewMLP([]int{3, 5, 4, 2}, act, rng)
			x := autograd.Normal(4, 3, 0, 1, rng)
			err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
				return mlpFromParams(act, xs[1:]).Forward(xs[0])
			}, append([]*autograd.Tensor{x}, m.Params()...), nil)
			require.NoError(t, err)
		})
	}
	t.Run("VelocityMLP", func(t *testing.T) {
		v := NewVelocityMLP(2, []int{6, 6}, autograd.ActSiLU, rng)
		x := autograd.Normal(4, 2, 0, 1, rng)
		tt := autograd.Uniform(4, 1, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			m := &VelocityMLP{Net: mlpFromParams(autograd.ActSiLU, xs[2:]), dim: 2}
			return m.Forward(xs[1], xs[0])
		}, append([]*autograd.Tensor{x, tt}, v.Params()...), nil)
		require.NoError(t, err)
	})
	t.Run("VelocityMLP/ScalarTime", func(t *testing.T) {
		v := NewVelocityMLP(2, []int{5}, autograd.ActTanh, rng)
		x := autograd.Normal(3, 2, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			return v.Frozen().Forward(xs[1], xs[0])
		}, []*autograd.Tensor{x, autograd.Scalar(0.3)}, nil)
		require.NoError(t, err)
	})
	t.Run("VelocityMLP/Cond", func(t *testing.T) {
		v := NewCondVelocityMLP(2, 3, []int{6, 6}, autograd.ActSiLU, rng)
		x := autograd.Normal(4, 2, 0, 1, rng)
		tt := autograd.Uniform(4, 1, 0, 1, rng)
		c := autograd.Normal(4, 3, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			m := &VelocityMLP{Net: mlpFromParams(autograd.ActSiLU, xs[3:]), dim: 2, ctx: 3}
			return m.ForwardCond(xs[1], xs[0], xs[2])
		}, append([]*autograd.Tensor{x, tt, c}, v.Params()...), nil)
		require.NoError(t, err)
	})
	t.Run("VelocityMLP/Cond/OneContextRow", func(t *testing.T) {
		v := NewLabelVelocityMLP(2, 2, []int{5}, autograd.ActTanh, rng)
		x := autograd.Normal(3, 2, 0, 1, rng)
		c := autograd.Normal(1, 3, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			return v.Frozen().ForwardCond(xs[1], xs[0], xs[2])
		}, []*autograd.Tensor{x, autograd.Scalar(0.3), c}, nil)
		require.NoError(t, err)
	})
	t.Run("SinusoidalEmbedding", func(t *testing.T) {
		tt := autograd.Uniform(5, 1, 0, 1, rng)
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			return SinusoidalEmbedding(xs[0], 8, 100)
		}, []*autograd.Tensor{tt}, nil)
		require.NoError(t, err)
	})
}

// divergence returns Σ_batch ∇ₓ·v(x) = Σᵢ Σ_d ∂v_d/∂x_d for v = m.Forward,
// one vector-Jacobian product per output dimension (seed e_d in every row),
// recorded with GradGraph (grad = autograd.GradGraph) so that it can be
// differentiated again with respect to the weights.
func divergence(m *MLP, x *autograd.Tensor, grad func(y, seed *autograd.Tensor, wrt ...*autograd.Tensor) []*autograd.Tensor) *autograd.Tensor {
	v := m.Forward(x)
	var div *autograd.Tensor
	for d := 0; d < v.Cols; d++ {
		seed := autograd.Zeros(v.Rows, v.Cols)
		for i := 0; i < v.Rows; i++ {
			seed.Data[i*v.Cols+d] = 1
		}
		g := grad(v, seed, x)[0]                        // [n, D], row i = e_dᵀ·∂v(xᵢ)/∂x
		term := autograd.Sum(autograd.Slice(g, d, d+1)) // Σᵢ ∂v_d/∂x_d at xᵢ
		if div == nil {
			div = term
		} else {
			div = autograd.Add(div, term)
		}
	}
	return div
}

// TestGrad_DivergenceWeights differentiates a gradient: ∂/∂θ of the
// divergence Σ ∂v/∂x of a small MLP, the quantity a CNF likelihood trains
// through, passes GradCheck. The negative control computes the inner
// gradient with autograd.Grad (not recorded), which makes the divergence a
// constant of θ to the graph; GradCheck must then fail.
func TestGrad_DivergenceWeights(t *testing.T) {
	rng := newRNG(2)
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh, autograd.ActSoftplus} {
		m := NewMLP([]int{2, 5, 2}, act, rng)
		xData := autograd.Normal(3, 2, 0, 1, rng).Data
		f := func(grad func(y, seed *autograd.Tensor, wrt ...*autograd.Tensor) []*autograd.Tensor) func([]*autograd.Tensor) *autograd.Tensor {
			return func(ws []*autograd.Tensor) *autograd.Tensor {
				x := autograd.FromSlice(3, 2, append([]float64(nil), xData...)).SetRequiresGrad(true)
				return divergence(mlpFromParams(act, ws), x, grad)
			}
		}
		t.Run(string(act), func(t *testing.T) {
			require.NoError(t, autograd.GradCheck(f(autograd.GradGraph), m.Params(), nil))
		})
		t.Run(string(act)+"/NegativeControl", func(t *testing.T) {
			require.Error(t, autograd.GradCheck(f(autograd.Grad), m.Params(), nil),
				"a divergence computed without create-graph must fail the check")
		})
	}
}

// TestLinear_Init checks NewLinear against torch.nn.Linear's U(±1/√in): all
// elements lie within the bound and their mean square is bound²/3 within 4
// standard errors, SE = √(Var(w²)/N) with Var(w²) = E w⁴ − (E w²)² =
// a⁴/5 − a⁴/9 = 4a⁴/45. Negative control: the variance of the Kaiming
// normal init for ReLU (2/in), a common alternative, is outside the band.
func TestLinear_Init(t *testing.T) {
	in, out := 64, 256
	l := NewLinear(in, out, newRNG(3))
	a := 1 / math.Sqrt(float64(in))
	ms := 0.0
	for _, w := range l.W.Data {
		require.LessOrEqual(t, math.Abs(w), a)
		ms += w * w
	}
	for _, b := range l.B.Data {
		require.LessOrEqual(t, math.Abs(b), a)
	}
	n := float64(len(l.W.Data))
	ms /= n
	want := a * a / 3
	tol := 4 * math.Sqrt(4*a*a*a*a/45/n)
	assert.InDelta(t, want, ms, tol, "mean square: got %g want %g (tol %g)", ms, want, tol)
	assert.Greater(t, math.Abs(2/float64(in)-ms), tol, "negative control: Kaiming-normal variance must be outside the band")
	assert.True(t, l.W.RequiresGrad() && l.B.RequiresGrad())
	assert.Equal(t, [2]int{in, out}, l.W.Shape())
	assert.Equal(t, [2]int{1, out}, l.B.Shape())
}

// TestSinusoidalEmbedding_Formula compares with the formula evaluated
// directly (tolerance: a few rounding errors of sin/cos of arguments ≤ |t|,
// 8ε·(1+|t·ω|)), checks sin² + cos² = 1 for every frequency and that
// dim = 2 gives (sin t, cos t). Negative control: frequencies
// maxPeriod^(−k/(h−1)), a common off-by-one, differ beyond the tolerance.
func TestSinusoidalEmbedding_Formula(t *testing.T) {
	ts := []float64{0, 0.25, 1, 3.5, -2}
	tt := autograd.FromSlice(len(ts), 1, append([]float64(nil), ts...))
	const dim, maxPeriod = 8, 10000.0
	h := dim / 2
	e := SinusoidalEmbedding(tt, dim, maxPeriod)
	require.Equal(t, [2]int{len(ts), dim}, e.Shape())
	ref := func(ti float64, k int, hh float64) (float64, float64) {
		w := math.Pow(maxPeriod, -float64(k)/hh)
		return math.Sin(ti * w), math.Cos(ti * w)
	}
	wrongDiffers := false
	for i, ti := range ts {
		for k := range h {
			s, c := ref(ti, k, float64(h))
			tol := 8 * eps * (1 + math.Abs(ti))
			assert.InDelta(t, s, e.At(i, k), tol, "sin t=%g k=%d", ti, k)
			assert.InDelta(t, c, e.At(i, h+k), tol, "cos t=%g k=%d", ti, k)
			assert.InDelta(t, 1, e.At(i, k)*e.At(i, k)+e.At(i, h+k)*e.At(i, h+k), 8*eps)
			if ws, _ := ref(ti, k, float64(h-1)); math.Abs(ws-e.At(i, k)) > tol {
				wrongDiffers = true
			}
		}
	}
	assert.True(t, wrongDiffers, "negative control: ω = maxPeriod^(−k/(h−1)) must be told apart")
	e2 := SinusoidalEmbedding(autograd.Scalar(0.7), 2, maxPeriod)
	assert.Equal(t, []float64{math.Sin(0.7), math.Cos(0.7)}, e2.Data)
}

func TestMLP_Structure(t *testing.T) {
	m := NewMLP([]int{3, 7, 5, 2}, autograd.ActTanh, newRNG(4))
	assert.Equal(t, []int{3, 7, 5, 2}, m.Sizes())
	assert.Equal(t, autograd.ActTanh, m.Activation())
	require.Len(t, m.Params(), 6)
	var names []string
	for i, p := range m.NamedParams() {
		names = append(names, p.Name)
		assert.Same(t, m.Params()[i], p.T)
	}
	assert.Equal(t, []string{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"}, names)

	// Forward is the formula of MLP's doc comment, evaluated with plain loops
	// by fusedref.Naive, within twice its rounding bound.
	x := autograd.Normal(4, 3, 0, 1, newRNG(5))
	got := m.Forward(x)
	net := fused.Net{Sizes: m.Sizes(), Act: m.Activation()}
	for _, l := range m.Layers {
		net.W, net.B = append(net.W, l.W.Data), append(net.B, l.B.Data)
	}
	g := make([]float64, x.Rows*2)
	want, bound := fusedref.Naive(net, x.Data, x.Rows, g), fusedref.ErrorBound(net, x.Data, x.Rows, g)
	for i, w := range want.Out {
		assert.InDelta(t, w, got.Data[i], 2*bound.Out[i], "element %d", i)
	}
	net.Act = autograd.ActSiLU // negative control: the wrong activation is seen
	other, off := fusedref.Naive(net, x.Data, x.Rows, g), 0
	for i, w := range other.Out {
		if math.Abs(w-got.Data[i]) > 2*bound.Out[i] {
			off++
		}
	}
	assert.Positive(t, off, "negative control")
	assert.Panics(t, func() { NewMLP([]int{3}, autograd.ActTanh, newRNG(1)) })
	assert.Panics(t, func() { NewMLP([]int{3, 2}, "gelu", newRNG(1)) })
}

// TestMLP_Frozen: the frozen view computes the same function, shares Data,
// requires no gradients, yields the same input-gradient as the trainable
// model and leaves the trainable parameters' Grad untouched.
func TestMLP_Frozen(t *testing.T) {
	rng := newRNG(6)
	m := NewMLP([]int{2, 8, 2}, autograd.ActSiLU, rng)
	f := m.Frozen()
	x := autograd.Normal(5, 2, 0, 1, rng)
	assert.Equal(t, m.Forward(x).Data, f.Forward(x).Data)
	for i, p := range f.Params() {
		assert.False(t, p.RequiresGrad())
		assert.Same(t, &m.Params()[i].Data[0], &p.Data[0], "shares Data")
	}
	xa := x.Clone().SetRequiresGrad(true)
	xb := x.Clone().SetRequiresGrad(true)
	autograd.Sum(m.Forward(xa)).Backward()
	autograd.Sum(f.Forward(xb)).Backward()
	assert.Equal(t, xa.Grad, xb.Grad)
	for _, p := range m.Params() {
		p.ZeroGrad()
	}
	autograd.Sum(f.Forward(xb)).Backward()
	for _, p := range m.Params() {
		for _, g := range p.Grad {
			require.Zero(t, g)
		}
	}
	m.Layers[0].W.Data[0] += 1 // training m moves the view
	assert.Equal(t, m.Forward(x).Data, f.Forward(x).Data)

	v := NewVelocityMLP(2, []int{4}, autograd.ActTanh, rng)
	vf := v.Frozen()
	tt := autograd.Full(5, 1, 0.5)
	assert.Equal(t, v.Forward(tt, x).Data, vf.Forward(tt, x).Data)
	assert.Equal(t, 2, vf.Dim())
}

// TestVelocityMLP_PeerArchitecture: dim 2 with hidden [256, 256, 256] is
// the PyTorch peer's 3 → 256 → 256 → 256 → 2 network, 133 122 parameters;
// a scalar t equals the same t in every row; the input is Concat(x, t).
func TestVelocityMLP_PeerArchitecture(t *testing.T) {
	rng := newRNG(7)
	v := NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng)
	assert.Equal(t, []int{3, 256, 256, 256, 2}, v.Net.Sizes())
	assert.Equal(t, 2, v.Dim())
	n := 0
	for _, p := range v.Params() {
		n += len(p.Data)
	}
	assert.Equal(t, 3*256+256+2*(256*256+256)+256*2+2, n)
	assert.Equal(t, 133122, n)
	x := autograd.Normal(4, 2, 0, 1, rng)
	a := v.Forward(autograd.Scalar(0.3), x)
	b := v.Forward(autograd.Full(4, 1, 0.3), x)
	c := v.Net.Forward(autograd.Concat(x, autograd.Full(4, 1, 0.3)))
	assert.Equal(t, b.Data, a.Data)
	assert.Equal(t, c.Data, a.Data)
	assert.Panics(t, func() { v.Forward(autograd.Zeros(4, 1), autograd.Zeros(4, 3)) })
	assert.Panics(t, func() { v.Forward(autograd.Zeros(3, 1), x) })
}
