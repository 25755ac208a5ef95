package riemann_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm/riemann"
)

// The geodesic from the north pole to a point of the equator is a quarter
// of a great circle; halfway it is at 45° latitude, and the target field
// there points along the meridian with speed d(x₀, x₁) = π/2.
func ExampleGeodesic() {
	s := riemann.Sphere{D: 2}
	x0, x1 := []float64{0, 0, 1}, []float64{1, 0, 0}
	xt := riemann.Geodesic(s, 0.5, x0, x1)
	u := riemann.CondField(s, 0.5, xt, x1)
	fmt.Printf("x_0.5 = (%.4f, %.4f, %.4f)\n", xt[0], xt[1], xt[2])
	fmt.Printf("u = (%.4f, %.4f, %.4f), |u| = %.4f = π/2\n", u[0], u[1], u[2], math.Hypot(u[0], u[2]))
	fmt.Printf("d(x0, x1) = %.4f\n", s.Dist(x0, x1))
	// Output:
	// x_0.5 = (0.7071, 0.0000, 0.7071)
	// u = (1.1107, 0.0000, -1.1107), |u| = 1.5708 = π/2
	// d(x0, x1) = 1.5708
}

// Log on the torus takes the short way round: from angle 0.1 to 6.2 is
// −0.1832, not +6.1.
func ExampleTorus_Log() {
	t := riemann.Torus{D: 1}
	fmt.Printf("%.4f\n", t.Log([]float64{0.1}, []float64{6.2})[0])
	// Output:
	// -0.1832
}

// Entropies of the data sets, the floor of a model's NLL.
func ExampleDataset() {
	for _, name := range riemann.DatasetNames() {
		d, _ := riemann.Dataset(name)
		fmt.Printf("%-18s on the %s: H = %.4f (uniform: %.4f)\n", name, d.Manifold().Name(), d.Entropy(), d.Manifold().LogVolume())
	}
	fmt.Printf("vMF κ = 10: %.4f, κ = 50: %.4f\n", riemann.VMFEntropy(10), riemann.VMFEntropy(50))
	// Output:
	// sphere-vmf         on the sphere: H = 1.2892 (uniform: 2.5310)
	// torus-checkerboard on the torus: H = 2.9826 (uniform: 3.6758)
	// torus-vonmises     on the torus: H = 2.1558 (uniform: 3.6758)
	// vMF κ = 10: 0.5353, κ = 50: -1.0741
}

// Sampling a field on S² with RK4 keeps every point on the sphere to
// rounding.
func ExampleIntegrate() {
	s := riemann.Sphere{D: 2}
	spin := func(_ float64, x *autograd.Tensor) *autograd.Tensor { // v = e_z × x
		v := autograd.Zeros(x.Rows, 3)
		for i := 0; i < x.Rows; i++ {
			v.Data[3*i], v.Data[3*i+1] = -x.At(i, 1), x.At(i, 0)
		}
		return v
	}
	x0 := s.Uniform(1000, rand.New(rand.NewPCG(1, 2)))
	x1, _ := riemann.Integrate(s, spin, x0, 0, 1, 20, cnf.RK4, nil)
	worst := 0.0
	for i := 0; i < x1.Rows; i++ {
		r := x1.Row(i)
		worst = math.Max(worst, math.Abs(math.Sqrt(r[0]*r[0]+r[1]*r[1]+r[2]*r[2])-1))
	}
	fmt.Println("max |‖x‖ − 1| ≤ 1e-15:", worst <= 1e-15)
	// Output:
	// max |‖x‖ − 1| ≤ 1e-15: true
}

// The von Mises–Fisher law on S^d: its normalizer is the S² closed form
// κ/(4π sinh κ) for d = 2, and its mean resultant length A_p(κ) =
// I_{p/2}(κ)/I_{p/2−1}(κ) falls with the dimension at fixed κ; draws by
// Wood's sampler lie on the sphere.
func ExampleVMFLogNormalizer() {
	k := 10.0
	fmt.Printf("S²: ln C = %.10f, ln(κ/(4π sinh κ)) = %.10f\n", riemann.VMFLogNormalizer(2, k), math.Log(k/(4*math.Pi*math.Sinh(k))))
	for _, d := range []int{2, 3, 5} {
		fmt.Printf("S^%d κ = 10: A = %.4f, H = %.4f\n", d, riemann.VMFMeanCosine(d, k), riemann.VMFEntropyD(d, k))
	}
	x := riemann.SampleVMF([]float64{0, 0, 0, 0, 0, 1}, k, rand.New(rand.NewPCG(1, 2)))
	fmt.Printf("a draw on S⁵: ‖x‖ = %.15f\n", math.Sqrt(x[0]*x[0]+x[1]*x[1]+x[2]*x[2]+x[3]*x[3]+x[4]*x[4]+x[5]*x[5]))
	// Output:
	// S²: ln C = -9.5352919714, ln(κ/(4π sinh κ)) = -9.5352919714
	// S^2 κ = 10: A = 0.9000, H = 0.5353
	// S^3 κ = 10: A = 0.8542, H = 0.7215
	// S^5 κ = 10: A = 0.7707, H = 0.9340
	// a draw on S⁵: ‖x‖ = 1.000000000000000
}

// A wrapped-normal base on the torus: its log-density at the mode and at
// the opposite corner, where the lattice sum's 2π-translates matter.
func ExampleWrappedNormal() {
	w := riemann.NewWrappedNormal(2, 1.5)
	fmt.Println(w, "K =", riemann.Terms(1.5))
	fmt.Printf("log p(π, π) = %.4f, log p(0, 0) = %.4f\n", w.LogDensity([]float64{math.Pi, math.Pi}), w.LogDensity([]float64{0, 0}))
	// Output:
	// wrapped-normal:1.5 K = 2
	// log p(π, π) = -2.6482, log p(0, 0) = -5.6490
}
