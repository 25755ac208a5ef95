package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Module is anything with trainable parameters.
type Module interface {
	// Params returns the trainable tensors, in a fixed order.
	Params() []*autograd.Tensor
}

// NamedModule is a Module whose parameters have stable names, the keys of
// a checkpoint (safetensors.Write(path, m.NamedParams(), meta)).
type NamedModule interface {
	Module
	NamedParams() []Named
}

var (
	_ NamedModule = (*Linear)(nil)
	_ NamedModule = (*MLP)(nil)
	_ NamedModule = (*VelocityMLP)(nil)
)

// Named is a parameter with a stable name, such as "layers.0.weight", used
// as its key in a checkpoint: the safetensors package's named tensor, so
// that NamedParams can be written and loaded directly
// (safetensors.Write, (*safetensors.File).LoadInto).
type Named = safetensors.Named

// Linear is the affine layer y = x·W + b of x [n, in], with W [in, out] and
// b [1, out] added to every row.
type Linear struct {
	W *autograd.Tensor // [in, out]
	B *autograd.Tensor // [1, out]
}

// NewLinear returns a Linear layer initialized as torch.nn.Linear: every
// element of W and b is drawn from U(−1/√in, 1/√in) (Kaiming-uniform with
// a = √5 gives exactly this bound for W). Both require gradients.
// TestLinear_Init checks the range and the variance bound²/3.
func NewLinear(in, out int, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(autograd.Misuse("nn.NewLinear", "sizes %d, %d must be positive", in, out))
	}
	bound := 1 / math.Sqrt(float64(in))
	return &Linear{
		W: autograd.Uniform(in, out, -bound, bound, rng).SetRequiresGrad(true),
		B: autograd.Uniform(1, out, -bound, bound, rng).SetRequiresGrad(true),
	}
}

// Forward returns x·W + b, shape [n, out]. TestGrad/Linear.
func (l *Linear) Forward(x *autograd.Tensor) *autograd.Tensor {
	return autograd.AddRow(autograd.MatMul(x, l.W), l.B)
}

// Params returns [W, b].
func (l *Linear) Params() []*autograd.Tensor { return []*autograd.Tensor{l.W, l.B} }

// NamedParams returns W as "weight" and b as "bias".
func (l *Linear) NamedParams() []Named {
	return []Named{{Name: "weight", T: l.W}, {Name: "bias", T: l.B}}
}

// In returns the input width.
func (l *Linear) In() int { return l.W.Rows }

// Out returns the output width.
func (l *Linear) Out() int { return l.W.Cols }

// frozen returns a Linear sharing l's data whose tensors need no gradient.
func (l *Linear) frozen() *Linear { return &Linear{W: l.W.Detach(), B: l.B.Detach()} }

// MLP is a multilayer perceptron: Linear layers of the given sizes with the
// activation between consecutive layers and none after the last,
//
//	h₀ = x,  hᵢ = act(hᵢ₋₁·Wᵢ + bᵢ) for i < L,  out = h_{L−1}·W_L + b_L.
//
// TestMLP_Structure evaluates this formula by hand; TestGrad/MLP checks the
// gradients for every activation.
type MLP struct {
	Layers []*Linear
	act    autograd.Activation
}

// NewMLP returns an MLP with layer widths sizes (sizes[0] inputs,
// sizes[len−1] outputs, at least two entries), initialized as NewLinear.
func NewMLP(sizes []int, act autograd.Activation, rng *rand.Rand) *MLP {
	if len(sizes) < 2 {
		panic(autograd.Misuse("nn.NewMLP", "sizes %v: need at least an input and an output size", sizes))
	}
	if !act.Valid() {
		panic(autograd.Misuse("nn.NewMLP", "unknown activation %q; want one of %v", string(act), autograd.Activations()))
	}
	m := &MLP{act: act}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(sizes[i], sizes[i+1], rng))
	}
	return m
}

// Forward returns the MLP applied to each row of x [n, sizes[0]], shape
// [n, sizes[len−1]].
func (m *MLP) Forward(x *autograd.Tensor) *autograd.Tensor {
	h := x
	for i, l := range m.Layers {
		h = l.Forward(h)
		if i+1 < len(m.Layers) {
			h = m.act.Apply(h)
		}
	}
	return h
}

// Params returns W₁, b₁, W₂, b₂, … in layer order.
func (m *MLP) Params() []*autograd.Tensor {
	var ps []*autograd.Tensor
	for _, l := range m.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// NamedParams names layer i's tensors "layers.i.weight" and "layers.i.bias".
func (m *MLP) NamedParams() []Named {
	var ps []Named
	for i, l := range m.Layers {
		for _, p := range l.NamedParams() {
			ps = append(ps, Named{Name: fmt.Sprintf("layers.%d.%s", i, p.Name), T: p.T})
		}
	}
	return ps
}

// Sizes returns the layer widths given to NewMLP.
func (m *MLP) Sizes() []int {
	s := []int{m.Layers[0].In()}
	for _, l := range m.Layers {
		s = append(s, l.Out())
	}
	return s
}

// Activation returns the activation between layers.
func (m *MLP) Activation() autograd.Activation { return m.act }

// Frozen returns a view of m whose parameters share m's Data but do not
// require gradients: the same function, for inference and for gradients
// with respect to the input only (MatMul then skips the weight gradients).
// Training m changes the view too. TestMLP_Frozen.
func (m *MLP) Frozen() *MLP {
	f := &MLP{act: m.act, Layers: make([]*Linear, len(m.Layers))}
	for i, l := range m.Layers {
		f.Layers[i] = l.frozen()
	}
	return f
}

// SinusoidalEmbedding maps times t [n, 1] to [n, dim] features
//
//	(sin(t·ω₀), …, sin(t·ω_{h−1}), cos(t·ω₀), …, cos(t·ω_{h−1})),
//	ωₖ = maxPeriod^(−k/h),  h = dim/2,  k = 0, …, h−1,
//
// the transformer position encoding (Vaswani et al. 2017) used as a time
// embedding in diffusion and flow models (maxPeriod 10000 there), with
// frequencies from 1 down to maxPeriod^(−(h−1)/h). It is built from
// autograd ops, so it is differentiable in t. dim must be even and positive.
// TestSinusoidalEmbedding_Formula, TestGrad/SinusoidalEmbedding.
func SinusoidalEmbedding(t *autograd.Tensor, dim int, maxPeriod float64) *autograd.Tensor {
	if t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "nn.SinusoidalEmbedding", Shapes: [][2]int{t.Shape()}, Reason: "want t [n,1]"})
	}
	if dim <= 0 || dim%2 != 0 {
		panic(autograd.Misuse("nn.SinusoidalEmbedding", "dim %d must be even and positive", dim))
	}
	h := dim / 2
	omega := autograd.Zeros(1, h)
	for k := range h {
		omega.Data[k] = math.Pow(maxPeriod, -float64(k)/float64(h))
	}
	arg := autograd.MatMul(t, omega) // [n, h], argᵢₖ = tᵢ·ωₖ
	return autograd.Concat(autograd.Sin(arg), autograd.Cos(arg))
}

// VelocityMLP is the flow-matching model field v_θ(t, x): an MLP applied to
// the concatenation (x, t) ∈ ℝ^{dim+1}, with dim outputs. With dim 2, hidden
// [256, 256, 256] and ActSiLU it is the PyTorch reference model
// 3 → 256 → 256 → 256 → 2 (TestVelocityMLP_PeerArchitecture).
//
// A conditional VelocityMLP (NewCondVelocityMLP, NewLabelVelocityMLP) is the
// field v_θ(t, x, c) of a context c ∈ ℝ^ctx: the MLP reads the row
// (x, t, c) ∈ ℝ^{dim+1+ctx} (see ForwardCond and LabelContext).
type VelocityMLP struct {
	Net     *MLP
	dim     int
	ctx     int // context width k (0: unconditional)
	classes int // for a label context: the number of classes (ctx = classes+1); else 0
}

// NewVelocityMLP returns v_θ for points in ℝ^dim with the given hidden
// widths: NewMLP([dim+1, hidden…, dim], act, rng). It is
// NewCondVelocityMLP with ctx 0.
func NewVelocityMLP(dim int, hidden []int, act autograd.Activation, rng *rand.Rand) *VelocityMLP {
	return newVelocityMLP("nn.NewVelocityMLP", dim, 0, 0, hidden, act, rng)
}

func newVelocityMLP(op string, dim, ctx, classes int, hidden []int, act autograd.Activation, rng *rand.Rand) *VelocityMLP {
	if dim <= 0 {
		panic(autograd.Misuse(op, "dim %d must be positive", dim))
	}
	if ctx < 0 {
		panic(autograd.Misuse(op, "context width %d must be ≥ 0", ctx))
	}
	sizes := append(append([]int{dim + 1 + ctx}, hidden...), dim)
	return &VelocityMLP{Net: NewMLP(sizes, act, rng), dim: dim, ctx: ctx, classes: classes}
}

// Forward returns v_θ(t, x) = MLP(Concat(x, t)) for t [n, 1] and x [n, dim];
// a scalar t [1, 1] is broadcast to every row. Shape [n, dim]. Time comes
// first in every time-dependent field of flowmatch (cnf.Field, fm.Velocity);
// the network's input row is still (x, t), as in the PyTorch reference.
// A conditional model (Ctx() > 0) panics with a MisuseError: call
// ForwardCond with a context.
func (v *VelocityMLP) Forward(t, x *autograd.Tensor) *autograd.Tensor {
	if v.ctx > 0 {
		panic(&autograd.MisuseError{Op: "nn.VelocityMLP.Forward", Shapes: [][2]int{t.Shape(), x.Shape()},
			Reason: fmt.Sprintf("the model is conditional (context width %d): call ForwardCond(t, x, c), or fm.Guided for a guided field", v.ctx)})
	}
	t = v.checkTX("nn.VelocityMLP.Forward", t, x)
	return v.Net.Forward(autograd.Concat(x, t))
}

// checkTX checks t and x against the model and broadcasts a scalar t.
func (v *VelocityMLP) checkTX(op string, t, x *autograd.Tensor) *autograd.Tensor {
	if x.Cols != v.dim {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: fmt.Sprintf("want t [n,1] or [1,1] and x [n,%d]", v.dim)})
	}
	if t.Rows == 1 && t.Cols == 1 && x.Rows != 1 {
		t = autograd.Expand(t, x.Rows, 1)
	}
	if t.Cols != 1 || t.Rows != x.Rows {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: "want t [n,1] or [1,1]"})
	}
	return t
}

// Params returns the MLP's parameters.
func (v *VelocityMLP) Params() []*autograd.Tensor { return v.Net.Params() }

// NamedParams returns the MLP's named parameters ("layers.i.weight", …).
func (v *VelocityMLP) NamedParams() []Named { return v.Net.NamedParams() }

// Dim returns the dimension of x (and of v).
func (v *VelocityMLP) Dim() int { return v.dim }

// Ctx returns the context width k (0 for an unconditional model).
func (v *VelocityMLP) Ctx() int { return v.ctx }

// Classes returns the number of classes of a label-conditioned model
// (NewLabelVelocityMLP; then Ctx() = Classes()+1), and 0 for an
// unconditional model or a real-vector context.
func (v *VelocityMLP) Classes() int { return v.classes }

// Frozen returns a view sharing the parameters' Data that requires no
// gradients (see MLP.Frozen). It keeps the context.
func (v *VelocityMLP) Frozen() *VelocityMLP {
	return &VelocityMLP{Net: v.Net.Frozen(), dim: v.dim, ctx: v.ctx, classes: v.classes}
}
