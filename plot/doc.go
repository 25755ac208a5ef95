// Package plot draws the pictures of a flow-matching run with gonum.org/v1/plot: samples
// against data, trajectories from noise (t = 0) to data (t = 1), a model density on a grid,
// the vector field at a chosen time and loss curves.
//
// Every function writes a PNG, or an SVG when the path ends in .svg, atomically (to a
// temporary file in the same directory, renamed at the end), and returns an error naming the
// path on failure. Points are [n, d] *autograd.Tensor values; the first two columns are drawn.
// A blank Margin surrounds every figure; legends and colour bars stand in a column right of
// the plot, so they never cover data.
//
//	Samples       scatter of samples (blue) over data (grey)
//	Trajectories  the paths of up to 200 points, start and end marked (Ends names them)
//	Density       exp(log p) as a heat map with a colour bar on an n×n grid; DensityGrid
//	              takes precomputed log p
//	VectorField   arrows of v(x, y) on an n×n grid (close over t for v(t, x))
//	LossCurves    named series against the step, with a moving-average option (Smooth)
//	ImageGrid     rows of [n, side²] as a grid of grayscale images (−1 black, +1 white), PNG;
//	              GridImage returns the picture (images.go)
//
// # References
//
//   - gonum.org/v1/plot, https://pkg.go.dev/gonum.org/v1/plot.
//   - Moreland 2009, Diverging Color Maps for Scientific Visualization; the black-body map
//     (palette/moreland) is used for densities.
package plot
