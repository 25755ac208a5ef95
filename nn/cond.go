package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
Conditional velocity fields.

A context c ∈ ℝ^k is appended to the network input: the MLP reads the row
(x, t, c) ∈ ℝ^{dim+1+k}. Write the first layer's weight W₁ [dim+1+k, h₁] as
three blocks of rows, W₁ = [Wₓ; w_t; W_c]. Its pre-activation is

	z₁ = x·Wₓ + t·w_t + c·W_c + b₁,

so a real-vector context (an observation, Dax et al. 2023) enters linearly
through W_c. A class label y ∈ {0, …, K−1} is the one-hot row e_y of width
K+1 (LabelContext), whose last column is the null label ∅ of classifier-free
guidance (Ho & Salimans 2022). Then c·W_c = e_y·W_c is row y of W_c: the
K+1 rows of W_c ARE the learned label-embedding table E [K+1, h₁] (one row
per class, plus the null row), added to the first pre-activation,

	z₁ = x·Wₓ + t·w_t + E[y] + b₁.

This is exactly what an embedding lookup followed by a sum would compute
(TestLabelContext_IsEmbedding), so one MLP and one fused path serve
unconditional, vector-conditioned and label-conditioned fields.
*/

// NullLabel is the label of "no condition", ∅: LabelContext maps it to the
// last column (index classes) of the one-hot row. Label dropout during
// training (fm.DropContext) teaches the model v_θ(t, x, ∅) = u_t(x), the
// unconditional field that classifier-free guidance needs.
const NullLabel = -1

// LabelContext returns the one-hot context rows of labels: a tensor
// [len(labels), classes+1] with
//
//	c[i, labels[i]] = 1 for 0 ≤ labels[i] < classes,
//	c[i, classes]   = 1 for labels[i] = NullLabel (the null label ∅),
//
// and 0 elsewhere. Fed to a model made by NewLabelVelocityMLP(dim, classes,
// …), the rows of the first layer's weight that multiply these columns are
// the learned label-embedding table, one row per label plus the null row
// (see the comment at the top of cond.go; TestLabelContext_IsEmbedding). A
// label outside [0, classes) other than NullLabel, classes < 1 or no labels
// panic with a *autograd.MisuseError (TestLabelContext_Misuse).
func LabelContext(labels []int, classes int) *autograd.Tensor {
	if classes < 1 || len(labels) == 0 {
		panic(autograd.Misuse("nn.LabelContext", "%d labels of %d classes: want at least one label and one class", len(labels), classes))
	}
	c := autograd.Zeros(len(labels), classes+1)
	for i, y := range labels {
		switch {
		case y == NullLabel:
			c.Data[i*(classes+1)+classes] = 1
		case y >= 0 && y < classes:
			c.Data[i*(classes+1)+y] = 1
		default:
			panic(autograd.Misuse("nn.LabelContext", "labels[%d] = %d: want a class in [0, %d) or NullLabel (−1)", i, y, classes))
		}
	}
	return c
}

// NewCondVelocityMLP returns the conditional field v_θ(t, x, c) for points
// in ℝ^dim and contexts c ∈ ℝ^ctx: NewMLP([dim+1+ctx, hidden…, dim], act,
// rng), whose input row is (x, t, c) (ForwardCond). ctx 0 is
// NewVelocityMLP. TestGrad/VelocityMLP/Cond.
func NewCondVelocityMLP(dim, ctx int, hidden []int, act autograd.Activation, rng *rand.Rand) *VelocityMLP {
	return newVelocityMLP("nn.NewCondVelocityMLP", dim, ctx, 0, hidden, act, rng)
}

// NewLabelVelocityMLP returns a label-conditioned field: NewCondVelocityMLP
// with ctx = classes+1, read through LabelContext(labels, classes). It
// differs from a vector context of that width only in what it records:
// Classes() returns classes, and a checkpoint says "label:classes"
// (MetaContext), so that a program loading it knows to feed one-hot labels.
func NewLabelVelocityMLP(dim, classes int, hidden []int, act autograd.Activation, rng *rand.Rand) *VelocityMLP {
	if classes < 1 {
		panic(autograd.Misuse("nn.NewLabelVelocityMLP", "classes %d must be positive", classes))
	}
	return newVelocityMLP("nn.NewLabelVelocityMLP", dim, classes+1, classes, hidden, act, rng)
}

// ForwardCond returns v_θ(t, x, c) = MLP(Concat(x, t, c)) for t [n, 1] (or a
// scalar [1, 1] for every row), x [n, dim] and c [n, ctx] (or one row
// [1, ctx] for every row); shape [n, dim]. With it the model is an
// fm.CondVelocity (fm.CondVelocity(model.ForwardCond)). It is differentiable
// in t, x, c and the parameters (TestGrad/VelocityMLP/Cond). An
// unconditional model (Ctx() = 0) panics with a *autograd.MisuseError: call
// Forward.
func (v *VelocityMLP) ForwardCond(t, x, c *autograd.Tensor) *autograd.Tensor {
	const op = "nn.VelocityMLP.ForwardCond"
	if v.ctx == 0 {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape(), c.Shape()},
			Reason: "the model is unconditional (context width 0): call Forward(t, x), or build it with NewCondVelocityMLP"})
	}
	t = v.checkTX(op, t, x)
	if c.Cols != v.ctx || (c.Rows != x.Rows && c.Rows != 1) {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape(), c.Shape()},
			Reason: fmt.Sprintf("want c [n,%d] or [1,%d] for x [n,%d]", v.ctx, v.ctx, v.dim)})
	}
	if c.Rows != x.Rows {
		c = autograd.Expand(c, x.Rows, v.ctx)
	}
	return v.Net.Forward(autograd.Concat(x, t, c))
}
