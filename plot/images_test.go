package plot

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
)

// TestImageGrid_DecodesBack: a grid of 5 images 3×3 (2 per row, enlarged 2×) written to a PNG
// and decoded again has the documented size, and every pixel is what the layout says:
// grey GridGrey outside the cells (and in the missing sixth cell), round((v + 1)/2·255) inside,
// with −1 → 0, 0 → 128, 1 → 255, values beyond ±1 clamped and NaN black. A transposed reading
// of an image (column-major) is caught by the same comparison; bad arguments are errors and a
// missing folder leaves no file behind.
func TestImageGrid_DecodesBack(t *testing.T) {
	const side, cols, scale, n = 3, 2, 2, 5
	x := autograd.Zeros(n, side*side)
	for k := range n {
		for j := range side * side {
			x.Row(k)[j] = -1 + 2*float64(k*9+j)/44 // distinct values spanning [−1, 1]
		}
	}
	x.Row(4)[0], x.Row(4)[1], x.Row(4)[2], x.Row(4)[3] = -3, 3, math.NaN(), 0
	dir := t.TempDir()
	path := filepath.Join(dir, "grid.png")
	require.NoError(t, ImageGrid(path, x, side, cols, scale))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	cell := side * scale
	w, h := PadPixels+cols*(cell+PadPixels), PadPixels+3*(cell+PadPixels)
	require.Equal(t, [2]int{w, h}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()})

	want := func(X, Y int, colMajor bool) uint8 {
		cx, cy := (X-PadPixels)/(cell+PadPixels), (Y-PadPixels)/(cell+PadPixels)
		ox, oy := (X-PadPixels)%(cell+PadPixels), (Y-PadPixels)%(cell+PadPixels)
		k := cy*cols + cx
		if X < PadPixels || Y < PadPixels || ox >= cell || oy >= cell || k >= n {
			return GridGrey
		}
		r, c := oy/scale, ox/scale
		if colMajor {
			r, c = c, r
		}
		v := x.Row(k)[r*side+c]
		switch {
		case math.IsNaN(v) || v <= -1:
			return 0
		case v >= 1:
			return 255
		}
		return uint8(math.Floor((v+1)/2*255 + 0.5))
	}
	got := func(X, Y int) uint8 { r, _, _, _ := img.At(X, Y).RGBA(); return uint8(r >> 8) }
	wrong := 0
	for Y := range h {
		for X := range w {
			require.Equal(t, want(X, Y, false), got(X, Y), "pixel (%d, %d)", X, Y)
			if want(X, Y, true) != got(X, Y) {
				wrong++
			}
		}
	}
	require.Positive(t, wrong, "negative control: a column-major reading matches the picture")
	// Image 4's first pixels: −3 → 0, 3 → 255, NaN → 0, 0 → 128.
	x0, y0 := PadPixels, PadPixels+2*(cell+PadPixels)
	require.Equal(t, []uint8{0, 255, 0}, []uint8{got(x0, y0), got(x0+scale, y0), got(x0+2*scale, y0)})
	require.Equal(t, uint8(128), got(x0, y0+scale))

	for name, c := range map[string]struct {
		x                 *autograd.Tensor
		side, cols, scale int
	}{
		"no rows":    {autograd.Zeros(0, 9), 3, 2, 1},
		"wrong side": {x, 4, 2, 1},
		"cols 0":     {x, 3, 0, 1},
		"scale 0":    {x, 3, 2, 0},
	} {
		require.Error(t, ImageGrid(filepath.Join(dir, "bad.png"), c.x, c.side, c.cols, c.scale), name)
	}
	missing := filepath.Join(dir, "no", "grid.png")
	require.ErrorContains(t, ImageGrid(missing, x, side, cols, scale), missing)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only grid.png, no temporary file")
}
