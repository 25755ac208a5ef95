package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
)

// eightGaussians returns n points of the FFJORD "8gaussians" set, as the
// PyTorch peer draws them: k ~ U{0..7}, c_k = (cos πk/4, sin πk/4),
// x₁ = (4·c_k + 0.5·e)/√2 with e ~ N(0, I).
func eightGaussians(n int, seed uint64) *autograd.Tensor {
	rng := newRNG(seed)
	x := autograd.Zeros(n, 2)
	for i := range n {
		a := math.Pi * float64(rng.IntN(8)) / 4
		x.Data[2*i] = (4*math.Cos(a) + 0.5*rng.NormFloat64()) / math.Sqrt2
		x.Data[2*i+1] = (4*math.Sin(a) + 0.5*rng.NormFloat64()) / math.Sqrt2
	}
	return x
}

// BenchmarkTrainStep is one conditional flow-matching training step of the
// PyTorch peer (bench/peers/torch_fm.py in this repository): v_θ 3 → 256 → 256 →
// 256 → 2 with SiLU, x₁ drawn with replacement from a pool of 2¹⁷
// 8gaussians points, x₀ ~ N(0, I), t ~ U[0, 1], σ_min = 1e-4,
//
//	x_t = (1 − (1 − σ_min)·t)·x₀ + t·x₁,   u = x₁ − (1 − σ_min)·x₀,
//	L = mean over the batch of Σ_d (v_θ(t, x_t) − u)²,
//
// then ZeroGrad, Backward and an Adam step with η = 1e-3.
func BenchmarkTrainStep(b *testing.B) {
	const sigmaMin = 1e-4
	pool := eightGaussians(1<<17, 1)
	for _, batch := range []int{256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rng := newRNG(2)
			model := NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng)
			opt := NewAdam(model.Params(), 1e-3)
			x1 := autograd.Zeros(batch, 2)
			step := func() float64 {
				for i := range batch {
					copy(x1.Row(i), pool.Row(rng.IntN(pool.Rows)))
				}
				x0 := autograd.Normal(batch, 2, 0, 1, rng)
				t := autograd.Uniform(batch, 1, 0, 1, rng)
				c0 := autograd.AddScalar(autograd.Scale(t, -(1-sigmaMin)), 1) // 1 − (1 − σ_min)·t
				xt := autograd.Add(autograd.MulCol(x0, c0), autograd.MulCol(x1, t))
				u := autograd.Sub(x1, autograd.Scale(x0, 1-sigmaMin))
				loss := autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(model.Forward(t, xt), u))))
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
				return loss.Item()
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
