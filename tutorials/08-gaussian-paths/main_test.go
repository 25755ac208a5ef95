package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

const eps = 0x1p-52

// TestTutorial08 checks what the tutorial prints.
func TestTutorial08(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Points: 200, Samples: 20000, Seed: 8}
	if testing.Short() {
		cfg.Points, cfg.Samples = 50, 5000
	}
	r, err := run(cfg)
	require.NoError(t, err)
	require.Len(t, r.Paths, 4)

	for i, p := range r.Paths {
		// Theorem 3: within the Richardson + rounding bound at every point;
		// with σ′ flipped the same check fails (negative control).
		assert.LessOrEqual(t, p.Derivative, 1.0, "%s: worst |D − u|/tol = %v", p.Name, p.Derivative)
		assert.Greater(t, p.Flipped, 1.0, "%s: the flipped field passed", p.Name)
		if i == 0 {
			// CondOT: ψ_t(x₀) = x₀ + t·(x₁ − (1 − σ_min)x₀) and the field
			// along it is constant, so every Runge–Kutta method, even one
			// Euler step, is exact up to rounding (≈ 64ε per step on
			// states of size ≲ 10), and the straightness gap is 0.
			roundRK4 := 64 * eps * 10 * float64(2*rk4Steps)
			assert.Less(t, p.RK4Err1, roundRK4, "%s: RK4 error %g", p.Name, p.RK4Err1)
			assert.Less(t, p.RK4Err2, roundRK4, "%s: RK4 error %g", p.Name, p.RK4Err2)
			assert.Less(t, p.Euler1Err, 64*eps*10, "%s: one Euler step error %g", p.Name, p.Euler1Err)
			assert.Less(t, math.Abs(p.Gap), 64*eps*100*65, "%s: gap %g", p.Name, p.Gap)
			continue
		}
		// RK4 is fourth order: halving h divides the error by 2⁴ = 16, up to
		// the next term of the expansion, relatively O(h·L) ≤ 0.12 here
		// (L = the field's Lipschitz constant, ≤ 50 for VP on [0.001, 0.99]).
		ratio := p.RK4Err1 / p.RK4Err2
		assert.InDelta(t, 16, ratio, 16*0.12, "%s: RK4 error ratio %v, want 16", p.Name, ratio)
		// Curved or unevenly paced trajectories: one Euler step misses and
		// the straightness gap is positive, far above rounding.
		assert.Greater(t, p.Euler1Err, 0.1, "%s: one Euler step error %v", p.Name, p.Euler1Err)
		assert.Greater(t, p.Gap, 0.1, "%s: straightness gap %v", p.Name, p.Gap)
	}
	// The closed form equals the generic formula to rounding (a dozen flops).
	assert.LessOrEqual(t, r.ClosedForm, 64*eps, "closed form vs generic: %g", r.ClosedForm)
	// Push-forward: mean and variance of both coordinates within k SE
	// (4 two-sided checks, family-wise 10⁻³).
	k := distuv.UnitNormal.Quantile(1 - 1e-3/8)
	assert.LessOrEqual(t, r.PushZ, k, "push-forward: worst %v SE (k %v)", r.PushZ, k)

	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
