package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// A class label is a one-hot context row of width classes+1; the last
// column is the null label ∅ of classifier-free guidance. A model of 3
// classes on ℝ² reads rows (x, t, c) of width 2 + 1 + 4 = 7, and the four
// rows of its first weight that multiply c are its label-embedding table.
func ExampleLabelContext() {
	c := nn.LabelContext([]int{2, 0, nn.NullLabel}, 3)
	for i := range c.Rows {
		fmt.Println(c.Row(i))
	}
	m := nn.NewLabelVelocityMLP(2, 3, []int{16}, autograd.ActSiLU, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(m.Ctx(), m.Classes(), m.Net.Sizes())
	v := m.ForwardCond(autograd.Scalar(0.5), autograd.Zeros(3, 2), c) // one row per label
	fmt.Println(v.Shape())
	// Output:
	// [0 0 1 0]
	// [1 0 0 0]
	// [0 0 0 1]
	// 4 3 [7 16 2]
	// [3 2]
}
