package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// scalingSpec is what bench -what scaling measures: the workload's training
// step (newTrainer) at batch, on 1 and on threads threads, and threads
// single-thread copies of it at once, each min seconds after warmup
// untimed steps, rounds times in turn.
type scalingSpec struct {
	batch, threads, warmup, rounds int
	min                            time.Duration
	seed                           uint64
}

// runScaling is bench -what scaling. It answers "how much faster is a
// training step on t threads, and how much could it be": it times
//
//	r₁ = steps/s of one training step on 1 thread,
//	r_t = steps/s of the same step on t threads (nn.SetThreads(t)),
//	c_t = steps/s of t copies of it at once, each on 1 thread with its
//	      own model (one goroutine each, locked to its OS thread), summed,
//
// in turn, rounds times, keeps the best of each (the least disturbed by
// other work on a shared machine), and prints the three rates and
//
//	scaling=r_t/r₁ machine=c_t/r₁ efficiency=(r_t/r₁)/(c_t/r₁)
//
// then the same ratios formed within each round, their median and range:
// on a virtual machine whose host's load drifts over seconds, the ratio of
// three measurements taken back to back is steadier than the ratio of
// bests taken in different rounds,
// so that "the step scales X× on t threads where the machine gives Y× to t
// independent copies" is one command (docs/PERFORMANCE.md, Threads), and
// last a warning when the load average exceeds the number of CPUs.
// TestBench_Scaling checks its output.
func runScaling(w io.Writer, sp scalingSpec, suffix string) error {
	if sp.threads < 2 {
		sp.threads = 2
	}
	t := sp.threads
	defer nn.SetThreads(1)
	var r1, rt, ct float64
	var sc, mc, ef []float64 // each round's ratios
	load := loadAverage()
	for range sp.rounds {
		nn.SetThreads(1)
		a, err := scalingRate(sp, 1)
		if err != nil {
			return err
		}
		nn.SetThreads(t)
		b, err := scalingRate(sp, 1)
		if err != nil {
			return err
		}
		nn.SetThreads(1)
		c, err := scalingRate(sp, t)
		if err != nil {
			return err
		}
		r1, rt, ct = max(r1, a), max(rt, b), max(ct, c)
		sc, mc, ef = append(sc, b/a), append(mc, c/a), append(ef, b/c)
	}
	fmt.Fprintf(w, "train_steps_per_s=%.2f batch=%d threads=1 %s\n", r1, sp.batch, suffix)
	fmt.Fprintf(w, "train_steps_per_s=%.2f batch=%d threads=%d %s\n", rt, sp.batch, t, suffix)
	fmt.Fprintf(w, "copies_steps_per_s=%.2f batch=%d copies=%d threads=1 %s\n", ct, sp.batch, t, suffix)
	fmt.Fprintf(w, "scaling=%.3f machine=%.3f efficiency=%.3f threads=%d batch=%d rounds=%d\n", rt/r1, ct/r1, rt/ct, t, sp.batch, sp.rounds)
	fmt.Fprintf(w, "# per round (the ratios of one round's three measurements, taken seconds apart): scaling %s, machine %s, efficiency %s\n",
		medianRange(sc), medianRange(mc), medianRange(ef))
	after := loadAverage()
	fmt.Fprintf(w, "# the step scales %.2fx on %d threads where the machine gives %.2fx to %d single-thread copies (best of %d rounds; load average before %s, after %s)\n",
		rt/r1, t, ct/r1, t, sp.rounds, load, after)
	if busy(load) || busy(after) {
		fmt.Fprintf(w, "# load average above the %d CPUs: other work shares the cores, so these ratios say little about this machine; measure when it is quiet\n", runtime.NumCPU())
	}
	return nil
}

// medianRange formats the median of xs and, for more than one value,
// their range: "1.62 (1.58–1.71)".
func medianRange(xs []float64) string {
	y := slices.Sorted(slices.Values(xs))
	n := len(y)
	m := y[n/2]
	if n%2 == 0 {
		m = (y[n/2-1] + y[n/2]) / 2
	}
	if n == 1 {
		return fmt.Sprintf("%.3f", m)
	}
	return fmt.Sprintf("%.3f (%.3f–%.3f)", m, y[0], y[n-1])
}

// busy reports whether a loadAverage's 1-minute figure exceeds the number
// of CPUs.
func busy(load string) bool {
	f := strings.Fields(load)
	if len(f) == 0 {
		return false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return err == nil && v > float64(runtime.NumCPU())
}

// scalingRate runs copies training loops at once, each with its own model
// (the same seed) on its own goroutine locked to an OS thread, and returns
// their summed steps per second over the time they all ran.
func scalingRate(sp scalingSpec, copies int) (float64, error) {
	steps := make([]func(), copies)
	for i := range steps {
		model := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRand(sp.seed, 2))
		step, err := newTrainer(model, fm.CondOT{SigmaMin: 1e-4}, data.EightGaussians().Sample, sp.batch, 1e-3, sp.seed)
		if err != nil {
			return 0, err
		}
		steps[i] = step
	}
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, copies)
	var elapsed time.Duration
	for i, step := range steps {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range sp.warmup {
				step()
			}
			ready.Done()
			<-start
			t0 := time.Now()
			for time.Since(t0) < sp.min {
				step()
				counts[i]++
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	elapsed = time.Since(t0)
	n := 0
	for _, c := range counts {
		n += c
	}
	return float64(n) / elapsed.Seconds(), nil
}

// loadAverage returns Linux's 1-, 5- and 15-minute load averages, or
// "unknown".
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	return "unknown"
}
