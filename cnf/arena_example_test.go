package cnf_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// ExampleArenaField solves dx/dt = −x by Euler with 2 steps, x(1) =
// (1 − ½)²·x(0), evaluating the field in an arena: the field sees its input
// in the arena at every evaluation, and the result is on the heap.
func ExampleArenaField() {
	a := autograd.NewArena()
	inArena := 0
	f := func(t float64, x *autograd.Tensor) *autograd.Tensor {
		if x.Arena() == a {
			inArena++
		}
		return autograd.Scale(x, -1)
	}
	x0 := autograd.FromSlice(1, 2, []float64{1, 2})
	x, st, err := cnf.Integrate(cnf.ArenaField(f, a), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.Euler, Steps: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(x.Data, "evaluations:", st.NFE, "in the arena:", inArena, "result on the heap:", x.Arena() == nil)
	// Output: [0.25 0.5] evaluations: 2 in the arena: 2 result on the heap: true
}
