package cnf

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/internal/steparena/steparenatest"
	"github.com/flowmatch/flowmatch/nn"
)

// labelled is a TimeModel: a U-Net's ForwardCond at fixed contexts c.
type labelled struct {
	u *nn.UNet
	c *autograd.Tensor
}

func (l labelled) Forward(t, x *autograd.Tensor) *autograd.Tensor { return l.u.ForwardCond(t, x, l.c) }

func unetModel(cfg nn.UNetConfig, n int, seed uint64) labelled {
	rng := newRNG(seed)
	labels := make([]int, n)
	for i := range labels {
		if labels[i] = rng.IntN(cfg.Classes + 1); labels[i] == cfg.Classes {
			labels[i] = nn.NullLabel
		}
	}
	return labelled{nn.NewUNet(cfg, rng), nn.LabelContext(labels, cfg.Classes)}
}

// TestArenaField_MatchesHeap: a no-graph solve through ArenaField with a
// poisoned arena gives the heap's samples and Stats bit for bit, for a ReLU
// VelocityMLP by Euler, RK4 and Dopri5 (whose first-same-as-last stage is
// kept across steps) and for a label-conditioned U-Net by Euler. A recorded
// state bypasses the arena: the gradient of a loss through an Euler solve
// is the heap's, bit for bit; a heap result (FastField's) is returned with
// no copy, and its samples are the heap's. Control: a field that returns the arena's
// own tensor instead of a copy (and Resets) gives other samples (the next
// op reuses, and zeroes, the buffer it reads) or NaN, so an evaluation that
// escaped its Reset would show.
func TestArenaField_MatchesHeap(t *testing.T) {
	mlp := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActReLU, newRNG(1))
	x0 := autograd.Normal(8, 2, 0, 1, newRNG(2))
	uc := nn.UNetConfig{C: 1, H: 4, W: 4, Ch: 4, Groups: 2, Emb: 8, Ctx: 3, Classes: 2}
	unet := unetModel(uc, 6, 3)
	u0 := autograd.Normal(6, 16, 0, 1, newRNG(4))
	for _, c := range []struct {
		name string
		m    TimeModel
		x0   *autograd.Tensor
		opts SolveOptions
	}{
		{"mlp/euler", mlp, x0, SolveOptions{Method: Euler, Steps: 5}},
		{"mlp/rk4", mlp, x0, SolveOptions{Method: RK4, Steps: 3}},
		{"mlp/dopri5", mlp, x0, SolveOptions{Method: Dopri5, RTol: 1e-6, ATol: 1e-6}},
		{"unet/euler", unet, u0, SolveOptions{Method: Euler, Steps: 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := FieldOf(c.m)
			hx, hs, err := Integrate(f, c.x0.NoGraph(), 0, 1, c.opts)
			require.NoError(t, err)
			a := steparena.Poisoned()
			ax, as, err := Integrate(ArenaField(f, a), c.x0.NoGraph(), 0, 1, c.opts)
			require.NoError(t, err)
			require.Equal(t, hs, as)
			require.NoError(t, steparena.BitDiff("x(1)", hx.Data, ax.Data))
			require.Nil(t, ax.Arena(), "the result must be the heap's")
			buffers, _ := a.Held()
			require.Positive(t, buffers, "the field must have drawn from the arena")
			// Control: no copy before Reset.
			leaky := func(t float64, x *autograd.Tensor) *autograd.Tensor {
				v := f(t, x.In(a))
				a.Reset()
				return v
			}
			two := SolveOptions{Method: Euler, Steps: 2}
			hx2, _, err := Integrate(f, c.x0.NoGraph(), 0, 1, two)
			require.NoError(t, err)
			lx, _, err := Integrate(leaky, c.x0.NoGraph(), 0, 1, two)
			require.True(t, err != nil || steparena.BitDiff("x(1)", hx2.Data, lx.Data) != nil, "an escaped evaluation must change the samples")
		})
	}
	t.Run("fast", func(t *testing.T) {
		// A heap result (FastField's) is returned without a copy, and the
		// samples are the heap's.
		net := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActSiLU, newRNG(8))
		f := FastField(net, 4)
		opts := SolveOptions{Method: RK4, Steps: 3}
		hx, _, err := Integrate(f, x0.NoGraph(), 0, 1, opts)
		require.NoError(t, err)
		ax, _, err := Integrate(ArenaField(f, steparena.Poisoned()), x0.NoGraph(), 0, 1, opts)
		require.NoError(t, err)
		require.NoError(t, steparena.BitDiff("x(1)", hx.Data, ax.Data))
		h := autograd.Full(8, 2, 1).NoGraph()
		require.Same(t, h, ArenaField(func(float64, *autograd.Tensor) *autograd.Tensor { return h }, autograd.NewArena())(0, x0.NoGraph()))
	})
	t.Run("recorded", func(t *testing.T) {
		grads := func(a *autograd.Arena) [][]float64 {
			for _, p := range mlp.Params() {
				p.ZeroGrad()
			}
			x, _, err := Integrate(ArenaField(FieldOf(mlp), a), x0.Detach(), 0, 1, SolveOptions{Method: Euler, Steps: 3})
			require.NoError(t, err)
			autograd.Mean(autograd.Square(x)).Backward()
			var g [][]float64
			for _, p := range mlp.Params() {
				g = append(g, append([]float64(nil), p.Grad...))
			}
			return g
		}
		hg, ag := grads(nil), grads(steparena.Poisoned())
		for i := range hg {
			require.NoError(t, steparena.BitDiff(fmt.Sprintf("grad %d", i), hg[i], ag[i]))
			require.False(t, math.IsNaN(ag[i][0]))
		}
	})
}

// BenchmarkSampleUNet measures what one Euler step of a no-graph solve
// allocates through a label-conditioned U-Net (mnist14 geometry: 1×14×14,
// Ch 16, 4 groups, E 64, 10 labels; 64 images), on the heap (Integrate on
// FieldOf) and in an arena (ArenaField, as Sample does):
// steparena.PerStep differences solves of 5 and 10 steps. The metrics B/step and allocs/step are the point; ns/op is the
// time of the 15 steps.
func BenchmarkSampleUNet(b *testing.B) {
	m := unetModel(nn.UNetConfig{C: 1, H: 14, W: 14, Ch: 16, Groups: 4, Emb: 64, Ctx: 11, Classes: 10}, 64, 5)
	x0 := autograd.Normal(64, m.u.Dim(), 0, 1, newRNG(6))
	run := func(b *testing.B, steps int) {
		if _, _, err := Integrate(ArenaField(FieldOf(m), steparena.New()), x0.NoGraph(), 0, 1, SolveOptions{Method: Euler, Steps: steps}); err != nil {
			b.Fatal(err)
		}
	}
	steparenatest.HeapAndArena(b, run, 5)
}

// TestSample_UsesArena: Sample hands the field its state in an arena (the
// field sees x.Arena() != nil at every evaluation) and returns a heap
// tensor; Integrate, called directly, does not (the control).
func TestSample_UsesArena(t *testing.T) {
	var inArena, calls int
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		calls++
		if x.Arena() != nil {
			inArena++
		}
		return autograd.Scale(x, -1)
	}
	x0 := autograd.Normal(3, 2, 0, 1, newRNG(7))
	x, _, err := Sample(f, x0, SolveOptions{Method: RK4, Steps: 2})
	require.NoError(t, err)
	require.Equal(t, 8, calls)
	require.Equal(t, calls, inArena)
	require.Nil(t, x.Arena())
	h := 0.5 // RK4 multiplies by its stability polynomial R(−h) at each step of dx/dt = −x
	r := 1 - h + h*h/2 - h*h*h/6 + h*h*h*h/24
	for i, v := range x0.Data {
		require.InDelta(t, v*r*r, x.Data[i], 1e-15, "element %d", i)
	}
	inArena = 0
	_, _, err = Integrate(f, x0.NoGraph(), 0, 1, SolveOptions{Method: RK4, Steps: 2})
	require.NoError(t, err)
	require.Zero(t, inArena)
}

// mlTrain runs steps of maximum-likelihood training (MaxLikelihoodLoss,
// Heun with 3 steps, the exact divergence, Adam) of a tanh VelocityMLP on
// moons, each step's graph in the arena a (nil: the heap) and a Reset
// after the gradient, and returns the losses and the model.
func mlTrain(a *autograd.Arena, hidden []int, batch, steps int, opts SolveOptions) ([]float64, *nn.VelocityMLP) {
	rng := newRNG(40)
	net := nn.NewVelocityMLP(2, hidden, autograd.ActTanh, rng)
	f := FieldOf(net)
	data := moons(batch*steps, 0.1, rng)
	opt := nn.NewAdam(net.Params(), 1e-2)
	var losses []float64
	for s := range steps {
		x := autograd.FromSlice(batch, 2, data.Data[s*batch*2:(s+1)*batch*2])
		if a != nil {
			x = x.In(a)
		}
		opt.ZeroGrad()
		loss, _, err := MaxLikelihoodLoss(f, x, StandardNormalLogProb, nil, opts)
		if err != nil {
			panic(err)
		}
		loss.Backward()
		losses = append(losses, loss.Item())
		a.Reset()
		opt.Step()
	}
	return losses, net
}

// TestMaxLikelihood_ArenaBitIdentical: maximum-likelihood CNF training
// with each step's graph (the whole recorded solve, its exact divergences
// by GradGraph and the second-order backward pass) in a poisoned arena
// gives the losses and parameters of the heap bit for bit (3 steps).
// Control: the arena did hold the steps' tensors; reading the loss after
// the Reset turns it red (tried once).
func TestMaxLikelihood_ArenaBitIdentical(t *testing.T) {
	opts := SolveOptions{Method: Heun, Steps: 3}
	hl, hn := mlTrain(nil, []int{8, 8}, 16, 3, opts)
	a := steparena.Poisoned()
	al, an := mlTrain(a, []int{8, 8}, 16, 3, opts)
	require.NoError(t, steparena.BitDiff("loss", hl, al))
	hp, ap := hn.Params(), an.Params()
	for i := range hp {
		require.NoError(t, steparena.BitDiff(fmt.Sprintf("param %d", i), hp[i].Data, ap[i].Data))
	}
	buffers, bytes := a.Held()
	require.Positive(t, buffers)
	t.Logf("arena: %d buffers, %d bytes", buffers, bytes)
}

// BenchmarkMaxLikelihoodAllocs measures what one maximum-likelihood
// training step allocates (the model and solve of
// BenchmarkCNFMaxLikelihoodStep: VelocityMLP 3→256→256→256→2, here tanh,
// batch 256, Euler with 8 steps, exact divergence), on the heap and with
// the step's graph in an arena Reset after the gradient
// (steparena.PerStep: runs of 2 and 4 steps, differenced). The metrics
// B/step and allocs/step are the point; ns/op is the time of the 6 steps.
func BenchmarkMaxLikelihoodAllocs(b *testing.B) {
	opts := SolveOptions{Method: Euler, Steps: 8}
	run := func(_ *testing.B, steps int) { mlTrain(steparena.New(), []int{256, 256, 256}, 256, steps, opts) }
	steparenatest.HeapAndArena(b, run, 2)
}

// TestLogLikelihood_ArenaBitIdentical: an inference LogLikelihood (Dopri5,
// the exact divergence and Hutchinson with fixed probes) and
// SampleWithLogLikelihood (RK4), each evaluation in a poisoned arena, give
// the heap's log-densities and end points bit for bit, for a tanh
// VelocityMLP. Control: the field sees its input in the arena in the
// poisoned runs only; dropping ArenaField's copy turns it red (tried once).
func TestLogLikelihood_ArenaBitIdentical(t *testing.T) {
	net := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActTanh, newRNG(50))
	x := autograd.Normal(8, 2, 0, 1, newRNG(51)).NoGraph()
	for _, c := range []struct {
		name string
		div  func() DivergenceFunc
		opts SolveOptions
		fwd  bool
	}{
		{"exact/dopri5", func() DivergenceFunc { return nil }, SolveOptions{Method: Dopri5, RTol: 1e-6, ATol: 1e-6}, false},
		{"hutchinson/rk4", func() DivergenceFunc { return Hutchinson(Rademacher, 2, newRNG(52), false) }, SolveOptions{Method: RK4, Steps: 4}, false},
		{"forward/rk4", func() DivergenceFunc { return nil }, SolveOptions{Method: RK4, Steps: 4}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(newArena func() *autograd.Arena) (Likelihood, bool) {
				defer steparena.Set(newArena)()
				inArena := false
				f := func(t float64, x *autograd.Tensor) *autograd.Tensor {
					inArena = inArena || x.Arena() != nil
					return FieldOf(net)(t, x)
				}
				var lk Likelihood
				var err error
				if c.fwd {
					lk, _, err = SampleWithLogLikelihood(f, x, 0, 1, StandardNormalLogProb, c.div(), c.opts)
				} else {
					lk, _, err = LogLikelihood(f, x, 1, 0, StandardNormalLogProb, c.div(), c.opts)
				}
				require.NoError(t, err)
				return lk, inArena
			}
			h, hin := run(steparena.Heap)
			a, ain := run(steparena.Poisoned)
			require.False(t, hin)
			require.True(t, ain, "the poisoned solve must evaluate the field in its arena")
			require.NoError(t, steparena.BitDiff("LogP1", h.LogP1.Data, a.LogP1.Data))
			require.NoError(t, steparena.BitDiff("X0", h.X0.Data, a.X0.Data))
			require.NoError(t, steparena.BitDiff("X1", h.X1.Data, a.X1.Data))
		})
	}
}

// BenchmarkLogLikelihoodAllocs measures what one RK4 step of an inference
// LogLikelihood allocates with the exact divergence (VelocityMLP
// 3→256→256→256→2, SiLU, 1,000 points: 4 evaluations a step, each a
// forward and 2 backward passes), on the heap and in the solve's arena
// (steparena.PerStep: solves of 2 and 4 steps, differenced). The metrics
// B/step and allocs/step are the point; ns/op is the time of the 6 steps.
func BenchmarkLogLikelihoodAllocs(b *testing.B) {
	net := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRNG(53))
	f := FieldOf(net.Frozen())
	x := moons(1000, 0.1, newRNG(54)).NoGraph()
	run := func(b *testing.B, steps int) {
		if _, _, err := LogLikelihood(f, x, 1, 0, StandardNormalLogProb, nil, SolveOptions{Method: RK4, Steps: steps}); err != nil {
			b.Fatal(err)
		}
	}
	steparenatest.HeapAndArena(b, run, 2)
}
