package cnf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// TestMisuse_PanicsWithMisuseError: programming errors (nil arguments,
// non-positive sizes, unknown kinds) panic with a *autograd.MisuseError
// naming the function, at the call rather than deep inside a solve; bad
// solver options and numerical failure return errors (TestIntegrate_*).
func TestMisuse_PanicsWithMisuseError(t *testing.T) {
	x := autograd.Zeros(3, 2).NoGraph()
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return x }
	opts := SolveOptions{Method: Euler, Steps: 2}
	rng := newRNG(1)
	m := nn.NewVelocityMLP(2, []int{8}, autograd.ActSiLU, newRNG(2))
	cases := map[string]func(){
		"cnf.Integrate/nil field":            func() { _, _, _ = Integrate(nil, x, 0, 1, opts) },
		"cnf.Integrate/nil state":            func() { _, _, _ = Integrate(f, nil, 0, 1, opts) },
		"cnf.LogLikelihood/nil logp0":        func() { _, _, _ = LogLikelihood(f, x, 1, 0, nil, nil, opts) },
		"cnf.SampleWithLogLikelihood/nil x0": func() { _, _, _ = SampleWithLogLikelihood(f, nil, 0, 1, StandardNormalLogProb, nil, opts) },
		"cnf.NormalLogProb/s=0":              func() { NormalLogProb(0) },
		"cnf.Probes/k=0":                     func() { Probes(Rademacher, 0, 3, 2, rng) },
		"cnf.Probes/nil rng":                 func() { Probes(Gaussian, 1, 3, 2, nil) },
		"cnf.Probes/kind":                    func() { Probes(ProbeKind(7), 1, 3, 2, rng) },
		"cnf.Hutchinson/nil rng":             func() { Hutchinson(Rademacher, 1, nil, false) },
		"cnf.Hutchinson/k=0":                 func() { Hutchinson(Rademacher, 0, rng, false) },
		"cnf.HutchinsonDivergence/no probes": func() { HutchinsonDivergence(f, 0, x, nil) },
		"cnf.FastField/maxBatch=0":           func() { FastField(m, 0) },
		"cnf.NewElementwiseAffine/d=0":       func() { NewElementwiseAffine(0) },
		"cnf.FastDivergence/nil model":       func() { FastDivergence(nil, 16) },
		"cnf.Field/shape": func() {
			ExactDivergence(func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Slice(x, 0, 1) }, 0, x)
		},
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				me, ok := recover().(*autograd.MisuseError)
				require.True(t, ok, "no *autograd.MisuseError")
				require.Equal(t, name[:strings.Index(name, "/")], me.Op)
			}()
			call()
		})
	}
}
