package cnf_test

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
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
// N((0, 2(1 − e^{−½})), e^{−1}·I) at t = 1; LogLikelihood recovers its
// log-density at the mean, −log(2π·e⁻¹) = −0.837877.
func ExampleLogLikelihood() {
	shift := autograd.FromRows([][]float64{{0, 1}})
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.AddRow(autograd.Scale(x, -0.5), shift)
	}
	x1 := autograd.FromRows([][]float64{{0, 2 * (1 - math.Exp(-0.5))}})
	lp, _, err := cnf.LogLikelihood(f, x1.NoGraph(), cnf.StandardNormalLogProb, nil,
		cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	if err != nil {
		panic(err)
	}
	fmt.Printf("log p₁ = %.6f, closed form %.6f\n", lp.Item(), -math.Log(2*math.Pi*math.Exp(-1)))
	// Output:
	// log p₁ = -0.837877, closed form -0.837877
}

// The divergence of v(x) = (x₀², x₀·x₁) is 2x₀ + x₀ = 3x₀.
func ExampleDivergence() {
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		x0, x1 := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
		return autograd.Concat(autograd.Square(x0), autograd.Mul(x0, x1))
	}
	x := autograd.FromRows([][]float64{{1, 5}, {-2, 3}})
	fmt.Println(cnf.Divergence(f, 0, x.NoGraph()).Data)
	// Output:
	// [3 -6]
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
