//go:build !exercises

package exercises

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// GuidedField returns (1 − w)·vNull + w·vCond: fm.Guided applied to the
// model whose field is vCond for the context [1] and vNull for the null
// context [0].
func GuidedField(vNull, vCond []float64, w float64) []float64 {
	d := len(vCond)
	v := func(_, _, c *autograd.Tensor) *autograd.Tensor {
		if c.Data[0] == 1 {
			return autograd.FromSlice(1, d, append([]float64(nil), vCond...))
		}
		return autograd.FromSlice(1, d, append([]float64(nil), vNull...))
	}
	return fm.Guided(v, autograd.Scalar(1), autograd.Scalar(0), w)(autograd.Scalar(0), autograd.Zeros(1, d)).Data
}

// NullLabel is the null label ∅ (nn.NullLabel).
const NullLabel = -1

// DropLabels returns a copy of labels in which each label is replaced by
// NullLabel when its uniform u = rng.Float64(), drawn in order, is below p.
func DropLabels(labels []int, p float64, rng *rand.Rand) []int {
	out := append([]int(nil), labels...)
	for i := range out {
		if rng.Float64() < p {
			out[i] = NullLabel
		}
	}
	return out
}
