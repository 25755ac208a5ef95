package fm

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Velocity is a model field v_θ(t, x): t [n, 1] and x [n, d] to [n, d].
// The method value of nn.VelocityMLP's Forward is a Velocity. Time comes
// first, as in cnf.Field and every field of flowmatch.
type Velocity func(t, x *autograd.Tensor) *autograd.Tensor

// SquaredError returns the batch mean of the squared norm summed over
// dimensions, (1/n) Σᵢ ‖vᵢ − uᵢ‖², as a [1, 1] tensor: the Monte Carlo
// estimate of E‖v − u‖² used by every loss here.
func SquaredError(v, u *autograd.Tensor) *autograd.Tensor {
	mustSameShape("SquaredError", v, u)
	return autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(v, u))))
}

// CFMLoss returns the Conditional Flow Matching loss on one batch (Lipman
// et al. 2022, arXiv:2210.02747, §3.2, eq. 9):
//
//	L_CFM(θ) = E_{t, x₁~q, x₀~N(0,I)} ‖v_θ(ψ_t(x₀), t) − u_t(ψ_t(x₀)|x₁)‖²,
//
// estimated as SquaredError over rows: t [n, 1], noise x0 [n, d] and data
// x1 [n, d] (paired by a Coupling, or independent). The target is a
// constant; the loss is differentiable in θ only. Tested by
// TestTheorem2_LossesDifferByConstant and TestTheorem2_GradientsEqual.
func CFMLoss(v Velocity, p Path, t, x0, x1 *autograd.Tensor) *autograd.Tensor {
	xt := FlowBatch(p, t, x0, x1)
	u := CondFieldBatch(p, t, xt, x1)
	return SquaredError(v(t, xt), u)
}

// FMLoss returns the Flow Matching loss on one batch (Lipman et al. 2022,
// §3, eq. 5), with the exact marginal field as the target:
//
//	L_FM(θ) = E_{t, x~p_t} ‖v_θ(t, x) − u_t(x)‖²,
//
// estimated over the rows of x [n, d] (samples of p_t, e.g. FlowBatch of
// the CFM batch, which gives common random numbers) and t [n, 1].
// Tested by TestTheorem2_LossesDifferByConstant.
func FMLoss(v Velocity, m Marginal, t, x *autograd.Tensor) *autograd.Tensor {
	return SquaredError(v(t, x), MarginalFieldBatch(m, t, x))
}

// CFMFloor estimates the irreducible part of the CFM loss, the conditional
// variance of the target (Lipman et al. 2022, proof of Theorem 2):
//
//	L_CFM(θ) − L_FM(θ) = E ‖u_t(x|x₁) − u_t(x)‖² =: floor,
//
// so min_θ L_CFM = floor (attained by v_θ = u_t) and a CFM loss never
// reaches 0 unless every x_t comes from one x₁. m must be the marginal of
// p and data. It draws n triples t ~ U[0,1), x₁ ~ data, x₀ ~ N(0, I) and
// returns the sample mean and its standard error sd/√n (stats.MeanStdErr,
// two-pass).
// Tested by TestTheorem2_LossesDifferByConstant and TestTrain_ApproachesFloor.
func CFMFloor(p Path, m Marginal, data Sampler, n int, rng *rand.Rand) (mean, stderr float64) {
	if p == nil || m == nil || data == nil || n < 2 || rng == nil {
		panic(autograd.Misuse("fm.CFMFloor", "want a Path, a Marginal, a Sampler, n ≥ 2 and an rng; got p = %v, m = %v, data nil: %v, n = %d, rng nil: %v",
			p, m, data == nil, n, rng == nil))
	}
	x1 := data(n, rng)
	x0 := autograd.Normal(x1.Rows, x1.Cols, 0, 1, rng)
	t := autograd.Uniform(n, 1, 0, 1, rng)
	xt := FlowBatch(p, t, x0, x1)
	uc := CondFieldBatch(p, t, xt, x1)
	um := MarginalFieldBatch(m, t, xt)
	e := make([]float64, n)
	for i := range e {
		for j := 0; j < x1.Cols; j++ {
			d := uc.At(i, j) - um.At(i, j)
			e[i] += d * d
		}
	}
	return stats.MeanStdErr(e)
}
