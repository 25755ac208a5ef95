package fm

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

// DropContext returns the label-dropout batch of classifier-free guidance
// (Ho & Salimans 2022, arXiv:2207.12598, Algorithm 1, "randomly discard
// conditioning to train unconditionally"): a copy of the contexts c [n, k]
// in which each row, independently with probability p, is replaced by the
// null context null [1, k],
//
//	c̃ᵢ = null  if Uᵢ < p,   c̃ᵢ = cᵢ  otherwise,   Uᵢ ~ U[0, 1) i.i.d.,
//
// drawing exactly n uniforms from rng, in row order. Trained on c̃, one
// model learns v(t, x, c) on the kept rows and the unconditional field
// v(t, x, ∅) on the dropped ones. The result records no graph.
// TestDropContext_Rate checks the dropped fraction against p. A nil rng, p
// outside [0, 1] or a null that is not [1, k] panic with a
// *autograd.MisuseError.
func DropContext(c, null *autograd.Tensor, p float64, rng *rand.Rand) *autograd.Tensor {
	if c == nil || null == nil || rng == nil || null.Shape() != [2]int{1, c.Cols} || !(p >= 0 && p <= 1) {
		var shapes [][2]int
		if c != nil && null != nil {
			shapes = [][2]int{c.Shape(), null.Shape()}
		}
		panic(&autograd.MisuseError{Op: "fm.DropContext", Shapes: shapes,
			Reason: "want contexts c [n,k], a null context [1,k], a probability p in [0, 1] and an rng"})
	}
	out := c.Clone()
	k := c.Cols
	for i := range c.Rows {
		if rng.Float64() < p {
			copy(out.Data[i*k:(i+1)*k], null.Data)
		}
	}
	return out
}
