package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/progress"
	"github.com/flowmatch/flowmatch/nn"
)

// Inference runs on chunks of rows spread over -threads workers, each with
// its own fused evaluator (cnf.FastField, cnf.FastDivergence: the same
// values as the autograd path, see their tests) and single-threaded matrix
// products. The chunks do not depend on -threads, and every row of a
// fixed-step solve depends only on its own start, so results do not depend
// on -threads (TestThreads_SameResults). dopri5 chooses its steps per
// chunk.
const (
	sampleChunk = 500 // rows per sampling chunk (the evaluator works in blocks of 512)
	loglikChunk = 250 // rows per log-likelihood chunk (the divergence works in blocks of 128)
)

// fastPair returns the model's field and exact divergence for inference,
// on the fused, allocation-free path. The evaluators work in blocks of 512
// rows for the field and 128 for the divergence (the fastest sizes measured
// here: the tangent buffers stay in cache).
func fastPair(m *nn.VelocityMLP) (cnf.Field, cnf.DivergenceFunc) {
	return cnf.FastField(m, 512), cnf.FastDivergence(m, 128)
}

// chunks calls work(lo, hi, f, div) for consecutive chunks [lo, hi) of n
// rows on `threads` goroutines, each with its own field f and divergence div
// of m, adds hi − lo to bar after each chunk, and returns the error of the
// first chunk (in row order) that failed. The matrix products run on one
// thread each meanwhile.
func chunks(m *nn.VelocityMLP, p fm.Path, n, chunk, threads int, bar *progress.Bar, work func(lo, hi int, f cnf.Field, div cnf.DivergenceFunc) error) error {
	nn.SetThreads(1)
	defer nn.SetThreads(threads)
	k := (n + chunk - 1) / chunk
	errs := make([]error, k)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(threads, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, div := fieldPair(m, p) // gaussian.go: fastPair, converted for a -param model
			for c := range next {
				lo, hi := c*chunk, min((c+1)*chunk, n)
				errs[c] = work(lo, hi, f, div)
				bar.Add(hi - lo)
			}
		}()
	}
	for c := range k {
		next <- c
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// logLikelihood returns log p₁(x) of every row of x under the model
// (cnf.LogLikelihood from t = 1 back to t = 0, Chen et al. 2018,
// arXiv:1806.07366, Theorem 1, with the exact divergence) and the solver
// statistics of a chunk, averaged over the chunks (what a point cost),
// reporting progress to bar.
func logLikelihood(m *nn.VelocityMLP, p fm.Path, x *ag.Tensor, opts cnf.SolveOptions, threads int, bar *progress.Bar) ([]float64, cnf.Stats, error) {
	if x.Cols != m.Dim() {
		return nil, cnf.Stats{}, fmt.Errorf("the data have %d columns but the model is %d-dimensional", x.Cols, m.Dim())
	}
	out := make([]float64, x.Rows)
	var mu sync.Mutex
	var total cnf.Stats
	t0, t1 := timeSpan(p) // [0, 1] but for a -param model (gaussian.go)
	err := chunks(m, p, x.Rows, loglikChunk, threads, bar, func(lo, hi int, f cnf.Field, div cnf.DivergenceFunc) error {
		chunk := ag.FromSlice(hi-lo, x.Cols, x.Data[lo*x.Cols:hi*x.Cols]).NoGraph()
		lk, st, err := cnf.LogLikelihood(f, chunk, t1, t0, cnf.NormalLogProb(p.SourceStd()), div, opts)
		if err != nil {
			return fmt.Errorf("log-likelihood of rows %d–%d: %w", lo+1, hi, err)
		}
		copy(out[lo:hi], lk.LogP1.Data)
		mu.Lock()
		total.NFE += st.NFE
		total.Accepted += st.Accepted
		total.Rejected += st.Rejected
		mu.Unlock()
		return nil
	})
	k := max((x.Rows+loglikChunk-1)/loglikChunk, 1)
	total.NFE, total.Accepted, total.Rejected = total.NFE/k, total.Accepted/k, total.Rejected/k
	return out, total, err
}

// sampled is the result of sample: the points x(1) and, for the first rows
// (at most one chunk), the states at every solver time.
type sampled struct {
	X     *ag.Tensor
	Stats cnf.Stats // of the first chunk (every chunk takes the same steps with a fixed-step solver)
	Traj  []*ag.Tensor
	Times []float64
}

// sample integrates the model's ODE from n source draws x₀ ~ N(0, s²I) at
// t = 0 to t = 1 (Lipman et al. 2022, arXiv:2210.02747, §2: ψ₁(x₀) samples
// p₁), reporting progress to bar. With keep > 0 it also records the states
// of the first min(keep, n, sampleChunk) rows at every solver time.
func sample(m *nn.VelocityMLP, p fm.Path, n int, opts cnf.SolveOptions, rng *rand.Rand, keep, threads int, bar *progress.Bar) (sampled, error) {
	x0 := fm.SampleSource(p, n, m.Dim(), rng)
	res := sampled{X: ag.Zeros(n, m.Dim())}
	d := m.Dim()
	t0, t1 := timeSpan(p) // [0, 1] but for a -param model (gaussian.go)
	err := chunks(m, p, n, sampleChunk, threads, bar, func(lo, hi int, f cnf.Field, _ cnf.DivergenceFunc) error {
		o := opts
		if lo == 0 && keep > 0 {
			k := min(keep, hi)
			o.Callback = func(t float64, x *ag.Tensor) {
				res.Traj = append(res.Traj, ag.FromSlice(k, d, append([]float64(nil), x.Data[:k*d]...)))
				res.Times = append(res.Times, t)
			}
		}
		x1, st, err := cnf.Integrate(f, ag.FromSlice(hi-lo, d, x0.Data[lo*d:hi*d]).NoGraph(), t0, t1, o)
		if err != nil {
			return fmt.Errorf("sampling rows %d–%d: %w", lo+1, hi, err)
		}
		copy(res.X.Data[lo*d:hi*d], x1.Data)
		if lo == 0 {
			res.Stats = st
		}
		return nil
	})
	return res, err
}

// addThreadsFlag adds -threads, with the same meaning on every command that
// does heavy work: the number of cores it uses (the matrix products of
// training, the chunks of rows of sampling and evaluation). Results do not
// depend on it.
func addThreadsFlag(fs *flag.FlagSet) *int {
	return fs.Int("threads", min(runtime.NumCPU(), 2), "cores to use, 1 to 64 (results do not depend on it)")
}

// checkThreads rejects a -threads value outside 1 to 64 and sets the
// threads of the matrix products.
func checkThreads(n int) error {
	if err := checkCount("threads", n, 1, 64); err != nil {
		return err
	}
	nn.SetThreads(n)
	return nil
}
