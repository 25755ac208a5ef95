package metrics_test

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/metrics"
)

func ExampleAssign() {
	cost := []float64{
		4, 1, 3,
		2, 0, 5,
		3, 2, 2,
	}
	perm, total, _ := metrics.Assign(3, cost)
	fmt.Println(perm, total)
	// Output: [1 0 2] 5
}

func ExampleW2Squared() {
	x := autograd.FromSlice(2, 2, []float64{0, 0, 1, 0})
	y := autograd.FromSlice(2, 2, []float64{1, 1, 0, 1}) // x shifted by (0, 1), reordered
	w, _ := metrics.W2Squared(x, y)
	fmt.Println(w)
	// Output: 1
}

func ExampleMeanStdErr() {
	nll := []float64{2.9, 3.1, 2.8, 3.2}
	m, se := metrics.MeanStdErr(nll)
	fmt.Printf("NLL = %.2f ± %.3f nats\n", m, se)
	// Output: NLL = 3.00 ± 0.091 nats
}

func ExamplePathEnergy() {
	// One point moving along a quarter circle of radius 1 in 2 steps.
	traj := []*autograd.Tensor{
		autograd.FromSlice(1, 2, []float64{1, 0}),
		autograd.FromSlice(1, 2, []float64{math.Sqrt2 / 2, math.Sqrt2 / 2}),
		autograd.FromSlice(1, 2, []float64{0, 1}),
	}
	e, gap, _ := metrics.PathEnergy(traj, []float64{0, 0.5, 1})
	fmt.Printf("energy %.4f, straightness gap %.4f\n", e, gap)
	// Output: energy 2.3431, straightness gap 0.3431
}
