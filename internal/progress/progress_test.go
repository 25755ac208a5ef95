package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock returns a clock that advances only when told to.
func fakeClock() (now func() time.Time, advance func(time.Duration)) {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { return t }, func(d time.Duration) { t = t.Add(d) }
}

func newTest(w *bytes.Buffer, total int) (*Bar, func(time.Duration)) {
	now, adv := fakeClock()
	b := New(w, "train", total, "steps")
	b.now, b.start, b.last = now, now(), now()
	return b, adv
}

func TestBar_PlainLines(t *testing.T) {
	var w bytes.Buffer
	b, adv := newTest(&w, 100)
	for i := 1; i <= 100; i++ {
		adv(time.Second) // 1 step/s: a tenth every 10 s, far above Every
		b.Set(i, "loss 1.5")
	}
	b.Done()
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	require.Len(t, lines, 10, "nine tenths and the summary: %q", w.String())
	require.Equal(t, "train  50/100 steps (50%)  1.0 steps/s  ETA 50s  loss 1.5", lines[4])
	require.Equal(t, "train  done: 100 steps in 100.0 s (1.0 steps/s)  loss 1.5", lines[9])
	require.NotContains(t, w.String(), "\r", "no carriage return off a terminal")
}

func TestBar_PlainLinesAreRateLimited(t *testing.T) {
	var w bytes.Buffer
	b, adv := newTest(&w, 1000)
	for range 1000 {
		adv(time.Millisecond) // the whole run takes 1 s < Every
		b.Add(1)
	}
	b.Done()
	require.Equal(t, "train  done: 1000 steps in 1.0 s (1000.0 steps/s)\n", w.String())
	b.Done()
	b.Add(1)
	require.Equal(t, 1, strings.Count(w.String(), "\n"), "Done is final")
}

func TestBar_TerminalLine(t *testing.T) {
	var w bytes.Buffer
	b, adv := newTest(&w, 4000)
	adv(16 * time.Second)
	b.done = 1920
	got := b.line(b.now(), true)
	require.Equal(t, "train  [=========>          ]  48%  1920/4000 steps  120.0 steps/s  ETA 17s", got)
	b.done = 4000
	require.Equal(t, "train  [====================] 100%  4000/4000 steps  250.0 steps/s", b.line(b.now(), true))
}

func TestBar_ConcurrentAdd(t *testing.T) {
	var w bytes.Buffer
	b, _ := newTest(&w, 8000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				b.Add(1)
			}
		}()
	}
	wg.Wait()
	b.Done()
	require.Contains(t, w.String(), "done: 8000 steps")
}

func TestIsTerminal(t *testing.T) {
	require.False(t, IsTerminal(&bytes.Buffer{}))
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()
	require.False(t, IsTerminal(f), "a regular file is not a terminal")
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		require.True(t, IsTerminal(tty))
	}
}

func TestETA(t *testing.T) {
	for s, want := range map[float64]string{0.4: "0s", 17.2: "17s", 125: "2m05s", 3720: "1h02m"} {
		require.Equal(t, want, eta(s), "eta(%g)", s)
	}
}
