package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gplot "gonum.org/v1/plot"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// checkPNG decodes the PNG at path, checks its size and that it is not one flat colour.
// w < 0 accepts any width of at least −w (a legend or colour bar column widens a figure).
func checkPNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err, "%s is a valid PNG", path)
	if w < 0 {
		assert.Equal(t, h, img.Bounds().Dy(), "%s: height", path)
		assert.GreaterOrEqual(t, img.Bounds().Dx(), -w, "%s: width", path)
		w = img.Bounds().Dx()
	}
	assert.Equal(t, image.Rect(0, 0, w, h), img.Bounds())
	colours := map[[4]uint32]bool{}
	for y := 0; y < h; y += 3 {
		for x := 0; x < w; x += 3 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, a}] = true
		}
	}
	assert.Greater(t, len(colours), 3, "%s has more than a few colours", path)
	return img
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "<svg")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(string(b)), "</svg>"))
}

// each draws one figure of every kind into dir with the given extension.
func each(t *testing.T, dir, ext string) map[string]error {
	rng := newRNG(1)
	data := autograd.Normal(500, 2, 0, 1, rng)
	samples := autograd.Normal(500, 2, 1, 0.5, rng)
	traj := make([]*autograd.Tensor, 11)
	x0 := autograd.Normal(300, 2, 0, 1, rng)
	for k := range traj {
		tk := float64(k) / 10
		traj[k] = autograd.Zeros(300, 2)
		for i := range 300 {
			ang := 2 * math.Pi * float64(i%8) / 8
			traj[k].Row(i)[0] = (1-tk)*x0.At(i, 0) + tk*3*math.Cos(ang)
			traj[k].Row(i)[1] = (1-tk)*x0.At(i, 1) + tk*3*math.Sin(ang)
		}
	}
	logp := func(x, y float64) float64 { return -0.5*(x*x+y*y) - math.Log(2*math.Pi) }
	field := func(x, y float64) (float64, float64) { return -y, x }
	loss := map[string][]float64{"train": make([]float64, 300), "val": make([]float64, 300)}
	for i := range 300 {
		loss["train"][i] = 5*math.Exp(-float64(i)/60) + 0.3*rng.Float64()
		loss["val"][i] = 5.2*math.Exp(-float64(i)/60) + 0.3*rng.Float64()
	}
	loss["val"][7] = math.NaN()
	return map[string]error{
		"samples":  Samples(filepath.Join(dir, "samples"+ext), "8 gaussians", data, samples),
		"traj":     Trajectories(filepath.Join(dir, "traj"+ext), "trajectories", traj),
		"density":  Density(filepath.Join(dir, "density"+ext), "N(0, I)", logp, -3, 3, -3, 3, 60),
		"field":    VectorField(filepath.Join(dir, "field"+ext), "rotation", field, -2, 2, -2, 2, 15),
		"loss":     LossCurves(filepath.Join(dir, "loss"+ext), "loss", loss, 20),
		"grid":     DensityGrid(filepath.Join(dir, "grid"+ext), "grid", [][]float64{{0, -1, math.Inf(-1)}, {-2, math.NaN(), 0}}, 0, 3, 0, 2),
		"only-one": Samples(filepath.Join(dir, "only-one"+ext), "data only", data, nil),
	}
}

func TestFigures_PNG(t *testing.T) {
	dir := t.TempDir()
	for name, err := range each(t, dir, ".png") {
		require.NoError(t, err, name)
		w, h := -576, 576 // a legend or colour bar widens all but the vector field
		switch name {
		case "loss":
			w, h = -768, 432
		case "field":
			w = 576
		}
		checkPNG(t, filepath.Join(dir, name+".png"), w, h)
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 7, "only the figures, no temporary files")
}

func TestFigures_SVG(t *testing.T) {
	dir := t.TempDir()
	for name, err := range each(t, dir, ".svg") {
		require.NoError(t, err, name)
		checkSVG(t, filepath.Join(dir, name+".svg"))
	}
}

// TestDensityGrid_Orientation: a density that is high only in the top-right cell colours the
// top-right of the picture, not another corner (negative control: the bottom-left stays dark).
func TestDensityGrid_Orientation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "o.png")
	inf := math.Inf(-1)
	require.NoError(t, DensityGrid(p, "", [][]float64{{inf, inf}, {inf, 0}}, 0, 1, 0, 1))
	img := checkPNG(t, p, -576, 576)
	bright := func(x, y int) uint32 { r, g, b, _ := img.At(x, y).RGBA(); return r + g + b }
	// The data area spans roughly the middle; sample well inside each quadrant.
	b := img.Bounds()
	tr := bright(b.Dx()*3/4, b.Dy()/4)
	bl := bright(b.Dx()*2/5, b.Dy()*3/4)
	assert.Greater(t, tr, bl, "top-right brighter than bottom-left")
}

func TestFigures_BadInput(t *testing.T) {
	dir := t.TempDir()
	x := autograd.Normal(10, 2, 0, 1, newRNG(2))
	bad := filepath.Join(dir, "no", "such", "dir", "a.png")
	for _, err := range []error{
		Samples(bad, "", x, x),
		Trajectories(bad, "", []*autograd.Tensor{x, x}),
		Density(bad, "", func(x, y float64) float64 { return 0 }, 0, 1, 0, 1, 4),
		VectorField(bad, "", func(x, y float64) (float64, float64) { return 1, 0 }, 0, 1, 0, 1, 4),
		LossCurves(bad, "", map[string][]float64{"a": {1, 2}}, 0),
	} {
		require.Error(t, err)
		assert.Contains(t, err.Error(), bad)
	}
	for _, err := range []error{
		Samples(filepath.Join(dir, "a.jpg"), "", x, x),
		Samples(filepath.Join(dir, "a.png"), "", autograd.Zeros(3, 1), nil),
		Samples(filepath.Join(dir, "a.png"), "", autograd.FromSlice(1, 2, []float64{math.NaN(), 0}), nil),
		Trajectories(filepath.Join(dir, "a.png"), "", []*autograd.Tensor{x}),
		Trajectories(filepath.Join(dir, "a.png"), "", []*autograd.Tensor{x, autograd.Zeros(3, 2)}),
		Density(filepath.Join(dir, "a.png"), "", func(x, y float64) float64 { return 0 }, 0, 1, 0, 1, 1),
		DensityGrid(filepath.Join(dir, "a.png"), "", [][]float64{{0, 0}, {0}}, 0, 1, 0, 1),
		DensityGrid(filepath.Join(dir, "a.png"), "", [][]float64{{0}}, 1, 1, 0, 1),
		VectorField(filepath.Join(dir, "a.png"), "", func(x, y float64) (float64, float64) { return math.NaN(), 0 }, 0, 1, 0, 1, 4),
		LossCurves(filepath.Join(dir, "a.png"), "", nil, 0),
	} {
		require.Error(t, err)
		assert.Contains(t, err.Error(), dir)
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing written, no temporary files")
}

func TestSmooth(t *testing.T) {
	assert.Equal(t, []float64{1, 1.5, 2.5, 3.5}, Smooth([]float64{1, 2, 3, 4}, 2))
	assert.Equal(t, []float64{1, 2, 3}, Smooth([]float64{1, 2, 3}, 1))
	assert.Equal(t, []float64{2, 3, 3}, Smooth([]float64{2, 4, 3}, 5))
}

func TestLines(t *testing.T) {
	dir := t.TempDir()
	x := []float64{1, 2, 4, 8}
	path := filepath.Join(dir, "lines.png")
	require.NoError(t, Lines(path, "errors", Axes{X: "steps", Y: "error", LogX: true, LogY: true},
		[]Curve{{Name: "euler", X: x, Y: []float64{1, 0.5, 0.25, 0.125}, Dots: true}, {Name: "rk4", X: x, Y: []float64{1, 0.06, 0.004, 0}, Dashed: true}}))
	checkPNG(t, path, -672, 432)
	err := Lines(filepath.Join(dir, "bad.png"), "", Axes{LogY: true}, []Curve{{Name: "neg", X: x, Y: []float64{-1, -1, -1, -1}}})
	require.ErrorContains(t, err, `curve "neg" has no drawable point`)
	require.Error(t, Lines(filepath.Join(dir, "bad.png"), "", Axes{}, []Curve{{Name: "ragged", X: x, Y: x[:2]}}))
}

func TestMontage(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	x := []float64{1, 2, 3}
	require.NoError(t, Lines(a, "a", Axes{}, []Curve{{Name: "a", X: x, Y: x}}))
	require.NoError(t, Lines(b, "b", Axes{}, []Curve{{Name: "b", X: x, Y: []float64{3, 1, 2}}}))
	out := filepath.Join(dir, "m.png")
	require.NoError(t, Montage(out, a, b))
	wa := checkPNG(t, a, -672, 432).Bounds().Dx()
	wb := checkPNG(t, b, -672, 432).Bounds().Dx()
	checkPNG(t, out, wa/2+wb/2, 216) // two half-size panels side by side
	require.Error(t, Montage(filepath.Join(dir, "none.png")))
	require.ErrorContains(t, Montage(out, filepath.Join(dir, "missing.png")), "missing.png")
}

// white reports whether every pixel of img in the rectangle r is white.
func white(img image.Image, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr&cg&cb != 0xffff {
				return false
			}
		}
	}
	return true
}

// marginPx is Margin in pixels of the PNG backend (96 dpi), rounded down.
var marginPx = int(Margin.Dots(96))

// TestFigures_TitlePadding: every figure keeps a blank Margin above its title (the title no
// longer touches the top edge) and on its other sides. Negative control: gonum's own
// rendering of the same plot, without the margin, draws the title into those top rows.
func TestFigures_TitlePadding(t *testing.T) {
	dir := t.TempDir()
	for name, err := range each(t, dir, ".png") {
		require.NoError(t, err, name)
		img := checkPNG(t, filepath.Join(dir, name+".png"), -1, img0(t, dir, name).Bounds().Dy())
		b := img.Bounds()
		assert.True(t, white(img, image.Rect(0, 0, b.Dx(), marginPx)), "%s: the top %d px are blank", name, marginPx)
		assert.True(t, white(img, image.Rect(0, b.Dy()-marginPx, b.Dx(), b.Dy())), "%s: the bottom %d px are blank", name, marginPx)
		assert.True(t, white(img, image.Rect(0, 0, marginPx, b.Dy())), "%s: the left %d px are blank", name, marginPx)
		assert.True(t, white(img, image.Rect(b.Dx()-marginPx, 0, b.Dx(), b.Dy())), "%s: the right %d px are blank", name, marginPx)
	}
	p := newPlot("a title", "x", "y")
	wt, err := p.WriterTo(Size, Size, "png")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	require.NoError(t, err)
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.False(t, white(img, image.Rect(0, 0, img.Bounds().Dx(), marginPx)), "without the margin the title reaches the top rows")
}

func img0(t *testing.T, dir, name string) image.Image {
	b, err := os.ReadFile(filepath.Join(dir, name+".png"))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

// colours counts the distinct colours in column x of img between rows y0 and y1.
func colours(img image.Image, x, y0, y1 int) int {
	seen := map[[3]uint32]bool{}
	for y := y0; y < y1; y++ {
		r, g, b, _ := img.At(x, y).RGBA()
		seen[[3]uint32{r, g, b}] = true
	}
	return len(seen)
}

// TestDensity_ColorBar: a density figure has a colour bar: a column of many colours, dark at
// the bottom (p = 0) and bright at the top (max p), to the right of the heat map. Negative
// control: the same column of the vector field (no colour bar) has only a few colours.
func TestDensity_ColorBar(t *testing.T) {
	dir := t.TempDir()
	errs := each(t, dir, ".png")
	require.NoError(t, errs["density"])
	require.NoError(t, errs["field"])
	img := img0(t, dir, "density")
	b := img.Bounds()
	x := b.Dx() - marginPx - 4 // inside the bar, which ends at the right margin
	y0, y1 := b.Dy()/4, b.Dy()*3/4
	assert.Greater(t, colours(img, x, y0, y1), 50, "the colour bar shows a gradient")
	bright := func(y int) uint32 { r, g, bl, _ := img.At(x, y).RGBA(); return r + g + bl }
	assert.Greater(t, bright(y0), bright(y1), "the bar is brighter at the top (high p)")
	field := img0(t, dir, "field")
	assert.Less(t, colours(field, field.Bounds().Dx()-marginPx-4, y0, y1), 5, "no colour bar beside the vector field")
}

// TestLegend_BesideData: the legend stands in a column right of the plot, so it covers no
// data: the figure is wider than the Size of its plot, and the legend's blue mark lies in that
// extra column. (gonum's default legend, inside the data area, fails both checks.)
func TestLegend_BesideData(t *testing.T) {
	dir := t.TempDir()
	pts := autograd.FromRows([][]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}})
	require.NoError(t, Samples(filepath.Join(dir, "corner.png"), "corner", nil, pts))
	img := img0(t, dir, "corner")
	size := int(Size.Dots(96))
	require.Greater(t, img.Bounds().Dx(), size, "the legend widens the figure")
	found := false
	for y := 0; y < img.Bounds().Dy() && !found; y++ {
		for x := size; x < img.Bounds().Dx(); x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r>>8 == 31 && g>>8 == 119 && b>>8 == 180 {
				found = true
				break
			}
		}
	}
	assert.True(t, found, "the legend's sample mark lies right of the plot")
	// NoLegend drops the column; Ends renames the entries, which changes the column's width.
	traj := []*autograd.Tensor{pts, pts}
	require.NoError(t, Trajectories(filepath.Join(dir, "a.png"), "a", traj, NoLegend()))
	require.NoError(t, Trajectories(filepath.Join(dir, "b.png"), "b", traj))
	require.NoError(t, Trajectories(filepath.Join(dir, "c.png"), "c", traj, Ends("t = 0 (source: a long name)", "t = 1")))
	wa, wb, wc := img0(t, dir, "a").Bounds().Dx(), img0(t, dir, "b").Bounds().Dx(), img0(t, dir, "c").Bounds().Dx()
	assert.Equal(t, size, wa, "no legend column")
	assert.Greater(t, wb, wa, "a legend column")
	assert.Greater(t, wc, wb, "a wider column for longer labels")
}

// TestTickLabels: one style per axis, plain decimals without trailing zeros, or powers of
// ten when a tick is too large or too small for them.
func TestTickLabels(t *testing.T) {
	labels := func(ts []gplot.Tick) []string {
		var out []string
		for _, tk := range ts {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	assert.Equal(t, []string{"1", "10", "100", "1000", "10000"}, labels(shortLogTicks{}.Ticks(1, 3000)))
	assert.Equal(t, []string{"0.001", "0.01", "0.1", "1"}, labels(shortLogTicks{}.Ticks(1e-3, 1)))
	assert.Equal(t, []string{"-2.5", "0", "2.5"}, labels(plainTicks{}.Ticks(-2.7, 2.7)))
	assert.Equal(t, []string{"0", "0.3", "0.6"}, labels(plainTicks{}.Ticks(0, 0.707)))
	for _, lbl := range labels(plainTicks{}.Ticks(0, 3e5)) {
		assert.Contains(t, []string{"0", "1e+05", "2e+05", "3e+05"}, lbl, "one style on an axis with large values")
	}
	for v, want := range map[float64]string{
		1e-3: "0.001", 1000: "1000", 9.999999999999999e-05: "0.0001", 0: "0", 2.5: "2.5",
		0.30000000000000004: "0.3",
	} {
		assert.Equal(t, want, tickLabel(v, true), "tickLabel(%v, plain)", v)
	}
	assert.Equal(t, "1e+05", tickLabel(1e5, false))
	assert.Equal(t, "1e-05", tickLabel(9.999999999999999e-06, false))
}

// TestFrequentColors: the montage palette keeps the most frequent colours exactly, most
// frequent first, deterministically. Negative control: Plan 9's fixed palette (used before)
// turns the sample blue into another colour.
func TestFrequentColors(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 1))
	blue := color.RGBA{R: 31, G: 119, B: 180, A: 255}
	for x := range 10 {
		switch {
		case x < 6:
			img.Set(x, 0, color.White)
		case x < 9:
			img.Set(x, 0, blue)
		default:
			img.Set(x, 0, color.Black)
		}
	}
	pal := frequentColors(img, 2)
	require.Len(t, pal, 2)
	assert.Equal(t, color.RGBA{255, 255, 255, 255}, pal[0])
	assert.Equal(t, blue, pal[1])
	assert.Len(t, frequentColors(img, 10), 3, "no more colours than the picture has")
	full := append(frequentColors(img, 40), palette.WebSafe...)
	assert.Equal(t, blue, full.Convert(blue), "the sample blue survives the palette")
	assert.NotEqual(t, blue, color.Palette(palette.Plan9).Convert(blue), "Plan 9's palette loses it")
}

func TestSortSeries(t *testing.T) {
	names := []string{"b", "val", "a", "train"}
	sortSeries(names, nil)
	assert.Equal(t, []string{"a", "b", "train", "val"}, names, "sorted by default")
	sortSeries(names, []string{"val", "train", "missing"})
	assert.Equal(t, []string{"val", "train", "a", "b"}, names, "Order first, then sorted")
	require.NoError(t, LossCurves(filepath.Join(t.TempDir(), "l.png"), "", map[string][]float64{"x": {1, 2}, "y": {2, 1}}, 0, Order("y", "x"), NoLegend()))
}
