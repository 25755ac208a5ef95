// Package browsertest drives the playground (web/) in headless Chromium with
// chromedp. It is its own module so that the main module's go.mod gains no
// browser dependency and `go test ./...` at the root does not start a
// browser; .ci/run installs Debian's chromium and runs it with
// `cd web/browsertest && go test ./...`.
//
// TestPlayground_TrainsAndDraws builds the WebAssembly from this checkout
// (web.BuildWasm), serves the page on 127.0.0.1, starts training on
// 8gaussians from the keyboard, and asserts that the loss went down, that
// the canvases are not blank, that moving the time slider with the arrow
// keys changes the picture, draws the model's log-likelihood heatmap, and
// writes a screenshot (web/screenshot.png, or
// $PLAYGROUND_SCREENSHOT). Without Chromium it skips, except under CI=true,
// where it fails.
package browsertest

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/flowmatch/flowmatch/web"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed (CI=true: the browser test must run; apt-get install -y chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// state is window.playground, the page's counters.
type state struct {
	Ready  bool      `json:"ready"`
	Steps  int       `json:"steps"`
	Losses []float64 `json:"losses"`
	Frames int       `json:"frames"`
	// FrameSteps and FrameT are the steps and time of the last frame drawn.
	FrameSteps int     `json:"frameSteps"`
	FrameT     float64 `json:"frameT"`
	FrameCond  bool    `json:"frameCond"`
	LikSteps   int     `json:"likSteps"`
	SPS        float64 `json:"sps"`
	Error      *string `json:"error"`
}

// pixelStats returns, for a canvas, the fraction of pixels that differ from
// white and a short hash-like fingerprint (the sum of all channel values
// weighted by position), read in the page.
const pixelStats = `(() => {
  const c = document.getElementById(%q), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let ink = 0, fp = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 245 || d[i+1] < 245 || d[i+2] < 245) ink++;
    fp = (fp * 31 + d[i] + 3 * d[i+1] + 7 * d[i+2]) %% 1000000007;
  }
  return [ink / (d.length / 4), fp];
})()`

func TestPlayground_TrainsAndDraws(t *testing.T) {
	bin := chromium(t)
	root, err := web.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := web.BuildWasm(root, dir); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "playground.wasm"))
	t.Logf("playground.wasm: %d bytes", st.Size())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: web.Handler(dir)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"

	// Chromium's profile folder: removed after the browser has exited (this
	// defer runs after the allocator's cancel), retried while it still writes.
	profile, err := os.MkdirTemp("", "playground-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 240*time.Second)
	defer cancel()

	var s state
	read := func() state {
		var s state
		if err := chromedp.Run(ctx, chromedp.Evaluate(`window.playground`, &s)); err != nil {
			t.Fatal(err)
		}
		if s.Error != nil {
			t.Fatalf("the page reports an error: %s", *s.Error)
		}
		return s
	}
	waitFor := func(what string, ok func(state) bool) state {
		last := time.Now()
		for {
			s := read()
			if ok(s) {
				return s
			}
			if time.Since(last) > 10*time.Second {
				last = time.Now()
				t.Logf("waiting for %s: %d steps, %d frames, %.1f steps/s", what, s.Steps, s.Frames, s.SPS)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s (state %+v)", what, s)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor("the model", func(s state) bool { return s.Ready && s.Frames > 0 })

	// Start training from the keyboard: focus the button, press Enter.
	start := time.Now()
	if err := chromedp.Run(ctx, chromedp.Focus("#train", chromedp.ByID), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	const steps = 300
	s = waitFor(fmt.Sprintf("%d steps", steps), func(s state) bool { return s.Steps >= steps })
	if err := chromedp.Run(ctx, chromedp.Focus("#train", chromedp.ByID), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps in %.1f s of wall time; the page reports %.0f steps/s of training", s.Steps, time.Since(start).Seconds(), s.SPS)
	s = waitFor("the paused run's frame", func(x state) bool { return x.FrameSteps == x.Steps && x.Steps >= steps })

	// The loss went down: the last 100 steps' mean is below the first 100's
	// by more than 3 standard errors of the difference.
	l := s.Losses
	m0, se0 := meanSE(l[:100])
	m1, se1 := meanSE(l[len(l)-100:])
	t.Logf("loss: first 100 steps %.4f ± %.4f, last 100 %.4f ± %.4f", m0, se0, m1, se1)
	if !(m0-m1 > 3*math.Hypot(se0, se1)) {
		t.Errorf("the loss did not go down: first 100 %.4f ± %.4f, last 100 %.4f ± %.4f", m0, se0, m1, se1)
	}

	// The pictures are not blank.
	var learned, exact, loss [2]float64
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(fmt.Sprintf(pixelStats, "learned"), &learned),
		chromedp.Evaluate(fmt.Sprintf(pixelStats, "exact"), &exact),
		chromedp.Evaluate(fmt.Sprintf(pixelStats, "loss"), &loss)); err != nil {
		t.Fatal(err)
	}
	t.Logf("ink: learned %.3f, exact %.3f, loss %.3f of the pixels", learned[0], exact[0], loss[0])
	for name, v := range map[string][2]float64{"learned": learned, "exact": exact, "loss": loss} {
		if v[0] < 0.005 {
			t.Errorf("canvas %s is blank: %.4f of its pixels are not white", name, v[0])
		}
	}

	// Moving the slider (keyboard: focus it, press ← 50 times, t 1 → 0.5)
	// changes the picture.
	if err := chromedp.Run(ctx, chromedp.Focus("#t", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.ArrowLeft)); err != nil {
			t.Fatal(err)
		}
	}
	var tval string
	if err := chromedp.Run(ctx, chromedp.Text("#tval", &tval, chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	if tval != "0.50" {
		t.Errorf("after 50 presses of ← the slider reads %q, want 0.50", tval)
	}
	waitFor("the frame at t = 0.5", func(x state) bool { return x.FrameT == 0.5 })
	var learned2, exact2 [2]float64
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(fmt.Sprintf(pixelStats, "learned"), &learned2),
		chromedp.Evaluate(fmt.Sprintf(pixelStats, "exact"), &exact2)); err != nil {
		t.Fatal(err)
	}
	if learned2[1] == learned[1] || exact2[1] == exact[1] {
		t.Errorf("moving the slider did not change the pictures (fingerprints learned %v → %v, exact %v → %v)", learned[1], learned2[1], exact[1], exact2[1])
	}

	// The conditional field for a picked x₁, from the keyboard too.
	if err := chromedp.Run(ctx, chromedp.Focus("#cond", chromedp.ByID), chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	waitFor("the conditional frame", func(x state) bool { return x.FrameCond })
	var exact3 [2]float64
	if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(pixelStats, "exact"), &exact3)); err != nil {
		t.Fatal(err)
	}
	if exact3[1] == exact2[1] {
		t.Errorf("the conditional field drew the same picture as the marginal one")
	}

	// The model's log-likelihood heatmap, asked for from the keyboard.
	if err := chromedp.Run(ctx, chromedp.Focus("#likbtn", chromedp.ByID), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	likStart := time.Now()
	waitFor("the log-likelihood heatmap", func(x state) bool { return x.LikSteps == s.Steps })
	var lik [2]float64
	if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(pixelStats, "lik"), &lik)); err != nil {
		t.Fatal(err)
	}
	t.Logf("log-likelihood heatmap in %.1f s; ink %.3f", time.Since(likStart).Seconds(), lik[0])
	if lik[0] < 0.005 {
		t.Errorf("the log-likelihood canvas is blank: %.4f of its pixels are not white", lik[0])
	}

	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("PLAYGROUND_SCREENSHOT")
	if out == "" {
		out = filepath.Join(root, "web", "screenshot.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))

	// A drawn dataset from the keyboard: x₁ = (2, 2) becomes a data point.
	if err := chromedp.Run(ctx, chromedp.Focus("#addpt", chromedp.ByID), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	var status string
	for !strings.Contains(status, "new model: drawn") {
		if err := chromedp.Run(ctx, chromedp.Text("#status", &status, chromedp.ByID)); err != nil {
			t.Fatalf("waiting for the drawn dataset's model: %v (status %q)", err, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	read()
}

func meanSE(x []float64) (mean, se float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
}
