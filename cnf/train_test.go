package cnf

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// TestMaxLikelihood_Gradient: the gradient of the recorded loss through
// the solver and the exact divergence matches central differences in the
// parameters (autograd.GradCheck, derived tolerance).
func TestMaxLikelihood_Gradient(t *testing.T) {
	rng := newRNG(30)
	w, c := autograd.Normal(2, 2, 0, 1, rng), autograd.Normal(1, 2, 0, 1, rng)
	x := autograd.Normal(3, 2, 0, 1, rng)
	fn := func(xs []*autograd.Tensor) *autograd.Tensor {
		loss, _, err := MaxLikelihoodLoss(tanhField(xs[0], xs[1]), x, StandardNormalLogProb, nil, SolveOptions{Method: Heun, Steps: 3})
		require.NoError(t, err)
		return loss
	}
	require.NoError(t, autograd.GradCheck(fn, []*autograd.Tensor{w, c}, nil))
}

// TestMaxLikelihood_NLLDecreases trains a small CNF (VelocityMLP 3→32→32→2,
// tanh) by maximum likelihood on moons through an RK4 solve of 4 steps
// with the exact divergence, and requires the held-out NLL (same solver,
// no-graph mode) to fall by more than 4 standard errors of the paired
// per-point difference, computed here.
func TestMaxLikelihood_NLLDecreases(t *testing.T) {
	rng := newRNG(31)
	steps := 60
	if testing.Short() {
		steps = 25
	}
	net := nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActTanh, rng)
	f := FieldOf(net)
	opts := SolveOptions{Method: RK4, Steps: 4}
	train, test := moons(2000, 0.1, rng), moons(1000, 0.1, rng)
	heldOut := func() []float64 {
		lpLk, _, err := LogLikelihood(f, test.NoGraph(), 1, 0, StandardNormalLogProb, nil, opts)
		lp := lpLk.LogP1
		require.NoError(t, err)
		return lp.Data
	}
	before := append([]float64(nil), heldOut()...)
	opt := nn.NewAdam(net.Params(), 1e-2)
	for s := 0; s < steps; s++ {
		batch := autograd.Zeros(128, 2)
		for i, j := range rng.Perm(train.Rows)[:128] {
			copy(batch.Row(i), train.Row(j))
		}
		opt.ZeroGrad()
		loss, _, err := MaxLikelihoodLoss(f, batch, StandardNormalLogProb, nil, opts)
		require.NoError(t, err)
		loss.Backward()
		opt.Step()
	}
	after := heldOut()
	diffs := make([]float64, len(after))
	mb := 0.0
	for i := range diffs {
		diffs[i] = after[i] - before[i] // gain in log-likelihood
		mb -= before[i] / float64(len(before))
	}
	m, v, _ := meanVar(diffs)
	se := math.Sqrt(v / float64(len(diffs)))
	t.Logf("held-out NLL %.3f → %.3f (gain %.3f ± %.3f) after %d steps", mb, mb-m, m, se, steps)
	assert.Greater(t, m, 4*se, "held-out NLL did not decrease: gain %.3f ± %.3f", m, se)
}

// BenchmarkCNFMaxLikelihoodStep is one maximum-likelihood training step of
// a CNF: VelocityMLP 3→256→256→256→2 (SiLU), batch 256, Euler with 8 fixed
// steps (8 evaluations, each with 2 recorded VJPs for the exact divergence),
// backward through the trajectory, one Adam update. Compare with
// BenchmarkRegressionStep (the cost of a flow-matching step on the same
// network and batch: one forward, one backward).
func BenchmarkCNFMaxLikelihoodStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng)
	f := FieldOf(net)
	opt := nn.NewAdam(net.Params(), 1e-3)
	x := moons(256, 0.1, rng)
	opts := SolveOptions{Method: Euler, Steps: 8}
	b.ReportAllocs()
	for b.Loop() {
		opt.ZeroGrad()
		loss, _, err := MaxLikelihoodLoss(f, x, StandardNormalLogProb, nil, opts)
		if err != nil {
			b.Fatal(err)
		}
		loss.Backward()
		opt.Step()
	}
}

// BenchmarkRegressionStep is the flow-matching counterpart of
// BenchmarkCNFMaxLikelihoodStep: the loss mean‖v_θ(t, x_t) − u‖² on the same
// network and batch, one forward and one backward pass, one Adam update.
func BenchmarkRegressionStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng)
	opt := nn.NewAdam(net.Params(), 1e-3)
	x := moons(256, 0.1, rng)
	tt := autograd.Uniform(256, 1, 0, 1, rng)
	u := autograd.Normal(256, 2, 0, 1, rng)
	b.ReportAllocs()
	for b.Loop() {
		opt.ZeroGrad()
		loss := autograd.Mean(autograd.Square(autograd.Sub(net.Forward(tt, x), u)))
		loss.Backward()
		opt.Step()
	}
}
