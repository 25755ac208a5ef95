package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
)

func labelledPair() *fm.LabelledMixture {
	return &fm.LabelledMixture{
		Path: fm.CondOT{},
		Classes: []fm.Mixture{
			{Means: [][]float64{{-2, 0}, {-1, 1}}, Stds: []float64{0.5, 0.3}, Weights: []float64{3, 1}},
			{Means: [][]float64{{2, 0.5}}, Stds: []float64{0.4}},
		},
		ClassWeights: []float64{1, 3},
	}
}

// TestLabelledMixture_Misuse: a LabelledMixture without a path, without
// classes, with an empty class, ragged means, bad class weights, a class
// index out of range, a nil rng, and a CondVelocity context that is not
// one-hot or has the wrong width, panic with a *autograd.MisuseError.
func TestLabelledMixture_Misuse(t *testing.T) {
	isMisuse := func(name string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			err, ok := r.(error)
			require.True(t, ok, "%s: want a *autograd.MisuseError panic, got %v", name, r)
			var me *autograd.MisuseError
			assert.ErrorAs(t, err, &me, "%s", name)
		}()
		f()
	}
	rng := fm.NewRand(1)
	isMisuse("nil path", func() { (&fm.LabelledMixture{Classes: labelledPair().Classes}).Marginal() })
	isMisuse("no classes", func() { (&fm.LabelledMixture{Path: fm.CondOT{}}).Sample(2, rng) })
	isMisuse("empty class", func() {
		(&fm.LabelledMixture{Path: fm.CondOT{}, Classes: []fm.Mixture{{}}}).Class(0)
	})
	isMisuse("ragged means", func() {
		(&fm.LabelledMixture{Path: fm.CondOT{}, Classes: []fm.Mixture{{Means: [][]float64{{0}}, Stds: []float64{1}}, {Means: [][]float64{{0, 1}}, Stds: []float64{1}}}}).Dim()
	})
	bad := labelledPair()
	bad.ClassWeights = []float64{1, -1}
	isMisuse("negative class weight", func() { bad.LogClassWeights() })
	isMisuse("class out of range", func() { labelledPair().Class(2) })
	isMisuse("nil rng", func() { labelledPair().Sample(2, nil) })
	v := labelledPair().CondVelocity()
	x, tt := autograd.Zeros(2, 2), autograd.Full(1, 1, 0.5)
	isMisuse("not one-hot", func() { v(tt, x, autograd.FromSlice(1, 3, []float64{0.5, 0.5, 0})) })
	isMisuse("all-zero context", func() { v(tt, x, autograd.Zeros(1, 3)) })
	isMisuse("context width", func() { v(tt, x, nn.LabelContext([]int{0}, 3)) })
	isMisuse("x width", func() { v(tt, autograd.Zeros(2, 3), nn.LabelContext([]int{0}, 2)) })
	assert.NotPanics(t, func() { v(tt, x, nn.LabelContext([]int{0, nn.NullLabel}, 2)) })
}

// TestLabelledMixture_Sample: over 20,000 draws the label frequencies are π
// (Pearson's χ² p-value above α = 10⁻³) and each class's sample mean is
// Σₖ π_{k|c} m_{ck} within k = Φ⁻¹(1 − α/2m) standard errors (m = 4
// coordinates). Negative control: the class means swapped fail.
func TestLabelledMixture_Sample(t *testing.T) {
	m := labelledPair()
	x, labels := m.Sample(20000, fm.NewRand(2))
	counts := []float64{0, 0}
	for _, c := range labels {
		counts[c]++
	}
	chi := 0.0
	for c, p := range []float64{0.25, 0.75} {
		e := 20000 * p
		chi += (counts[c] - e) * (counts[c] - e) / e
	}
	pv := distuv.ChiSquared{K: 1}.Survival(chi)
	assert.Greater(t, pv, 1e-3, "label counts %v: χ² %.3f", counts, chi)
	want := [][]float64{{-1.75, 0.25}, {2, 0.5}}
	k := distuv.UnitNormal.Quantile(1 - 1e-3/8)
	for c := range 2 {
		for j := range 2 {
			var col []float64
			for i, l := range labels {
				if l == c {
					col = append(col, x.Row(i)[j])
				}
			}
			mean, se := stats.MeanStdErr(col)
			assert.InDelta(t, want[c][j], mean, k*se, "class %d coordinate %d", c, j)
			if math.Abs(want[1-c][j]-want[c][j]) > 0.1 {
				assert.Greater(t, math.Abs(want[1-c][j]-mean), k*se, "negative control: class %d coordinate %d", c, j)
			}
		}
	}
}
