package fm_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// The CondOT path moves noise x₀ to data x₁ along a straight line at
// constant speed: the field along the trajectory is x₁ − (1 − σ_min)x₀ at
// every t.
func ExampleCondOT() {
	p := fm.CondOT{SigmaMin: 0}
	x0, x1 := []float64{-1, 0}, []float64{1, 2}
	for _, t := range []float64{0, 0.5} {
		xt := fm.Flow(p, t, x0, x1)
		fmt.Printf("t=%.1f  x_t=%v  u=%v\n", t, xt, p.Field(t, xt, x1))
	}
	// Output:
	// t=0.0  x_t=[-1 0]  u=[2 2]
	// t=0.5  x_t=[0 1]  u=[2 2]
}

// The generic field of Theorem 3 agrees with each path's closed form.
func ExampleCondField() {
	p := fm.VE{SigmaMin: 0.01, SigmaMax: 10}
	x, x1 := []float64{3}, []float64{1}
	fmt.Printf("%.6f %.6f\n", fm.CondField(p, 0.3, x, x1)[0], p.Field(0.3, x, x1)[0])
	// Output:
	// -13.815511 -13.815511
}

// The marginal field of a weighted data set: near a data point at t close
// to 1 the posterior picks that point.
func ExampleEmpiricalMarginal() {
	q := &fm.Empirical{Points: [][]float64{{-1}, {1}}, Weights: []float64{1, 3}}
	m := fm.EmpiricalMarginal{Path: fm.CondOT{SigmaMin: 0.01}, Data: q}
	fmt.Printf("%.3f\n", m.Posterior(0, []float64{0})) // t = 0: the prior q
	fmt.Printf("%.3f\n", m.Posterior(0.99, []float64{0.9}))
	// Output:
	// [0.250 0.750]
	// [0.000 1.000]
}

// Exact minibatch OT pairs each noise point with a data point so that the
// total squared distance is minimal.
func ExampleAssignment() {
	cost := [][]float64{
		{4, 1, 3},
		{2, 0, 5},
		{3, 2, 2},
	}
	perm, total := fm.Assignment(cost)
	fmt.Println(perm, total)
	// Output:
	// [1 0 2] 5
}

// Train a velocity model with CFM on the CondOT path; the callback logs
// progress.
func ExampleTrain() {
	q := &fm.Empirical{Points: [][]float64{{-1, 0}, {1, 0}}}
	model := nn.NewVelocityMLP(2, []int{32}, autograd.ActSiLU, fm.NewRand(1))
	losses := fm.Train(model, fm.TrainConfig{
		Path: fm.CondOT{SigmaMin: 1e-4}, Data: q.Sample, Coupling: fm.ExactOT{},
		BatchSize: 64, Steps: 200, LR: 1e-2, Seed: 2,
		Callback: func(step int, loss float64) {
			if step%100 == 0 {
				fmt.Printf("step %d: loss below 3: %v\n", step, loss < 3)
			}
		},
	})
	fmt.Println(len(losses))
	// Output:
	// step 100: loss below 3: true
	// step 200: loss below 3: true
	// 200
}

// The CFM loss on one batch, differentiable in the model's parameters.
func ExampleCFMLoss() {
	rng := fm.NewRand(3)
	model := nn.NewVelocityMLP(2, []int{8}, autograd.ActSiLU, rng)
	x1 := autograd.FromRows([][]float64{{1, 1}, {-1, 1}})
	x0 := autograd.Normal(2, 2, 0, 1, rng)
	t := autograd.FromRows([][]float64{{0.2}, {0.7}})
	loss := fm.CFMLoss(model.Forward, fm.CondOT{}, t, x0, x1)
	loss.Backward()
	fmt.Println(loss.Rows, loss.Cols, len(model.Params()[0].Grad) > 0)
	// Output:
	// 1 1 true
}
