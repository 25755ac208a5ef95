package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size is the side of a square figure (6 in; 576 px at the 96 dpi of the PNG backend).
const Size = 6 * vg.Inch

var (
	dataColor   = color.RGBA{R: 150, G: 150, B: 150, A: 255}
	sampleColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	startColor  = color.RGBA{R: 40, G: 40, B: 40, A: 255}
	endColor    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	lineColors  = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255},
	}
)

// save renders p as PNG, or as SVG when path ends in .svg, and writes it atomically: to a
// temporary file in the same directory, renamed to path at the end (nothing is left behind on
// failure). The plot takes w×h; the side column s (legend or colour bar, may be nil) widens
// the figure by sideWidth(s).
func save(p *gplot.Plot, s side, path string, w, h vg.Length) error {
	var format string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		format = "png"
	case ".svg":
		format = "svg"
	default:
		return fmt.Errorf("plot: %s: unsupported file type (use .png or .svg)", path)
	}
	wt, err := render(p, s, w+sideWidth(s), h, format)
	if err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot: %s: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	return nil
}

// titlePadding separates a title from the plot below it.
const titlePadding = vg.Length(6) // points

func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.Padding = titlePadding
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

// xys returns the first two columns of the first max rows of t (all rows if max ≤ 0).
func xys(t *autograd.Tensor, limit int) (plotter.XYs, error) {
	if t.Cols < 2 {
		return nil, fmt.Errorf("points are [%d, %d]; need at least 2 columns", t.Rows, t.Cols)
	}
	n := t.Rows
	if limit > 0 && n > limit {
		n = limit
	}
	pts := make(plotter.XYs, n)
	for i := range n {
		pts[i].X, pts[i].Y = t.At(i, 0), t.At(i, 1)
		if math.IsNaN(pts[i].X+pts[i].Y) || math.IsInf(pts[i].X+pts[i].Y, 0) {
			return nil, fmt.Errorf("point %d = (%v, %v) is not finite", i, pts[i].X, pts[i].Y)
		}
	}
	return pts, nil
}

func scatter(pts plotter.XYs, c color.Color, r vg.Length, shape draw.GlyphDrawer) *plotter.Scatter {
	s, _ := plotter.NewScatter(pts) // pts are finite (checked by xys)
	s.GlyphStyle.Color = c
	s.GlyphStyle.Radius = r
	s.GlyphStyle.Shape = shape
	return s
}

// legendMark is s's glyph at a radius a reader can see in a legend (the data glyphs are small).
func legendMark(s *plotter.Scatter) *plotter.Scatter {
	m := *s
	m.GlyphStyle.Radius = 3
	return &m
}

// Samples draws a scatter plot of model samples (blue) over data points (grey), using the
// first two columns of each; either may be nil. The legend stands beside the plot, so it
// covers no point. Writes PNG, or SVG for a .svg path.
func Samples(path, title string, data, samples *autograd.Tensor) error {
	p := newPlot(title, "x₁", "x₂")
	leg := newLegend()
	for _, s := range []struct {
		t    *autograd.Tensor
		name string
		c    color.Color
	}{{data, "data", dataColor}, {samples, "samples", sampleColor}} {
		if s.t == nil {
			continue
		}
		pts, err := xys(s.t, 0)
		if err != nil {
			return fmt.Errorf("plot: %s: %s: %v", path, s.name, err)
		}
		sc := scatter(pts, s.c, 1.2, draw.CircleGlyph{})
		p.Add(sc)
		leg.Add(fmt.Sprintf("%s (%d)", s.name, len(pts)), legendMark(sc))
	}
	return save(p, legendSide{leg}, path, Size, Size)
}

// MaxTrajectories is the number of trajectories Trajectories draws (the first ones).
const MaxTrajectories = 200

// polylines is a plotter drawing one polyline per trajectory.
type polylines struct {
	lines []plotter.XYs
	style draw.LineStyle
}

func (l *polylines) Plot(c draw.Canvas, plt *gplot.Plot) {
	trX, trY := plt.Transforms(&c)
	for _, ln := range l.lines {
		pts := make([]vg.Point, len(ln))
		for i, q := range ln {
			pts[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
		}
		c.StrokeLines(l.style, c.ClipLinesXY(pts)...)
	}
}

func (l *polylines) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, ln := range l.lines {
		for _, q := range ln {
			xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
		}
	}
	return
}

// Trajectories draws the paths of the first MaxTrajectories points through the states
// traj[0] (t = 0, dark dots) … traj[T] (t = 1, red dots), as thin lines, with a legend beside
// the plot. The legend calls the ends "t = 0 (noise)" and "t = 1 (data)"; Ends renames them
// when the source is not noise, and NoLegend leaves the legend out. All states must have the same shape [n, d ≥ 2]; the first
// two columns are drawn.
func Trajectories(path, title string, traj []*autograd.Tensor, opts ...Option) error {
	o := options{start: "t = 0 (noise)", end: "t = 1 (data)"}
	for _, f := range opts {
		f(&o)
	}
	if len(traj) < 2 {
		return fmt.Errorf("plot: %s: need at least 2 states, have %d", path, len(traj))
	}
	states := make([]plotter.XYs, len(traj))
	for k, s := range traj {
		if s == nil || s.Rows != traj[0].Rows || s.Cols != traj[0].Cols {
			return fmt.Errorf("plot: %s: state %d has a different shape from state 0", path, k)
		}
		pts, err := xys(s, MaxTrajectories)
		if err != nil {
			return fmt.Errorf("plot: %s: state %d: %v", path, k, err)
		}
		states[k] = pts
	}
	lines := make([]plotter.XYs, len(states[0]))
	for i := range lines {
		lines[i] = make(plotter.XYs, len(states))
		for k := range states {
			lines[i][k] = states[k][i]
		}
	}
	p := newPlot(title, "x₁", "x₂")
	p.Add(&polylines{lines: lines, style: draw.LineStyle{Color: color.NRGBA{R: 31, G: 119, B: 180, A: 90}, Width: vg.Points(0.6)}})
	s0 := scatter(states[0], startColor, 1.6, draw.CircleGlyph{})
	s1 := scatter(states[len(states)-1], endColor, 1.6, draw.CircleGlyph{})
	p.Add(s0, s1)
	if o.noLegend {
		return save(p, nil, path, Size, Size)
	}
	leg := newLegend()
	leg.Add(o.start, legendMark(s0))
	leg.Add(o.end, legendMark(s1))
	return save(p, legendSide{leg}, path, Size, Size)
}

// grid adapts a [ny][nx] array of cell values on [xmin, xmax] × [ymin, ymax] to plotter.GridXYZ:
// cell (ix, iy) has its centre at (xmin + (ix + ½)Δx, ymin + (iy + ½)Δy).
type grid struct {
	z                      [][]float64
	xmin, xmax, ymin, ymax float64
}

func (g grid) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64 {
	return g.xmin + (float64(c)+0.5)*(g.xmax-g.xmin)/float64(len(g.z[0]))
}
func (g grid) Y(r int) float64 {
	return g.ymin + (float64(r)+0.5)*(g.ymax-g.ymin)/float64(len(g.z))
}

// Density draws the density p = exp(logp(x, y)) as a heat map on an n×n grid of cell centres
// over [xmin, xmax] × [ymin, ymax] (see DensityGrid).
func Density(path, title string, logp func(x, y float64) float64, xmin, xmax, ymin, ymax float64, n int) error {
	if n < 2 {
		return fmt.Errorf("plot: %s: grid size n = %d < 2", path, n)
	}
	g := grid{z: make([][]float64, n), xmin: xmin, xmax: xmax, ymin: ymin, ymax: ymax}
	for r := range n {
		g.z[r] = make([]float64, n)
		for c := range n {
			g.z[r][c] = logp(g.X(c), g.Y(r))
		}
	}
	return DensityGrid(path, title, g.z, xmin, xmax, ymin, ymax)
}

// DensityGrid draws exp(logp[iy][ix]) as a heat map, where logp holds log-densities at the
// cell centres (xmin + (ix + ½)Δx, ymin + (iy + ½)Δy) of a regular grid over
// [xmin, xmax] × [ymin, ymax] (row iy is one y value); use it with batched likelihoods.
// −Inf is allowed (p = 0); NaN cells are drawn white. The colour scale runs from 0 to max p
// and a colour bar beside the plot reads colours back as densities.
func DensityGrid(path, title string, logp [][]float64, xmin, xmax, ymin, ymax float64) error {
	if len(logp) < 1 || len(logp[0]) < 1 {
		return fmt.Errorf("plot: %s: empty grid", path)
	}
	if !(xmax > xmin) || !(ymax > ymin) {
		return fmt.Errorf("plot: %s: empty range [%v, %v] × [%v, %v]", path, xmin, xmax, ymin, ymax)
	}
	z := make([][]float64, len(logp))
	pmax := 0.0
	for r, row := range logp {
		if len(row) != len(logp[0]) {
			return fmt.Errorf("plot: %s: grid row %d has %d cells, want %d", path, r, len(row), len(logp[0]))
		}
		z[r] = make([]float64, len(row))
		for c, v := range row {
			z[r][c] = math.Exp(v)
			if z[r][c] > pmax && !math.IsInf(z[r][c], 1) {
				pmax = z[r][c]
			}
		}
	}
	if pmax == 0 {
		pmax = 1
	}
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(0)
	cm.SetMax(pmax)
	hm := plotter.NewHeatMap(grid{z: z, xmin: xmin, xmax: xmax, ymin: ymin, ymax: ymax}, cm.Palette(255))
	hm.Min, hm.Max = 0, pmax
	hm.Overflow = color.White
	hm.NaN = color.White
	hm.Rasterized = true
	p := newPlot(fmt.Sprintf("%s (max p = %.3g)", title, pmax), "x₁", "x₂")
	p.Add(hm)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	return save(p, newColorBar(cm, "density p"), path, Size, Size)
}

// arrows is a plotter drawing one arrow per (tail, vector) with a head of 30% of its length.
type arrows struct {
	tails, vecs plotter.XYs
	style       draw.LineStyle
}

func (a *arrows) Plot(c draw.Canvas, plt *gplot.Plot) {
	trX, trY := plt.Transforms(&c)
	for i, t := range a.tails {
		v := a.vecs[i]
		x0, y0 := trX(t.X), trY(t.Y)
		x1, y1 := trX(t.X+v.X), trY(t.Y+v.Y)
		dx, dy := float64(x1-x0), float64(y1-y0)
		if dx == 0 && dy == 0 {
			continue
		}
		c.StrokeLines(a.style, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y1}})
		for _, ang := range []float64{math.Pi * 5 / 6, -math.Pi * 5 / 6} {
			s, co := math.Sincos(ang)
			hx, hy := 0.3*(co*dx-s*dy), 0.3*(s*dx+co*dy)
			c.StrokeLines(a.style, []vg.Point{{X: x1, Y: y1}, {X: x1 + vg.Length(hx), Y: y1 + vg.Length(hy)}})
		}
	}
}

func (a *arrows) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(a.tails)
}

// VectorField draws the field v(x, y) as arrows at the centres of an n×n grid over
// [xmin, xmax] × [ymin, ymax], each centred on its grid point and scaled so that the longest
// spans 0.9 of a cell (so no arrow leaves its cell or the axes; the title states the largest
// |v|). For a time-dependent field close over t: v = func(x, y)
// { return model(x, y, t) }. Non-finite vectors are an error.
func VectorField(path, title string, v func(x, y float64) (float64, float64), xmin, xmax, ymin, ymax float64, n int) error {
	if n < 2 {
		return fmt.Errorf("plot: %s: grid size n = %d < 2", path, n)
	}
	if !(xmax > xmin) || !(ymax > ymin) {
		return fmt.Errorf("plot: %s: empty range [%v, %v] × [%v, %v]", path, xmin, xmax, ymin, ymax)
	}
	dx, dy := (xmax-xmin)/float64(n), (ymax-ymin)/float64(n)
	tails, vecs := make(plotter.XYs, 0, n*n), make(plotter.XYs, 0, n*n)
	var vmax, speed float64
	for r := range n {
		for c := range n {
			x, y := xmin+(float64(c)+0.5)*dx, ymin+(float64(r)+0.5)*dy
			u, w := v(x, y)
			if math.IsNaN(u+w) || math.IsInf(u+w, 0) {
				return fmt.Errorf("plot: %s: v(%v, %v) = (%v, %v) is not finite", path, x, y, u, w)
			}
			tails = append(tails, plotter.XY{X: x, Y: y})
			vecs = append(vecs, plotter.XY{X: u, Y: w})
			vmax = math.Max(vmax, math.Hypot(u/dx, w/dy))
			speed = math.Max(speed, math.Hypot(u, w))
		}
	}
	if vmax > 0 {
		for i := range vecs {
			vecs[i].X *= 0.9 / vmax
			vecs[i].Y *= 0.9 / vmax
		}
	}
	for i := range tails { // centre each arrow on its grid point: it stays inside its cell
		tails[i].X -= vecs[i].X / 2
		tails[i].Y -= vecs[i].Y / 2
	}
	p := newPlot(fmt.Sprintf("%s (max |v| = %.3g)", title, speed), "x₁", "x₂")
	p.Add(&arrows{tails: tails, vecs: vecs, style: draw.LineStyle{Color: sampleColor, Width: vg.Points(0.8)}})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	return save(p, nil, path, Size, Size)
}

// Smooth returns the trailing moving average of ys over a window of w points:
// s_i = mean(y_{max(0, i−w+1)} … y_i). w ≤ 1 returns a copy.
func Smooth(ys []float64, w int) []float64 {
	out := make([]float64, len(ys))
	var sum float64
	for i, y := range ys {
		sum += y
		if w > 1 && i >= w {
			sum -= ys[i-w]
		}
		out[i] = sum / float64(min(i+1, max(w, 1)))
		if w <= 1 {
			out[i], sum = y, 0
		}
	}
	return out
}

// LossCurves draws each named series against its step (1, 2, …), series in sorted name order
// (Order chooses another). With smooth > 1 each series is drawn faintly and its trailing
// moving average over smooth steps (Smooth) on top. Non-finite values are skipped (a NaN loss
// leaves a gap, not an error). The legend stands beside the plot; NoLegend leaves it out.
func LossCurves(path, title string, series map[string][]float64, smooth int, opts ...Option) error {
	if len(series) == 0 {
		return fmt.Errorf("plot: %s: no series", path)
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	names := make([]string, 0, len(series))
	for k := range series {
		names = append(names, k)
	}
	sortSeries(names, o.order)
	p := newPlot(title, "step", "loss")
	leg := newLegend()
	for i, name := range names {
		ys := series[name]
		col := lineColors[i%len(lineColors)]
		toXY := func(ys []float64) plotter.XYs {
			pts := make(plotter.XYs, 0, len(ys))
			for j, y := range ys {
				if !math.IsNaN(y) && !math.IsInf(y, 0) {
					pts = append(pts, plotter.XY{X: float64(j + 1), Y: y})
				}
			}
			return pts
		}
		raw := toXY(ys)
		if len(raw) == 0 {
			continue
		}
		if smooth > 1 {
			r, g, b, _ := col.RGBA()
			faint := color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 70}
			l, _ := plotter.NewLine(raw)
			l.Color, l.Width = faint, vg.Points(0.7)
			p.Add(l)
			clean := make([]float64, len(raw))
			for j, q := range raw {
				clean[j] = q.Y
			}
			sm := Smooth(clean, smooth)
			for j := range raw {
				raw[j].Y = sm[j]
			}
		}
		l, _ := plotter.NewLine(raw)
		l.Color, l.Width = col, vg.Points(1.5)
		p.Add(l)
		leg.Add(name, l)
	}
	if o.noLegend {
		return save(p, nil, path, 8*vg.Inch, 4.5*vg.Inch)
	}
	return save(p, legendSide{leg}, path, 8*vg.Inch, 4.5*vg.Inch)
}

// sortSeries sorts names: those in order first, in that order, then the others by name.
func sortSeries(names, order []string) {
	rank := func(name string) int { // position in order, or after all of them
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
}
