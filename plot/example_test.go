package plot_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/plot"
)

func ExampleDensity() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	logp := func(x, y float64) float64 { return -(x*x+y*y)/2 - math.Log(2*math.Pi) }
	err := plot.Density(filepath.Join(dir, "gauss.png"), "N(0, I)", logp, -3, 3, -3, 3, 50)
	fmt.Println(err)
	err = plot.Density(filepath.Join(dir, "gauss.gif"), "N(0, I)", logp, -3, 3, -3, 3, 50)
	fmt.Println(filepath.Base(err.Error()))
	// Output:
	// <nil>
	// gauss.gif: unsupported file type (use .png or .svg)
}

func ExampleLossCurves() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	loss := make([]float64, 100)
	for i := range loss {
		loss[i] = math.Exp(-float64(i) / 30)
	}
	fmt.Println(plot.LossCurves(filepath.Join(dir, "loss.svg"), "CFM loss", map[string][]float64{"train": loss}, 10))
	// Output: <nil>
}

func ExampleSmooth() {
	fmt.Println(plot.Smooth([]float64{1, 2, 3, 4}, 2))
	// Output: [1 1.5 2.5 3.5]
}

func ExampleLines() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	steps := []float64{10, 20, 40, 80}
	euler := []float64{1e-1, 5e-2, 2.5e-2, 1.25e-2} // first order: halves with h
	rk4 := []float64{1e-4, 6.25e-6, 3.9e-7, 2.4e-8} // fourth order: ÷16
	err := plot.Lines(filepath.Join(dir, "order.png"), "error against steps",
		plot.Axes{X: "steps", Y: "error", LogX: true, LogY: true},
		[]plot.Curve{{Name: "Euler", X: steps, Y: euler, Dots: true}, {Name: "RK4", X: steps, Y: rk4, Dots: true, Dashed: true}})
	fmt.Println(err)
	// Output: <nil>
}

func ExampleMontage() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	x := []float64{0, 1, 2}
	_ = plot.Lines(a, "up", plot.Axes{}, []plot.Curve{{Name: "y = x", X: x, Y: x}})
	_ = plot.Lines(b, "down", plot.Axes{}, []plot.Curve{{Name: "y = 2 − x", X: x, Y: []float64{2, 1, 0}}})
	fmt.Println(plot.Montage(filepath.Join(dir, "both.png"), a, b)) // two half-size panels in a row
	// Output: <nil>
}

func ExampleTrajectories() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	x0 := autograd.FromRows([][]float64{{-1, 0}, {0, -1}, {1, 1}})
	x1 := autograd.FromRows([][]float64{{2, 2}, {-2, 2}, {0, -2}})
	traj := []*autograd.Tensor{x0, autograd.Scale(autograd.Add(x0, x1), 0.5), x1}
	// The source is not noise here: say what it is in the legend.
	err := plot.Trajectories(filepath.Join(dir, "a.png"), "three paths", traj, plot.Ends("t = 0 (source: 3 points)", "t = 1 (target)"))
	fmt.Println(err)
	// A panel of a montage without its own legend.
	err = plot.Trajectories(filepath.Join(dir, "b.png"), "three paths", traj, plot.NoLegend())
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
}
