// Package progress reports the progress of a long phase of work (training
// steps, points sampled, log-likelihoods evaluated) to a writer.
//
// On a terminal (an *os.File whose mode is a character device) a Bar is one
// line redrawn in place with a carriage return:
//
//	train  [=========>          ]  48%  1920/4000 steps  121.3 steps/s  ETA 17s  loss 5.71
//
// Anywhere else (a file, a pipe, a bytes.Buffer in a test) it writes plain
// lines, one each time another tenth of the work is done and at least
// Every has passed since the last line, and always a last line at Done:
//
//	train  1920/4000 steps (48%)  121.3 steps/s  ETA 17s  loss 5.71
//	train  done: 4000 steps in 33.0 s (121.2 steps/s)  loss 5.28
//
// A Bar is safe for concurrent use: workers that finish chunks of rows may
// call Add from several goroutines.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// IsTerminal reports whether w is a terminal: an *os.File whose Stat mode
// has os.ModeCharDevice set.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Bar reports the progress of one phase of Total units of work.
type Bar struct {
	// Every is the least time between two plain lines (non-terminal
	// output); 0 means 2 s. On a terminal the line is redrawn at most every
	// 100 ms.
	Every time.Duration

	mu        sync.Mutex
	w         io.Writer
	tty       bool
	label     string
	unit      string
	total     int
	done      int
	note      string
	start     time.Time
	last      time.Time
	lastTenth int
	finished  bool
	now       func() time.Time
}

// New starts a Bar for total units named unit ("steps", "points") labelled
// label, writing to w (nil writes nothing). It draws nothing until the first
// Add or Set.
func New(w io.Writer, label string, total int, unit string) *Bar {
	if w == nil {
		w = io.Discard
	}
	b := &Bar{w: w, tty: IsTerminal(w), label: label, unit: unit, total: max(total, 1), now: time.Now}
	b.start = b.now()
	b.last = b.start
	return b
}

// Add records n more units done. The methods of a nil *Bar do nothing.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(b.done+n, b.note)
}

// Set records that done units are done, with a short note shown at the
// end of the line (e.g. the current loss; "" for none).
func (b *Bar) Set(done int, note string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(done, note)
}

func (b *Bar) update(done int, note string) {
	if b.finished {
		return
	}
	b.done, b.note = min(done, b.total), note
	now := b.now()
	tenth := 10 * b.done / b.total
	if b.tty {
		if now.Sub(b.last) >= 100*time.Millisecond || b.done == b.total {
			b.last = now
			fmt.Fprintf(b.w, "\r%s\x1b[K", b.line(now, true))
		}
		return
	}
	every := b.Every
	if every == 0 {
		every = 2 * time.Second
	}
	if tenth > b.lastTenth && b.done < b.total && now.Sub(b.last) >= every {
		b.lastTenth, b.last = tenth, now
		fmt.Fprintln(b.w, b.line(now, false))
	}
}

// Done ends the phase: on a terminal it finishes the line, elsewhere it
// writes a summary line with the elapsed time and the rate. Further calls
// do nothing.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	el := b.now().Sub(b.start).Seconds()
	s := fmt.Sprintf("%s  done: %d %s in %.1f s (%s)", b.label, b.done, b.unit, el, rate(b.done, el, b.unit))
	if b.note != "" {
		s += "  " + b.note
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K\n", s)
		return
	}
	fmt.Fprintln(b.w, s)
}

// line is the progress line at time now: with a bar on a terminal.
func (b *Bar) line(now time.Time, bar bool) string {
	el := now.Sub(b.start).Seconds()
	frac := float64(b.done) / float64(b.total)
	var s strings.Builder
	s.WriteString(b.label)
	if bar {
		const width = 20
		k := int(frac * width)
		s.WriteString("  [" + strings.Repeat("=", k))
		if k < width {
			s.WriteString(">" + strings.Repeat(" ", width-k-1))
		}
		fmt.Fprintf(&s, "] %3.0f%%  %d/%d %s", 100*frac, b.done, b.total, b.unit)
	} else {
		fmt.Fprintf(&s, "  %d/%d %s (%.0f%%)", b.done, b.total, b.unit, 100*frac)
	}
	fmt.Fprintf(&s, "  %s", rate(b.done, el, b.unit))
	if b.done > 0 && b.done < b.total {
		fmt.Fprintf(&s, "  ETA %s", eta(el*float64(b.total-b.done)/float64(b.done)))
	}
	if b.note != "" {
		s.WriteString("  " + b.note)
	}
	return s.String()
}

// rate formats done/seconds as "123.4 unit/s".
func rate(done int, seconds float64, unit string) string {
	if seconds <= 0 {
		return "– " + unit + "/s"
	}
	return fmt.Sprintf("%.1f %s/s", float64(done)/seconds, unit)
}

// eta formats a remaining time in seconds as 17s, 2m05s or 1h02m.
func eta(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
