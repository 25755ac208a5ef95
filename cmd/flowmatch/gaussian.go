package main

import (
	"math"
	"math/rand/v2"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// sampleGaussian draws n samples from a model trained on the affine path p
// by the SDE dX = [v + (g²/2)∇log p_t] dt + g dW with constant g (fm.SampleSDE,
// Euler–Maruyama with steps steps, the score from the velocity) when g > 0,
// or by the ODE with opts; along the schedule named schedule (fm.ScheduleChange,
// the guide's scale–time transformation) when it is not empty. It returns
// the samples and the field evaluations a point.
func sampleGaussian(m *nn.VelocityMLP, p fm.Path, n int, g float64, schedule string, opts cnf.SolveOptions, rng *rand.Rand) (*ag.Tensor, int, error) {
	ap, ok := p.(fm.AffinePath)
	if !ok {
		return nil, 0, usagef("-sde and -schedule need an affine Gaussian path; the checkpoint's is a %T", p)
	}
	if !(g >= 0) || math.IsInf(g, 0) {
		return nil, 0, usagef("-sde %g: want a finite g ≥ 0", g)
	}
	v := fm.Velocity(m.Forward)
	path := ap
	if schedule != "" {
		b, err := pathSpec{Name: schedule}.build()
		if err != nil {
			return nil, 0, usagef("-schedule %q: want cosine, linear-vp, polyN, condot or vp", schedule)
		}
		to := b.(fm.AffinePath)
		for _, r := range []float64{0, 1} {
			ra, _ := fm.SNR(ap, r)
			rb, _ := fm.SNR(to, r)
			if (r == 0 && rb < ra) || (r == 1 && rb > ra) {
				return nil, 0, usagef("-schedule %s: its signal-to-noise ratio α/σ at t = %g is %g, outside the model's path's range (%g at t = %g); train with -sigma-min 0 to reach σ = 0", schedule, r, rb, ra, r)
			}
		}
		v = fm.ScheduleChange{From: ap, To: to}.Velocity(v)
		path = to
	}
	x0 := fm.SampleSource(path, n, m.Dim(), rng)
	if g > 0 {
		if opts.Steps < 1 {
			return nil, 0, usagef("-sde needs a fixed step count (-ode-steps); Euler–Maruyama takes one evaluation a step")
		}
		x, err := fm.SampleSDE(v, path, func(float64) float64 { return g }, x0, opts.Steps, rng)
		return x, opts.Steps, err
	}
	x, st, err := cnf.Sample(cnf.FieldOf(v), x0.NoGraph(), opts)
	return x, st.NFE, err
}
