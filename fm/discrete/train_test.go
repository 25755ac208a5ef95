package discrete

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/require"
)

// kl returns KL(q ‖ π) = NLL − H.
func kl(p Path, q Dist, pi []float64) float64 {
	nll, h := NLL(p, q, pi)
	return nll - h
}

// TestTrain_LearnsToyDistribution trains a PosteriorMLP on a weighted set
// of 5 points of {0,…,3}² with each loss and source, and measures the
// exact KL(q ‖ π_θ) of the Euler sampler's law (EulerDistribution, 32
// steps). The trained model must be 10 times closer to q than the same
// model untrained (the negative control, an untrained posterior).
func TestTrain_LearnsToyDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("training run")
	}
	rng := newRNG(8)
	q := randomDist(4, 2, 5, rng)
	for _, c := range []struct {
		src  Source
		loss Loss
	}{{Uniform, LossCE}, {Mask, LossGKL}} {
		p := Path{Sched: Linear{}, Source: c.src, V: 4, D: 2}
		m := NewPosteriorMLP(p, 8, []int{32}, autograd.ActSiLU, newRNG(9))
		before := kl(p, q, EulerDistribution(m, p, 32))
		_, err := Train(m, TrainConfig{Data: q.Sampler(), Loss: c.loss, Batch: 64, Steps: 500, LR: 5e-3, Seed: 1})
		require.NoError(t, err)
		after := kl(p, q, EulerDistribution(m, p, 32))
		t.Logf("%v %v: KL(q ‖ π) %.4f untrained → %.4f trained", c.src, c.loss, before, after)
		require.Less(t, after, before/10, "%v %v", c.src, c.loss)
	}
}

// TestNLL_KL checks NLL − H = Σ q·log(q/π) computed directly, and that it
// is 0 for π = q and positive otherwise (the control: π uniform).
func TestNLL_KL(t *testing.T) {
	p := Path{Sched: Linear{}, Source: Uniform, V: 3, D: 2}
	q := randomDist(3, 2, 4, newRNG(10))
	sp := SpaceOf(p)
	pi := make([]float64, sp.Size())
	for j, x := range q.X {
		pi[sp.Index(x)] = q.W[j]
	}
	require.InDelta(t, 0, kl(p, q, pi), 1e-15)
	for k := range pi {
		pi[k] = 1 / float64(len(pi))
	}
	direct := 0.0
	for j, x := range q.X {
		direct += q.W[j] * math.Log(q.W[j]/pi[sp.Index(x)])
	}
	require.InDelta(t, direct, kl(p, q, pi), 1e-14)
	require.Greater(t, kl(p, q, pi), 0.1)
}
