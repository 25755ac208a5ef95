package nn

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMLP_TrainsToNoiseFloor fits y = sin(3x) + N(0, σ²), σ = 0.1,
// x ~ U[−1, 1], with an MLP 1 → 32 → 32 → 1 (tanh) and full-batch Adam,
// and checks the held-out mean squared error against the noise floor.
//
// On fresh data the expected MSE is σ² + E(f̂ − f)²: σ² is irreducible and
// the excess of a fit with p_eff effective parameters on n points is about
// σ²·p_eff/n (the classical result for least-squares smoothers). With
// n = 512 and p_eff ≤ 128 the excess is at most σ²/4, so we allow
//
//	MSE ≤ σ²·(1 + 1/4) + 3·SE
//
// with SE the standard error of the test-set mean, computed from the test
// residuals. The same data gives the lower bound MSE ≥ σ² − 3·SE (no model
// beats the noise on fresh data). Negative control: the untrained network
// (and the best constant, MSE ≈ Var sin(3x) + σ² ≈ 0.55) fails the bound.
func TestMLP_TrainsToNoiseFloor(t *testing.T) {
	const (
		sigma  = 0.1
		slack  = 0.25 // p_eff/n ≤ 128/512
		nTrain = 512
		nTest  = 4096
		steps  = 1500
	)
	rng := newRNG(9)
	sample := func(n int) (x, y *autograd.Tensor) {
		x = autograd.Uniform(n, 1, -1, 1, rng)
		y = autograd.Zeros(n, 1)
		for i, xi := range x.Data {
			y.Data[i] = math.Sin(3*xi) + sigma*rng.NormFloat64()
		}
		return x, y
	}
	xTr, yTr := sample(nTrain)
	xTe, yTe := sample(nTest)

	m := NewMLP([]int{1, 32, 32, 1}, autograd.ActTanh, rng)
	heldOut := func() (mse, se float64) {
		p := m.Frozen().Forward(xTe.NoGraph())
		s, s2 := 0.0, 0.0
		for i, v := range p.Data {
			r := (v - yTe.Data[i]) * (v - yTe.Data[i])
			s += r
			s2 += r * r
		}
		mse = s / nTest
		return mse, math.Sqrt((s2/nTest - mse*mse) / nTest)
	}
	floor := sigma * sigma
	mse0, se0 := heldOut()
	require.Greater(t, mse0, floor*(1+slack)+3*se0, "negative control: the untrained model must fail the bound")

	opt := NewAdam(m.Params(), 1e-2)
	for range steps {
		opt.ZeroGrad()
		autograd.Mean(autograd.Square(autograd.Sub(m.Forward(xTr), yTr))).Backward()
		opt.Step()
	}
	mse, se := heldOut()
	upper := floor*(1+slack) + 3*se
	t.Logf("held-out MSE %.5f (σ² = %.5f, SE %.5f), untrained %.4f", mse, floor, se, mse0)
	assert.LessOrEqual(t, mse, upper, "held-out MSE: got %.5f want ≤ %.5f (σ²(1+%g) + 3·SE)", mse, upper, slack)
	assert.GreaterOrEqual(t, mse, floor-3*se, "held-out MSE below the noise floor σ² − 3·SE")
}
