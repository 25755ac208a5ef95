// Package gonbui is nbrun's stand-in for GoNB's github.com/janpfeifer/gonb/gonbui: the same
// display functions, with the same signatures, so that a notebook written for GoNB runs
// unchanged under nbrun.
//
// nbrun embeds this file and, in the temporary module where it runs a notebook, replaces
// github.com/janpfeifer/gonb by it. Each display call writes one record to stdout:
//
//	"\x1enbrun-display:" <length of payload in decimal> "\n" <payload>
//
// where the payload is a JSON MIME bundle ({"image/png": base64}); nbrun turns it into a
// display_data output. Each bundle holds exactly the MIME types GoNB v0.11.4 sends, and no
// text/plain beside them: image/png for DisplayPng, text/html for DisplayHTML, text/markdown
// for DisplayMarkdown. As in GoNB, the calls do nothing outside the notebook runner
// (IsNotebook is false unless NBRUN_DISPLAY is set).
//
// Like GoNB, DisplaySVG shows the SVG as HTML (<div>svg</div>), which survives conversion of
// the notebook to HTML.
package gonbui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"sync"
)

// IsNotebook reports whether the program runs under the notebook runner.
var IsNotebook = os.Getenv("NBRUN_DISPLAY") != ""

var mu sync.Mutex

// send writes one display record to stdout.
func send(bundle map[string]string) {
	if !IsNotebook {
		return
	}
	payload, err := json.Marshal(bundle)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	mu.Lock()
	defer mu.Unlock()
	rec := fmt.Appendf(nil, "\x1enbrun-display:%d\n", len(payload))
	_, _ = os.Stdout.Write(append(rec, payload...))
}

// DisplayPng displays the given PNG, given as raw bytes.
func DisplayPng(png []byte) {
	send(map[string]string{"image/png": base64.StdEncoding.EncodeToString(png)})
}

// DisplayPNG is an alias for DisplayPng.
func DisplayPNG(png []byte) { DisplayPng(png) }

// DisplayImage displays the given image, by converting it to PNG first. It returns an error
// if it fails to encode the image to PNG.
func DisplayImage(img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	DisplayPng(buf.Bytes())
	return nil
}

// DisplayHTML displays the given HTML in the notebook, as the output of the cell being executed.
func DisplayHTML(html string) { send(map[string]string{"text/html": html}) }

// DisplayHtml is an alias for DisplayHTML.
func DisplayHtml(html string) { DisplayHTML(html) }

// DisplayHTMLF is DisplayHTML of fmt.Sprintf(htmlFormat, args...).
func DisplayHTMLF(htmlFormat string, args ...any) { DisplayHTML(fmt.Sprintf(htmlFormat, args...)) }

// DisplayHtmlf is an alias for DisplayHTMLF.
func DisplayHtmlf(htmlFormat string, args ...any) { DisplayHTMLF(htmlFormat, args...) }

// DisplayMarkdown displays the given Markdown content in the notebook.
func DisplayMarkdown(markdown string) {
	send(map[string]string{"text/markdown": markdown})
}

// DisplaySvg displays the given SVG, embedded in HTML as GoNB does.
func DisplaySvg(svg string) { DisplayHTML(fmt.Sprintf("<div>%s</div>", svg)) }

// DisplaySVG is an alias for DisplaySvg.
func DisplaySVG(svg string) { DisplaySvg(svg) }

// EmbedImageAsPNGSrc returns img as a PNG data URL, for the src of an HTML <img> tag.
func EmbedImageAsPNGSrc(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Sync waits until all display content has been sent; records are written synchronously
// here, so it returns at once.
func Sync() {}

// Error reports a failure to communicate with the notebook; there is none here.
func Error() error { return nil }
