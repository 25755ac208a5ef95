package fm

import (
	"github.com/flowmatch/flowmatch/autograd"
)

// CondVelocity is a conditional model field v(t, x, c): time t [n, 1] (or a
// scalar [1, 1] for every row), points x [n, d] and a context c [n, k] (or
// one row [1, k] for every row). A context is a real vector, such as an
// observation, or the one-hot row of a class label, in which case the
// model's first layer holds the label's embedding (nn.LabelContext).
type CondVelocity func(t, x, c *autograd.Tensor) *autograd.Tensor

// Guided returns the classifier-free guided field (Ho & Salimans 2022,
// arXiv:2207.12598, eq. 6 written for velocities)
//
//	ṽ(t, x) = (1 − w)·v(t, x, ∅) + w·v(t, x, c),
//
// with c the context and null the context ∅ that the model was trained to
// read as "no condition" (label dropout). The convention is the one of
// Meta's flow_matching: w = 1 is the conditional field, w = 0 the
// unconditional one, w > 1 guides past the condition. Ho & Salimans write
// the same field with their weight w_HS = w − 1.
//
// For an affine Gaussian path the marginal field is linear in the score,
// u_t(x) = a_t·x + b_t·∇log p_t(x) (VelocityScore), with coefficients that
// do not depend on the data, so the same holds class by class. Guiding the
// fields with exact fields is therefore guiding the scores,
// w·∇log p_t(x|c) + (1 − w)·∇log p_t(x): TestGuided_ExactFieldIsGuidedScore.
//
// At w = 0 or w = 1 only one of the two fields is evaluated. c and null are
// used as given: each is one row [1, k] or one row per point [n, k].
func Guided(v CondVelocity, c, null *autograd.Tensor, w float64) Velocity {
	switch w {
	case 1:
		return func(t, x *autograd.Tensor) *autograd.Tensor { return v(t, x, c) }
	case 0:
		return func(t, x *autograd.Tensor) *autograd.Tensor { return v(t, x, null) }
	}
	return func(t, x *autograd.Tensor) *autograd.Tensor {
		return autograd.Add(autograd.Scale(v(t, x, null), 1-w), autograd.Scale(v(t, x, c), w))
	}
}
