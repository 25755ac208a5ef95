package data

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
)

// TestMisuse_PanicsWithMisuseError: every set's Sample refuses a negative n
// and a nil rng with a *autograd.MisuseError naming the set, and so do the
// Monte-Carlo entropies and the literal constructors; user input (a dataset
// name, a file, mixture parameters given to NewGaussianMixture) returns
// errors instead.
func TestMisuse_PanicsWithMisuseError(t *testing.T) {
	rng := newRNG(1)
	check := func(t *testing.T, prefix string, call func()) {
		t.Helper()
		defer func() {
			me, ok := recover().(*autograd.MisuseError)
			require.True(t, ok, "no *autograd.MisuseError")
			require.True(t, strings.HasPrefix(me.Op, prefix), "op %q, want prefix %q", me.Op, prefix)
		}()
		call()
	}
	for _, name := range Names() {
		toy, err := Lookup(name)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) {
			check(t, "data.", func() { toy.Sample(-1, rng) })
			check(t, "data.", func() { toy.Sample(3, nil) })
			check(t, "data.", func() { _, _ = Sample(name, 3, nil) })
			if e, ok := toy.(Entropic); ok && name != "checkerboard" && name != "gaussian" {
				check(t, "data.", func() { e.Entropy(1, rng) })
				check(t, "data.", func() { e.Entropy(100, nil) })
			}
		})
	}
	t.Run("constructors", func(t *testing.T) {
		check(t, "data.StandardGaussian", func() { StandardGaussian(0) })
		check(t, "data.IsotropicMixture", func() { IsotropicMixture("bad", []float64{1}, [][]float64{{0}}, []float64{-1}) })
		check(t, "data.IsotropicMixture", func() { IsotropicMixture("bad", []float64{1, 1}, [][]float64{{0}, {0, 1}}, []float64{1, 1}) })
	})
	_, err := Sample("nosuchset", 3, rng)
	require.ErrorContains(t, err, "unknown dataset")
	_, err = NewGaussianMixture("bad", []float64{-1}, [][]float64{{0}}, nil)
	require.Error(t, err)
}
