package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

func ExampleNewTrainStep() {
	// One fused, allocation-free training step of v_θ(t, x) towards targets
	// u: the same loss and gradients as the autograd graph would give.
	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActSiLU, rng)
	step, err := nn.NewTrainStep(m, 4)
	if err != nil {
		panic(err)
	}
	xt := []float64{0, 0, 1, 1, -1, 0.5, 2, -2}
	t := []float64{0.1, 0.4, 0.7, 0.9}
	u := []float64{1, 0, 0, 1, -1, -1, 0.5, 0.5}
	loss := step.LossGrad(t, xt, u)
	v := m.Forward(autograd.FromSlice(4, 1, t), autograd.FromSlice(4, 2, xt))
	want := autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(v, autograd.FromSlice(4, 2, u)))))
	fmt.Println(math.Abs(loss-want.Item()) < 1e-12)
	// Output: true
}

func ExampleNewEvaluator() {
	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewVelocityMLP(2, []int{16}, autograd.ActTanh, rng)
	e, err := nn.NewEvaluator(m, 128)
	if err != nil {
		panic(err)
	}
	x := []float64{0.5, -0.5}
	v, div := make([]float64, 2), make([]float64, 1)
	e.EvalDiv(v, div, 0.3, x) // v_θ(x, 0.3) and its divergence, no graph
	ref := m.Forward(autograd.Scalar(0.3), autograd.FromSlice(1, 2, x).NoGraph())
	fmt.Println(e.Dim(), v[0] == ref.Data[0], v[1] == ref.Data[1])
	// Output: 2 true true
}

func ExampleSetThreads() {
	nn.SetThreads(2) // matrix products of the fused paths use both cores
	defer nn.SetThreads(1)
	fmt.Println("results do not depend on the thread count")
	// Output: results do not depend on the thread count
}
