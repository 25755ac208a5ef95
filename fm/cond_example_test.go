package fm_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// The label-dropout batch: each row's context becomes the null context ∅
// with probability p, independently.
func ExampleDropContext() {
	c := nn.LabelContext([]int{0, 1, 2, 0, 1, 2, 0, 1}, 3)
	null := nn.LabelContext([]int{nn.NullLabel}, 3)
	d := fm.DropContext(c, null, 0.5, rand.New(rand.NewPCG(1, 2)))
	for i := range d.Rows {
		fmt.Print(d.Row(i), " ")
	}
	fmt.Println()
	// Output:
	// [1 0 0 0] [0 0 0 1] [0 0 1 0] [0 0 0 1] [0 1 0 0] [0 0 0 1] [1 0 0 0] [0 0 0 1]
}

// A label-conditioned flow on two classes of 1-D data, N(−2, 0.5²) and
// N(2, 0.5²), trained with label dropout 0.2, then sampled class by class
// with the guided field at w = 1 (the conditional field).
func ExampleTrain_conditional() {
	data := func(n int, rng *rand.Rand) (x1, c *autograd.Tensor) {
		x1 = autograd.Zeros(n, 1)
		labels := make([]int, n)
		for i := range labels {
			labels[i] = rng.IntN(2)
			x1.Data[i] = 4*float64(labels[i]) - 2 + 0.5*rng.NormFloat64()
		}
		return x1, nn.LabelContext(labels, 2)
	}
	model := nn.NewLabelVelocityMLP(1, 2, []int{32, 32}, autograd.ActSiLU, rand.New(rand.NewPCG(1, 2)))
	null := nn.LabelContext([]int{nn.NullLabel}, 2)
	_, err := fm.Train(model, fm.TrainConfig{Path: fm.CondOT{}, Cond: data, CondDrop: 0.2, Null: null,
		BatchSize: 128, Steps: 400, LR: 3e-3, Seed: 1, Fused: true})
	if err != nil {
		panic(err)
	}
	for class := range 2 {
		v := fm.Guided(model.Frozen().ForwardCond, nn.LabelContext([]int{class}, 2), null, 1)
		x, err := fm.Sample(v, fm.CondOT{}, 1000, 1, rand.New(rand.NewPCG(3, 4)), cnf.SolveOptions{Method: cnf.RK4, Steps: 20})
		if err != nil {
			panic(err)
		}
		mean, side := 0.0, 0.0
		for _, v := range x.Data {
			mean += v / float64(x.Rows)
			if (v > 0) == (class == 1) {
				side += 1 / float64(x.Rows)
			}
		}
		fmt.Printf("class %d: mean %.0f, on its side %.2f\n", class, mean, side)
	}
	// Output:
	// class 0: mean -2, on its side 1.00
	// class 1: mean 2, on its side 1.00
}
