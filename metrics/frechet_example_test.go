package metrics_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/metrics"
)

// The Fréchet distance between N((1, 0), [2 1; 1 2]) and N((0, 2), diag(1, 4)):
// 5 + 4 + 5 − 2√(10 + 2√12) by hand (2×2 matrices: tr M^{1/2} = √(tr M + 2√det M)).
func ExampleFrechetGaussian() {
	a := metrics.Gaussian{Mean: []float64{1, 0}, Cov: mat.NewSymDense(2, []float64{2, 1, 1, 2})}
	b := metrics.Gaussian{Mean: []float64{0, 2}, Cov: mat.NewSymDense(2, []float64{1, 0, 0, 4})}
	fd, err := metrics.FrechetGaussian(a, b)
	fmt.Printf("%.6f %v\n", fd, err)
	// Output:
	// 5.771220 <nil>
}
