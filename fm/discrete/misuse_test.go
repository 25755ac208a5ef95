package discrete

import (
	"errors"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/require"
)

// TestMisuse_PanicsWithMisuseError checks that programmer misuse panics
// with a *autograd.MisuseError naming the function; the negative control
// is a valid call of each, which does not panic.
func TestMisuse_PanicsWithMisuseError(t *testing.T) {
	p := Path{Sched: Linear{}, Source: Uniform, V: 3, D: 2}
	rng := newRNG(12)
	logits := autograd.Zeros(2, 6)
	x := [][]int{{0, 1}, {2, 2}}
	for name, f := range map[string]func(){
		"discrete.Path.Sample":          func() { p.Sample([]float64{0.5}, x, rng) },
		"discrete.Path.SampleSource":    func() { p.SampleSource(2, nil) },
		"discrete.NewPosteriorMLP":      func() { NewPosteriorMLP(Path{V: 3, D: 2}, 4, nil, autograd.ActSiLU, rng) },
		"discrete.CELoss":               func() { CELoss(autograd.Zeros(2, 5), p, x, nil) },
		"discrete":                      func() { CELoss(logits, p, [][]int{{0, 3}, {0, 0}}, nil) },
		"discrete.Gillespie":            func() { Gillespie(Exact{Path: p}, p, []int{0, 0}, 1, rng) },
		"discrete.Euler":                func() { Euler(Exact{Path: p}, p, x, 0, rng) },
		"discrete.EulerDistribution":    func() { EulerDistribution(Exact{Path: p}, Path{Sched: Linear{}, V: 300, D: 2}, 4) },
		"discrete.ELBO":                 func() { ELBO(Exact{Path: p}, p, x, 1, 4) },
		"discrete.Train":                func() { Train(&PosteriorMLP{Path: p}, TrainConfig{}) },
		"discrete.PosteriorMLP.Forward": func() { NewPosteriorMLP(p, 2, nil, autograd.ActSiLU, rng).Forward(autograd.Zeros(3, 1), x) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				err, ok := r.(error)
				require.True(t, ok, "want a panic with an error, got %v", r)
				var me *autograd.MisuseError
				require.True(t, errors.As(err, &me), "want a *autograd.MisuseError, got %T", r)
				require.Equal(t, name, me.Op)
			}()
			f()
		})
	}
	// Negative control: the same calls, valid, do not panic.
	require.NotPanics(t, func() {
		p.Sample([]float64{0.5, 0.5}, x, rng)
		CELoss(logits, p, x, nil)
		Euler(Exact{Path: p, Q: Dist{X: x, W: []float64{0.5, 0.5}}}, p, x, 2, rng)
	})
}
