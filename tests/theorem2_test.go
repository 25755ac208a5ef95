package tests

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// Theorem 2 of Lipman et al. 2022 (arXiv:2210.02747, §3.2; L_FM is eq. 5,
// L_CFM eq. 9): when p_t(x) > 0,
//
//	L_CFM(θ) = L_FM(θ) + C,  C = E‖u_t(x|x₁) − u_t(x)‖² (independent of θ),
//
// so ∇_θ L_CFM = ∇_θ L_FM. Per sample, with v = v_θ(t, x_t),
// u_c = u_t(x_t|x₁) and u_m = u_t(x_t),
//
//	‖v − u_c‖² − ‖v − u_m‖² − ‖u_c − u_m‖² = −2 (v − u_m)·(u_c − u_m),
//
// whose mean is zero because E[u_c | x_t] = u_m. The tests estimate these
// means with their standard errors.

// skewedData is an 8-point data set with strongly non-uniform weights 2ⁱ,
// so that dropping q(x₁) from the marginal weights changes the field a lot.
func skewedData() *fm.Empirical {
	e := &fm.Empirical{}
	for i := 0; i < 8; i++ {
		a := 2 * math.Pi * float64(i) / 8
		e.Points = append(e.Points, []float64{2 * math.Cos(a), 2 * math.Sin(a)})
		e.Weights = append(e.Weights, math.Pow(2, float64(i)))
	}
	return e
}

func theorem2Paths() []namedPath {
	return []namedPath{{"CondOT", fm.CondOT{SigmaMin: 0.01}}, {"FuncPath_xDependentSigma", xDepPath()}}
}

func smallMLPs(k int) []*nn.VelocityMLP {
	ms := make([]*nn.VelocityMLP, k)
	for i := range ms {
		ms[i] = nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActSiLU, newRNG(uint64(100+i)))
	}
	return ms
}

// rowSq returns ‖a_i − b_i‖² for each row i.
func rowSq(a, b *autograd.Tensor) []float64 {
	out := make([]float64, a.Rows)
	for i := range out {
		for j := 0; j < a.Cols; j++ {
			d := a.At(i, j) - b.At(i, j)
			out[i] += d * d
		}
	}
	return out
}

// lossGap returns, for one model and one common batch, the per-sample
// L_CFM − L_FM − floor and floor = ‖u_c − u_m‖², the batch-level
// L_CFM − L_FM from fm's losses, and the batch L_FM.
func lossGap(model *nn.VelocityMLP, p fm.Path, m fm.Marginal, tt, x0, x1 *autograd.Tensor) (gap, floor []float64, batch, lfm float64) {
	xt := fm.FlowBatch(p, tt, x0, x1)
	uc := fm.CondFieldBatch(p, tt, xt, x1)
	um := fm.MarginalFieldBatch(m, tt, xt)
	v := model.Frozen().Forward(tt, xt)
	a, b, c := rowSq(v, uc), rowSq(v, um), rowSq(uc, um)
	gap = make([]float64, len(a))
	for i := range a {
		gap[i] = a[i] - b[i] - c[i]
	}
	lfm = fm.FMLoss(model.Frozen().Forward, m, tt, xt).Item()
	batch = fm.CFMLoss(model.Frozen().Forward, p, tt, x0, x1).Item() - lfm
	return gap, c, batch, lfm
}

func TestTheorem2_LossesDifferByConstant(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	q := skewedData()
	models := smallMLPs(4)
	k := kFamily(1e-3, 2*len(models)*len(theorem2Paths()))
	for pi, np := range theorem2Paths() {
		t.Run(np.name, func(t *testing.T) {
			p := np.p
			m := fm.EmpiricalMarginal{Path: p, Data: q}
			wrong := fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: q.Points}}
			rng := newRNG(uint64(60 + pi))
			// Common random numbers: one batch (t, x₀, x₁) for every θ.
			x1 := q.Sample(n, rng)
			x0 := autograd.Normal(n, 2, 0, 1, rng)
			tt := autograd.Uniform(n, 1, 0, 1, rng)
			floor, floorSE := fm.CFMFloor(p, m, q.Sample, n, rng) // independent draws
			negWorst := 0.0
			var gaps []string
			for i, model := range models {
				gap, c, batch, lfm := lossGap(model, p, m, tt, x0, x1)
				gaps = append(gaps, fmt.Sprintf("%.4f at θ%d", batch, i))
				mean, se := meanSE(gap)
				assert.LessOrEqual(t, math.Abs(mean), k*se, "θ%d: L_CFM − L_FM − floor per sample: got mean %.4g want 0 (tol %.3g)", i, mean, k*se)

				// The batch losses agree with the per-sample terms, and the
				// constant agrees with CFMFloor on independent samples.
				cMean, cSE := meanSE(c)
				require.InDelta(t, mean+cMean, batch, 1e-9*(1+math.Abs(batch)), "batch L_CFM − L_FM vs per-sample sum (rounding)")
				diff := batch - floor
				tol := k * math.Sqrt(floorSE*floorSE+se*se+cSE*cSE)
				assert.LessOrEqual(t, math.Abs(diff), tol, "θ%d: L_CFM − L_FM = %.4g, CFMFloor = %.4g ± %.2g (tol %.3g)", i, batch, floor, floorSE, tol)
				t.Logf("Theorem 2, θ%d: L_CFM = %.4f, L_FM = %.4f; L_CFM − L_FM = %.4f against the constant C = CFMFloor = %.4f ± %.4f: difference %.2g, |difference| ≤ tol %.2g (%.2f s.e.); per sample, |mean of L_CFM − L_FM − ‖u_c − u_m‖²| = %.2g ≤ k·SE = %.2g",
					i, batch+lfm, lfm, batch, floor, floorSE, diff, tol, k, math.Abs(mean), k*se)

				// Negative control: the marginal field without q(x₁).
				gapW, _, _, _ := lossGap(model, p, wrong, tt, x0, x1)
				mW, seW := meanSE(gapW)
				negWorst = max(negWorst, math.Abs(mW)/seW)
			}
			t.Logf("Theorem 2: L_CFM − L_FM = %s (n = %d common draws): the same constant for every θ", strings.Join(gaps, ", "), n)
			t.Logf("negative control (marginal field without q(x₁)): worst |mean of L_CFM − L_FM − ‖u_c − u_m‖²|/SE = %.1f, must be > k = %.2f", negWorst, k)
			assert.Greater(t, negWorst, k, "with the wrong marginal field L_CFM − L_FM must depend on θ")
		})
	}
}

// gradGapStats returns, for each parameter coordinate, the mean over
// batches of ∂/∂θ (L_CFM − L_FM) and its standard error.
func gradGapStats(model *nn.VelocityMLP, p fm.Path, m fm.Marginal, data fm.Sampler, batches, size int, seed uint64) (mean, se []float64) {
	rng := newRNG(seed)
	params := model.Params()
	var per [][]float64
	for b := 0; b < batches; b++ {
		x1 := data(size, rng)
		x0 := autograd.Normal(size, 2, 0, 1, rng)
		tt := autograd.Uniform(size, 1, 0, 1, rng)
		xt := fm.FlowBatch(p, tt, x0, x1)
		l := autograd.Sub(fm.CFMLoss(model.Forward, p, tt, x0, x1), fm.FMLoss(model.Forward, m, tt, xt))
		var flat []float64
		for _, g := range autograd.Grad(l, nil, params...) {
			flat = append(flat, g.Data...)
		}
		per = append(per, flat)
	}
	mean, se = make([]float64, len(per[0])), make([]float64, len(per[0]))
	col := make([]float64, batches)
	for j := range mean {
		for b := range per {
			col[b] = per[b][j]
		}
		mean[j], se[j] = meanSE(col)
	}
	return mean, se
}

func TestTheorem2_GradientsEqual(t *testing.T) {
	batches, size := 40, 256
	if testing.Short() {
		batches, size = 20, 128
	}
	q := skewedData()
	models := smallMLPs(3)
	nParams := 0
	for _, p := range models[0].Params() {
		nParams += len(p.Data)
	}
	paths := theorem2Paths()
	// Batch means are independent; each coordinate's mean/SE is a Student t
	// with batches − 1 degrees of freedom. Bonferroni over all coordinates.
	checks := len(paths) * len(models) * nParams
	k := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(batches - 1)}.Quantile(1 - 1e-3/(2*float64(checks)))
	for pi, np := range paths {
		t.Run(np.name, func(t *testing.T) {
			m := fm.EmpiricalMarginal{Path: np.p, Data: q}
			wrong := fm.EmpiricalMarginal{Path: np.p, Data: &fm.Empirical{Points: q.Points}}
			negWorst := 0.0
			for i, model := range models {
				seed := uint64(70 + 10*pi + i)
				mean, se := gradGapStats(model, np.p, m, q.Sample, batches, size, seed)
				worst, msg := 0.0, ""
				for j := range mean {
					if r := math.Abs(mean[j]) / se[j]; r > worst {
						worst, msg = r, fmt.Sprintf("coordinate %d: got mean %.4g want 0 (SE %.3g)", j, mean[j], se[j])
					}
				}
				assert.LessOrEqual(t, worst, k, "θ%d: ∇L_CFM − ∇L_FM %s (k=%.2f)", i, msg, k)
				t.Logf("Theorem 2, θ%d: ∇_θ(L_CFM − L_FM) = 0 in all %d coordinates (%d batches of %d): worst |mean|/SE = %.2f ≤ k = %.2f, at %s",
					i, len(mean), batches, size, worst, k, msg)

				// Negative control: the marginal field without q(x₁).
				mean, se = gradGapStats(model, np.p, wrong, q.Sample, batches, size, seed)
				for j := range mean {
					negWorst = max(negWorst, math.Abs(mean[j])/se[j])
				}
			}
			t.Logf("negative control (marginal field without q(x₁)): worst |mean of ∇(L_CFM − L_FM)|/SE = %.1f, must be > k = %.2f", negWorst, k)
			assert.Greater(t, negWorst, k, "with the wrong marginal field the gradients must differ")
		})
	}
}
