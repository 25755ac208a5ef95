package fm

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// StepLossGradCond is StepLossGrad for a conditional model with the
// contexts c [n, ctx] of the batch.
func StepLossGradCond(model *nn.VelocityMLP, fusedStep bool, p Path, t, x0, x1, c *autograd.Tensor) float64 {
	var s *nn.TrainStep
	if fusedStep {
		var err error
		if s, err = nn.NewTrainStep(model, x0.Rows); err != nil {
			panic(err)
		}
	}
	return stepLossGrad(model, s, p, t, x0, x1, c)
}
