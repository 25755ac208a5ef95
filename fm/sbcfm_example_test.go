package fm_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

// SB-CFM with σ = 0.3: the entropic plan with ε = 2σ² = 0.18 on squared
// distances, and the Brownian bridge N(t x₁ + (1 − t) x₀, σ² t(1 − t) I).
// On two points the plan is [p, ½ − p; ½ − p, p] with
// p/(½ − p) = exp((C₀₁ + C₁₀ − C₀₀ − C₁₁)/(2ε)) = e^{5.556}: p = 0.498.
func ExampleSBCFM() {
	c, bridge := fm.SBCFM(0.3)
	s := c.(fm.SinkhornOT)
	fmt.Printf("ε = %.2f, absolute: %v\n", s.Reg, s.Absolute)
	x0 := autograd.FromSlice(2, 1, []float64{0, 1})
	x1 := autograd.FromSlice(2, 1, []float64{0.1, 1.1})
	plan, err := s.Plan(x0, x1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("plan: [%.3f %.3f; %.3f %.3f]\n", plan[0][0], plan[0][1], plan[1][0], plan[1][1])
	g, _ := bridge.Gamma(0.5)
	fmt.Printf("bridge std at t = ½: %.2f\n", g)
	c0, _ := fm.SBCFM(0)
	fmt.Printf("σ = 0: %T\n", c0)
	// Output:
	// ε = 0.18, absolute: true
	// plan: [0.498 0.002; 0.002 0.498]
	// bridge std at t = ½: 0.15
	// σ = 0: fm.ExactOT
}

// Where a data prediction on CondOT (σ_min = 0) turns into a velocity:
// everywhere but t = 1, where σ₁ = 0; the noise, everywhere but t = 0.
func ExampleParamTimes() {
	for _, q := range []fm.Param{fm.ParamVelocity, fm.ParamData, fm.ParamNoise} {
		lo, hi := fm.ParamTimes(fm.CondOT{}, q, 1e-3)
		fmt.Printf("%-8v [%g, %g]\n", q, lo, hi)
	}
	// Output:
	// velocity [0, 1]
	// data     [0, 0.999]
	// noise    [0.001, 1]
}
