package fm_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/fm"
)

// The velocity–score identity u = a·x + b·∇log p on CondOT (σ_min = 0) at
// t = 0.5: a = α′/α = 2, b = α′σ²/α − σσ′ = 0.5 + 0.5 = 1.
func ExampleVelocityScore() {
	a, b := fm.VelocityScore(fm.CondOT{}, 0.5)
	fmt.Println(a, b)
	// Output: 2 1
}

// An ε-prediction turned into a velocity on the cosine schedule at t = 0.5,
// where α = σ = √½ and α′ = −σ′ = (π/2)√½: x̂₁ = (x − σx̂₀)/α = 0.9142 and
// u = α′x̂₁ + σ′x̂₀ = 1.1107·(0.9142 − 0.5).
func ExampleConvert() {
	x, eps := []float64{1}, []float64{0.5}
	u := fm.Convert(fm.Cosine{}, 0.5, fm.ParamNoise, fm.ParamVelocity, x, eps)
	fmt.Printf("%.4f\n", u[0])
	// Output: 0.4601
}

// The times of CondOT with the same signal-to-noise ratio as the cosine
// schedule: at r = 0.5 both have α = σ, so t_r = 0.5 and s_r = √2·σ^cos.
func ExampleScheduleChange_Map() {
	t, s, _, _ := fm.ScheduleChange{From: fm.CondOT{}, To: fm.Cosine{}}.Map(0.5)
	fmt.Printf("t = %.4f, s = %.4f\n", t, s)
	// Output: t = 0.5000, s = 1.4142
}

// Sampling a two-point mixture by Euler–Maruyama with g = 1 from the exact
// field: the samples' mean is near the data mean 0.
func ExampleSampleSDE() {
	q := &fm.Mixture{Means: [][]float64{{-1}, {1}}, Stds: []float64{0.2, 0.2}}
	m := fm.MixtureMarginal{Path: fm.CondOT{}, Data: q}
	rng := fm.NewRand(1)
	x, err := fm.SampleSDE(mixtureVelocity(m), m.Path, func(float64) float64 { return 1 }, fm.SampleSource(m.Path, 2000, 1, rng), 200, rng)
	if err != nil {
		panic(err)
	}
	mean := 0.0
	for _, v := range x.Data {
		mean += v / 2000
	}
	fmt.Printf("|mean| < 0.1: %v\n", mean > -0.1 && mean < 0.1)
	// Output: |mean| < 0.1: true
}
