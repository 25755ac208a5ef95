package nn

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hand-computed Adam example: θ₀ = (1, −2), gradients g₁ = (0.5, −1)
// then g₂ = (0.25, 2) (set directly, not from a loss), η = 0.1,
// β = (0.9, 0.999), ε = 1e-8.
//
// Step 1: m = 0.1·g₁, v = 0.001·g₁², and the bias corrections give
// m̂ = g₁, √v̂ = |g₁|, so θ₁ = θ₀ − η·g₁/(|g₁| + ε):
//
//	θ₁ = (1 − 0.1·0.5/(0.5 + 1e-8), −2 + 0.1·1/(1 + 1e-8))
//
// Step 2, first coordinate: m = 0.9·0.05 + 0.1·0.25 = 0.07,
// v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225, 1 − β₁² = 0.19,
// 1 − β₂² = 0.001999:
//
//	θ₂ = θ₁ − (0.1/0.19)·0.07/(√0.00031225/√0.001999 + 1e-8)
//
// The literals were evaluated with 50-digit decimal arithmetic.
var (
	adamTheta0 = []float64{1, -2}
	adamGrads  = [][]float64{{0.5, -1}, {0.25, 2}}
	adamWant   = [][]float64{
		{0.90000000199999996, -1.9000000010000000},
		{0.80678204047746167, -1.9366103534720751},
	}
	adamWWant = [][]float64{ // AdamW, λ = 0.01: θ ← θ·(1 − 0.1·0.01) first
		{0.89900000199999996, -1.8980000010000000},
		{0.80488304047546167, -1.9327123534710751},
	}
	adamL2Want = [][]float64{ // Adam, λ = 0.01: g ← g + 0.01·θ
		{0.90000000196078428, -1.9000000009803921},
		{0.80655504104993121, -1.9355044186569047},
	}
)

// adamTol: each coordinate goes through about a dozen correctly rounded
// operations per step, none ill-conditioned (no cancellation: √v̂ ≫ ε),
// so two steps stay within 32 rounding errors of |θ|.
func adamTol(want float64) float64 { return 32 * eps * math.Max(1, math.Abs(want)) }

func runOptimizer(newOpt func(ps []*autograd.Tensor) Optimizer) [][]float64 {
	p := autograd.FromSlice(1, 2, append([]float64(nil), adamTheta0...)).SetRequiresGrad(true)
	opt := newOpt([]*autograd.Tensor{p})
	var out [][]float64
	for _, g := range adamGrads {
		opt.ZeroGrad()
		copy(p.Grad, g)
		opt.Step()
		out = append(out, append([]float64(nil), p.Data...))
	}
	return out
}

func matches(got, want [][]float64) bool {
	for k := range want {
		for j := range want[k] {
			if math.Abs(got[k][j]-want[k][j]) > adamTol(want[k][j]) {
				return false
			}
		}
	}
	return true
}

func requireTrajectory(t *testing.T, got, want [][]float64) {
	t.Helper()
	for k := range want {
		for j := range want[k] {
			tol := adamTol(want[k][j])
			require.InDelta(t, want[k][j], got[k][j], tol, "step %d coord %d: got %.17g want %.17g (tol %.3g)", k+1, j, got[k][j], want[k][j], tol)
		}
	}
}

// adamRef is Adam written out for one scalar, with the bias correction as a
// parameter so that the negative controls can get it wrong.
func adamRef(bc func(beta float64, k int) float64, sqrtBC2 bool) [][]float64 {
	const lr, b1, b2, e = 0.1, 0.9, 0.999, 1e-8
	th := append([]float64(nil), adamTheta0...)
	m, v := make([]float64, 2), make([]float64, 2)
	var out [][]float64
	for k, g := range adamGrads {
		for j := range th {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			c2 := bc(b2, k+1)
			if sqrtBC2 {
				c2 = math.Sqrt(c2)
			}
			th[j] -= lr / bc(b1, k+1) * m[j] / (math.Sqrt(v[j])/c2 + e)
		}
		out = append(out, append([]float64(nil), th...))
	}
	return out
}

// TestAdam_HandComputedTwoSteps checks two Adam steps against the values
// derived above. Negative controls: the same reference without bias
// correction, or with 1 − β₂ᵏ in place of its square root, does not match.
func TestAdam_HandComputedTwoSteps(t *testing.T) {
	got := runOptimizer(func(ps []*autograd.Tensor) Optimizer { return NewAdam(ps, 0.1) })
	requireTrajectory(t, got, adamWant)

	right := func(b float64, k int) float64 { return 1 - math.Pow(b, float64(k)) }
	none := func(float64, int) float64 { return 1 }
	require.True(t, matches(adamRef(right, true), adamWant), "the reference itself must match")
	assert.False(t, matches(adamRef(none, true), adamWant), "negative control: no bias correction must fail")
	assert.False(t, matches(adamRef(right, false), adamWant), "negative control: unsquared-root bias correction must fail")

	a := NewAdam(nil, 1e-3)
	assert.Equal(t, [3]float64{0.9, 0.999, 1e-8}, [3]float64{a.Beta1, a.Beta2, a.Eps})
}

// TestAdamW_HandComputed: decoupled decay (AdamW) and the L2 penalty
// (Adam's weight_decay) against their 50-digit values, and each fails the
// other's trajectory (negative control).
func TestAdamW_HandComputed(t *testing.T) {
	w := runOptimizer(func(ps []*autograd.Tensor) Optimizer { return NewAdamW(ps, 0.1, 0.01) })
	requireTrajectory(t, w, adamWWant)
	l2 := runOptimizer(func(ps []*autograd.Tensor) Optimizer {
		a := NewAdam(ps, 0.1)
		a.WeightDecay = 0.01
		return a
	})
	requireTrajectory(t, l2, adamL2Want)
	assert.False(t, matches(w, adamL2Want))
	assert.False(t, matches(l2, adamWWant))
}

// TestSGD_Momentum: with μ = 0.5, η = 0.1 and the gradients above,
// b₁ = g₁, θ₁ = θ₀ − 0.1·g₁; b₂ = 0.5·g₁ + g₂, θ₂ = θ₁ − 0.1·b₂.
func TestSGD_Momentum(t *testing.T) {
	got := runOptimizer(func(ps []*autograd.Tensor) Optimizer { return NewSGD(ps, 0.1, 0.5) })
	want := [][]float64{
		{1 - 0.1*0.5, -2 + 0.1},
		{1 - 0.1*0.5 - 0.1*(0.25+0.25), -2 + 0.1 - 0.1*(-0.5+2)},
	}
	requireTrajectory(t, got, want)
}

// TestOptimizers_StepDoesNotAllocate: Step (and EMA.Update) allocate
// nothing in steady state.
func TestOptimizers_StepDoesNotAllocate(t *testing.T) {
	v := NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(8))
	ps := v.Params()
	for _, p := range ps {
		for i := range p.Grad {
			p.Grad[i] = 1e-3
		}
	}
	for name, opt := range map[string]Optimizer{
		"SGD": NewSGD(ps, 1e-3, 0.9), "Adam": NewAdam(ps, 1e-3), "AdamW": NewAdamW(ps, 1e-3, 1e-2),
	} {
		assert.Zero(t, testing.AllocsPerRun(20, opt.Step), name)
	}
	e := NewEMA(ps, 0.99)
	assert.Zero(t, testing.AllocsPerRun(20, e.Update), "EMA")
	assert.Zero(t, testing.AllocsPerRun(20, func() { ClipGradNorm(ps, 1) }), "ClipGradNorm")
}

// TestClipGradNorm: gradients (3, 4) and (0, 0, 12) have joint norm 13;
// clipping to 6.5 halves them (up to the 10⁻⁶ of the denominator) and
// returns 13; a larger bound leaves them as they are.
func TestClipGradNorm(t *testing.T) {
	a := autograd.Zeros(1, 2).SetRequiresGrad(true)
	b := autograd.Zeros(3, 1).SetRequiresGrad(true)
	frozen := autograd.Zeros(1, 1) // no Grad: ignored
	copy(a.Grad, []float64{3, 4})
	copy(b.Grad, []float64{0, 0, 12})
	ps := []*autograd.Tensor{a, frozen, b}
	require.Equal(t, 13.0, ClipGradNorm(ps, 100))
	assert.Equal(t, []float64{3, 4}, a.Grad)
	n := ClipGradNorm(ps, 6.5)
	assert.Equal(t, 13.0, n)
	c := 6.5 / (13 + 1e-6)
	assert.InDeltaSlice(t, []float64{3 * c, 4 * c}, a.Grad, 4*eps*4)
	assert.InDeltaSlice(t, []float64{0, 0, 12 * c}, b.Grad, 4*eps*12)
	assert.InDelta(t, 6.5, ClipGradNorm(ps, 100), 1e-6, "after clipping the norm is maxNorm")
}

// TestEMA_Formula: with θ held at θ* after starting from θ₀, k updates give
// shadow = θ* + decayᵏ·(θ₀ − θ*), the closed form of the recursion; CopyTo
// and Params expose it.
func TestEMA_Formula(t *testing.T) {
	p := autograd.FromSlice(1, 2, []float64{1, -1}).SetRequiresGrad(true)
	e := NewEMA([]*autograd.Tensor{p}, 0.9)
	copy(p.Data, []float64{3, 5})
	const k = 10
	for range k {
		e.Update()
	}
	d := math.Pow(0.9, k)
	want := []float64{3 + d*(1-3), 5 + d*(-1-5)}
	assert.InDeltaSlice(t, want, e.Params()[0].Data, 16*k*eps*5)
	assert.False(t, e.Params()[0].RequiresGrad())
	dst := autograd.Zeros(1, 2)
	e.CopyTo([]*autograd.Tensor{dst})
	assert.Equal(t, e.Params()[0].Data, dst.Data)
	assert.Panics(t, func() { e.CopyTo([]*autograd.Tensor{autograd.Zeros(2, 1)}) })
	assert.Panics(t, func() { e.CopyTo(nil) })
}

// adamScalarStep is the scalar loop Adam.Step ran before it called
// fused.AdamStep, with every product rounded before it is summed, as the
// compiler compiles it for GOAMD64=v1 (the default).
func adamScalarStep(o *Adam, m, v [][]float64, params []*autograd.Tensor, k int) {
	bc1 := 1 - math.Pow(o.Beta1, float64(k))
	bc2sqrt := math.Sqrt(1 - math.Pow(o.Beta2, float64(k)))
	stepSize := o.LR / bc1
	b1, b2, lam := o.Beta1, o.Beta2, o.WeightDecay
	for i, p := range params {
		th := p.Data
		if o.Decoupled && lam != 0 {
			decay := 1 - o.LR*lam
			for j := range th {
				th[j] *= decay
			}
		}
		for j, g := range p.Grad {
			if !o.Decoupled && lam != 0 {
				g += float64(lam * th[j])
			}
			m[i][j] += float64((1 - b1) * (g - m[i][j]))
			v[i][j] = float64(b2*v[i][j]) + float64(float64((1-b2)*g)*g)
			th[j] -= float64(stepSize*m[i][j]) / (math.Sqrt(v[i][j])/bc2sqrt + o.Eps)
		}
	}
}

// TestAdam_BitIdenticalToScalarLoop runs Adam, Adam with an L2 penalty and
// AdamW for 50 steps on a VelocityMLP with random gradients, with one and two
// threads, next to the scalar loop on a copy, and requires every parameter
// to agree in every bit after every step.
func TestAdam_BitIdenticalToScalarLoop(t *testing.T) {
	defer SetThreads(1)
	for _, threads := range []int{1, 2} {
		for _, c := range []struct {
			name string
			opt  func([]*autograd.Tensor) *Adam
		}{
			{"Adam", func(ps []*autograd.Tensor) *Adam { return NewAdam(ps, 1e-3) }},
			{"AdamL2", func(ps []*autograd.Tensor) *Adam { a := NewAdam(ps, 3e-3); a.WeightDecay = 0.1; return a }},
			{"AdamW", func(ps []*autograd.Tensor) *Adam { return NewAdamW(ps, 1e-2, 0.05) }},
		} {
			SetThreads(threads)
			rng := newRNG(9)
			fast := NewVelocityMLP(2, []int{128, 128}, autograd.ActSiLU, rng).Params()
			slow := make([]*autograd.Tensor, len(fast))
			m, v := make([][]float64, len(fast)), make([][]float64, len(fast))
			for i, p := range fast {
				slow[i] = p.Clone()
				slow[i].Grad = make([]float64, len(p.Data))
				m[i], v[i] = make([]float64, len(p.Data)), make([]float64, len(p.Data))
			}
			opt, ref := c.opt(fast), c.opt(nil)
			for k := 1; k <= 50; k++ {
				for i, p := range fast {
					for j := range p.Grad {
						g := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-8))
						p.Grad[j], slow[i].Grad[j] = g, g
					}
				}
				opt.Step()
				adamScalarStep(ref, m, v, slow, k)
				for i := range fast {
					for j, x := range fast[i].Data {
						if math.Float64bits(x) != math.Float64bits(slow[i].Data[j]) {
							t.Fatalf("%s, threads %d, step %d, tensor %d[%d]: got %v want %v (tol 0)",
								c.name, threads, k, i, j, x, slow[i].Data[j])
						}
					}
				}
			}
		}
	}
}
