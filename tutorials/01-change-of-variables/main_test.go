package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const eps = 0x1p-52

// TestTutorial01 runs the tutorial (fewer samples under -short) and checks
// every claim it prints, each with a derived tolerance.
func TestTutorial01(t *testing.T) {
	cfg := Config{Out: t.TempDir(), N: 200000, Seed: 1}
	if testing.Short() {
		cfg.N = 40000
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// Part 1. The formula and the closed form are the same expression up to
	// rounding: a handful of operations on numbers of size |log p| ≤ 10.
	tolRound := 64 * eps * 10
	assert.Less(t, r.AffineMaxErr, tolRound, "affine 1-D: got max |Δ log p| %g want < %g", r.AffineMaxErr, tolRound)
	// Monte Carlo: 4 standard errors, computed by run from the sample.
	assert.InDelta(t, r.AffineWantMean, r.AffineMean, 4*r.AffineMeanSE, "mean: got %v want %v (tol %v)", r.AffineMean, r.AffineWantMean, 4*r.AffineMeanSE)
	assert.InDelta(t, r.AffineWantStd, r.AffineStd, 4*r.AffineStdSE, "std: got %v want %v (tol %v)", r.AffineStd, r.AffineWantStd, 4*r.AffineStdSE)

	// Part 2. Under the right density χ² ~ χ²_{B−1} (mean B − 1, sd √(2(B − 1)));
	// the threshold is 5 sd above the mean. The expected counts come from
	// Simpson's rule, whose error (BinQuadErr, measured against the exact CDF)
	// must be negligible next to the Poisson noise 1/√(n·p) of a cell.
	assert.Less(t, r.Chi2, r.Chi2Threshold, "χ² %v threshold %v", r.Chi2, r.Chi2Threshold)
	assert.Less(t, r.BinQuadErr, 1e-6, "Simpson's bin integrals are off by %g", r.BinQuadErr)
	// Negative control: the density without the Jacobian factor is rejected.
	assert.Greater(t, r.Chi2NoJacobian, r.Chi2Threshold, "the wrong density passed: χ² %v", r.Chi2NoJacobian)
	// ∫p = 1 within twice Richardson's estimate of Simpson's error.
	assert.InDelta(t, 1, r.Integral, 2*r.IntegralErr+1e-12, "∫p: got %v want 1 (tol %g)", r.Integral, 2*r.IntegralErr)

	// Part 3. Autograd's Jacobian and an LU factorization against closed
	// forms: rounding only, amplified by the conditioning of the map
	// (κ(A) for the affine map; e^{α|x₁|} ≤ e² stands in for it for the banana).
	tolAff := 64 * eps * r.Affine2DCond * 20
	assert.Less(t, r.Affine2DMaxErr, tolAff, "affine 2-D: got %g want < %g", r.Affine2DMaxErr, tolAff)
	tolBan := 64 * eps * math.Exp(2) * 20
	assert.Less(t, r.Banana2DMaxErr, tolBan, "banana: got %g want < %g", r.Banana2DMaxErr, tolBan)
	// Negative control: without the log-det the answer is off by |αx₁|,
	// on average α·√(2/π) ≈ 0.32 nats (x₁ = z₁ ~ N(0, 1)), far above rounding;
	// 4 standard errors α·√(1 − 2/π)/√n of the mean over n = 2000 points.
	want, se := alpha*math.Sqrt(2/math.Pi), alpha*math.Sqrt(1-2/math.Pi)/math.Sqrt(2000)
	assert.InDelta(t, want, r.Banana2DNoJacDiff, 4*se, "no log-det: got %v want %v (tol %v)", r.Banana2DNoJacDiff, want, 4*se)

	for _, name := range []string{"histogram.png", "banana-density.png", "banana-samples.png"} {
		st, err := os.Stat(filepath.Join(cfg.Out, name))
		require.NoError(t, err, name)
		assert.Positive(t, st.Size(), name)
	}
}
