package discrete

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/require"
)

// enumeration lists, at time t, the conditional rows (x₁, x_t) with weights
// q(x₁)·p_t(x_t|x₁) > 0 and the marginal rows x_t with weights p_t(x_t) > 0
// and their exact posteriors (under the data q, or under post's data).
type enumeration struct {
	cx1, cxt [][]int
	cw, ct   []float64
	mxt      [][]int
	mw, mt   []float64
	mpost    [][]float64
}

func enumerate(p Path, q, postData Dist, t float64) enumeration {
	var e enumeration
	sp := SpaceOf(p)
	pt := Marginal(p, q, t)
	ex := Exact{Path: p, Q: postData}
	for k, x := range sp.All() {
		for j, x1 := range q.X {
			if w := q.W[j] * p.CondProb(t, x, x1); w > 0 {
				e.cx1, e.cxt, e.cw, e.ct = append(e.cx1, x1), append(e.cxt, x), append(e.cw, w), append(e.ct, t)
			}
		}
		if pt[k] > 0 {
			e.mxt, e.mw, e.mt = append(e.mxt, x), append(e.mw, pt[k]), append(e.mt, t)
			e.mpost = append(e.mpost, ex.Posterior(t, x))
		}
	}
	return e
}

type lossPair struct {
	name       string
	cond, marg func(tb *Table, e enumeration) *autograd.Tensor
}

func lossPairs(p Path) []lossPair {
	return []lossPair{
		{"CE",
			func(tb *Table, e enumeration) *autograd.Tensor { return CELoss(tb.Forward(nil, e.cxt), p, e.cx1, e.cw) },
			func(tb *Table, e enumeration) *autograd.Tensor {
				return MarginalCELoss(tb.Forward(nil, e.mxt), p, e.mpost, e.mw)
			}},
		{"GKL",
			func(tb *Table, e enumeration) *autograd.Tensor {
				return GKLLoss(tb.Forward(nil, e.cxt), p, e.ct, e.cxt, e.cx1, e.cw)
			},
			func(tb *Table, e enumeration) *autograd.Tensor {
				return MarginalGKLLoss(tb.Forward(nil, e.mxt), p, e.mt, e.mxt, e.mpost, e.mw)
			}},
	}
}

// TestTheorem2_Discrete checks the discrete analogue of Theorem 2 of
// Lipman et al. 2022 (arXiv:2210.02747; Gat et al. 2024, arXiv:2407.15595,
// §3; Lipman et al. 2024, arXiv:2412.06264, §7.5, a Bregman divergence's
// mean property): for a tabular posterior θ on {0,…,3}³, every path of
// testPaths and t ∈ {0.3, 0.7}, the conditional loss (CELoss, GKLLoss,
// enumerated over x₁ and x_t) and the marginal loss (MarginalCELoss,
// MarginalGKLLoss, with the exact posterior) have equal gradients, and
// their difference is the same for three random θ. The tolerance is
// rounding: 64·ε·(rows)·max|g|. Negative control: the marginal loss built
// from the posterior of the data without its weights has gradients that
// differ by more than 10⁻³·max|g|.
func TestTheorem2_Discrete(t *testing.T) {
	rng := newRNG(2)
	q := randomDist(4, 3, 7, rng)
	flat := Dist{X: q.X, W: make([]float64, len(q.W))}
	for j := range flat.W {
		flat.W[j] = 1 / float64(len(q.W))
	}
	for _, p := range testPaths() {
		sp := SpaceOf(p)
		for _, tt := range []float64{0.3, 0.7} {
			e := enumerate(p, q, q, tt)
			bad := enumerate(p, q, flat, tt)
			for _, lp := range lossPairs(p) {
				var consts []float64
				for trial := range 3 {
					tb := &Table{Space: sp, Logits: autograd.Normal(sp.Size(), p.D*p.V, 0, 1, rng).SetRequiresGrad(true)}
					lc, lm := lp.cond(tb, e), lp.marg(tb, e)
					gc := autograd.Grad(lc, nil, tb.Logits)[0]
					gm := autograd.Grad(lm, nil, tb.Logits)[0]
					scale, diff := 0.0, 0.0
					for k := range gc.Data {
						scale = max(scale, math.Abs(gc.Data[k]))
						diff = max(diff, math.Abs(gc.Data[k]-gm.Data[k]))
					}
					tol := 64 * 0x1p-52 * float64(len(e.cw)) * scale
					require.LessOrEqual(t, diff, tol, "%s %v %v t=%v trial %d: gradients differ by %.3g (tol %.3g)", lp.name, p.Sched, p.Source, tt, trial, diff, tol)
					consts = append(consts, lc.Item()-lm.Item())

					gb := autograd.Grad(lp.marg(tb, bad), nil, tb.Logits)[0]
					bdiff := 0.0
					for k := range gc.Data {
						bdiff = max(bdiff, math.Abs(gc.Data[k]-gb.Data[k]))
					}
					require.Greater(t, bdiff, 1e-3*scale, "negative control %s %v %v t=%v", lp.name, p.Sched, p.Source, tt)
				}
				tol := 64 * 0x1p-52 * float64(len(e.cw)) * (1 + math.Abs(consts[0]))
				require.InDelta(t, consts[0], consts[1], tol, "%s %v %v: L_C − L_M not constant", lp.name, p.Sched, p.Source)
				require.InDelta(t, consts[0], consts[2], tol, "%s %v %v: L_C − L_M not constant", lp.name, p.Sched, p.Source)
			}
		}
	}
}

// exactTable returns the Table whose softmax is the exact posterior at t
// (log 0 replaced by −745, below the smallest float64's log, so that
// 0·log p stays 0 in the marginal losses).
func exactTable(p Path, q Dist, t float64) *Table {
	sp := SpaceOf(p)
	ex := Exact{Path: p, Q: q}
	tb := &Table{Space: sp, Logits: autograd.Zeros(sp.Size(), p.D*p.V)}
	for k, x := range sp.All() {
		for j, v := range ex.Posterior(t, x) {
			tb.Logits.Data[k*p.D*p.V+j] = math.Max(math.Log(v), -745)
		}
	}
	return tb
}

// TestLoss_FloorAtExactPosterior checks that the losses reach their floors
// at the exact posterior: the marginal losses are 0 there, CELoss equals
// the posterior entropy E_{x_t} Σᵢ H(p(x₁ⁱ|x_t)) (computed by entropy,
// independently of the loss code), and the conditional losses at three
// random tabular θ lie above the floor by at least the marginal loss
// there (their gap is the marginal loss, Theorem 2). Tolerance: rounding,
// 64·ε·(rows)·(1 + floor). Negative control: the posterior of the data
// without its weights is not at the floor (gap > 10⁻⁴).
func TestLoss_FloorAtExactPosterior(t *testing.T) {
	rng := newRNG(3)
	q := randomDist(4, 3, 7, rng)
	flat := Dist{X: q.X, W: make([]float64, len(q.W))}
	for j := range flat.W {
		flat.W[j] = 1 / float64(len(q.W))
	}
	for _, p := range testPaths() {
		for _, tt := range []float64{0.3, 0.7} {
			e := enumerate(p, q, q, tt)
			tb := exactTable(p, q, tt)
			wrong := exactTable(p, flat, tt)
			H := 0.0
			for k, x := range e.mxt {
				_ = x
				for i := 0; i < p.D; i++ {
					H += e.mw[k] * entropy(e.mpost[k][i*p.V:(i+1)*p.V])
				}
			}
			for _, lp := range lossPairs(p) {
				floor := lp.cond(tb, e).Item()
				tol := 64 * 0x1p-52 * float64(len(e.cw)) * (1 + math.Abs(floor))
				require.InDelta(t, 0, lp.marg(tb, e).Item(), tol, "%s %v %v t=%v: marginal loss at the exact posterior", lp.name, p.Sched, p.Source, tt)
				if lp.name == "CE" {
					require.InDelta(t, H, floor, tol, "%v %v t=%v: CE floor, got %v want H = %v", p.Sched, p.Source, tt, floor, H)
				}
				for range 3 {
					r := &Table{Space: tb.Space, Logits: autograd.Normal(tb.Logits.Rows, tb.Logits.Cols, 0, 1, rng)}
					require.InDelta(t, floor+lp.marg(r, e).Item(), lp.cond(r, e).Item(), tol*10, "%s: L_C(θ) = floor + L_M(θ)", lp.name)
				}
				gap := lp.cond(wrong, e).Item() - floor
				require.Greater(t, gap, 1e-4, "negative control %s %v %v t=%v", lp.name, p.Sched, p.Source, tt)
			}
		}
	}
}
