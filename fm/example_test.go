package fm_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
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

// Train a velocity model with CFM on the CondOT path, on the fused step
// (SiLU and tanh models have one); the callback logs progress.
func ExampleTrain() {
	q := &fm.Empirical{Points: [][]float64{{-1, 0}, {1, 0}}}
	model := nn.NewVelocityMLP(2, []int{32}, autograd.ActSiLU, fm.NewRand(1))
	losses, err := fm.Train(model, fm.TrainConfig{
		Path: fm.CondOT{SigmaMin: 1e-4}, Data: q.Sample, Coupling: fm.ExactOT{},
		BatchSize: 64, Steps: 200, LR: 1e-2, Seed: 2, Fused: true,
		Callback: func(step int, loss float64) {
			if step%100 == 0 {
				fmt.Printf("step %d: loss below 3: %v\n", step, loss < 3)
			}
		},
	})
	fmt.Println(len(losses), err)
	// Output:
	// step 100: loss below 3: true
	// step 200: loss below 3: true
	// 200 <nil>
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

// The variance-exploding path keeps the mean at the data point and shrinks
// the noise geometrically from σ_max at t = 0 to σ_min at t = 1; samplers
// start from N(0, σ_max² I).
func ExampleVE() {
	p := fm.VE{SigmaMin: 0.01, SigmaMax: 10}
	x1 := []float64{1}
	for _, t := range []float64{0, 0.5, 1} {
		mu, _ := p.Mean(t, x1)
		s, _ := p.Std(t, x1)
		fmt.Printf("t=%.1f  μ=%v  σ=%.4g  u(x=2)=%.4g\n", t, mu, s, p.Field(t, []float64{2}, x1)[0])
	}
	fmt.Println("source std:", p.SourceStd())
	// Output:
	// t=0.0  μ=[1]  σ=10  u(x=2)=-6.908
	// t=0.5  μ=[1]  σ=0.3162  u(x=2)=-6.908
	// t=1.0  μ=[1]  σ=0.01  u(x=2)=-6.908
	// source std: 10
}

// The variance-preserving path scales the data by a_t = α(1 − t) and keeps
// a_t² + σ_t² = 1. At t = 1, σ₁ = 0 and σ′₁ = −∞, but σσ′ is finite.
func ExampleVP() {
	p := fm.VP{} // β from 0.1 to 20
	for _, t := range []float64{0, 0.5, 1} {
		a, _, s, _ := p.Schedule(t)
		fmt.Printf("t=%.1f  a=%.4f  σ=%.4f  a²+σ²=%.1f\n", t, a, s, a*a+s*s)
	}
	fmt.Printf("σσ′ at t=1: %.3f\n", p.SigmaDSigma(1))
	// Output:
	// t=0.0  a=0.0066  σ=1.0000  a²+σ²=1.0
	// t=0.5  a=0.2812  σ=0.9597  a²+σ²=1.0
	// t=1.0  a=1.0000  σ=0.0000  a²+σ²=1.0
	// σσ′ at t=1: -0.050
}

// The Flow Matching loss regresses the model on the exact marginal field.
// A model equal to the marginal field has loss 0; the zero field has loss
// E‖u_t(x)‖².
func ExampleFMLoss() {
	q := &fm.Empirical{Points: [][]float64{{1, 1}, {-1, 1}}}
	m := fm.EmpiricalMarginal{Path: fm.CondOT{SigmaMin: 0.01}, Data: q}
	t := autograd.FromRows([][]float64{{0.25}, {0.75}})
	x := autograd.FromRows([][]float64{{0.5, 0}, {-0.5, 0.5}})
	exact := func(t, x *autograd.Tensor) *autograd.Tensor { return fm.MarginalFieldBatch(m, t, x) }
	zero := func(_, x *autograd.Tensor) *autograd.Tensor { return autograd.Zeros(x.Rows, x.Cols) }
	fmt.Printf("exact field: %.4f\n", fm.FMLoss(exact, m, t, x).Item())
	fmt.Printf("zero field:  %.4f\n", fm.FMLoss(zero, m, t, x).Item())
	// Output:
	// exact field: 0.0000
	// zero field:  4.7971
}

// The marginal path of a Gaussian mixture under an affine path is again a
// Gaussian mixture, with a closed-form field; under VP it is finite even
// at t = 1, where p₁ is the mixture itself: log p₁(1) = log ½ + log N(1; 2,
// 0.25) = −2.9189, and u₁(1) = (−β_min/2 + (β_min/2)s²)/s²·(1 − 2) +
// (β_min/2)·2 = 0.25 with β_min/2 = 0.05, s² = 0.25.
func ExampleMixtureMarginal() {
	q := &fm.Mixture{Means: [][]float64{{-2}, {2}}, Stds: []float64{0.5, 0.5}}
	m := fm.MixtureMarginal{Path: fm.VP{}, Data: q}
	for _, t := range []float64{0, 0.5, 1} {
		fmt.Printf("t=%.1f  log p_t(1)=%.4f  u_t(1)=%.4f\n", t, m.LogProb(t, []float64{1}), m.Field(t, []float64{1})[0])
	}
	// Output:
	// t=0.0  log p_t(1)=-1.4189  u_t(1)=0.0014
	// t=0.5  log p_t(1)=-1.4190  u_t(1)=1.2919
	// t=1.0  log p_t(1)=-2.9189  u_t(1)=0.2500
}

// Entropic OT: Sinkhorn's plan between two pairs of points (uniform
// marginals) puts most mass on the cheap pairs 0↔1 and 1↔0, and more on
// the others as ε grows: the diagonal p solves p²/(½ − p)² =
// exp(−(C₀₀ + C₁₁ − C₀₁ − C₁₀)/ε) = e^{−8/ε}, p = 0.0090 at ε = 1. SinkhornOT draws its pairs from such a plan on the
// costs scaled to a largest cost of 1; with Reg = 0.05 the pairs are here
// those of exact OT.
func ExampleSinkhornOT() {
	x0 := autograd.FromRows([][]float64{{0, 0}, {2, 0}})
	x1 := autograd.FromRows([][]float64{{2.1, 0}, {0.1, 0}})
	cost := fm.SquaredDistances(x0, x1)
	half := []float64{0.5, 0.5}
	for _, eps := range []float64{1, 4} {
		res, err := fm.Sinkhorn(cost, half, half, eps, 1e-9, 1000)
		fmt.Printf("ε = %v: %.4f after %d sweeps, %d Newton steps (%v)\n", eps, res.Plan, res.Sweeps, res.NewtonSteps, err)
	}
	a, b, err := fm.SinkhornOT{Reg: 0.05}.Pair(x0, x1, fm.NewRand(1))
	fmt.Println(a.Data, b.Data, err)
	// Output:
	// ε = 1: [[0.0090 0.4910] [0.4910 0.0090]] after 100 sweeps, 1 Newton steps (<nil>)
	// ε = 4: [[0.1345 0.3655] [0.3655 0.1345]] after 12 sweeps, 0 Newton steps (<nil>)
	// [2 0 0 0] [2.1 0 0.1 0] <nil>
}

// Reflow (Liu et al. 2022): the teacher's flow, here a rotation by one
// radian that moves points along arcs, is distilled into a student trained
// on the pairs (x₀, Φ₁(x₀)); the student's paths are straighter. The
// teacher's straightness is E‖x₀‖²·(1 − (2 − 2 cos 1)) ≈ 0.08·E‖x₀‖².
func ExampleReflow() {
	rot := func(_, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			out.Data[2*i], out.Data[2*i+1] = -x.At(i, 1), x.At(i, 0)
		}
		return out
	}
	student := nn.NewVelocityMLP(2, []int{32}, autograd.ActTanh, fm.NewRand(4))
	losses, err := fm.Reflow(rot, student, fm.TrainConfig{Path: fm.CondOT{}, BatchSize: 128, Steps: 300, LR: 1e-2, Seed: 5, Fused: true},
		1024, 2, cnf.SolveOptions{Method: cnf.RK4, Steps: 20})
	fmt.Println(len(losses), err)
	x0 := autograd.Normal(500, 2, 0, 1, fm.NewRand(6))
	teacher, _, _ := fm.MeasurePaths(rot, x0, 20)
	reflowed, _, _ := fm.MeasurePaths(student.Frozen().Forward, x0, 20)
	fmt.Printf("straightness: teacher %.2f, student below a tenth of it: %v\n", teacher.Straightness, reflowed.Straightness < teacher.Straightness/10)
	// Output:
	// 300 <nil>
	// straightness: teacher 0.17, student below a tenth of it: true
}

// Sample draws from a model in one call: source noise N(0, s² I) of the
// path, pushed through dx/dt = v(t, x) from t = 0 to 1. A Velocity may be
// any function; here the constant field v = (3, 0) shifts the source.
func ExampleSample() {
	v := func(_, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			out.Data[2*i] = 3
		}
		return out
	}
	x1, err := fm.Sample(v, fm.CondOT{}, 10000, 2, fm.NewRand(7), cnf.SolveOptions{Method: cnf.RK4, Steps: 10})
	mean := []float64{0, 0}
	for i := 0; i < x1.Rows; i++ {
		mean[0] += x1.At(i, 0) / float64(x1.Rows)
		mean[1] += x1.At(i, 1) / float64(x1.Rows)
	}
	fmt.Printf("%v %.1f %v\n", x1.Shape(), mean, err)
	// Output:
	// [10000 2] [3.0 0.0] <nil>
}
