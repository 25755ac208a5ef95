package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

// A GemmTrial is one candidate of TuneGemm: a micro-kernel (by the name
// Describe prints) and a blocking, with the speed measured for each size.
type GemmTrial struct {
	Kernel     string
	MC, KC, NC int
	Default    bool      // the plan Gemm uses now
	GFLOPS     []float64 // per size n: 2n³ over the fastest of the rounds' times, in 10⁹ per second
	Score      float64   // geometric mean of GFLOPS over the sizes
	CPUTime    bool      // times are the thread's CPU time (Linux), not wall-clock
}

// tuneKCs are the depths tried besides each kernel's derived one.
var tuneKCs = []int{128, 192, 256, 384, 512}

// gemmCandidates returns the plans TuneGemm measures: every kernel this
// machine runs, with its derived plan and, for each kc of tuneKCs, mc and
// nc derived for that kc (gemm_plan.go) and half that mc.
func gemmCandidates(c cpu.Info) []*gemmPlan {
	l1, l2, l3, _ := c.Hierarchy()
	var out []*gemmPlan
	for _, kn := range gemmKernels {
		base := planFor(kn, c)
		out = append(out, base)
		_, _, nc := deriveBlocking(kn.mr, kn.nr, l1, l2, l3)
		for _, kc := range tuneKCs {
			mc := min(1020/kn.mr*kn.mr, max(kn.mr, l2.Bytes/(2*8*kc)/kn.mr*kn.mr))
			for _, m := range []int{mc, max(kn.mr, mc/2/kn.mr*kn.mr)} {
				p := &gemmPlan{kn, m, kc, nc, "candidate"}
				if !slices.ContainsFunc(out, func(q *gemmPlan) bool { return q.kn == p.kn && q.mc == p.mc && q.kc == p.kc && q.nc == p.nc }) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// TuneGemm measures the candidate plans (every micro-kernel this machine
// runs, with the blocking derived from the caches and with kc ∈ {128, 192,
// 256, 384, 512}, mc derived for that kc or half of it) on square products
// C = A·B of each size n, one thread. In each of rounds rounds it runs every
// candidate in turn, so that a load that comes and goes falls on all of
// them, for at least trial per size, and keeps each candidate's fastest
// time: the calling thread's CPU time on Linux (so that other work on a
// shared machine counts less), wall-clock time elsewhere. It returns the trials and the index of the best score (the
// geometric mean over the sizes). TestTuneGemm runs it small.
func TuneGemm(sizes []int, trial time.Duration, rounds int) ([]GemmTrial, int) {
	cands := gemmCandidates(cpu.Detect())
	best := make([][]float64, len(cands)) // seconds per product
	for i := range best {
		best[i] = make([]float64, len(sizes))
		for j := range best[i] {
			best[i][j] = math.Inf(1)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	ops := make([][3][]float64, len(sizes))
	for j, n := range sizes {
		ops[j] = [3][]float64{randNormal(rnd, n*n), randNormal(rnd, n*n), make([]float64, n*n)}
	}
	s := new(Scratch)
	now, done, cpuTime := threadClock()
	defer done()
	for range rounds {
		for i, p := range cands {
			for j, n := range sizes {
				a, b, c := ops[j][0], ops[j][1], ops[j][2]
				gemmBlocked(p, s, false, false, n, n, n, 1, a, b, 0, c) // warm the caches and buffers
				iters, start, wall := 0, now(), time.Now()
				for iters == 0 || time.Since(wall) < trial || now() <= start { // at least one tick of the clock
					gemmBlocked(p, s, false, false, n, n, n, 1, a, b, 0, c)
					iters++
				}
				best[i][j] = min(best[i][j], (now()-start).Seconds()/float64(iters))
			}
		}
	}
	trials := make([]GemmTrial, len(cands))
	top := 0
	for i, p := range cands {
		t := GemmTrial{Kernel: p.kn.name, MC: p.mc, KC: p.kc, NC: p.nc, CPUTime: cpuTime,
			Default: p.kn == gemmDefault.kn && p.mc == gemmDefault.mc && p.kc == gemmDefault.kc && p.nc == gemmDefault.nc}
		logSum := 0.0
		for j, n := range sizes {
			g := 2 * float64(n) * float64(n) * float64(n) / best[i][j] / 1e9
			t.GFLOPS = append(t.GFLOPS, g)
			logSum += math.Log(g)
		}
		t.Score = math.Exp(logSum / float64(len(sizes)))
		trials[i] = t
		if t.Score > trials[top].Score {
			top = i
		}
	}
	return trials, top
}

func randNormal(rnd *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rnd.NormFloat64()
	}
	return s
}

// TunedRow returns trial as the line to add to tunedPlans (gemm_plan.go)
// for this machine's processor, with the brand and the measured speeds in a
// comment, e.g.
//
//	{"AuthenticAMD", 26, 2}: {"AVX-512 assembly 16x8", 336, 192, 4096}, // AMD EPYC …: 256³ 41.2, 512³ 43.0 GFLOP/s
func TunedRow(trial GemmTrial, sizes []int) string {
	c := cpu.Detect()
	speeds := ""
	for j, n := range sizes {
		if j > 0 {
			speeds += ", "
		}
		speeds += fmt.Sprintf("%d³ %.1f", n, trial.GFLOPS[j])
	}
	brand := c.Brand
	if brand == "" {
		brand = "unknown CPU"
	}
	return fmt.Sprintf("{%q, %d, %d}: {%q, %d, %d, %d}, // %s: %s GFLOP/s",
		c.Vendor, c.Family, c.Model, trial.Kernel, trial.MC, trial.KC, trial.NC, brand, speeds)
}

// TimeGemm times Gemm itself (the plan in use and Threads() threads) on
// C = A·B with n×n operands, for at least trial, and returns 2n³ per
// second of the calling thread's CPU time on Linux with one thread
// (cpuTime true), per second of wall-clock time otherwise.
func TimeGemm(n int, trial time.Duration) (gflops float64, cpuTime bool) {
	rnd := rand.New(rand.NewPCG(3, 4))
	a, b, c := randNormal(rnd, n*n), randNormal(rnd, n*n), make([]float64, n*n)
	Gemm(false, false, n, n, n, 1, a, b, 0, c) // warm the caches and buffers
	now, done, ok := threadClock()
	defer done()
	if Threads() > 1 { // the other threads' work is not on this thread's clock
		start := time.Now()
		now, ok = func() time.Duration { return time.Since(start) }, false
	}
	iters, start, wall := 0, now(), time.Now()
	for iters == 0 || time.Since(wall) < trial || now() <= start {
		Gemm(false, false, n, n, n, 1, a, b, 0, c)
		iters++
	}
	return 2 * float64(n) * float64(n) * float64(n) * float64(iters) / (now() - start).Seconds() / 1e9, ok
}
