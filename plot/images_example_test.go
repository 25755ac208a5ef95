package plot_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/plot"
)

// Two 2×2 images side by side, each pixel enlarged 3×: −1 is black, 0 mid-grey, +1 white,
// with a grey frame of plot.PadPixels pixels. plot.ImageGrid writes the same picture to a PNG.
func ExampleGridImage() {
	x := autograd.FromRows([][]float64{{-1, 0, 0.5, 1}, {1, 1, -1, -1}})
	img, err := plot.GridImage(x, 2, 2, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy())
	fmt.Println(img.GrayAt(2, 2).Y, img.GrayAt(5, 2).Y, img.GrayAt(2, 5).Y, img.GrayAt(5, 5).Y, img.GrayAt(0, 0).Y)
	// Output:
	// 18 10
	// 0 128 191 255 128
}
