// Command regression trains a small multilayer perceptron on noisy samples
// of y = sin(3x) with nothing but package autograd: parameters are leaves
// that require gradients, the loss is a scalar built from ops, Backward
// fills the gradients and a plain gradient-descent step (with momentum)
// updates the weights. It prints the training loss as it falls towards the
// noise floor σ² = 0.01.
//
//	go run ./examples/regression
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"

	ag "github.com/flowmatch/flowmatch/autograd"
)

func main() {
	steps := flag.Int("steps", 2000, "gradient steps")
	hidden := flag.Int("hidden", 32, "hidden units per layer")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()

	rng := rand.New(rand.NewPCG(*seed, 0))
	const n, sigma = 256, 0.1
	x := ag.Uniform(n, 1, -1, 1, rng)
	y := ag.Zeros(n, 1)
	for i, v := range x.Data {
		y.Data[i] = math.Sin(3*v) + sigma*rng.NormFloat64()
	}

	// A 1 → h → h → 1 network with tanh, PyTorch's default initialisation.
	layer := func(in, out int) (w, b *ag.Tensor) {
		bound := 1 / math.Sqrt(float64(in))
		return ag.Uniform(in, out, -bound, bound, rng).SetRequiresGrad(true),
			ag.Uniform(1, out, -bound, bound, rng).SetRequiresGrad(true)
	}
	w1, b1 := layer(1, *hidden)
	w2, b2 := layer(*hidden, *hidden)
	w3, b3 := layer(*hidden, 1)
	params := []*ag.Tensor{w1, b1, w2, b2, w3, b3}
	forward := func(x *ag.Tensor) *ag.Tensor {
		h := ag.Tanh(ag.AddRow(ag.MatMul(x, w1), b1))
		h = ag.Tanh(ag.AddRow(ag.MatMul(h, w2), b2))
		return ag.AddRow(ag.MatMul(h, w3), b3)
	}

	velocity := make([][]float64, len(params))
	for i, p := range params {
		velocity[i] = make([]float64, len(p.Data))
	}
	const lr, momentum = 0.05, 0.9
	for step := 1; step <= *steps; step++ {
		for _, p := range params {
			p.ZeroGrad()
		}
		loss := ag.Mean(ag.Square(ag.Sub(forward(x), y)))
		loss.Backward()
		for i, p := range params {
			for j, g := range p.Grad {
				velocity[i][j] = momentum*velocity[i][j] - lr*g
				p.Data[j] += velocity[i][j]
			}
		}
		if step == 1 || step%(*steps/10) == 0 {
			fmt.Printf("step %5d  mse %.5f\n", step, loss.Item())
		}
	}
	// Evaluate without recording a graph.
	test := ag.FromSlice(1, 3, []float64{-0.5, 0, 0.5})
	pred := forward(ag.Transpose(test).NoGraph())
	fmt.Printf("f(-0.5, 0, 0.5) = %.3f %.3f %.3f  (sin(3x) = %.3f %.3f %.3f)\n",
		pred.Data[0], pred.Data[1], pred.Data[2], math.Sin(-1.5), 0.0, math.Sin(1.5))
}
