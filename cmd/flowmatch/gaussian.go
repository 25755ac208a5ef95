package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Parametrizations (train -param). A model trained with -param data, noise
// or score predicts x̂₁ = E[x₁|x_t], x̂₀ = E[x₀|x_t] or ∇log p_t on its
// affine path (fm.TrainParam on fm.ParamLoss, with the weights
// fm.LossWeight that make it the CFM loss, or with weight 1 under
// -param-weight unit); its checkpoint records the
// parametrization under fm.MetaParam. sample, loglik and plot then read its
// path as a paramPath and turn the model's output y into the velocity
// v = c_x(t)·x + c_y(t)·y at every evaluation (fm.ConvertCoeffs, exact for
// each scheduler), with div v = d·c_x + c_y·div y for the likelihood.
// Where the conversion does not exist at an end of [0, 1] (noise and score
// where α_t = 0, data where σ_t = 0) or amplifies the model's output by more
// than 1/paramEps, training, sampling and the likelihood all use the
// clamped interval [lo, hi] of fm.ParamTimes with eps = paramEps, as
// samplers of data-prediction models stop at 1 − ε: samples are x(hi), and
// loglik integrates from hi down to lo with log p_lo = log N(0, s²I).
// TestTrain_Param checks that a -param data checkpoint samples to the
// same distribution as a velocity one.
const paramEps = 1e-3

// paramPath is the affine path of a checkpoint whose model predicts Param
// instead of the velocity.
type paramPath struct {
	fm.AffinePath
	Param fm.Param
}

// withParam reads the parametrization recorded in a checkpoint's metadata
// (fm.ParamFromMetadata: missing means velocity) and returns p, or p as a
// paramPath when the model predicts something else. A value that does not
// parse, or a parametrization on a path that is not affine, is an error
// naming the file, the key and the value.
func withParam(file string, p fm.Path, meta map[string]string) (fm.Path, error) {
	q, err := fm.ParamFromMetadata(meta)
	if err != nil {
		return nil, &safetensors.Error{Path: file, Err: err}
	}
	if q == fm.ParamVelocity {
		return p, nil
	}
	ap, ok := p.(fm.AffinePath)
	if !ok {
		return nil, &safetensors.Error{Path: file, Err: &safetensors.MetadataError{Key: fm.MetaParam, Value: meta[fm.MetaParam], Reason: fmt.Sprintf("a %v prediction needs an affine Gaussian path; the checkpoint's is a %T", q, p)}}
	}
	return paramPath{ap, q}, nil
}

// timeSpan returns the interval [lo, hi] on which the model of a
// checkpoint with path p is integrated: [0, 1], or fm.ParamTimes for a
// paramPath.
func timeSpan(p fm.Path) (lo, hi float64) {
	if pp, ok := p.(paramPath); ok {
		return fm.ParamTimes(pp.AffinePath, pp.Param, paramEps)
	}
	return 0, 1
}

// fieldPair returns fastPair(m), turned into the velocity's field and
// divergence when p is a paramPath (v = c_x·x + c_y·y,
// div v = d·c_x + c_y·div y, fm.ConvertCoeffs).
func fieldPair(m *nn.VelocityMLP, p fm.Path) (cnf.Field, cnf.DivergenceFunc) {
	f, div := fastPair(m)
	pp, ok := p.(paramPath)
	if !ok {
		return f, div
	}
	coeffs := func(t float64) (float64, float64) {
		return fm.ConvertCoeffs(pp.AffinePath, t, pp.Param, fm.ParamVelocity)
	}
	vf := func(t float64, x *ag.Tensor) *ag.Tensor {
		cx, cy := coeffs(t)
		return ag.Add(ag.Scale(x, cx), ag.Scale(f(t, x), cy))
	}
	vdiv := func(_ cnf.Field, t float64, x *ag.Tensor) (*ag.Tensor, *ag.Tensor) {
		cx, cy := coeffs(t)
		y, dy := div(f, t, x)
		return ag.Add(ag.Scale(x, cx), ag.Scale(y, cy)), ag.AddScalar(ag.Scale(dy, cy), float64(x.Cols)*cx)
	}
	return vf, vdiv
}

// velocityOf returns the velocity field of the model m of a checkpoint with
// path p (fm.AsVelocity for a paramPath).
func velocityOf(m *nn.VelocityMLP, p fm.Path) fm.Velocity {
	if pp, ok := p.(paramPath); ok {
		return fm.AsVelocity(m.Forward, pp.AffinePath, pp.Param)
	}
	return m.Forward
}

// trainParamModel trains a velocity MLP that predicts spec.Param on the
// spec's affine path by fm.TrainParam, on the times of fm.ParamTimes,
// through autograd (the fused step computes the velocity loss only),
// showing progress on w. The loss is fm.ParamLoss with the weight
// fm.LossWeight (-param-weight cfm: the CFM loss written in that
// parametrization) or 1 (unit: the parametrization's plain squared error,
// DDPM's ε-loss for noise). The spec must have passed check.
func trainParamModel(spec trainSpec, threads int, w io.Writer) (*nn.VelocityMLP, []float64, error) {
	path, _ := spec.Path.build()
	ap := path.(fm.AffinePath) // checked by trainSpec.check
	lo, hi := fm.ParamTimes(ap, spec.Param, paramEps)
	var weight func(float64) float64
	if spec.Weight == "unit" {
		weight = func(float64) float64 { return 1 }
	}
	return fitMLP(spec, threads, w, func(model *nn.VelocityMLP, run mlpRun) ([]float64, error) {
		return fm.TrainParam(model, fm.ParamTrainConfig{
			Path: ap, Param: spec.Param, Weight: weight, Data: spec.Data.Sampler(), BatchSize: spec.Batch, Steps: spec.Steps,
			LR: spec.LR, Seed: spec.Seed, TMin: lo, TMax: hi, LRSchedule: run.Schedule, EMA: run.EMA, Callback: run.Callback,
		})
	})
}

// checkParam validates -param and -param-weight against the other
// training flags: a parametrization other than the velocity needs an affine
// path and the independent coupling (fm.TrainParam draws its own pairs).
func checkParam(s trainSpec) error {
	if s.Weight != "" && s.Weight != "cfm" && s.Weight != "unit" {
		return usagef("-param-weight %q: want cfm or unit", s.Weight)
	}
	if s.Param == fm.ParamVelocity {
		return nil
	}
	p, err := s.Path.build()
	if err != nil {
		return err
	}
	if _, ok := p.(fm.AffinePath); !ok {
		return usagef("-param %v needs an affine Gaussian path (condot, ve, vp, cosine, linear-vp, polyN)", s.Param)
	}
	if s.Coupling != "independent" {
		return usagef("-param %v trains with independent pairs; -coupling %s works with -param velocity only", s.Param, s.Coupling)
	}
	return nil
}

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
	v := velocityOf(m, p)
	if pp, ok := p.(paramPath); ok {
		if lo, hi := timeSpan(p); lo > 0 || hi < 1 {
			return nil, 0, usagef("-sde and -schedule run on all of [0, 1], but this %v-prediction model turns into a velocity on [%g, %g] only (fm.ParamTimes); sample it without them", pp.Param, lo, hi)
		}
		ap = pp.AffinePath
	}
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
