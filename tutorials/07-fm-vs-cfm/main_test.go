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

// kTwoSided is the number of standard errors for m two-sided checks at a
// family-wise false-alarm rate of 10⁻³ (Bonferroni): Φ⁻¹(1 − 10⁻³/2m).
func kTwoSided(m int) float64 { return distuv.UnitNormal.Quantile(1 - 1e-3/(2*float64(m))) }

// TestTutorial07 checks what the tutorial prints.
func TestTutorial07(t *testing.T) {
	cfg := Config{Out: t.TempDir(), Eval: 10000, Batches: 40, Steps: 1000, Seed: 7}
	if testing.Short() {
		cfg.Eval, cfg.Steps = 5000, 400
	}
	r, err := run(cfg)
	require.NoError(t, err)

	// The floor is positive (k SE) for 12 points and exactly 0 for one
	// point, where the posterior weight is exp(0) = 1 and u_t(x) = u_t(x|x₁).
	k := kTwoSided(len(r.Models) + 1)
	assert.Greater(t, r.Floor, k*r.FloorSE)
	assert.Equal(t, 0.0, r.OnePointFloor, "one data point: got floor %v want 0", r.OnePointFloor)

	// Theorem 2, values: the per-sample gap has mean 0 within k SE for every
	// θ, and the batch L_CFM − L_FM equals gap + floor to rounding.
	for i, m := range r.Models {
		assert.InDelta(t, 0, m.Gap, k*m.SE, "θ%d: gap %v (tol %v)", i, m.Gap, k*m.SE)
		assert.InDelta(t, m.Gap+r.Floor, m.Constant, 1e-9*(1+m.CFM), "θ%d: L_CFM − L_FM vs gap + floor", i)
	}

	// Theorem 2, gradients: every coordinate of mean ∇(L_CFM − L_FM) is 0
	// within k Student-t SEs (Bonferroni over the parameters); with the
	// common slip of weights without qᵢ the same check fails (negative control).
	kt := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(cfg.Batches - 1)}.Quantile(1 - 1e-3/(2*float64(r.Params)))
	assert.LessOrEqual(t, r.GradWorst, kt, "gradients: worst |mean|/SE %v (k %v)", r.GradWorst, kt)
	assert.Greater(t, r.GradWrong, kt, "weights without qᵢ passed the gradient check: %v", r.GradWrong)
	// The averaged gradients differ by batch noise only: ‖d̄‖² has mean
	// Σⱼ SEⱼ² and, for a Gaussian d̄, standard deviation at most √2 times
	// that mean, so ‖d̄‖²/Σ SE² ≤ 1 + k√2.
	ratio := r.GradRelDiff * r.GradRelDiff / (r.GradRelNoise * r.GradRelNoise)
	assert.LessOrEqual(t, ratio, 1+kTwoSided(1)*math.Sqrt2, "gradient difference is %v× the noise", ratio)
	assert.Greater(t, r.GradCosine, 0.0)
	// A CFM gradient is the FM gradient plus a term uncorrelated with it
	// (E[u_c − u_m | x_t] = 0), so its variance is larger. Each summed
	// variance has relative SE ≈ √(2/(B − 1)) under normality.
	se := math.Sqrt(2 * 2 / float64(cfg.Batches-1))
	assert.Greater(t, r.NoiseRatio, 1+k*se*0.5, "variance ratio %v", r.NoiseRatio)

	// Training: L_CFM − floor ≥ 0 within k SE at every checkpoint and equals
	// L_FM within the SE of their per-sample difference (≤ the sum of SEs);
	// L_FM falls between checkpoints by more than k SEs.
	k = kTwoSided(3 * len(r.Checkpoints))
	for i, c := range r.Checkpoints {
		assert.Greater(t, c.CFMMinusFloor, -k*c.CFMSE, "step %d: L_CFM below the floor", c.Step)
		assert.InDelta(t, c.FM, c.CFMMinusFloor, k*(c.CFMSE+c.FMSE), "step %d: L_CFM − floor %v vs L_FM %v", c.Step, c.CFMMinusFloor, c.FM)
		if i > 0 {
			p := r.Checkpoints[i-1]
			assert.Greater(t, p.FM-c.FM, k*math.Hypot(p.FMSE, c.FMSE), "L_FM must fall from step %d to %d", p.Step, c.Step)
		}
	}
	assert.Greater(t, r.TailCFM-r.Floor, -k*math.Hypot(r.TailSE, r.FloorSE), "training loss below the floor")

	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
}
