package fm_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/internal/steparena/steparenatest"
	"github.com/flowmatch/flowmatch/nn"
)

// TestTrainParam_ArenaBitIdentical: fm.TrainParam with its arena, in Poison
// mode, gives the losses and final parameters of the same run on the heap
// bit for bit: a score model on VP with DSMWeight (t in [10⁻³, 1)) and a
// data (x̂₁) model with LossWeight, a few steps each. Control: the poisoned
// run did use its arena (it holds buffers afterwards), so the comparison is
// not the heap against itself. Reading the loss after the step's Reset
// (moving Reset above l.Item()) turns it red: NaN losses.
func TestTrainParam_ArenaBitIdentical(t *testing.T) {
	data := func(n int, rng *rand.Rand) *autograd.Tensor { return autograd.Normal(n, 2, 1, 0.5, rng) }
	p := fm.VP{}
	for _, c := range []struct {
		name string
		cfg  fm.ParamTrainConfig
	}{
		{"score", fm.ParamTrainConfig{Path: p, Param: fm.ParamScore, Weight: fm.DSMWeight(p), TMin: 1e-3, TMax: 1, BatchSize: 16, Steps: 4, LR: 1e-2, Seed: 3, Data: data}},
		{"data", fm.ParamTrainConfig{Path: p, Param: fm.ParamData, TMin: 0, TMax: 0.99, BatchSize: 16, Steps: 4, LR: 1e-2, Seed: 4, Data: data}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var made *autograd.Arena
			run := func(newArena func() *autograd.Arena) ([]float64, *nn.VelocityMLP) {
				defer steparena.Set(func() *autograd.Arena { made = newArena(); return made })()
				model := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActSiLU, fm.NewRand(5))
				losses, err := fm.TrainParam(model, c.cfg)
				require.NoError(t, err)
				require.Len(t, losses, c.cfg.Steps)
				return losses, model
			}
			hl, hm := run(steparena.Heap)
			al, am := run(steparena.Poisoned)
			require.NoError(t, steparena.BitDiff("loss", hl, al))
			hp, ap := hm.NamedParams(), am.NamedParams()
			for i := range hp {
				require.NoError(t, steparena.BitDiff(hp[i].Name, hp[i].T.Data, ap[i].T.Data))
			}
			buffers, bytes := made.Held()
			require.Positive(t, buffers, "the poisoned run must have drawn from its arena")
			t.Logf("arena after %d steps: %d buffers, %d bytes", c.cfg.Steps, buffers, bytes)
		})
	}
}

// BenchmarkTrainParamStep measures what one steady-state step of
// fm.TrainParam allocates (steparena.PerStep: runs of 20 and 40 steps,
// differenced), on the heap and in the run's arena: a VelocityMLP
// 3→64→64→2 (SiLU) predicting the score on VP with DSMWeight, batch 256.
// The metrics B/step and allocs/step are the point; ns/op is the time of
// the 60 steps.
func BenchmarkTrainParamStep(b *testing.B) {
	p := fm.VP{}
	run := func(b *testing.B, steps int) {
		model := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, fm.NewRand(1))
		_, err := fm.TrainParam(model, fm.ParamTrainConfig{Path: p, Param: fm.ParamScore, Weight: fm.DSMWeight(p), BatchSize: 256, Steps: steps, LR: 1e-3, Seed: 2,
			TMin: 1e-3, TMax: 1, Data: func(n int, rng *rand.Rand) *autograd.Tensor { return autograd.Normal(n, 2, 1, 0.5, rng) }})
		if err != nil {
			b.Fatal(err)
		}
	}
	steparenatest.HeapAndArena(b, run, 20)
}

// TestSampleSDE_ArenaBitIdentical: fm.SampleSDE with its arena, in Poison
// mode, gives the heap's samples bit for bit (a ReLU VelocityMLP on VP,
// g = 1, 10 steps, and g nil). Control: the poisoned run hands the field
// its inputs in the arena; resetting the arena before the update reads the
// field's output turns it red (tried once).
func TestSampleSDE_ArenaBitIdentical(t *testing.T) {
	model := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActReLU, fm.NewRand(1))
	x0 := autograd.Normal(8, 2, 0, 1, fm.NewRand(2))
	for _, g := range []func(float64) float64{func(float64) float64 { return 1 }, nil} {
		run := func(newArena func() *autograd.Arena) ([]float64, bool) {
			defer steparena.Set(newArena)()
			inArena := false
			v := func(t, x *autograd.Tensor) *autograd.Tensor {
				inArena = inArena || x.Arena() != nil
				return model.Forward(t, x)
			}
			x, err := fm.SampleSDE(v, fm.VP{}, g, x0, 10, fm.NewRand(3))
			require.NoError(t, err)
			return x.Data, inArena
		}
		hx, hin := run(steparena.Heap)
		ax, ain := run(steparena.Poisoned)
		require.False(t, hin)
		require.True(t, ain, "the poisoned run must evaluate the field in its arena")
		require.NoError(t, steparena.BitDiff("x(1)", hx, ax))
	}
}

// BenchmarkSampleSDE measures what one Euler–Maruyama step of
// fm.SampleSDE allocates through a VelocityMLP 3→256→256→256→2 (SiLU),
// 1,000 points, g = 1, on the heap and in the run's arena
// (steparena.PerStep: runs of 10 and 20 steps, differenced). The metrics
// B/step and allocs/step are the point; ns/op is the time of the 30 steps.
func BenchmarkSampleSDE(b *testing.B) {
	model := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, fm.NewRand(1))
	x0 := autograd.Normal(1000, 2, 0, 1, fm.NewRand(2))
	g := func(float64) float64 { return 1 }
	run := func(b *testing.B, steps int) {
		if _, err := fm.SampleSDE(model.Forward, fm.VP{}, g, x0, steps, fm.NewRand(3)); err != nil {
			b.Fatal(err)
		}
	}
	steparenatest.HeapAndArena(b, run, 10)
}
