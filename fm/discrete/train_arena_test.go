package discrete

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/internal/steparena/steparenatest"
)

// BenchmarkTrainStep measures what one steady-state step of Train
// allocates (steparena.PerStep: runs of 20 and 40 steps, differenced), on
// the heap and in the run's arena: a PosteriorMLP (embeddings 16, hidden
// 128, 128, SiLU) on a random law of 40 points of {0, …, 7}² with each
// loss (CE on the uniform source, GKL on the mask), batch 256. The metrics
// B/step and allocs/step are the point; ns/op is the time of the 60 steps.
func BenchmarkTrainStep(b *testing.B) {
	q := randomDist(8, 2, 40, newRNG(3))
	for _, c := range []struct {
		src  Source
		loss Loss
	}{{Uniform, LossCE}, {Mask, LossGKL}} {
		p := Path{Sched: Linear{}, Source: c.src, V: 8, D: 2}
		run := func(b *testing.B, steps int) {
			m := NewPosteriorMLP(p, 16, []int{128, 128}, autograd.ActSiLU, newRNG(4))
			if _, err := Train(m, TrainConfig{Data: q.Sampler(), Loss: c.loss, Batch: 256, Steps: steps, LR: 1e-3, Seed: 5}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(string(c.loss), func(b *testing.B) { steparenatest.HeapAndArena(b, run, 20) })
	}
}

// TestTrain_ArenaBitIdentical: Train with its arena, in Poison mode, gives
// the losses and final parameters of the same run on the heap bit for bit,
// for each loss (CE on the uniform source, GKL on the mask), a few steps
// each. Control: the poisoned run did use its arena (it holds buffers
// afterwards), so the comparison is not the heap against itself. Calling
// Backward after the step's Reset turns it red (tried once: the graph walk
// panics on the rewound structs).
func TestTrain_ArenaBitIdentical(t *testing.T) {
	q := randomDist(4, 2, 5, newRNG(8))
	for _, c := range []struct {
		src  Source
		loss Loss
	}{{Uniform, LossCE}, {Mask, LossGKL}} {
		t.Run(string(c.loss), func(t *testing.T) {
			p := Path{Sched: Linear{}, Source: c.src, V: 4, D: 2}
			var made *autograd.Arena
			run := func(newArena func() *autograd.Arena) ([]float64, []*autograd.Tensor) {
				defer steparena.Set(func() *autograd.Arena { made = newArena(); return made })()
				m := NewPosteriorMLP(p, 8, []int{16}, autograd.ActSiLU, newRNG(9))
				losses, err := Train(m, TrainConfig{Data: q.Sampler(), Loss: c.loss, Batch: 16, Steps: 4, LR: 1e-2, Seed: 1})
				require.NoError(t, err)
				require.Len(t, losses, 4)
				return losses, m.Params()
			}
			hl, hp := run(steparena.Heap)
			al, ap := run(steparena.Poisoned)
			require.NoError(t, steparena.BitDiff("loss", hl, al))
			for i := range hp {
				require.NoError(t, steparena.BitDiff(fmt.Sprintf("param %d", i), hp[i].Data, ap[i].Data))
			}
			buffers, _ := made.Held()
			require.Positive(t, buffers, "the poisoned run must have drawn from its arena")
		})
	}
}

// sawArena is a Denoiser that records whether it was given times in an
// arena.
type sawArena struct {
	Denoiser
	inArena bool
}

func (s *sawArena) Forward(t *autograd.Tensor, x [][]int) *autograd.Tensor {
	s.inArena = s.inArena || t.Arena() != nil
	return s.Denoiser.Forward(t, x)
}

// TestEuler_ArenaBitIdentical: the samplers with their arena, in Poison
// mode, give the heap's results bit for bit: Euler's final states (64
// chains, 8 steps), EulerDistribution's law (8 steps) and a Gillespie
// chain, for a PosteriorMLP on each source. Control: the poisoned runs did
// evaluate the model in their arena (it saw its times in one); a probs that
// Resets before the softmax reads the logits turns it red (tried once).
func TestEuler_ArenaBitIdentical(t *testing.T) {
	for _, src := range []Source{Uniform, Mask} {
		t.Run(fmt.Sprint(src), func(t *testing.T) {
			p := Path{Sched: Linear{}, Source: src, V: 4, D: 2}
			m := NewPosteriorMLP(p, 8, []int{16}, autograd.ActSiLU, newRNG(9))
			x0 := p.SampleSource(64, newRNG(10))
			run := func(newArena func() *autograd.Arena) (states, law []float64, chain []int, inArena bool) {
				defer steparena.Set(newArena)()
				s := &sawArena{Denoiser: m}
				for _, row := range Euler(s, p, x0, 8, newRNG(11)) {
					for _, v := range row {
						states = append(states, float64(v))
					}
				}
				law = EulerDistribution(s, p, 8)
				chain = Gillespie(s, p, x0[0], 0.99, newRNG(12))
				return states, law, chain, s.inArena
			}
			hs, hl, hc, hin := run(steparena.Heap)
			as, al, ac, ain := run(steparena.Poisoned)
			require.False(t, hin)
			require.True(t, ain, "the poisoned samplers must evaluate the model in their arena")
			require.NoError(t, steparena.BitDiff("Euler states", hs, as))
			require.NoError(t, steparena.BitDiff("EulerDistribution", hl, al))
			require.Equal(t, hc, ac, "Gillespie chain")
		})
	}
}

// BenchmarkEuler measures what one step of Euler allocates for a
// PosteriorMLP (embeddings 16, hidden 128-128 SiLU, V 8, D 2), 1,000
// chains, on the heap and in the run's arena (steparena.PerStep: runs of 5
// and 10 steps, differenced). The metrics B/step and allocs/step are the
// point; ns/op is the time of the 15 steps.
func BenchmarkEuler(b *testing.B) {
	p := Path{Sched: Linear{}, Source: Uniform, V: 8, D: 2}
	m := NewPosteriorMLP(p, 16, []int{128, 128}, autograd.ActSiLU, newRNG(4))
	x0 := p.SampleSource(1000, newRNG(5))
	run := func(_ *testing.B, steps int) { Euler(m, p, x0, steps, newRNG(6)) }
	steparenatest.HeapAndArena(b, run, 5)
}
