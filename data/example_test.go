package data_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
)

func ExampleSample() {
	rng := rand.New(rand.NewPCG(1, 2))
	x, err := data.Sample("8gaussians", 1000, rng)
	if err != nil {
		panic(err)
	}
	fmt.Println(x.Shape())
	_, err = data.Sample("9gaussians", 10, rng)
	fmt.Println(err != nil)
	// Output:
	// [1000 2]
	// true
}

func ExampleEntropy() {
	h, se, _ := data.Entropy("checkerboard")
	fmt.Printf("checkerboard H = %.4f ± %.0f (ln 32 = %.4f)\n", h, se, math.Log(32))
	h, se, _ = data.Entropy("8gaussians")
	fmt.Printf("8gaussians H ≈ %.2f (se %.3f)\n", h, se)
	// Output:
	// checkerboard H = 3.4657 ± 0 (ln 32 = 3.4657)
	// 8gaussians H ≈ 2.83 (se 0.002)
}

func ExampleGaussianMixture_LogDensity() {
	g := data.StandardGaussian(2)
	fmt.Printf("%.6f %.6f\n", g.LogDensity([]float64{0, 0}), -math.Log(2*math.Pi))
	// Output: -1.837877 -1.837877
}

func ExampleMoons() {
	m := &data.Moons{Noise: 0.1, Scale: 1} // sklearn make_moons(noise=0.1), unscaled
	// Far from the ends, p ≈ ½ · (1/π) · 1/(√(2π) σ): half the mass, θ ~ U[0, π], and the
	// Gaussian across the curve (curvature changes this by ~σ²κ²).
	fmt.Printf("%.2f %.2f\n", m.LogDensity([]float64{0, 1}), math.Log(0.5/math.Pi/(math.Sqrt(2*math.Pi)*0.1)))
	// Output: -0.45 -0.45
}

func ExampleReadCSV() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "points.csv")
	os.WriteFile(p, []byte("x,y\n1,2\n3,4\n"), 0o644)
	x, err := data.ReadCSV(p)
	fmt.Println(x.Shape(), x.Data, err)
	os.WriteFile(p, []byte("x,y\n1,2\n3,oops\n"), 0o644)
	_, err = data.ReadCSV(p)
	fmt.Println(filepath.Base(err.Error()))
	// Output:
	// [2 2] [1 2 3 4] <nil>
	// points.csv:3: field 2: "oops" is not a number
}

func ExampleWriteNPY() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "x.npy")
	if err := data.WriteNPY(p, autograd.FromSlice(2, 2, []float64{1, 2, 3, 4})); err != nil {
		panic(err)
	}
	x, err := data.ReadNPY(p)
	fmt.Println(x.Shape(), x.Data, err)
	// Output: [2 2] [1 2 3 4] <nil>
}

func ExamplePinwheel() {
	p := data.Pinwheel{}
	// At x = 0 every arm's only preimage is (a, b) = (0, 0), where the Jacobian is 1 + 0.25·0·e⁰
	// = 1 before the ×2: p(0) = ¼·N(0; 1, 0.3²)·N(0; 0, 0.1²).
	want := -math.Log(4) - math.Log(2*math.Pi*0.3*0.1) - 0.5/0.09
	fmt.Printf("%.6f %.6f\n", p.LogDensity([]float64{0, 0}), want)
	h, se, _ := data.Entropy("pinwheel")
	fmt.Printf("H ≈ %.2f (se %.3f)\n", h, se)
	// Output:
	// -5.273169 -5.273169
	// H ≈ 2.32 (se 0.002)
}

// Names lists the built-in sets; Lookup returns one as a Toy, which samples
// and (for a Density) evaluates its exact log-density.
func ExampleLookup() {
	fmt.Println(data.Names())
	toy, err := data.Lookup("checkerboard")
	if err != nil {
		panic(err)
	}
	x := toy.Sample(3, rand.New(rand.NewPCG(1, 2)))
	d := toy.(data.Density)
	fmt.Printf("dim %d, log p = %.4f = −ln 32\n", toy.Dim(), d.LogDensity(x.Row(0)))
	// Output:
	// [2spirals 8gaussians checkerboard circles gaussian moons moons-peer moons-sklearn pinwheel rings swissroll]
	// dim 2, log p = -3.4657 = −ln 32
}

// EightGaussians is FFJORD's 8gaussians: eight components of std σ = 0.5/√2
// on the circle of radius R = 4/√2 = 2.83. The mean distance from the origin
// is R + σ²/(2R) + O(σ⁴/R³) ≈ 2.85: the noise across the circle adds to it.
func ExampleEightGaussians() {
	g := data.EightGaussians()
	x := g.Sample(20000, rand.New(rand.NewPCG(1, 2)))
	r := 0.0
	for i := range x.Rows {
		r += math.Hypot(x.At(i, 0), x.At(i, 1)) / float64(x.Rows)
	}
	fmt.Printf("mean radius %.2f (4/√2 = %.2f)\n", r, 4/math.Sqrt2)
	// Output: mean radius 2.85 (4/√2 = 2.83)
}
