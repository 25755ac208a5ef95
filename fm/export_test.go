package fm

import (
	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// StepLossGrad runs one step of Train's loss and gradient on a fixed batch,
// by the fused step (fusedStep) or by CFMLoss + Backward, for the tests of
// package fm_test.
func StepLossGrad(model *nn.VelocityMLP, fusedStep bool, p Path, t, x0, x1 *autograd.Tensor) float64 {
	var s *nn.TrainStep
	if fusedStep {
		var err error
		if s, err = nn.NewTrainStep(model, x0.Rows); err != nil {
			panic(err)
		}
	}
	return stepLossGrad(model, s, p, t, x0, x1, nil)
}
