package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// identical reports the first element where got and want differ in any
// bit (so +0 and −0 differ; NaNs compare by payload), or nil.
func identical(got, want []float64) error {
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			return fmt.Errorf("element %d: got %v (%#x) want %v (%#x) (tol 0)",
				i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
	return nil
}

// adamParams returns the scalars of step k as nn.Adam forms them.
func adamParams(lr, beta1, beta2, eps, l2 float64, k int) *AdamParams {
	return &AdamParams{
		C1: 1 - beta1, Beta2: beta2, C2: 1 - beta2,
		StepSize: lr / (1 - math.Pow(beta1, float64(k))),
		BC2Sqrt:  math.Sqrt(1 - math.Pow(beta2, float64(k))),
		Eps:      eps, L2: l2,
	}
}

// adamGrad returns n gradient entries spanning the magnitudes training
// meets (log-uniform over 10⁻³⁰⁰ … 10³⁰, either sign), with some zeros,
// negative zeros and tiny subnormals mixed in.
func adamGrad(rnd *rand.Rand, n int) []float64 {
	g := make([]float64, n)
	for i := range g {
		switch rnd.IntN(16) {
		case 0:
			g[i] = 0
		case 1:
			g[i] = math.Copysign(0, -1)
		case 2:
			g[i] = 5e-324 * float64(rnd.IntN(1000))
		default:
			g[i] = math.Pow(10, -300+330*rnd.Float64()) * float64(1-2*rnd.IntN(2))
		}
	}
	return g
}

// adamStepper is a way of running AdamStep, checked against adamStepRef.
type adamStepper struct {
	name string
	step func(param, grad, m, v []float64, p *AdamParams)
}

// adamMismatch runs 40 steps of the stepper and of the reference loop on
// the same states, from random parameters, for every length 0–33 and a few
// long ones (every lane and tail of both vector widths), with and without an
// L2 penalty and for several hyperparameters, and returns the first element
// of the parameters or moments that differs in any bit, or nil.
func adamMismatch(s adamStepper) error {
	rnd := rand.New(rand.NewPCG(71, 72))
	lengths := []int{100, 1000, 1 << 13, 1<<14 + 3}
	for n := 0; n <= 33; n++ {
		lengths = append(lengths, n)
	}
	hypers := [][5]float64{ // lr, β₁, β₂, ε, λ
		{1e-3, 0.9, 0.999, 1e-8, 0},
		{3e-2, 0.8, 0.99, 1e-6, 0},
		{1e-3, 0.9, 0.999, 1e-8, 1e-2},
		{0.5, 0.5, 0.5, 1e-300, 7},
	}
	for _, h := range hypers {
		for _, n := range lengths {
			param, m, v := randSlice(rnd, n), make([]float64, n), make([]float64, n)
			wp, wm, wv := append([]float64(nil), param...), make([]float64, n), make([]float64, n)
			for k := 1; k <= 40; k++ {
				p := adamParams(h[0], h[1], h[2], h[3], h[4], k)
				g := adamGrad(rnd, n)
				s.step(param, g, m, v, p)
				adamStepRef(wp, g, wm, wv, p)
				for _, c := range []struct {
					name      string
					got, want []float64
				}{{"m", m, wm}, {"v", v, wv}, {"param", param, wp}} {
					if err := identical(c.got, c.want); err != nil {
						return fmt.Errorf("%s: hyper %v, n=%d, step %d: %s: %w", s.name, h, n, k, c.name, err)
					}
				}
			}
		}
	}
	return nil
}

// TestAdamStep_BitIdentical checks AdamStep against its reference loop,
// bit for bit, with one and two threads (two threads split the long slices).
func TestAdamStep_BitIdentical(t *testing.T) {
	require.NoError(t, adamMismatch(adamStepper{"AdamStep", AdamStep}))
	withThreads(2, func() { require.NoError(t, adamMismatch(adamStepper{"AdamStep/threads=2", AdamStep})) })
}

// TestAdamStep_FMADiffers is the negative control of TestAdamStep_BitIdentical:
// a loop that fuses v's update into one FMA, as a compiler may, rounds
// differently somewhere, and the check sees it.
func TestAdamStep_FMADiffers(t *testing.T) {
	fmaLoop := func(param, grad, m, v []float64, p *AdamParams) {
		for j, g := range grad {
			m[j] += float64(p.C1 * (g - m[j]))
			v[j] = math.FMA(p.Beta2, v[j], float64(float64(p.C2*g)*g))
			param[j] -= float64(p.StepSize*m[j]) / (math.Sqrt(v[j])/p.BC2Sqrt + p.Eps)
		}
	}
	require.Error(t, adamMismatch(adamStepper{"FMA loop", fmaLoop}), "an FMA in v's update should change some bits")
}

func BenchmarkAdamStep(b *testing.B) {
	const n = 133122 // the parameters of the 3 → 256 → 256 → 256 → 2 benchmark MLP
	rnd := rand.New(rand.NewPCG(1, 1))
	param, grad, m, v := randSlice(rnd, n), randSlice(rnd, n), make([]float64, n), make([]float64, n)
	p := adamParams(1e-3, 0.9, 0.999, 1e-8, 0, 10)
	for _, c := range []struct {
		name    string
		threads int
		f       func(param, grad, m, v []float64, p *AdamParams)
	}{{"ref", 1, adamStepRef}, {"fast", 1, AdamStep}, {"fast/threads=2", 2, AdamStep}} {
		b.Run(c.name, func(b *testing.B) {
			withThreads(c.threads, func() {
				b.ReportAllocs()
				for b.Loop() {
					c.f(param, grad, m, v, p)
				}
			})
		})
	}
}
