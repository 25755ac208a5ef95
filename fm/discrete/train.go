package discrete

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/nn"
)

// Loss names a training loss.
type Loss string

const (
	// LossCE is CELoss (x₁-prediction).
	LossCE Loss = "ce"
	// LossGKL is GKLLoss (the generalized KL, the integrand of ELBO).
	LossGKL Loss = "gkl"
)

// TrainConfig configures Train. Data, Batch, Steps and LR are required.
type TrainConfig struct {
	Data  func(n int, rng *rand.Rand) [][]int // x₁ ~ q
	Loss  Loss                                // LossCE (the default) or LossGKL
	Batch int
	Steps int
	LR    float64 // Adam learning rate, decayed along a half cosine
	Seed  uint64
	// TMax caps the training times: t ~ U[0, TMax) (default 1 − 10⁻³,
	// where the generalized KL's weight κ̇/(1 − κ) is still finite).
	TMax float64
	// Callback, if set, is called after every step with its loss.
	Callback func(step int, loss float64)
}

// Train fits m by Adam on the loss of cfg: each step draws x₁ ~ q, t ~
// U[0, TMax), x_t ~ p_t(·|x₁) (Path.Sample), and descends the loss of
// m.Forward(t, x_t) (Gat et al. 2024, arXiv:2407.15595, §3, Algorithm 1).
// It returns the losses, and an error naming the step when the loss or a
// parameter stops being finite. TestTrain_LearnsToyDistribution.
//
// As fm.Train's autograd step, each step takes its memory from one
// autograd.Arena for the run (the times t enter it, and every op of the
// step follows), Reset after the gradient: a steady-state step allocates
// no tensor storage beyond the token embeddings' lookups (whose only
// tensor input is a parameter), and the losses and parameters are those of
// the same run on the heap, bit for bit (TestTrain_ArenaBitIdentical;
// BenchmarkTrainStep measures the allocations).
func Train(m *PosteriorMLP, cfg TrainConfig) ([]float64, error) {
	if cfg.Data == nil || cfg.Batch < 1 || cfg.Steps < 1 || !(cfg.LR > 0) {
		panic(autograd.Misuse("discrete.Train", "need Data, Batch ≥ 1, Steps ≥ 1 and LR > 0 (got Batch=%d, Steps=%d, LR=%v)", cfg.Batch, cfg.Steps, cfg.LR))
	}
	if cfg.Loss == "" {
		cfg.Loss = LossCE
	}
	if cfg.Loss != LossCE && cfg.Loss != LossGKL {
		panic(autograd.Misuse("discrete.Train", "unknown loss %q (want %q or %q)", cfg.Loss, LossCE, LossGKL))
	}
	if cfg.TMax == 0 {
		cfg.TMax = 1 - 1e-3
	}
	p := m.Path
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	params := m.Params()
	opt := nn.NewAdam(params, cfg.LR)
	arena := steparena.New()                            // one for the run, Reset after every step (as fm.Train's)
	var ts []float64                                    // the step's times, reused
	losses := make([]float64, 0, min(cfg.Steps, 1<<16)) // grows past 2¹⁶ steps: a huge Steps reserves nothing up front
	for step := 1; step <= cfg.Steps; step++ {
		opt.LR = cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step-1)/float64(cfg.Steps)))
		x1 := cfg.Data(cfg.Batch, rng)
		if cap(ts) < len(x1) {
			ts = make([]float64, len(x1))
		}
		ts = ts[:len(x1)]
		for k := range ts {
			ts[k] = rng.Float64() * cfg.TMax
		}
		xt := p.Sample(ts, x1, rng)
		t := arena.Zeros(len(ts), 1) // every op of the step draws from t's arena
		copy(t.Data, ts)
		logits := m.Forward(t, xt)
		var loss *autograd.Tensor
		if cfg.Loss == LossCE {
			loss = CELoss(logits, p, x1, nil)
		} else {
			loss = GKLLoss(logits, p, ts, xt, x1, nil)
		}
		l := loss.Item()
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return losses, fmt.Errorf("discrete.Train: step %d: the loss is %v at LR %g: training diverged; try a smaller LR", step, l, opt.LR)
		}
		for _, q := range params {
			q.ZeroGrad()
		}
		loss.Backward()
		arena.Reset() // the gradient is in the parameters' Grad; the step's tensors are dead
		opt.Step()
		for j, q := range params {
			for _, v := range q.Data {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return losses, fmt.Errorf("discrete.Train: step %d: parameter %d is not finite after the update (loss %g): training diverged; try a smaller LR", step, j, l)
				}
			}
		}
		losses = append(losses, l)
		if cfg.Callback != nil {
			cfg.Callback(step, l)
		}
	}
	return losses, nil
}

// Sampler returns a draw function for Train from a finite distribution
// (internal/stats.Categorical over the points).
func (q Dist) Sampler() func(n int, rng *rand.Rand) [][]int {
	c := stats.NewCategorical(q.W)
	return func(n int, rng *rand.Rand) [][]int {
		out := make([][]int, n)
		for k := range out {
			out[k] = append([]int(nil), q.X[c.Draw(rng)]...)
		}
		return out
	}
}

// NLL returns the exact negative log-likelihood −Σ_{x₁} q(x₁)·log π(x₁) of
// q under a law π on SpaceOf(p) (e.g. EulerDistribution), and the entropy
// H(q), so that NLL − H = KL(q ‖ π) ≥ 0. TestNLL_KL.
func NLL(p Path, q Dist, pi []float64) (nll, h float64) {
	sp := SpaceOf(p)
	for j, x := range q.X {
		if q.W[j] == 0 {
			continue
		}
		nll -= q.W[j] * math.Log(pi[sp.Index(x)])
		h -= q.W[j] * math.Log(q.W[j])
	}
	return nll, h
}
