package plot

import (
	"fmt"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one named series y(x) for Lines. Dashed draws it dashed; Dots
// adds a marker at every point.
type Curve struct {
	Name         string
	X, Y         []float64
	Dashed, Dots bool
}

// Axes labels the axes of Lines and chooses logarithmic scales.
type Axes struct {
	X, Y       string // labels
	LogX, LogY bool
}

// Lines draws 1-D curves (densities, errors against step counts, …) into a
// PNG or SVG file, written atomically. Points that cannot be drawn (NaN,
// ±Inf, or ≤ 0 on a log axis) are skipped; a curve with none left is an
// error naming it.
//
// The legend stands beside the plot; NoLegend leaves it out.
func Lines(path, title string, axes Axes, curves []Curve, opts ...Option) error {
	var o options
	for _, f := range opts {
		f(&o)
	}
	p := newPlot(title, axes.X, axes.Y)
	leg := newLegend()
	if axes.LogX {
		p.X.Scale, p.X.Tick.Marker = gplot.LogScale{}, shortLogTicks{}
	}
	if axes.LogY {
		p.Y.Scale, p.Y.Tick.Marker = gplot.LogScale{}, shortLogTicks{}
	}
	for i, c := range curves {
		if len(c.X) != len(c.Y) {
			return fmt.Errorf("plot: %s: curve %q has %d x and %d y values", path, c.Name, len(c.X), len(c.Y))
		}
		pts := make(plotter.XYs, 0, len(c.X))
		for j := range c.X {
			x, y := c.X[j], c.Y[j]
			if math.IsNaN(x+y) || math.IsInf(x+y, 0) || (axes.LogY && y <= 0) || (axes.LogX && x <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			return fmt.Errorf("plot: %s: curve %q has no drawable point", path, c.Name)
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plot: %s: %w", path, err)
		}
		col := lineColors[i%len(lineColors)]
		l.Color, l.Width = col, vg.Points(1.6)
		if c.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if c.Dots {
			s.Color, s.Radius, s.Shape = col, vg.Points(2.5), draw.CircleGlyph{}
			p.Add(s)
			leg.Add(c.Name, l, s)
		} else {
			leg.Add(c.Name, l)
		}
	}
	if o.noLegend {
		return save(p, nil, path, 7*vg.Inch, 4.5*vg.Inch)
	}
	return save(p, legendSide{leg}, path, 7*vg.Inch, 4.5*vg.Inch)
}

// shortLogTicks are gonum's logarithmic ticks labelled by labelTicks (gonum's own labels read
// 9.999999999999999e-05, and 'g' formatting mixes 10 with 1e+02 on one axis).
type shortLogTicks struct{}

func (shortLogTicks) Ticks(lo, hi float64) []gplot.Tick {
	return labelTicks(gplot.LogTicks{Prec: -1}.Ticks(lo, hi))
}

// plainTicks are gonum's default linear ticks labelled by labelTicks, so that every axis
// writes 2.5 and 0 (gonum's own labels read 2.50 and 0.00 on one axis and 3 on another).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []gplot.Tick {
	return labelTicks(gplot.DefaultTicks{}.Ticks(lo, hi))
}

// labelTicks relabels the labelled ticks of one axis in one style: plain decimals
// (0.001, 2.5, 1000) when every nonzero value lies in 10⁻⁴ ≤ |v| < 10⁵, powers of ten
// (1e-05, 2.5e+05) otherwise, with at most four significant digits (enough for any tick, and
// it hides rounding such as 0.30000000000000004) and no trailing zeros.
func labelTicks(ts []gplot.Tick) []gplot.Tick {
	plain := true
	for _, t := range ts {
		if a := math.Abs(round4(t.Value)); t.Label != "" && a != 0 && (a < 1e-4 || a >= 1e5) {
			plain = false
		}
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = tickLabel(ts[i].Value, plain)
		}
	}
	return ts
}

func round4(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return r
}

// tickLabel writes v rounded to four significant digits as a plain decimal or, if !plain,
// as a power of ten.
func tickLabel(v float64, plain bool) string {
	if plain || round4(v) == 0 {
		return strconv.FormatFloat(round4(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(round4(v), 'e', -1, 64)
}
