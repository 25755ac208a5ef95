package plot

import (
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Margin is the blank border around every figure: the title sits Margin below the top edge
// instead of touching it.
const Margin = vg.Length(10) // points

// gap separates the plot from the column beside it (legend or colour bar).
const gap = vg.Length(10) // points

// side is what a figure draws in a column to the right of its plot: a legend or a colour bar,
// so that neither covers data.
type side interface {
	width() vg.Length
	// draw draws into col, the side column; data is the plot's data area (to align with it).
	draw(col, data draw.Canvas)
}

// legendSide is a legend drawn beside the plot, its top level with the top of the data area.
type legendSide struct{ l *gplot.Legend }

func newLegend() *gplot.Legend {
	l := gplot.NewLegend()
	l.Top, l.Left = true, true
	l.Padding = 3 // points between entries
	return &l
}

func (s legendSide) width() vg.Length {
	return gap + s.l.Rectangle(draw.Canvas{}).Size().X + s.l.TextStyle.Rectangle(" ").Max.X
}

func (s legendSide) draw(col, data draw.Canvas) {
	col.Min.X += gap
	col.Max.Y = data.Max.Y
	s.l.Draw(col)
}

// colorBarWidth is the width of the colour-bar column: gap, tick labels, axis label and bar.
const colorBarWidth = 1.1 * vg.Inch

// colorBar is a vertical colour bar beside the plot, spanning the height of the data area,
// labelled with the values its colours stand for.
type colorBar struct {
	bar   *gplot.Plot
	label string
}

func newColorBar(cm palette.ColorMap, label string) colorBar {
	b := gplot.New()
	b.HideX()
	b.X.Padding, b.Y.Padding = 0, 0
	b.Y.Label.Text = label
	b.Y.Tick.Marker = plainTicks{}
	b.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	return colorBar{bar: b, label: label}
}

func (colorBar) width() vg.Length { return colorBarWidth }

func (s colorBar) draw(col, data draw.Canvas) {
	col.Min.X += gap
	col.Min.Y, col.Max.Y = data.Min.Y, data.Max.Y
	s.bar.Draw(col)
}

// render draws p, with s (if not nil) in a column of its own to its right (sideWidth(s) wide),
// inside a Margin on every side of a w×h canvas of the given format ("png" or "svg").
func render(p *gplot.Plot, s side, w, h vg.Length, format string) (io.WriterTo, error) {
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	inner := draw.Crop(dc, Margin, -Margin, Margin, -Margin)
	if s == nil {
		p.Draw(inner)
		return c, nil
	}
	sw := sideWidth(s)
	main := draw.Crop(inner, 0, -sw, 0, 0)
	col := draw.Crop(inner, inner.Size().X-sw, 0, 0, 0)
	p.Draw(main)
	s.draw(col, p.DataCanvas(main))
	return c, nil
}

// sideWidth is the width a side column adds to a figure (0 without one).
func sideWidth(s side) vg.Length {
	if s == nil {
		return 0
	}
	return vg.Length(math.Ceil(float64(s.width())))
}

// Option changes a default of a figure (see Ends, NoLegend and Order).
type Option func(*options)

type options struct {
	start, end string // legend labels of the first and last states (Trajectories)
	noLegend   bool
	order      []string // series drawn first, in this order (LossCurves)
}

// Order draws the named series of LossCurves first, in this order (and lists them so in the
// legend); the others follow in sorted order.
func Order(names ...string) Option {
	return func(o *options) { o.order = names }
}

// NoLegend leaves the legend out, e.g. from every panel of a Montage but the last.
func NoLegend() Option {
	return func(o *options) { o.noLegend = true }
}

// Ends names the first and last states of Trajectories in its legend, e.g.
// Ends("t = 0 (source: 8 Gaussians)", "t = 1 (target: moons)") when the flow does not start
// from noise. The defaults are "t = 0 (noise)" and "t = 1 (data)".
func Ends(start, end string) Option {
	return func(o *options) { o.start, o.end = start, end }
}
