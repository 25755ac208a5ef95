package cnf_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/nn"
)

// Integrate dx/dt = −x from x(0) = 1 to t = 1 (exactly e⁻¹) with RK4 in 10
// steps, then back again.
func ExampleIntegrate() {
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Neg(x) }
	x0 := autograd.FromRows([][]float64{{1}}).NoGraph()
	x1, st, err := cnf.Integrate(f, x0, 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: 10})
	if err != nil {
		panic(err)
	}
	fmt.Printf("x(1) = %.8f (e⁻¹ = %.8f), NFE %d\n", x1.Item(), math.Exp(-1), st.NFE)
	back, _, _ := cnf.Integrate(f, x1, 1, 0, cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	fmt.Printf("back to x(0) = %.8f = e·x(1): RK4's error at t = 1, carried back\n", back.Item())
	// Output:
	// x(1) = 0.36787977 (e⁻¹ = 0.36787944), NFE 40
	// back to x(0) = 1.00000091 = e·x(1): RK4's error at t = 1, carried back
}

// Sample pushes noise through a field from t = 0 to t = 1 with no tape:
// with v = x, x(1) = e·x(0).
func ExampleSample() {
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return x }
	x0 := autograd.FromRows([][]float64{{1, -2}})
	x1, st, err := cnf.Sample(f, x0, cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-9, ATol: 1e-9})
	if err != nil {
		panic(err)
	}
	fmt.Printf("x(1) = [%.6f %.6f], no graph: %v, NFE = 2 + 6·%d = %d\n", x1.At(0, 0), x1.At(0, 1), x1.IsNoGraph(), st.Accepted+st.Rejected, st.NFE)
	// Output:
	// x(1) = [2.718282 -5.436564], no graph: true, NFE = 2 + 6·17 = 104
}

// The field v = −x/2 + (0, 1) on ℝ² pushes N(0, I) at t = 0 to
// N((0, 2(1 − e^{−½})), e^{−1}·I) at t = 1; LogLikelihood over Flow
// Matching's interval, data at t = 1 back to noise at t = 0, recovers its
// log-density at the mean, −log(2π·e⁻¹) = −0.837877, and the point of the
// base the mean came from, 0.
func ExampleLogLikelihood() {
	shift := autograd.FromRows([][]float64{{0, 1}})
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.AddRow(autograd.Scale(x, -0.5), shift)
	}
	x1 := autograd.FromRows([][]float64{{0, 2 * (1 - math.Exp(-0.5))}})
	lk, _, err := cnf.LogLikelihood(f, x1.NoGraph(), 1, 0, cnf.StandardNormalLogProb, nil,
		cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	if err != nil {
		panic(err)
	}
	fmt.Printf("log p₁ = %.6f, closed form %.6f\n", lk.LogP1.Item(), -math.Log(2*math.Pi*math.Exp(-1)))
	fmt.Printf("x(0) = 0 within 1e-8: %v, log p₀(x(0)) = %.6f\n", math.Hypot(lk.X0.At(0, 0), lk.X0.At(0, 1)) < 1e-8, lk.LogP0.Item())
	// Output:
	// log p₁ = -0.837877, closed form -0.837877
	// x(0) = 0 within 1e-8: true, log p₀(x(0)) = -1.837877
}

// SampleWithLogLikelihood draws x(1) and its log-density in one solve from
// noise at t = 0 to t = 1. With v = x/2, x(1) = e^{½}·x₀ and
// log p₁(x(1)) = log p₀(x₀) − 1 (the divergence is 1 for one unit of time).
func ExampleSampleWithLogLikelihood() {
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Scale(x, 0.5) }
	x0 := autograd.FromRows([][]float64{{1, 0}})
	lk, _, err := cnf.SampleWithLogLikelihood(f, x0, 0, 1, cnf.StandardNormalLogProb, nil,
		cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	if err != nil {
		panic(err)
	}
	fmt.Printf("x(1) = [%.6f %.6f], e^½ = %.6f\n", lk.X1.At(0, 0), lk.X1.At(0, 1), math.Exp(0.5))
	fmt.Printf("log p₁ − log p₀ = %.6f\n", lk.LogP1.Item()-lk.LogP0.Item())
	// Output:
	// x(1) = [1.648721 0.000000], e^½ = 1.648721
	// log p₁ − log p₀ = -1.000000
}

// The divergence of v(x) = (x₀², x₀·x₁) is 2x₀ + x₀ = 3x₀.
func ExampleExactDivergence() {
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		x0, x1 := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
		return autograd.Concat(autograd.Square(x0), autograd.Mul(x0, x1))
	}
	x := autograd.FromRows([][]float64{{1, 5}, {-2, 3}})
	_, div := cnf.ExactDivergence(f, 0, x.NoGraph())
	fmt.Println(div.Data)
	// Output:
	// [3 -6]
}

// Hutchinson's estimator of div v = tr A for v = A·x with A = [[1, 2], [3, 4]]:
// with a Rademacher probe ε, εᵀAε = tr A + (2 + 3)·ε₁ε₂, so one estimate is
// 5 ± 5 (10 or 0) and the mean of 10,000 independent rows is 5 within a few
// standard errors 5/√10000 = 0.05. The exact divergence costs d = 2
// backward passes, one probe 1.
func ExampleHutchinson() {
	a := autograd.FromRows([][]float64{{1, 2}, {3, 4}})
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.MatMulNT(x, a) }
	x := autograd.Zeros(10000, 2) // v is linear: the point does not matter
	div := cnf.Hutchinson(cnf.Rademacher, 1, rand.New(rand.NewPCG(1, 2)), false)
	_, est := div(f, 0, x.NoGraph())
	values := map[float64]bool{}
	mean := 0.0
	for _, v := range est.Data {
		values[v] = true
		mean += v / float64(est.Rows)
	}
	fmt.Printf("one-probe estimates take the values 0 and 10: %v\n", len(values) == 2 && values[0] && values[10])
	fmt.Printf("mean of %d estimates = %.2f (tr A = 5)\n", est.Rows, mean)
	// Output:
	// one-probe estimates take the values 0 and 10: true
	// mean of 10000 estimates = 5.00 (tr A = 5)
}

// MaxLikelihoodLoss fits a CNF by maximum likelihood through the solver.
// For v = θ·x in 1-D, x(0) = e^{−θ}·x(1) and the model is N(0, e^{2θ}), so
// on data {1, 2}
//
//	L(θ) = −mean log p₁ = ½·e^{−2θ}·mean(x²) + ½·log 2π + θ,
//	L′(θ) = 1 − e^{−2θ}·mean(x²),
//
// minimized at θ* = ½·log 2.5 = 0.458145. At θ = 0: L = 2.168939 and
// L′ = −1.5, here by backpropagation through 20 RK4 steps.
func ExampleMaxLikelihoodLoss() {
	theta := autograd.Scalar(0).SetRequiresGrad(true)
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.Mul(x, autograd.Expand(theta, x.Rows, x.Cols))
	}
	data := autograd.FromRows([][]float64{{1}, {2}})
	opts := cnf.SolveOptions{Method: cnf.RK4, Steps: 20}
	loss, _, err := cnf.MaxLikelihoodLoss(f, data, cnf.StandardNormalLogProb, nil, opts)
	if err != nil {
		panic(err)
	}
	loss.Backward()
	fmt.Printf("θ = 0: L = %.6f, ∂L/∂θ = %.6f\n", loss.Item(), theta.Grad[0])
	for range 200 { // plain gradient descent
		theta.Data[0] -= 0.2 * theta.Grad[0]
		theta.ZeroGrad()
		loss, _, err = cnf.MaxLikelihoodLoss(f, data, cnf.StandardNormalLogProb, nil, opts)
		if err != nil {
			panic(err)
		}
		loss.Backward()
	}
	fmt.Printf("after 200 steps: θ = %.6f (θ* = %.6f)\n", theta.Data[0], 0.5*math.Log(2.5))
	// Output:
	// θ = 0: L = 2.168939, ∂L/∂θ = -1.500000
	// after 200 steps: θ = 0.458145 (θ* = 0.458145)
}

// A planar layer with wᵀu = −3 is made invertible by the reparametrization
// û, for which wᵀû = −1 + softplus(−3) > −1; inverting undoes it.
func ExamplePlanar() {
	p := &cnf.Planar{
		W: autograd.FromRows([][]float64{{1, 0}}),
		U: autograd.FromRows([][]float64{{-3, 1}}),
		B: autograd.Scalar(0),
	}
	uh := p.UHat()
	fmt.Printf("wᵀû = %.4f\n", uh.At(0, 0))
	z := autograd.FromRows([][]float64{{0.5, -1}}).NoGraph()
	x, ld := p.Forward(z)
	back, ldInv, _ := p.Inverse(x)
	fmt.Printf("log|det| = %.4f, inverse log|det| = %.4f, z back = [%.4f %.4f]\n", ld.Item(), ldInv.Item(), back.At(0, 0), back.At(0, 1))
	// Output:
	// wᵀû = -0.9514
	// log|det| = -1.3793, inverse log|det| = 1.3793, z back = [0.5000 -1.0000]
}

// The 1-D change of variables: x = 2z + 1 with z ~ N(0, 1) is N(1, 4), so
// log p_X(1) = log p_Z(0) + log ½ = −½·log 2π − log 2.
func ExampleTransformedLogDensity1D() {
	logpZ := func(z float64) float64 { return -0.5*z*z - 0.5*math.Log(2*math.Pi) }
	finv := func(x float64) float64 { return (x - 1) / 2 }
	dfinv := func(float64) float64 { return 0.5 }
	fmt.Printf("%.6f %.6f\n", cnf.TransformedLogDensity1D(logpZ, finv, dfinv, 1), -0.5*math.Log(2*math.Pi)-math.Log(2))
	// Output: -1.612086 -1.612086
}

// The N-D change of variables with the log-determinant from autograd: the
// linear map x = A·z with A = [[2, 1], [0, 3]] has f⁻¹(x) = A⁻¹x and
// log|det A⁻¹| = −log 6.
func ExampleTransformedLogDensity() {
	ainvT := autograd.FromRows([][]float64{{0.5, 0}, {-1.0 / 6, 1.0 / 3}}) // (A⁻¹)ᵀ
	finv := func(x *autograd.Tensor) *autograd.Tensor { return autograd.MatMul(x, ainvT) }
	x := autograd.FromRows([][]float64{{0, 0}})
	lp, err := cnf.TransformedLogDensity(cnf.StandardNormalLogProb, finv, x)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f %.6f\n", lp.Item(), -math.Log(2*math.Pi)-math.Log(6))
	// Output: -3.629637 -3.629637
}

// The continuity equation ∂ₜp + div(p·v) = 0 holds for the path
// p_t = N(t·m, 1) in 1-D moved by the constant field v = m, and fails for
// v = 2m: the residual, relative to the size of its terms, is ~h² for the
// right field and O(1) for the wrong one.
func ExampleContinuityResidual() {
	const m = 1.5
	logp := func(t float64, x []float64) float64 { return -0.5*(x[0]-t*m)*(x[0]-t*m) - 0.5*math.Log(2*math.Pi) }
	right := func(float64, []float64) []float64 { return []float64{m} }
	wrong := func(float64, []float64) []float64 { return []float64{2 * m} }
	r, s := cnf.ContinuityResidual(logp, right, 0.4, []float64{0.3}, 1e-4)
	fmt.Printf("right field: |r|/scale < 1e-7: %v\n", math.Abs(r)/s < 1e-7)
	r, s = cnf.ContinuityResidual(logp, wrong, 0.4, []float64{0.3}, 1e-4)
	fmt.Printf("wrong field: |r|/scale = %.2f\n", math.Abs(r)/s)
	// Output:
	// right field: |r|/scale < 1e-7: true
	// wrong field: |r|/scale = 0.33
}

// NormalLogProb(s) is the base density N(0, s²I): at the origin in 2-D,
// −log(2π·s²).
func ExampleNormalLogProb() {
	x := autograd.FromRows([][]float64{{0, 0}})
	fmt.Printf("%.6f %.6f\n", cnf.NormalLogProb(3)(x).Item(), -math.Log(2*math.Pi*9))
	// Output: -4.035102 -4.035102
}

// FieldOf turns a network of (t, x) into a Field for the solvers; here a
// velocity MLP, sampled from noise with 10 Euler steps.
func ExampleFieldOf() {
	model := nn.NewVelocityMLP(2, []int{16}, autograd.ActSiLU, rand.New(rand.NewPCG(1, 2)))
	x0 := autograd.Normal(5, 2, 0, 1, rand.New(rand.NewPCG(3, 4)))
	x1, st, err := cnf.Sample(cnf.FieldOf(model), x0, cnf.SolveOptions{Method: cnf.Euler, Steps: 10})
	if err != nil {
		panic(err)
	}
	fmt.Println(x1.Shape(), st.NFE)
	// Output: [5 2] 10
}

// A Flow composes layers; LogProb evaluates the density of x = f(z),
// z ~ N(0, I), by the change of variables. Here f scales by 2 and then
// shifts by (1, 1), so p = N((1, 1), 4I) and
// log p(1, 1) = −log 2π − 2·log 2 = −3.224171.
func ExampleLogProb() {
	scale := cnf.NewElementwiseAffine(2)
	scale.LogScale.Data[0], scale.LogScale.Data[1] = math.Log(2), math.Log(2)
	shift := cnf.NewElementwiseAffine(2)
	shift.Shift.Data[0], shift.Shift.Data[1] = 1, 1
	flow := &cnf.Flow{Layers: []cnf.Layer{scale, shift}} // scale first
	x := autograd.FromRows([][]float64{{1, 1}}).NoGraph()
	lp, err := cnf.LogProb(flow, cnf.StandardNormalLogProb, x)
	if err != nil {
		panic(err)
	}
	fmt.Printf("log p = %.6f (closed form %.6f)\n", lp.Item(), -math.Log(2*math.Pi)-2*math.Log(2))
	z, ld, _ := flow.Inverse(x)
	fmt.Printf("z = %v, log|det ∂f⁻¹/∂x| = %.6f\n", z.Data, ld.Item())
	// Output:
	// log p = -3.224171 (closed form -3.224171)
	// z = [0 0], log|det ∂f⁻¹/∂x| = -1.386294
}
