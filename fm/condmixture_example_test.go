package fm_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// The exact fields of a two-class mixture on CondOT (σ_min = 0), guided
// with fm.Guided like a trained model: at w = 1 the field is u_t(x|c), at
// w = 0 it is u_t(x), and at the midpoint x = 0 of the two classes the
// guided field points towards the requested class, w times as fast as the
// conditional one (the unconditional field is 0 there by symmetry).
func ExampleLabelledMixture() {
	m := &fm.LabelledMixture{
		Path: fm.CondOT{},
		Classes: []fm.Mixture{
			{Means: [][]float64{{-1}}, Stds: []float64{0.5}},
			{Means: [][]float64{{1}}, Stds: []float64{0.5}},
		},
	}
	t, x := autograd.Full(1, 1, 0.5), autograd.Zeros(1, 1)
	c, null := nn.LabelContext([]int{1}, 2), nn.LabelContext([]int{nn.NullLabel}, 2)
	for _, w := range []float64{0, 1, 2, 4} {
		v := fm.Guided(m.CondVelocity(), c, null, w)(t, x)
		fmt.Printf("w = %v: ṽ(0.5, 0) = %.4f\n", w, v.Data[0])
	}
	fmt.Printf("u_0.5(0|c=1) = %.4f, p(c=1|x=0.5) = %.4f\n", m.Class(1).Field(0.5, []float64{0})[0], m.BayesPosterior([]float64{0.5})[1])
	// Output:
	// w = 0: ṽ(0.5, 0) = 0.0000
	// w = 1: ṽ(0.5, 0) = 1.6000
	// w = 2: ṽ(0.5, 0) = 3.2000
	// w = 4: ṽ(0.5, 0) = 6.4000
	// u_0.5(0|c=1) = 1.6000, p(c=1|x=0.5) = 0.9820
}
