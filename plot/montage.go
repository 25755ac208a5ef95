package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/png"
	"os"
	"sort"
)

// MontageMaxBytes is the size above which Montage switches to a 256-colour
// palette: the picture's 40 most frequent colours, kept exactly (the figures'
// flat colours: background, text, lines, markers), and the 216 web-safe colours
// for the rest (gradients such as a density's).
const MontageMaxBytes = 100_000

// Montage reads the PNG pictures at paths (e.g. written by this package),
// halves each one (averaging 2×2 pixel blocks) and writes them side by side
// in one row to out, atomically: a compact multi-panel figure in which each
// panel keeps its own title and axes. If the full-colour file would exceed
// MontageMaxBytes it is written with a 256-colour palette instead (see
// MontageMaxBytes; every pixel takes the nearest colour).
func Montage(out string, paths ...string) error {
	var tiles []image.Image
	w, h := 0, 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("plot: Montage: %w", err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("plot: Montage: %s: %w", p, err)
		}
		b := img.Bounds()
		tiles = append(tiles, img)
		w += b.Dx() / 2
		h = max(h, b.Dy()/2)
	}
	if len(tiles) == 0 {
		return fmt.Errorf("plot: Montage %s: no pictures given", out)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range dst.Pix {
		dst.Pix[i] = 255
	}
	x0 := 0
	for _, img := range tiles {
		b := img.Bounds()
		for y := 0; y < b.Dy()/2; y++ {
			for x := 0; x < b.Dx()/2; x++ {
				var r, g, bl uint32
				for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					cr, cg, cb, _ := img.At(b.Min.X+2*x+d[0], b.Min.Y+2*y+d[1]).RGBA()
					r, g, bl = r+cr, g+cg, bl+cb
				}
				dst.Set(x0+x, y, color.RGBA{R: uint8(r / 4 >> 8), G: uint8(g / 4 >> 8), B: uint8(bl / 4 >> 8), A: 255})
			}
		}
		x0 += b.Dx() / 2
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, dst); err != nil {
		return fmt.Errorf("plot: Montage %s: %w", out, err)
	}
	if buf.Len() > MontageMaxBytes {
		pal := image.NewPaletted(dst.Bounds(), append(frequentColors(dst, 40), palette.WebSafe...))
		draw.Draw(pal, pal.Bounds(), dst, image.Point{}, draw.Src)
		buf.Reset()
		if err := enc.Encode(&buf, pal); err != nil {
			return fmt.Errorf("plot: Montage %s: %w", out, err)
		}
	}
	return writeAtomic(out, buf.Bytes())
}

// frequentColors returns the n most frequent colours of img (fewer if it has fewer), most
// frequent first, ties broken by colour value so that the palette is deterministic.
func frequentColors(img *image.RGBA, n int) color.Palette {
	count := map[color.RGBA]int{}
	for i := 0; i+3 < len(img.Pix); i += 4 {
		count[color.RGBA{R: img.Pix[i], G: img.Pix[i+1], B: img.Pix[i+2], A: img.Pix[i+3]}]++
	}
	cs := make([]color.RGBA, 0, len(count))
	for c := range count {
		cs = append(cs, c)
	}
	key := func(c color.RGBA) uint32 { return uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A) }
	sort.Slice(cs, func(i, j int) bool {
		if count[cs[i]] != count[cs[j]] {
			return count[cs[i]] > count[cs[j]]
		}
		return key(cs[i]) < key(cs[j])
	})
	pal := make(color.Palette, 0, min(n, len(cs)))
	for _, c := range cs[:min(n, len(cs))] {
		pal = append(pal, c)
	}
	return pal
}
