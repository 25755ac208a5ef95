package discrete

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// The losses take the model's logits [n, D·V] for states x_t, and return
// Σₖ wₖ·ℓₖ, a weighted sum of per-row losses (w nil: the mean, wₖ = 1/n).
// The exact tests pass the probabilities of an enumeration as w, training
// passes nil.

// CELoss is the cross-entropy (x₁-prediction) loss of Gat et al. 2024
// (arXiv:2407.15595, eq. 12; Campbell et al. 2024, arXiv:2402.04997):
//
//	ℓₖ = −Σᵢ log p_θ(x₁ⁱ | x_t, t)
//
// with x₁ the row's data point. Its floor is the posterior's entropy
// Σᵢ H(p(x₁ⁱ|x_t)) (TestLoss_FloorAtExactPosterior); it differs from
// MarginalCELoss by a constant (TestTheorem2_Discrete).
func CELoss(logits *autograd.Tensor, p Path, x1 [][]int, w []float64) *autograd.Tensor {
	checkLogits("discrete.CELoss", logits, p, len(x1))
	return weighted(ceRows(logits, p, x1), w)
}

// ceRows returns CELoss's per-row values ℓₖ [n, 1].
func ceRows(logits *autograd.Tensor, p Path, x1 [][]int) *autograd.Tensor {
	var total *autograd.Tensor
	for i := 0; i < p.D; i++ {
		ce := autograd.CrossEntropy(autograd.Slice(logits, i*p.V, (i+1)*p.V), column(x1, i, p.V))
		total = addOrSet(total, ce)
	}
	return total
}

// GKLLoss is the conditional generalized KL loss of Gat et al. 2024 (eq. 13;
// Lipman et al. 2024, arXiv:2412.06264, §7.5.1): the Bregman divergence of
// the generalized KL, Σ_{y≠x} [u_θ(y) − u(y) + u(y)·log(u(y)/u_θ(y))],
// between the conditional rate u_t(·, x|x₁) and the model's rate. For the
// mixture path, with c = κ̇_t/(1 − κ_t) and δⁱ = δ(x_tⁱ, x₁ⁱ),
//
//	ℓₖ = −c·Σᵢ [p_θ(x₁ⁱ = x_tⁱ | x_t) − δⁱ + (1 − δⁱ)·log p_θ(x₁ⁱ | x_t)]
//
// (p_θ of the mask is 0). Under the mask source an unmasked position has
// rate 0 under both (Rate), so it adds 0. It is ≥ 0, and its t-integral is
// the integral term of the CTMC's ELBO (ELBO). It differs from MarginalGKLLoss by
// a constant (TestTheorem2_Discrete).
func GKLLoss(logits *autograd.Tensor, p Path, t []float64, xt, x1 [][]int, w []float64) *autograd.Tensor {
	return weighted(gklRows("discrete.GKLLoss", logits, p, t, xt, x1), w)
}

// gklRows returns GKLLoss's per-row values ℓₖ [n, 1].
func gklRows(op string, logits *autograd.Tensor, p Path, t []float64, xt, x1 [][]int) *autograd.Tensor {
	n := len(xt)
	checkLogits(op, logits, p, n)
	var total *autograd.Tensor
	for i := 0; i < p.D; i++ {
		sl := autograd.Slice(logits, i*p.V, (i+1)*p.V)
		a := logits.Arena() // the constants in the logits' arena, if they have one
		cStay, cDelta, cLog := a.Zeros(n, 1), a.Zeros(n, 1), a.Zeros(n, 1)
		tgt := make([]int, n)
		for k := range xt {
			a, b := xt[k][i], x1[k][i]
			if p.Source == Mask && a != p.V {
				continue // unmasked: rate 0 under both
			}
			c := JumpCoef(p.Sched, t[k])
			if a < p.V {
				tgt[k] = a
				cStay.Data[k] = -c
			}
			if a == b {
				cDelta.Data[k] = c
			} else {
				cLog.Data[k] = c
			}
		}
		// −c·p_θ(xⁱ) + c·δ + c·(1 − δ)·CE(x₁ⁱ)
		stay := autograd.Mul(cStay, autograd.Exp(autograd.Neg(autograd.CrossEntropy(sl, tgt))))
		logTerm := autograd.Mul(cLog, autograd.CrossEntropy(sl, column(x1, i, p.V)))
		total = addOrSet(total, autograd.Add(autograd.Add(stay, logTerm), cDelta))
	}
	return total
}

// MarginalCELoss is the marginal counterpart of CELoss, the posterior
// matching loss Σᵢ KL(p(x₁ⁱ|x_t) ‖ p_θ(x₁ⁱ|x_t)), with post[k][i·V + y] =
// p(x₁ⁱ = y | x_tₖ) the exact posterior (Exact.Posterior). It is 0 at the
// exact posterior. The model's logits must be finite where post > 0.
func MarginalCELoss(logits *autograd.Tensor, p Path, post [][]float64, w []float64) *autograd.Tensor {
	n := len(post)
	checkLogits("discrete.MarginalCELoss", logits, p, n)
	var total *autograd.Tensor
	for i := 0; i < p.D; i++ {
		lp := autograd.LogSoftmax(autograd.Slice(logits, i*p.V, (i+1)*p.V))
		P, negH := autograd.Zeros(n, p.V), autograd.Zeros(n, 1)
		for k := range post {
			for y := 0; y < p.V; y++ {
				v := post[k][i*p.V+y]
				P.Data[k*p.V+y] = -v
				if v > 0 {
					negH.Data[k] += v * math.Log(v)
				}
			}
		}
		total = addOrSet(total, autograd.Add(autograd.SumCols(autograd.Mul(P, lp)), negH))
	}
	return weighted(total, w)
}

// MarginalGKLLoss is the marginal counterpart of GKLLoss: the generalized
// KL between the marginal rate u_t(·, x) (Rate of the exact posterior
// post) and the model's rate,
//
//	ℓₖ = c·Σᵢ [P(xⁱ) − p_θ(xⁱ) + Σ_{y≠xⁱ} P(y)·(log P(y) − log p_θ(y))]
//
// with P = post's row for position i. It is 0 at the exact posterior.
func MarginalGKLLoss(logits *autograd.Tensor, p Path, t []float64, xt [][]int, post [][]float64, w []float64) *autograd.Tensor {
	n := len(xt)
	checkLogits("discrete.MarginalGKLLoss", logits, p, n)
	var total *autograd.Tensor
	for i := 0; i < p.D; i++ {
		sl := autograd.Slice(logits, i*p.V, (i+1)*p.V)
		lp := autograd.LogSoftmax(sl)
		A, cStay, cst := autograd.Zeros(n, p.V), autograd.Zeros(n, 1), autograd.Zeros(n, 1)
		tgt := make([]int, n)
		for k := range xt {
			a := xt[k][i]
			if p.Source == Mask && a != p.V {
				continue
			}
			c := JumpCoef(p.Sched, t[k])
			for y := 0; y < p.V; y++ {
				v := post[k][i*p.V+y]
				if y == a {
					cst.Data[k] += c * v
					continue
				}
				A.Data[k*p.V+y] = -c * v
				if v > 0 {
					cst.Data[k] += c * v * math.Log(v)
				}
			}
			if a < p.V {
				tgt[k] = a
				cStay.Data[k] = -c
			}
		}
		stay := autograd.Mul(cStay, autograd.Exp(autograd.Neg(autograd.CrossEntropy(sl, tgt))))
		cross := autograd.SumCols(autograd.Mul(A, lp))
		total = addOrSet(total, autograd.Add(autograd.Add(stay, cross), cst))
	}
	return weighted(total, w)
}

func checkLogits(op string, logits *autograd.Tensor, p Path, n int) {
	if logits.Rows != n || logits.Cols != p.D*p.V {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{logits.Shape()}, Reason: "want logits [n, D·V] for n states"})
	}
}

// column returns the tokens at position i, as targets in [0, V).
func column(x [][]int, i, V int) []int {
	c := make([]int, len(x))
	for k, row := range x {
		c[k] = row[i]
		if c[k] >= V {
			panic(autograd.Misuse("discrete", "data token %d at position %d of row %d is outside [0, %d)", c[k], i, k, V))
		}
	}
	return c
}

func addOrSet(total, x *autograd.Tensor) *autograd.Tensor {
	if total == nil {
		return x
	}
	return autograd.Add(total, x)
}

// weighted returns Σₖ wₖ·ℓₖ, or the mean of ℓ when w is nil.
func weighted(l *autograd.Tensor, w []float64) *autograd.Tensor {
	if w == nil {
		return autograd.Mean(l)
	}
	if len(w) != l.Rows {
		panic(autograd.Misuse("discrete", "%d weights for %d rows", len(w), l.Rows))
	}
	return autograd.Sum(autograd.Mul(autograd.FromSlice(len(w), 1, append([]float64(nil), w...)), l))
}
