package fm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/nn"
)

// keepLast is a Model that keeps its last output: a tensor that escapes the
// training step it was made in.
type keepLast struct {
	fm.Model
	last *autograd.Tensor
}

func (k *keepLast) Forward(t, x *autograd.Tensor) *autograd.Tensor {
	k.last = k.Model.Forward(t, x)
	return k.last
}

func (k *keepLast) ForwardCond(t, x, c *autograd.Tensor) *autograd.Tensor {
	k.last = k.Model.ForwardCond(t, x, c)
	return k.last
}

// TestTrain_ArenaBitIdentical: fm.Train's autograd step with its arena, in
// Poison mode, gives the losses and final parameters of the same run on
// the heap bit for bit, for a ReLU MLP (whose step is not fused) on
// minibatch-OT pairs and for a label-conditioned U-Net with label dropout,
// a few steps each. Control: the model's output of the last step, kept past
// the step, reads NaN after the poisoned arena's Reset (and holds finite
// numbers on the heap), so a tensor that escaped a step would show.
func TestTrain_ArenaBitIdentical(t *testing.T) {
	cfgU := nn.UNetConfig{C: 1, H: 4, W: 4, Ch: 4, Groups: 2, Emb: 8, Ctx: 3, Classes: 2}
	cases := []struct {
		name  string
		model func() fm.Model
		cfg   fm.TrainConfig
	}{
		{"mlp", func() fm.Model {
			return nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActReLU, rand.New(rand.NewPCG(3, 4)))
		}, fm.TrainConfig{Path: fm.CondOT{SigmaMin: 1e-4}, Coupling: fm.ExactOT{}, BatchSize: 16, Steps: 4, LR: 1e-2, Seed: 9,
			Data: func(n int, rng *rand.Rand) *autograd.Tensor { return autograd.Normal(n, 2, 2, 0.5, rng) }}},
		{"unet", func() fm.Model { return nn.NewUNet(cfgU, rand.New(rand.NewPCG(1, 2))) }, fm.TrainConfig{
			Path: fm.CondOT{}, BatchSize: 8, Steps: 3, LR: 3e-3, Seed: 5, CondDrop: 0.3, Null: nn.LabelContext([]int{nn.NullLabel}, 2),
			Cond: func(n int, rng *rand.Rand) (x1, c *autograd.Tensor) {
				x1 = autograd.Normal(n, 16, 0, 1, rng)
				labels := make([]int, n)
				for i := range labels {
					labels[i] = rng.IntN(2)
				}
				return x1, nn.LabelContext(labels, 2)
			}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(newArena func() *autograd.Arena) ([]float64, []nn.Named, *autograd.Tensor) {
				defer steparena.Set(newArena)()
				m := &keepLast{Model: tc.model()}
				losses, err := fm.Train(m, tc.cfg)
				require.NoError(t, err)
				return losses, m.NamedParams(), m.last
			}
			hl, hp, hlast := run(steparena.Heap)
			al, ap, alast := run(steparena.Poisoned)
			require.Len(t, al, tc.cfg.Steps)
			for i := range hl {
				require.Equal(t, math.Float64bits(hl[i]), math.Float64bits(al[i]), "loss of step %d: heap %v, arena %v", i+1, hl[i], al[i])
			}
			for i := range hp {
				for j, v := range hp[i].T.Data {
					require.Equal(t, math.Float64bits(v), math.Float64bits(ap[i].T.Data[j]), "%s[%d]: heap %v, arena %v", hp[i].Name, j, v, ap[i].T.Data[j])
				}
			}
			// Control: the escaped output.
			require.Nil(t, hlast.Arena())
			require.NotNil(t, alast.Arena(), "the arena run's output must be the arena's")
			for i := range hlast.Data {
				require.False(t, math.IsNaN(hlast.Data[i]), "heap: element %d", i)
				require.True(t, math.IsNaN(alast.Data[i]), "poisoned arena: element %d of the escaped output = %v, want NaN", i, alast.Data[i])
			}
		})
	}
}
