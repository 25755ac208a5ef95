package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// Grid layout constants of ImageGrid and GridImage: PadPixels grey pixels (value GridGrey)
// around and between the cells.
const (
	PadPixels = 2
	GridGrey  = 128
)

// GridImage lays the rows of x [n, side²] out as side×side grayscale images (row-major, pixel
// (r, c) in column r·side + c), cols per row of the grid, in row order, each pixel enlarged to
// scale×scale. A value v ∈ [−1, 1] becomes the gray level
//
//	g = round((v + 1)/2 · 255),  clamped to 0…255 (NaN → 0),
//
// so −1 is black and +1 white (MNIST's background and ink under data/mnist's scaling). Cells
// are separated and surrounded by PadPixels pixels of grey GridGrey; missing cells of the last
// grid row stay grey. The picture is (PadPixels + side·scale)·cols + PadPixels pixels wide.
// Bad arguments (x without rows, x.Cols ≠ side², cols or scale < 1) are errors.
// TestImageGrid_DecodesBack.
func GridImage(x *autograd.Tensor, side, cols, scale int) (*image.Gray, error) {
	switch {
	case x == nil || x.Rows == 0:
		return nil, fmt.Errorf("no images to draw")
	case side < 1 || x.Cols != side*side:
		return nil, fmt.Errorf("images of %d values are not %d×%d (want x [n, side²])", x.Cols, side, side)
	case cols < 1 || scale < 1:
		return nil, fmt.Errorf("cols = %d and scale = %d must be at least 1", cols, scale)
	}
	cols = min(cols, x.Rows)
	rows := (x.Rows + cols - 1) / cols
	cell := side * scale
	w, h := PadPixels+cols*(cell+PadPixels), PadPixels+rows*(cell+PadPixels)
	if int64(w)*int64(h) > 1<<28 {
		return nil, fmt.Errorf("a %d×%d-pixel grid is too large (at most 2²⁸ pixels)", w, h)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = GridGrey
	}
	for k := range x.Rows {
		x0, y0 := PadPixels+(k%cols)*(cell+PadPixels), PadPixels+(k/cols)*(cell+PadPixels)
		row := x.Row(k)
		for py := range cell {
			line := img.Pix[(y0+py)*img.Stride+x0:]
			src := row[(py/scale)*side:]
			for px := range cell {
				line[px] = grayLevel(src[px/scale])
			}
		}
	}
	return img, nil
}

// grayLevel is round((v + 1)/2·255) clamped to 0…255, NaN → 0.
func grayLevel(v float64) uint8 {
	g := (v + 1) / 2 * 255
	switch {
	case !(g > 0):
		return 0
	case g >= 255:
		return 255
	}
	return uint8(math.Round(g))
}

// ImageGrid writes GridImage(x, side, cols, scale) to path as a grayscale PNG, atomically,
// whatever the path's extension. flowmatch's MNIST demo draws its 10×10 grid of samples (one
// row per class) and its guidance sweep with it. TestImageGrid_DecodesBack.
func ImageGrid(path string, x *autograd.Tensor, side, cols, scale int) error {
	img, err := GridImage(x, side, cols, scale)
	if err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}
