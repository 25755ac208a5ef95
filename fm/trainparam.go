package fm

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/steparena"
	"github.com/flowmatch/flowmatch/nn"
)

// ParamTrainConfig configures TrainParam.
type ParamTrainConfig struct {
	Path  AffinePath
	Param Param // what the model predicts
	// Weight is w(t) in ParamLoss; nil means LossWeight (the CFM loss).
	// Denoising score matching on the ε scale (Song et al. 2021,
	// arXiv:2011.13456, eq. 7 with λ(t) = σ_t²) is Param = ParamScore with
	// Weight σ_t² (DSMWeight).
	Weight    func(t float64) float64
	Data      Sampler
	BatchSize int
	Steps     int
	LR        float64 // Adam
	Seed      uint64
	// TMin, TMax bound the uniform training times (0, 0 means [0, 1)); the
	// noise and score losses need t > 0 where α₀ = 0 (ParamTimes gives an
	// interval that avoids the ends where the conversion does not exist).
	TMin, TMax float64
	// LRSchedule, EMA and Callback are those of TrainConfig: LR·LRSchedule(step,
	// Steps) at each step, an average of the weights updated after each
	// step, a call after each step with its loss.
	LRSchedule func(step, steps int) float64
	EMA        *nn.EMA
	Callback   func(step int, loss float64)
}

// DSMWeight returns λ(t) = σ_t² for the path p: with it the score loss
// σ_t²‖s_θ − (−x₀/σ_t)‖² = ‖σ_t s_θ + x₀‖² is the ε-prediction loss of
// denoising score matching (Vincent 2011; Song et al. 2021,
// arXiv:2011.13456, eq. 7). Checked by TestTrainParam_DSMvsFM.
func DSMWeight(p AffinePath) func(t float64) float64 {
	return func(t float64) float64 {
		_, _, s, _ := p.Schedule(t)
		return s * s
	}
}

// TrainParam trains model, read as a prediction of cfg.Param on cfg.Path,
// by Adam on ParamLoss with x₀ ~ N(0, I), x₁ ~ Data and t uniform on
// [TMin, TMax): flow matching (ParamVelocity, Weight nil) or denoising score
// matching (ParamScore, DSMWeight), among others. Sample the result with
// AsVelocity (ODE) or SampleSDE. A non-finite loss returns an error naming
// the step. Compared, FM against DSM, by TestTrainParam_DSMvsFM.
//
// As Train's autograd step, each step takes its memory from one
// autograd.Arena for the run, Reset after the gradient: a steady-state step
// allocates no tensor storage, and the losses and parameters are those of
// the same run on the heap, bit for bit (TestTrainParam_ArenaBitIdentical;
// BenchmarkTrainParamStep measures the allocations).
func TrainParam(model *nn.VelocityMLP, cfg ParamTrainConfig) ([]float64, error) {
	if model == nil || cfg.Path == nil || cfg.Data == nil || cfg.BatchSize < 1 || cfg.Steps < 0 || !(cfg.LR > 0) {
		panic(autograd.Misuse("fm.TrainParam", "want a model, a Path, Data, BatchSize ≥ 1, Steps ≥ 0 and LR > 0; got model nil: %v, Path %v, Data nil: %v, BatchSize %d, Steps %d, LR %v",
			model == nil, cfg.Path, cfg.Data == nil, cfg.BatchSize, cfg.Steps, cfg.LR))
	}
	lo, hi := cfg.TMin, cfg.TMax
	if lo == 0 && hi == 0 {
		hi = 1
	}
	rng := NewRand(cfg.Seed)
	opt := nn.NewAdam(model.Params(), cfg.LR)
	arena := steparena.New()                            // one for the run, Reset after every step (as Train's)
	losses := make([]float64, 0, min(cfg.Steps, 1<<16)) // grows past 2¹⁶ steps: a huge Steps reserves nothing up front
	for step := 1; step <= cfg.Steps; step++ {
		x1 := steparena.In(arena, cfg.Data(cfg.BatchSize, rng))
		x0 := arena.Normal(x1.Rows, x1.Cols, 0, 1, rng)
		t := arena.Uniform(x1.Rows, 1, lo, hi, rng)
		opt.ZeroGrad()
		l := ParamLoss(model.Forward, cfg.Path, cfg.Param, t, x0, x1, cfg.Weight)
		l.Backward()
		loss := l.Item()
		arena.Reset() // the gradient is in the parameters' Grad; the step's tensors are dead
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return losses, fmt.Errorf("fm.TrainParam: step %d: the %v loss is %v (LR %g)", step, cfg.Param, loss, cfg.LR)
		}
		if cfg.LRSchedule != nil {
			opt.LR = cfg.LR * cfg.LRSchedule(step, cfg.Steps)
		}
		opt.Step()
		if cfg.EMA != nil {
			cfg.EMA.Update()
		}
		losses = append(losses, loss)
		if cfg.Callback != nil {
			cfg.Callback(step, loss)
		}
	}
	return losses, nil
}
