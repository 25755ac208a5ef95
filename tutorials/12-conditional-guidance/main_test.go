package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// identityTol bounds the two identities checked with central-difference
// scores: truncation h²/6·|∂³log p_t| with h = 1e-5 and |∂³log p_t| ≲ 20
// on these mixtures (variances ≥ 0.23) is 3e-10, rounding ε·|log p_t|/h is
// about 1e-10, both multiplied by b_t ≤ 9 (t ≥ 0.1): below 1e-8. The wrong
// formulas of the negative controls are off by more than 1e-2.
const identityTol = 1e-7

// TestTutorial12 checks what the tutorial prints.
func TestTutorial12(t *testing.T) {
	cfg := Config{Out: t.TempDir(), N: 300, Steps: 40, Twins: 10, Seed: 1}
	r, err := run(cfg)
	require.NoError(t, err)

	assert.Less(t, r.ScoreErr, identityTol, "u_t(x|c) = a_t·x + b_t·∇log p_t(x|c)")
	assert.Less(t, r.GuidedErr, identityTol, "guided field = field of the guided score")

	// Every class holds a quarter of q by symmetry (rotations by π/2), so
	// at w = 0 the fraction of samples in class 0 is binomial(n, ¼): within
	// 4 standard errors of ¼.
	require.Len(t, r.Sweep, 4)
	n := float64(cfg.N)
	se := math.Sqrt(0.25 * 0.75 / n)
	assert.InDelta(t, 0.25, r.Sweep[0].InClass, 4*se, "w = 0: in-class fraction")
	// At w = 1 the flow ends at q(x|0): its in-class fraction is the Bayes
	// classifier's accuracy on exact draws (difference of two binomials).
	p := r.BayesAcc
	assert.InDelta(t, p, r.Sweep[1].InClass, 4*math.Sqrt(2*p*(1-p)/n), "w = 1: in-class fraction vs the Bayes accuracy")
	// W₂² at its floor: the samples are as far from a fresh draw as another
	// exact draw is (mean + 4 standard deviations over the twins), at
	// w = 1 from q(x|0) and at w = 0 from q(x).
	fc, fd := r.FloorCondMSE, r.FloorDataMSE
	assert.Less(t, r.Sweep[1].W2ToCond, fc[0]+4*fc[1], "w = 1: W₂² to q(x|0) vs its floor %.4f ± %.4f", fc[0], fc[1])
	assert.Less(t, r.Sweep[0].W2ToData, fd[0]+4*fd[1], "w = 0: W₂² to q(x) vs its floor %.4f ± %.4f", fd[0], fd[1])
	// The controls of the floor: w = 1 is far from q(x), w = 0 far from q(x|0).
	assert.Greater(t, r.Sweep[1].W2ToData, fd[0]+20*fd[1])
	assert.Greater(t, r.Sweep[0].W2ToCond, fc[0]+20*fc[1])
	// w > 1 pushes further into the class; it no longer samples q(x|0).
	assert.Greater(t, r.Sweep[2].InClass, r.Sweep[1].InClass)
	assert.GreaterOrEqual(t, r.Sweep[3].InClass, r.Sweep[2].InClass)
	assert.Greater(t, r.Sweep[3].W2ToCond, fc[0]+20*fc[1])
	// Negative control: guiding towards the neighbouring class leaves
	// almost nothing in class 0.
	assert.Less(t, r.Wrong.InClass, 0.1)
	_, err = os.Stat(filepath.Join(cfg.Out, "figure.png"))
	require.NoError(t, err)
	entries, err := os.ReadDir(cfg.Out)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "only figure.png is left in -out")
}

// TestIdentities_NegativeControls feeds the identity checks wrong formulas:
// b_t without its −σ_tσ′_t term, and the guided field written with Ho &
// Salimans' weight taken for ours (w + 1 instead of w). Both must miss by
// far more than identityTol.
func TestIdentities_NegativeControls(t *testing.T) {
	lm := Mixture()
	pooled, m := lm.Marginal(), lm.Class(0)
	v := lm.CondVelocity()
	x := []float64{1.1, 0.4}
	tt := 0.5
	a, b := fm.VelocityScore(lm.Path, tt)
	bWrong := b + lm.Path.SigmaDSigma(tt)
	s := score(func(y []float64) float64 { return m.LogProb(tt, y) }, x, scoreStep)
	sData := score(func(y []float64) float64 { return pooled.LogProb(tt, y) }, x, scoreStep)
	u := m.Field(tt, x)
	good, bad := 0.0, 0.0
	for j := range u {
		good = math.Max(good, math.Abs(u[j]-(a*x[j]+b*s[j])))
		bad = math.Max(bad, math.Abs(u[j]-(a*x[j]+bWrong*s[j])))
	}
	assert.Less(t, good, identityTol)
	assert.Greater(t, bad, 1e-2, "b_t without −σσ′ must fail the identity")

	const w = 2
	g := fm.Guided(v, OneHot(0, 4), OneHot(nn.NullLabel, 4), w+1)(autograd.Scalar(tt), autograd.FromSlice(1, 2, x))
	bad = 0
	for j := range s {
		bad = math.Max(bad, math.Abs(g.Data[j]-(a*x[j]+b*(w*s[j]+(1-w)*sData[j]))))
	}
	assert.Greater(t, bad, 1e-2, "Ho & Salimans' weight taken for ours must fail")
}
