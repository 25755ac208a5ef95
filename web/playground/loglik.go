package playground

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
)

// LogLik is the trained model's log-density log p₁(x) at Res×Res cell
// centres of [Lo, Hi]², row by row from (Lo, Lo), x fastest.
type LogLik struct {
	Steps int       `json:"steps"` // training steps of the model
	Lo    float64   `json:"lo"`
	Hi    float64   `json:"hi"`
	Res   int       `json:"res"`
	LogP  []float64 `json:"logp"`
}

// LogLikelihood returns the model's log p₁(x) on a res×res grid of
// [lo, hi]² by the instantaneous change of variables (Chen et al. 2018,
// arXiv:1806.07366, Theorem 1):
//
//	log p₁(x) = log p₀(x(0)) − ∫₀¹ div v_θ(t, x(t)) dt,
//
// solved from t = 1 back to 0 by RK4 with the given steps and the exact
// divergence, with p₀ = N(0, s² I), s the path's SourceStd
// (cnf.LogLikelihood). TestLogLikelihood_IntegratesToOne.
func (s *Session) LogLikelihood(res, steps int, lo, hi float64) (*LogLik, error) {
	return s.logLikelihood(res, steps, lo, hi, nil)
}

func (s *Session) logLikelihood(res, steps int, lo, hi float64, div cnf.DivergenceFunc) (*LogLik, error) {
	if res < 2 || res > 200 || steps < 1 || steps > 1000 || !(hi > lo) {
		return nil, fmt.Errorf("log-likelihood grid %d, steps %d, view [%g, %g]: want 2 to 200 cells, 1 to 1000 steps, lo < hi", res, steps, lo, hi)
	}
	x := gridPoints(res, lo, hi, true)
	lk, _, err := cnf.LogLikelihood(cnf.FieldOf(s.model.Frozen()), x.NoGraph(), 1, 0,
		cnf.NormalLogProb(s.path.SourceStd()), div, cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
	if err != nil {
		return nil, fmt.Errorf("log-likelihood: %w", err)
	}
	return &LogLik{Steps: s.steps, Lo: lo, Hi: hi, Res: res, LogP: lk.LogP1.Data}, nil
}

// noDivergence is the negative control of TestLogLikelihood_IntegratesToOne:
// the field with its divergence left out.
func noDivergence(f cnf.Field, t float64, x *autograd.Tensor) (v, div *autograd.Tensor) {
	return f(t, x), autograd.Zeros(x.Rows, 1)
}
