package autograd_test

import (
	"fmt"
	"math/rand/v2"

	ag "github.com/flowmatch/flowmatch/autograd"
)

// A training loop with an arena: the batch is made by the arena, so every
// op of the step, forward and backward, takes its memory from it; Reset at
// the end of the step hands it all back, and the next step reuses it. The
// parameter w lives on the heap. The loss is copied out (Item) before Reset.
func ExampleArena() {
	rng := rand.New(rand.NewPCG(1, 2))
	truth := ag.FromSlice(3, 1, []float64{1, -2, 0.5})
	w := ag.Zeros(3, 1).SetRequiresGrad(true) // a parameter: not the arena's
	arena := ag.NewArena()
	for step := 1; step <= 4; step++ {
		x := arena.Normal(64, 3, 0, 1, rng) // the batch: the arena's
		loss := ag.Mean(ag.Square(ag.Sub(ag.MatMul(x, w), ag.MatMul(x, truth))))
		w.ZeroGrad()
		loss.Backward()
		l := loss.Item() // copy out what you keep before Reset
		for i, g := range w.Grad {
			w.Data[i] -= 0.2 * g
		}
		arena.Reset()
		buffers, bytes := arena.Held()
		fmt.Printf("step %d: loss %.4f; the arena holds %d buffers, %d bytes\n", step, l, buffers, bytes)
	}
	// Output:
	// step 1: loss 3.1751; the arena holds 13 buffers, 5680 bytes
	// step 2: loss 3.0384; the arena holds 13 buffers, 5680 bytes
	// step 3: loss 1.2389; the arena holds 13 buffers, 5680 bytes
	// step 4: loss 0.3216; the arena holds 13 buffers, 5680 bytes
}

// A batch that already exists (a sampler's output) enters an arena by In: a
// view that shares its data, so that the ops on it take their memory from
// the arena. Reset does not touch the batch itself.
func ExampleTensor_In() {
	batch := ag.FromRows([][]float64{{1, 2}, {3, 4}}) // e.g. from a data sampler
	arena := ag.NewArena()
	arena.Poison = true // Reset fills the arena's buffers with NaN
	x := batch.In(arena)
	y := ag.Scale(x, 10)
	fmt.Println(x.Arena() == arena, y.Arena() == arena, batch.Arena() == nil)
	fmt.Println(y.Data)
	arena.Reset()
	fmt.Println(batch.Data, y.Data) // y escaped the step: NaN
	// Output:
	// true true true
	// [10 20 30 40]
	// [1 2 3 4] [NaN NaN NaN NaN]
}
