package nn

import (
	"fmt"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
)

// BenchmarkFastTrainStep is BenchmarkTrainStep on the fused path: the same
// workload as the PyTorch peer (bench/peers/torch_fm.py in this repository) —
// x₁ drawn with replacement from 2¹⁷ 8gaussians points, x₀ ~ N(0, I),
// t ~ U[0, 1], x_t and u = x₁ − (1 − σ_min)·x₀ computed into preallocated
// buffers, then ZeroGrad, TrainStep.LossGrad and an Adam step (η = 1e-3) —
// allocating nothing per step. The threads=2 case sets SetThreads(2).
func BenchmarkFastTrainStep(b *testing.B) {
	const sigmaMin = 1e-4
	pool := eightGaussians(1<<17, 1)
	for _, c := range []struct{ batch, threads int }{{256, 1}, {1024, 1}, {1024, 2}} {
		batch := c.batch
		name := fmt.Sprintf("batch=%d", batch)
		if c.threads > 1 {
			name += fmt.Sprintf("/threads=%d", c.threads)
		}
		b.Run(name, func(b *testing.B) {
			SetThreads(c.threads)
			defer SetThreads(1)
			rng := newRNG(2)
			model := NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng)
			opt := NewAdam(model.Params(), 1e-3)
			s, err := NewTrainStep(model, batch)
			if err != nil {
				b.Fatal(err)
			}
			xt, t, u := make([]float64, 2*batch), make([]float64, batch), make([]float64, 2*batch)
			step := func() float64 {
				for i := range batch {
					x1 := pool.Row(rng.IntN(pool.Rows))
					ti := rng.Float64()
					t[i] = ti
					for d := range 2 {
						x0 := rng.NormFloat64()
						xt[2*i+d] = (1-(1-sigmaMin)*ti)*x0 + ti*x1[d]
						u[2*i+d] = x1[d] - (1-sigmaMin)*x0
					}
				}
				opt.ZeroGrad()
				loss := s.LossGrad(t, xt, u)
				opt.Step()
				return loss
			}
			for range 3 { // warm up
				step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
