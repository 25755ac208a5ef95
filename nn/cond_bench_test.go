package nn

import (
	"fmt"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
)

// BenchmarkFastTrainStepCond is BenchmarkFastTrainStep for the conditional
// MNIST14 shape: points in ℝ^196 (14×14 images in [−1, 1]), a label context
// of width 11 (10 classes and the null label), hidden 512×3, SiLU, batch
// 128, so the network is 208 → 512 → 512 → 512 → 196. Each step draws x₁
// with replacement from a pool of 4,096 random images with labels, drops
// each label to ∅ with probability 0.1, x₀ ~ N(0, I), t ~ U[0, 1], builds
// x_t, u and the one-hot contexts in preallocated buffers, then ZeroGrad,
// TrainStep.LossGradCond and an Adam step (η = 1e-3); it allocates nothing
// per step (TestTrainStep_NoAllocs checks a smaller model). It reports
// steps/s and, for a shared machine, CPU-ms per step (all threads), with 1
// and 2 threads (SetThreads).
func BenchmarkFastTrainStepCond(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			SetThreads(threads)
			defer SetThreads(1)
			benchCondStep(b)
		})
	}
}

func benchCondStep(b *testing.B) {
	const (
		dim, classes, batch, pool = 196, 10, 128, 4096
		sigmaMin, pDrop           = 1e-4, 0.1
	)
	ctx := classes + 1
	rng := newRNG(3)
	images := make([]float64, pool*dim)
	labels := make([]int, pool)
	for i := range images {
		images[i] = 2*rng.Float64() - 1
	}
	for i := range labels {
		labels[i] = rng.IntN(classes)
	}
	model := NewLabelVelocityMLP(dim, classes, []int{512, 512, 512}, autograd.ActSiLU, rng)
	opt := NewAdam(model.Params(), 1e-3)
	s, err := NewTrainStep(model, batch)
	if err != nil {
		b.Fatal(err)
	}
	xt, t, c, u := make([]float64, dim*batch), make([]float64, batch), make([]float64, ctx*batch), make([]float64, dim*batch)
	step := func() float64 {
		clear(c)
		for i := range batch {
			k := rng.IntN(pool)
			x1 := images[k*dim : (k+1)*dim]
			y := labels[k]
			if rng.Float64() < pDrop {
				y = classes // the null label's column
			}
			c[i*ctx+y] = 1
			ti := rng.Float64()
			t[i] = ti
			for d := range dim {
				x0 := rng.NormFloat64()
				xt[i*dim+d] = (1-(1-sigmaMin)*ti)*x0 + ti*x1[d]
				u[i*dim+d] = x1[d] - (1-sigmaMin)*x0
			}
		}
		opt.ZeroGrad()
		loss := s.LossGradCond(t, xt, c, u)
		opt.Step()
		return loss
	}
	for range 3 { // warm up
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	if d := cpuSeconds() - cpu; d > 0 {
		b.ReportMetric(d/float64(b.N)*1e3, "CPU-ms/step")
	}
}
