package fm

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
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

// CFMLoss returns the Conditional Flow Matching loss on one batch (seed §7,
// where the formula was lost in extraction; Lipman et al. 2022, eq. 9):
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

// FMLoss returns the Flow Matching loss on one batch (seed §6; Lipman et al.
// eq. 5), with the exact marginal field as the target:
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
// variance of the target (Lipman et al., proof of Theorem 2):
//
//	L_CFM(θ) − L_FM(θ) = E ‖u_t(x|x₁) − u_t(x)‖² =: floor,
//
// so min_θ L_CFM = floor (attained by v_θ = u_t) and a CFM loss never
// reaches 0 unless every x_t comes from one x₁. m must be the marginal of
// p and data. It draws n triples t ~ U[0,1), x₁ ~ data, x₀ ~ N(0, I) and
// returns the sample mean and its standard error sd/√n.
// Tested by TestTheorem2_LossesDifferByConstant and TestTrain_ApproachesFloor.
func CFMFloor(p Path, m Marginal, data Sampler, n int, rng *rand.Rand) (mean, stderr float64) {
	x1 := data(n, rng)
	x0 := autograd.Normal(x1.Rows, x1.Cols, 0, 1, rng)
	t := autograd.Uniform(n, 1, 0, 1, rng)
	xt := FlowBatch(p, t, x0, x1)
	uc := CondFieldBatch(p, t, xt, x1)
	um := MarginalFieldBatch(m, t, xt)
	var s, s2 float64
	for i := 0; i < n; i++ {
		e := 0.0
		for j := 0; j < x1.Cols; j++ {
			d := uc.At(i, j) - um.At(i, j)
			e += d * d
		}
		s += e
		s2 += e * e
	}
	mean = s / float64(n)
	variance := (s2/float64(n) - mean*mean) * float64(n) / float64(n-1)
	return mean, math.Sqrt(max(variance, 0) / float64(n))
}
