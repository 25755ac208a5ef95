package discrete_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/fm/discrete"
)

// ExampleRate turns a posterior into the CTMC rate of the mixture path:
// with the linear κ at t = 0.5, κ̇/(1 − κ) = 2, and a posterior
// p(x₁ = ·|x) = (0.5, 0.25, 0.25) at a position holding token 0, the
// rates of the jumps to 1 and 2 are 2·0.25 = 0.5 each, and the diagonal
// is their negated sum.
func ExampleRate() {
	p := discrete.Path{Sched: discrete.Linear{}, Source: discrete.Uniform, V: 3, D: 1}
	u := make([]float64, 3)
	discrete.Rate(u, p, 0.5, []int{0}, []float64{0.5, 0.25, 0.25})
	fmt.Println(u)
	// Output: [-1 0.5 0.5]
}

// ExamplePath_CondProb evaluates the mixture path p_t(x|x₁) with the mask
// source: at κ = 0.25, a token is still masked with probability 0.75.
func ExamplePath_CondProb() {
	p := discrete.Path{Sched: discrete.Polynomial{N: 2}, Source: discrete.Mask, V: 4, D: 2}
	const mask = 4
	x1 := []int{2, 3}
	fmt.Printf("%.4f %.4f %.4f\n",
		p.CondProb(0.5, []int{2, 3}, x1),       // κ² = 0.0625
		p.CondProb(0.5, []int{mask, mask}, x1), // (1 − κ)² = 0.5625
		p.CondProb(0.5, []int{1, mask}, x1))    // a wrong token: 0
	// Output: 0.0625 0.5625 0.0000
}
