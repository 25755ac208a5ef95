//go:build !exercises

package exercises

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
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
const NullLabel = nn.NullLabel

// DropLabels returns fm.DropContext applied to the one-hot rows of labels
// (nn.LabelContext, with one class more than the largest label), read back
// as labels: each label is replaced by NullLabel when its uniform
// u = rng.Float64(), drawn in order, is below p.
func DropLabels(labels []int, p float64, rng *rand.Rand) []int {
	k := 1
	for _, y := range labels {
		k = max(k, y+1)
	}
	c := fm.DropContext(nn.LabelContext(labels, k), nn.LabelContext([]int{nn.NullLabel}, k), p, rng)
	out := make([]int, len(labels))
	for i := range out {
		row := c.Row(i)
		for j, v := range row {
			if v == 1 {
				out[i] = j
			}
		}
		if out[i] == k {
			out[i] = NullLabel
		}
	}
	return out
}
