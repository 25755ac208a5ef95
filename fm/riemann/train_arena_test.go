package riemann

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/internal/steparena/steparenatest"
	"github.com/flowmatch/flowmatch/nn"
)

// BenchmarkTrainStep measures what one steady-state step of Train
// allocates (steparena.PerStep: runs of 20 and 40 steps, differenced), on
// the heap and in the run's arena: a VelocityMLP 4→64→64→3 (SiLU) on
// sphere-vmf, batch 256, and a TorusMLP 5→64→64→2 on torus-vonmises. The
// metrics B/step and allocs/step are the point; ns/op is the time of the
// 60 steps.
func BenchmarkTrainStep(b *testing.B) {
	for _, data := range []string{"sphere-vmf", "torus-vonmises"} {
		d, err := Dataset(data)
		if err != nil {
			b.Fatal(err)
		}
		m := d.Manifold()
		run := func(b *testing.B, steps int) {
			var model Model
			if data == "sphere-vmf" {
				model = nn.NewVelocityMLP(3, []int{64, 64}, autograd.ActSiLU, newRNG(1))
			} else {
				model = NewTorusMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(1))
			}
			if _, err := Train(m, model, TrainConfig{Data: d.Sample, BatchSize: 256, Steps: steps, LR: 1e-3, Seed: 2}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(data, func(b *testing.B) { steparenatest.HeapAndArena(b, run, 20) })
	}
}

// keepLast is a Model that keeps its last output: a tensor that escapes the
// training step it was made in.
type keepLast struct {
	Model
	last *autograd.Tensor
}

func (k *keepLast) Forward(t, x *autograd.Tensor) *autograd.Tensor {
	k.last = k.Model.Forward(t, x)
	return k.last
}

// TestTrain_ArenaBitIdentical: Train with its arena, in Poison mode, gives
// the losses and final parameters of the same run on the heap bit for bit,
// on the sphere (a VelocityMLP on sphere-vmf, uniform base) and on the
// torus (a TorusMLP on torus-vonmises, wrapped-normal base), a few steps
// each. Control: the model's output of the last step, kept past the step,
// reads NaN after the poisoned arena's Reset (and holds finite numbers on
// the heap), so a tensor that escaped a step would show.
func TestTrain_ArenaBitIdentical(t *testing.T) {
	for _, c := range []struct {
		data  string
		model func() Model
		base  func(m Manifold) Base
	}{
		{"sphere-vmf", func() Model { return nn.NewVelocityMLP(3, []int{16, 16}, autograd.ActSiLU, newRNG(1)) }, func(Manifold) Base { return nil }},
		{"torus-vonmises", func() Model { return NewTorusMLP(2, []int{16, 16}, autograd.ActSiLU, newRNG(1)) },
			func(m Manifold) Base { return NewWrappedNormal(m.Dim(), 0.7) }},
	} {
		t.Run(c.data, func(t *testing.T) {
			d, err := Dataset(c.data)
			require.NoError(t, err)
			m := d.Manifold()
			cfg := TrainConfig{Data: d.Sample, BatchSize: 16, Steps: 4, LR: 1e-2, Seed: 2, TMax: 0.99, Base: c.base(m)}
			run := func(newArena func() *autograd.Arena) ([]float64, []*autograd.Tensor, *autograd.Tensor) {
				defer steparena.Set(newArena)()
				k := &keepLast{Model: c.model()}
				losses, err := Train(m, k, cfg)
				require.NoError(t, err)
				require.Len(t, losses, cfg.Steps)
				return losses, k.Params(), k.last
			}
			hl, hp, hlast := run(steparena.Heap)
			al, ap, alast := run(steparena.Poisoned)
			require.NoError(t, steparena.BitDiff("loss", hl, al))
			for i := range hp {
				require.NoError(t, steparena.BitDiff(fmt.Sprintf("param %d", i), hp[i].Data, ap[i].Data))
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

// TestIntegrate_ArenaBitIdentical: Integrate with its arena, in Poison
// mode, gives the states of the heap bit for bit at every step (the
// callback's), by Euler and RK4, for a VelocityMLP on the sphere and a
// TorusMLP on the torus. Control: the poisoned solve did use its arena
// (the field sees its input in one).
func TestIntegrate_ArenaBitIdentical(t *testing.T) {
	for _, c := range []struct {
		name  string
		m     Manifold
		model Model
	}{
		{"sphere", Sphere{D: 2}, nn.NewVelocityMLP(3, []int{16, 16}, autograd.ActSiLU, newRNG(1))},
		{"torus", Torus{D: 2}, NewTorusMLP(2, []int{16, 16}, autograd.ActSiLU, newRNG(1))},
	} {
		for _, method := range []cnf.Method{cnf.Euler, cnf.RK4} {
			t.Run(c.name+"/"+string(method), func(t *testing.T) {
				x0 := c.m.Uniform(8, newRNG(2))
				run := func(newArena func() *autograd.Arena) (states [][]float64, inArena bool) {
					defer steparena.Set(newArena)()
					f := func(t float64, x *autograd.Tensor) *autograd.Tensor {
						inArena = inArena || x.Arena() != nil
						return cnf.FieldOf(c.model)(t, x)
					}
					_, err := Integrate(c.m, f, x0, 0, 1, 4, method, func(_ float64, x *autograd.Tensor) {
						states = append(states, append([]float64(nil), x.Data...))
					})
					require.NoError(t, err)
					return states, inArena
				}
				hs, hin := run(steparena.Heap)
				as, ain := run(steparena.Poisoned)
				require.False(t, hin)
				require.True(t, ain, "the poisoned solve must evaluate the field in its arena")
				require.Len(t, as, len(hs))
				for i := range hs {
					require.NoError(t, steparena.BitDiff(fmt.Sprintf("state %d", i), hs[i], as[i]))
				}
			})
		}
	}
}

// BenchmarkIntegrate measures what one RK4 step of Integrate allocates
// through a VelocityMLP 4→64→64→3 (SiLU) on the sphere, 1,000 points, on
// the heap and in the solve's arena (steparena.PerStep: solves of 5 and 10
// steps, differenced). The metrics B/step and allocs/step are the point;
// ns/op is the time of the 15 steps.
func BenchmarkIntegrate(b *testing.B) {
	m := Sphere{D: 2}
	model := nn.NewVelocityMLP(3, []int{64, 64}, autograd.ActSiLU, newRNG(1))
	x0 := m.Uniform(1000, newRNG(2))
	run := func(b *testing.B, steps int) {
		if _, err := Integrate(m, cnf.FieldOf(model.Frozen()), x0, 0, 1, steps, cnf.RK4, nil); err != nil {
			b.Fatal(err)
		}
	}
	steparenatest.HeapAndArena(b, run, 5)
}
