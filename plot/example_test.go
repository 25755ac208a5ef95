package plot_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

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
