package discrete

import (
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/require"
)

// TestPosteriorMLP_Shapes checks that PosteriorMLP returns logits
// [n, D·V], that Probs gives each position a distribution, and that a
// position's logits depend on another position's token (the model is a
// posterior given the whole state). Negative control: changing a token at
// position 0 changes the logits of position 1.
func TestPosteriorMLP_Shapes(t *testing.T) {
	p := Path{Sched: Linear{}, Source: Mask, V: 5, D: 3}
	m := NewPosteriorMLP(p, 4, []int{16}, autograd.ActSiLU, newRNG(4))
	x := [][]int{{0, 1, 5}, {5, 1, 5}}
	tt := autograd.FromSlice(2, 1, []float64{0.5, 0.5})
	l := m.Forward(tt, x)
	require.Equal(t, [2]int{2, 15}, l.Shape())
	same := true
	for y := 0; y < p.V; y++ {
		if l.At(0, p.V+y) != l.At(1, p.V+y) {
			same = false
		}
	}
	require.False(t, same, "position 1's logits must depend on position 0's token")
	for _, row := range Probs(m, p, []float64{0.5, 0.5}, x) {
		for i := 0; i < p.D; i++ {
			s := 0.0
			for _, v := range row[i*p.V : (i+1)*p.V] {
				s += v
			}
			require.InDelta(t, 1, s, 1e-14)
		}
	}
}
