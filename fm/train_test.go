package fm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

func meanSE(v []float64) (mean, se float64) {
	n := float64(len(v))
	for _, x := range v {
		mean += x
	}
	mean /= n
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// kFamily is the number of standard errors for m one-sided checks at
// family-wise false-alarm rate α (Bonferroni): Φ⁻¹(1 − α/m).
func kFamily(alpha float64, m int) float64 {
	return distuv.UnitNormal.Quantile(1 - alpha/float64(m))
}

func TestTrain_Deterministic(t *testing.T) {
	q := &fm.Empirical{Points: [][]float64{{1, 0}, {0, 1}, {-1, -1}}}
	run := func(seed uint64) ([]float64, []float64) {
		m := nn.NewVelocityMLP(2, []int{8}, autograd.ActSiLU, newRNG(1))
		var seen []float64
		losses, err := fm.Train(m, fm.TrainConfig{Path: fm.CondOT{}, Data: q.Sample, Coupling: fm.SinkhornOT{Reg: 0.1},
			BatchSize: 16, Steps: 10, LR: 1e-2, Seed: seed,
			Callback: func(step int, loss float64) { seen = append(seen, loss) }})
		require.NoError(t, err)
		require.Equal(t, losses, seen, "the callback sees every step's loss")
		return losses, m.Params()[0].Data
	}
	l1, p1 := run(3)
	l2, p2 := run(3)
	assert.Equal(t, l1, l2)
	assert.Equal(t, p1, p2)
	l3, _ := run(4)
	assert.NotEqual(t, l1, l3, "another seed gives another run")
}

// circleData is a finite data set of 16 points with non-uniform weights.
func circleData() *fm.Empirical {
	e := &fm.Empirical{}
	for i := 0; i < 16; i++ {
		a := 2 * math.Pi * float64(i) / 16
		r := 1.5 + 0.5*float64(i%2)
		e.Points = append(e.Points, []float64{r * math.Cos(a), r * math.Sin(a)})
		e.Weights = append(e.Weights, math.Pow(4, float64(i%4)))
	}
	return e
}

// TestTrain_ApproachesFloor trains CondOT CFM on 16 points. By Theorem 2,
// L_CFM(θ) = floor + L_FM(θ) with floor = E‖u_t(x|x₁) − u_t(x)‖², so the
// CFM loss approaches the floor from above exactly as the model approaches
// the exact marginal field. All evaluations use one common batch, so
// differences between checkpoints have small standard errors.
func TestTrain_ApproachesFloor(t *testing.T) {
	steps := 1500
	if testing.Short() {
		steps = 500
	}
	q := circleData()
	p := fm.CondOT{SigmaMin: 0.05}
	m := fm.EmpiricalMarginal{Path: p, Data: q}
	rng := newRNG(12)
	n := 4000
	x1 := q.Sample(n, rng)
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	tt := autograd.Uniform(n, 1, 0, 1, rng)
	xt := fm.FlowBatch(p, tt, x0, x1)
	uc := fm.CondFieldBatch(p, tt, xt, x1)
	um := fm.MarginalFieldBatch(m, tt, xt)
	sq := func(a, b *autograd.Tensor, i int) float64 {
		s := 0.0
		for j := 0; j < a.Cols; j++ {
			d := a.At(i, j) - b.At(i, j)
			s += d * d
		}
		return s
	}
	floorRow := make([]float64, n)
	for i := range floorRow {
		floorRow[i] = sq(uc, um, i)
	}
	floor, floorSE := meanSE(floorRow)

	model := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(13))
	// Per checkpoint: per-sample ‖v − u_m‖² (L_FM) and ‖v − u_c‖² − floor.
	type point struct{ fmRow, gapRow []float64 }
	eval := func() point {
		v := model.Frozen().Forward(tt, xt)
		pt := point{make([]float64, n), make([]float64, n)}
		for i := 0; i < n; i++ {
			pt.fmRow[i] = sq(v, um, i)
			pt.gapRow[i] = sq(v, uc, i) - floorRow[i]
		}
		return pt
	}
	checkpoints := []point{eval()}
	losses, err := fm.Train(model, fm.TrainConfig{Path: p, Data: q.Sample, BatchSize: 256, Steps: steps, LR: 2e-3, Seed: 14, Fused: true,
		Callback: func(step int, _ float64) {
			if step == steps/5 || step == steps {
				checkpoints = append(checkpoints, eval())
			}
		}})
	require.NoError(t, err)
	require.Len(t, checkpoints, 3)
	k := kFamily(1e-3, 2*len(checkpoints)+2)
	for c, pt := range checkpoints {
		gap, se := meanSE(pt.gapRow)
		lfm, _ := meanSE(pt.fmRow)
		t.Logf("checkpoint %d: L_CFM − floor = %.4f ± %.4f, L_FM = %.4f (floor %.4f ± %.4f)", c, gap, se, lfm, floor, floorSE)
		assert.Greater(t, gap, -k*se, "checkpoint %d: L_CFM below the floor: got %.4g want ≥ 0 (tol %.3g)", c, gap, k*se)
	}
	// The model approaches the marginal field: L_FM drops between
	// checkpoints by more than k standard errors of the paired difference.
	for c := 1; c < len(checkpoints); c++ {
		d := make([]float64, n)
		for i := range d {
			d[i] = checkpoints[c-1].fmRow[i] - checkpoints[c].fmRow[i]
		}
		drop, se := meanSE(d)
		assert.Greater(t, drop, k*se, "L_FM must shrink from checkpoint %d to %d: drop %.4g (tol %.3g)", c-1, c, drop, k*se)
	}
	// The last training losses (each unbiased for L_CFM at its θ) stay
	// above the floor too.
	tail := losses[len(losses)-100:]
	lm, lse := meanSE(tail)
	assert.Greater(t, lm-floor, -k*math.Hypot(lse, floorSE))

	// Negative control: the marginal field without q(x₁) in the weights
	// (a slip of some write-ups of Lipman et al. eq. 8). The model, trained by CFM alone, is measurably closer
	// to the right marginal field than to that one, so the check above
	// tells the two apart.
	wrong := fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: q.Points}}
	uw := fm.MarginalFieldBatch(wrong, tt, xt)
	v := model.Frozen().Forward(tt, xt)
	g := make([]float64, n)
	for i := range g {
		g[i] = sq(v, uw, i) - sq(v, um, i)
	}
	gw, sew := meanSE(g)
	t.Logf("negative control: E‖v − u_wrong‖² − E‖v − u‖² = %.4f ± %.4f", gw, sew)
	assert.Greater(t, gw, k*sew, "the trained field must be closer to the right marginal field than to the unweighted one")
}

// eightGaussians is FFJORD's 8gaussians: centre c_k = 4(cos πk/4, sin πk/4),
// x = (c_k + 0.5ε)/√2.
func eightGaussians(n int, rng *rand.Rand) *autograd.Tensor {
	x := autograd.Zeros(n, 2)
	for i := 0; i < n; i++ {
		a := math.Pi * float64(rng.IntN(8)) / 4
		x.Data[2*i] = (4*math.Cos(a) + 0.5*rng.NormFloat64()) / math.Sqrt2
		x.Data[2*i+1] = (4*math.Sin(a) + 0.5*rng.NormFloat64()) / math.Sqrt2
	}
	return x
}

// moons is FFJORD's moons: sklearn make_moons with noise 0.1, ×2, + (−1, −0.2).
func moons(n int, rng *rand.Rand) *autograd.Tensor {
	x := autograd.Zeros(n, 2)
	for i := 0; i < n; i++ {
		th := math.Pi * rng.Float64()
		a, b := math.Cos(th), math.Sin(th)
		if rng.IntN(2) == 1 {
			a, b = 1-a, 0.5-b
		}
		x.Data[2*i] = 2*(a+0.1*rng.NormFloat64()) - 1
		x.Data[2*i+1] = 2*(b+0.1*rng.NormFloat64()) - 0.2
	}
	return x
}

var trained = map[string]*nn.VelocityMLP{}

// trainedMoons trains (once per test binary) a CondOT (σ_min = 0) model
// from 8 Gaussians to moons with the given coupling.
func trainedMoons(t *testing.T, name string, c fm.Coupling) *nn.VelocityMLP {
	if m, ok := trained[name]; ok {
		return m
	}
	steps := 800
	if testing.Short() {
		steps = 300
	}
	m := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(15))
	_, err := fm.Train(m, fm.TrainConfig{Path: fm.CondOT{}, Data: moons, Source: eightGaussians, Coupling: c,
		BatchSize: 128, Steps: steps, LR: 2e-3, Seed: 16, Fused: true})
	require.NoError(t, err)
	trained[name] = m
	return m
}

// TestCoupling_OTLowersPathEnergy: with the exact minibatch OT coupling
// (Tong et al. 2023) the learned flow from 8 Gaussians to moons has lower
// kinetic energy E∫‖v‖²dt than with the independent coupling, measured on
// the same start points (paired per-row differences and their SE).
func TestCoupling_OTLowersPathEnergy(t *testing.T) {
	ind := trainedMoons(t, "independent", fm.Independent{})
	ot := trainedMoons(t, "exactOT", fm.ExactOT{})
	x0 := eightGaussians(1000, newRNG(17))
	si, _, err := fm.MeasurePaths(ind.Frozen().Forward, x0, 20)
	require.NoError(t, err)
	so, _, err := fm.MeasurePaths(ot.Frozen().Forward, x0, 20)
	require.NoError(t, err)
	d := make([]float64, x0.Rows)
	for i := range d {
		d[i] = si.RowEnergy[i] - so.RowEnergy[i]
	}
	drop, se := meanSE(d)
	k := kFamily(1e-3, 1)
	t.Logf("energy: independent %.3f (straightness %.3f), OT %.3f (straightness %.3f); drop %.3f ± %.3f",
		si.Energy, si.Straightness, so.Energy, so.Straightness, drop, se)
	assert.Greater(t, drop, k*se, "OT coupling must lower the path energy: drop %.4g (tol %.3g)", drop, k*se)
	// Negative control: the same check with the two models swapped fails.
	assert.LessOrEqual(t, -drop, k*se, "swapped roles must not pass")
	// The couplings themselves: E‖x₁ − x₀‖² is lower under ExactOT.
	a0, a1, err := fm.Independent{}.Pair(x0, moons(x0.Rows, newRNG(22)), nil)
	require.NoError(t, err)
	b0, b1, err := fm.ExactOT{}.Pair(a0, a1, nil)
	require.NoError(t, err)
	assert.Less(t, pairCost(b0, b1), pairCost(a0, a1))
}

// TestReflow_Straightens: one reflow round on the independent-coupling
// model (Liu et al. 2022) lowers the straightness E∫‖(x₁ − x₀) − v‖²dt.
func TestReflow_Straightens(t *testing.T) {
	teacher := trainedMoons(t, "independent", fm.Independent{})
	steps := 800
	if testing.Short() {
		steps = 300
	}
	student := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(18))
	_, err := fm.Reflow(teacher.Frozen().Forward, student, fm.TrainConfig{Path: fm.CondOT{}, Source: eightGaussians,
		BatchSize: 128, Steps: steps, LR: 2e-3, Seed: 19, Fused: true}, 2048, 2, cnf.SolveOptions{Method: cnf.RK4, Steps: 20})
	require.NoError(t, err)
	x0 := eightGaussians(1000, newRNG(20))
	st, _, err := fm.MeasurePaths(teacher.Frozen().Forward, x0, 20)
	require.NoError(t, err)
	ss, _, err := fm.MeasurePaths(student.Frozen().Forward, x0, 20)
	require.NoError(t, err)
	d := make([]float64, x0.Rows)
	for i := range d {
		d[i] = st.RowStraightness[i] - ss.RowStraightness[i]
	}
	drop, se := meanSE(d)
	k := kFamily(1e-3, 1)
	t.Logf("straightness: teacher %.4f, reflowed %.4f; drop %.4f ± %.4f", st.Straightness, ss.Straightness, drop, se)
	assert.Greater(t, drop, k*se, "reflow must straighten the paths: drop %.4g (tol %.3g)", drop, k*se)
	assert.LessOrEqual(t, -drop, k*se, "negative control: teacher and student swapped must not pass")
}

func pairCost(a, b *autograd.Tensor) float64 {
	s := 0.0
	for i := range a.Data {
		d := a.Data[i] - b.Data[i]
		s += d * d
	}
	return s / float64(a.Rows)
}

func TestMeasurePaths_StraightField(t *testing.T) {
	// v(t, x) = c (constant): straight paths, Energy = Displacement = ‖c‖²,
	// Straightness 0 (RK4 and the trapezoid rule are exact for constants).
	c := []float64{1.5, -0.5}
	v := constantField(c)
	x0 := autograd.Normal(10, 2, 0, 1, newRNG(21))
	st, _, err := fm.MeasurePaths(v, x0, 10)
	require.NoError(t, err)
	assert.InDelta(t, 2.5, st.Energy, 64*eps*2.5)
	assert.InDelta(t, 2.5, st.Displacement, 64*eps*2.5)
	assert.InDelta(t, 0, st.Straightness, 128*eps*2.5)
	// Negative control: a rotating field v = (−x₂, x₁) moves along arcs:
	// positive straightness.
	rot := func(_, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			out.Data[2*i], out.Data[2*i+1] = -x.At(i, 1), x.At(i, 0)
		}
		return out
	}
	sr, _, err := fm.MeasurePaths(rot, x0, 20)
	require.NoError(t, err)
	assert.Greater(t, sr.Straightness, 0.01)
}

// roundingBound returns, for the batch (t, xt, u) of a CFM step of m, a
// first-order bound on the rounding error of the loss and of every parameter
// gradient [W₁, b₁, W₂, b₂, …], valid for any implementation that forms the
// same sums in any order (the fused step and CFMLoss + Backward both do).
// It is a running forward error analysis (Higham, Accuracy and Stability of
// Numerical Algorithms, 2002, §3.1–3.5): every computed quantity q gets a
// magnitude M(q) with |error(q)| ≤ K·u·M(q), u = 2⁻⁵³:
//
//	inputs, weights:            M = |value|
//	q = Σₚ aₚ·bₚ (+ c):          M = Σₚ M(aₚ)·M(bₚ) (+ M(c))
//	h = σ(z):                   M = |σ′(z)|·M(z) + |h|
//	q = a ⊙ σ′(z):              M = M(a)·|σ′(z)| + |a|·M(z) + |q|   (|σ″| ≤ 1 for SiLU, tanh)
//	seed g = (2/n)(v − u):      M = (2/n)·(M(v) + |v| + |u|)
//
// with K = Σₗ 2·sₗ + n + 32·(L+1) over the layer sizes sₗ: the longest
// chain of inner products (every layer forward and backward, the batch sum
// of ∂W) plus 16 ulps for each activation and its derivative. The loss sums
// n·dim squares of residuals r, each off by at most bound(v), so
// |ΔL| ≤ (1/n)·Σ (2|r|·bound(v) + (n·dim + 2)·u·r²).
//
// For a conditional model pass the batch's contexts c: the input rows are
// then (x_t, t, c).
func roundingBound(m *nn.VelocityMLP, t, xt, u *autograd.Tensor, c ...*autograd.Tensor) (lossBound float64, grad [][]float64) {
	layers := m.Net.Layers
	act := m.Net.Activation()
	n, d := xt.Rows, xt.Cols
	sigma := func(z float64) (h, dh float64) {
		if act == autograd.ActTanh {
			h = math.Tanh(z)
			return h, 1 - h*h
		}
		s := 1 / (1 + math.Exp(-z))
		return z * s, s * (1 + z*(1-s))
	}
	// Forward: values h and magnitudes mh per layer input; z and mz kept
	// for the backward pass.
	h := make([]float64, 0, n*(d+1+m.Ctx()))
	for i := 0; i < n; i++ {
		h = append(append(h, xt.Row(i)...), t.Data[i])
		if len(c) > 0 {
			h = append(h, c[0].Row(i)...)
		}
	}
	mh := absAll(h)
	hs, mhs := [][]float64{h}, [][]float64{mh}
	var zs, mzs [][]float64
	for l, ly := range layers {
		a, b := ly.W.Rows, ly.W.Cols
		z, mz := make([]float64, n*b), make([]float64, n*b)
		for i := 0; i < n; i++ {
			for k := 0; k < b; k++ {
				s, ms := ly.B.Data[k], math.Abs(ly.B.Data[k])
				for p := 0; p < a; p++ {
					w := ly.W.Data[p*b+k]
					s += h[i*a+p] * w
					ms += mh[i*a+p] * math.Abs(w)
				}
				z[i*b+k], mz[i*b+k] = s, ms
			}
		}
		zs, mzs = append(zs, z), append(mzs, mz)
		if l == len(layers)-1 {
			break
		}
		h, mh = make([]float64, n*b), make([]float64, n*b)
		for i := range z {
			v, dv := sigma(z[i])
			h[i], mh[i] = v, math.Abs(dv)*mz[i]+math.Abs(v)
		}
		hs, mhs = append(hs, h), append(mhs, mh)
	}
	v, mv := zs[len(zs)-1], mzs[len(mzs)-1]
	// The seed g = ∂L/∂v and its magnitude.
	mg := make([]float64, n*d)
	for i := range mg {
		mg[i] = 2 / float64(n) * (mv[i] + math.Abs(v[i]) + math.Abs(u.Data[i]))
	}
	// Backward.
	grad = make([][]float64, 2*len(layers))
	md := mg
	for l := len(layers) - 1; l >= 0; l-- {
		ly := layers[l]
		a, b := ly.W.Rows, ly.W.Cols
		mW, mB := make([]float64, a*b), make([]float64, b)
		for i := 0; i < n; i++ {
			for k := 0; k < b; k++ {
				mB[k] += md[i*b+k]
				for p := 0; p < a; p++ {
					mW[p*b+k] += mhs[l][i*a+p] * md[i*b+k]
				}
			}
		}
		grad[2*l], grad[2*l+1] = mW, mB
		if l == 0 {
			break
		}
		// p = δ·Wᵀ, then δ′ = p ⊙ σ′(z) of the layer below.
		next := make([]float64, n*a)
		for i := 0; i < n; i++ {
			for q := 0; q < a; q++ {
				mp := 0.0
				for k := 0; k < b; k++ {
					mp += md[i*b+k] * math.Abs(ly.W.Data[q*b+k])
				}
				_, dz := sigma(zs[l-1][i*a+q])
				// |p| ≤ M(p) and |δ′| ≤ M(p)·|σ′|, so M(δ′) ≤ M(p)(2|σ′| + M(z)).
				next[i*a+q] = mp * (2*math.Abs(dz) + mzs[l-1][i*a+q])
			}
		}
		md = next
	}
	sizes := m.Net.Sizes()
	k := float64(n + 32*len(sizes))
	for _, s := range sizes {
		k += 2 * float64(s)
	}
	k *= 0x1p-53
	for _, g := range grad {
		for i := range g {
			g[i] *= k
		}
	}
	for i := range v {
		r := v[i] - u.Data[i]
		lossBound += 2*math.Abs(r)*k*mv[i] + float64(n*d+2)*0x1p-53*r*r
	}
	return lossBound / float64(n), grad
}

func absAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Abs(x)
	}
	return out
}

// gradsOff counts the gradient entries of got and want further apart than
// 2·bound (each within bound of the exact value), reporting the first few.
func gradsOff(t *testing.T, got, want, bound [][]float64, report bool) int {
	t.Helper()
	bad := 0
	for p := range got {
		for i := range got[p] {
			tol := 2 * bound[p][i]
			if !(math.Abs(got[p][i]-want[p][i]) <= tol) {
				if report && bad < 3 {
					t.Errorf("param %d [%d]: got %v want %v (tol %.3g)", p, i, got[p][i], want[p][i], tol)
				}
				bad++
			}
		}
	}
	return bad
}

func gradsOf(m *nn.VelocityMLP) [][]float64 {
	var g [][]float64
	for _, p := range m.Params() {
		g = append(g, append([]float64(nil), p.Grad...))
	}
	return g
}

// TestTrain_FusedMatchesAutograd: Train's fused step (TrainConfig.Fused)
// and its autograd step (CFMLoss + Backward) give the same loss and the same
// gradient of every parameter on the same batch, before any optimizer step,
// within the derived rounding bound of roundingBound (two implementations
// differ by at most twice it), for SiLU and tanh and two paths. The bound
// is about 1e-13 relative, so a wrong factor in the fused loss's gradient
// (2.001/n for 2/n in nn.TrainStep.LossGrad) fails it; the in-suite
// negative control scales the autograd gradients by 1.001 and asserts that
// the check rejects them. The cond/ cases do the same for a
// label-conditioned model (nn.TrainStep.LossGradCond against CFMLoss on
// ForwardCond), with the contexts in the rounding bound's input rows.
func TestTrain_FusedMatchesAutograd(t *testing.T) {
	paths := []struct {
		name string
		p    fm.Path
	}{{"CondOT", fm.CondOT{SigmaMin: 1e-4}}, {"VE", fm.VE{SigmaMin: 0.01, SigmaMax: 3}}}
	data := &fm.Mixture{Means: [][]float64{{-2, 0}, {2, 1}}, Stds: []float64{0.3, 0.5}}
	for _, cond := range []bool{false, true} {
		for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
			for _, pc := range paths {
				name := string(act) + "/" + pc.name
				if cond {
					name = "cond/" + name
				}
				t.Run(name, func(t *testing.T) {
					rng := newRNG(30)
					n := 32
					x1 := data.Sample(n, rng)
					x0 := autograd.Normal(n, 2, 0, 1, rng)
					tt := autograd.Uniform(n, 1, 0, 1, rng)
					m := nn.NewVelocityMLP(2, []int{16, 16}, act, newRNG(31))
					step := func(fused bool) float64 { return fm.StepLossGrad(m, fused, pc.p, tt, x0, x1) }
					var c []*autograd.Tensor
					if cond {
						m = nn.NewLabelVelocityMLP(2, 3, []int{16, 16}, act, newRNG(31))
						labels := make([]int, n)
						for i := range labels {
							labels[i] = rng.IntN(4) - 1 // NullLabel included
						}
						c = []*autograd.Tensor{nn.LabelContext(labels, 3)}
						step = func(fused bool) float64 { return fm.StepLossGradCond(m, fused, pc.p, tt, x0, x1, c[0]) }
					}

					for _, p := range m.Params() {
						clear(p.Grad)
					}
					want := step(false)
					wantG := gradsOf(m)
					for _, p := range m.Params() {
						clear(p.Grad)
					}
					got := step(true)
					gotG := gradsOf(m)

					xt := fm.FlowBatch(pc.p, tt, x0, x1)
					u := fm.CondFieldBatch(pc.p, tt, xt, x1)
					lb, bound := roundingBound(m, tt, xt, u, c...)
					assert.InDelta(t, want, got, 2*lb, "loss: got %v want %v (tol %.3g)", got, want, 2*lb)
					assert.Zero(t, gradsOff(t, gotG, wantG, bound, true), "fused gradients off the autograd ones")
					worstB, worstD, gmax := 0.0, 0.0, 0.0
					for p := range bound {
						for i := range bound[p] {
							worstB, gmax = max(worstB, bound[p][i]), max(gmax, math.Abs(wantG[p][i]))
							worstD = max(worstD, math.Abs(gotG[p][i]-wantG[p][i]))
						}
					}
					t.Logf("loss %.6g, |Δloss| = %.2g (tol %.2g); gradients: largest |Δ| %.2g, largest bound %.2g, largest |g| %.2g",
						want, math.Abs(got-want), 2*lb, worstD, worstB, gmax)

					// Negative control: gradients off by a factor 1.001 (the
					// effect of 2.001/n for 2/n) are rejected.
					scaled := gradsOf(m)
					for p := range scaled {
						for i := range scaled[p] {
							scaled[p][i] = wantG[p][i] * 1.001
						}
					}
					total := 0
					for _, b := range bound {
						total += len(b)
					}
					assert.Greater(t, gradsOff(t, gotG, scaled, bound, false), total/2, "a 0.1%% gradient error must fail most of the %d entries", total)
				})
			}
		}
	}
}

// TestTrain_Errors: misuse of Train panics with one *autograd.MisuseError
// naming the bad field and its value (not the whole config); data whose
// dimension is not the model's is caught before the first step, with the
// shapes; a fused step asked for a ReLU model is an error that says what
// to do; a learning rate of 1e300 stops at the first non-finite loss with an
// error naming the step and suggesting a smaller LR. Each case has its
// working counterpart, so the checks can tell right from wrong.
func TestTrain_Errors(t *testing.T) {
	q := &fm.Empirical{Points: [][]float64{{1, 0}, {0, 1}}}
	good := fm.TrainConfig{Path: fm.CondOT{}, Data: q.Sample, BatchSize: 8, Steps: 3, LR: 1e-2}
	model := func(act autograd.Activation) *nn.VelocityMLP {
		return nn.NewVelocityMLP(2, []int{8}, act, newRNG(40))
	}
	misuse := func(t *testing.T, want string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			require.NotNil(t, r, "want a panic naming %q", want)
			err, ok := r.(error)
			require.True(t, ok, "panic value %v", r)
			var me *autograd.MisuseError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, err.Error(), want)
			assert.NotContains(t, err.Error(), "Callback", "the message must not dump the config")
			t.Logf("%v", err)
		}()
		f()
	}
	with := func(f func(c *fm.TrainConfig)) fm.TrainConfig {
		c := good
		f(&c)
		return c
	}
	_, err := fm.Train(model(autograd.ActSiLU), good)
	require.NoError(t, err, "the good config trains")
	for _, c := range []struct {
		want string
		cfg  fm.TrainConfig
	}{
		{"BatchSize = 0", with(func(c *fm.TrainConfig) { c.BatchSize = 0 })},
		{"Steps = -1", with(func(c *fm.TrainConfig) { c.Steps = -1 })},
		{"LR = -0.1", with(func(c *fm.TrainConfig) { c.LR = -0.1 })},
		{"LR = NaN", with(func(c *fm.TrainConfig) { c.LR = math.NaN() })},
		{"Path is nil", with(func(c *fm.TrainConfig) { c.Path = nil })},
		{"Data and TrainConfig.Pairs are both nil", with(func(c *fm.TrainConfig) { c.Data = nil })},
	} {
		misuse(t, c.want, func() { _, _ = fm.Train(model(autograd.ActSiLU), c.cfg) })
	}
	misuse(t, "model is nil", func() { _, _ = fm.Train(nil, good) })
	// 3-D data for a 2-D model: caught before any step, with the shapes.
	q3 := &fm.Empirical{Points: [][]float64{{1, 0, 2}, {0, 1, 2}}}
	steps := 0
	misuse(t, "[8,3]", func() {
		_, _ = fm.Train(model(autograd.ActSiLU), with(func(c *fm.TrainConfig) {
			c.Data = q3.Sample
			c.Callback = func(int, float64) { steps++ }
		}))
	})
	assert.Zero(t, steps, "no step may run on misshapen data")

	// Fused asked for a model without a fused step: an error, not a silent
	// switch; the same model trains with Fused false.
	_, err = fm.Train(model(autograd.ActReLU), with(func(c *fm.TrainConfig) { c.Fused = true }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set Fused to false")
	t.Logf("%v", err)
	_, err = fm.Train(model(autograd.ActReLU), good)
	require.NoError(t, err)

	// Divergence: LR 1e300 stops at the first non-finite loss or parameter.
	var seen []float64
	losses, err := fm.Train(model(autograd.ActSiLU), with(func(c *fm.TrainConfig) {
		c.LR = 1e300
		c.Steps = 50
		c.Callback = func(_ int, l float64) { seen = append(seen, l) }
	}))
	require.Error(t, err)
	t.Logf("%v", err)
	assert.Contains(t, err.Error(), fmt.Sprintf("step %d", len(losses)+1))
	assert.Contains(t, err.Error(), "smaller LR")
	assert.Less(t, len(losses), 50)
	assert.Equal(t, seen, losses, "the losses before the failing step are returned")
	for _, l := range losses {
		assert.False(t, math.IsNaN(l) || math.IsInf(l, 0), "no non-finite loss is returned")
	}
	// Data with a NaN: an error naming where, not a diverged run.
	qn := &fm.Empirical{Points: [][]float64{{1, math.NaN()}}}
	_, err = fm.Train(model(autograd.ActSiLU), with(func(c *fm.TrainConfig) { c.Data = qn.Sample }))
	require.Error(t, err)
	t.Logf("%v", err)
	assert.Contains(t, err.Error(), "x1[0, 1] = NaN")
	// A NaN weight: the first loss is NaN before any update, on finite data.
	bad := model(autograd.ActSiLU)
	bad.Params()[0].Data[0] = math.NaN()
	_, err = fm.Train(bad, good)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "step 1: the loss is NaN before any update")
	// A schedule that overflows the step (LR·1e10 = +Inf) makes a parameter
	// non-finite in step 1, before any loss is: the parameter is named.
	losses, err = fm.Train(model(autograd.ActSiLU), with(func(c *fm.TrainConfig) {
		c.LR = 1e300
		c.LRSchedule = func(int, int) float64 { return 1e10 }
	}))
	require.Error(t, err)
	t.Logf("%v", err)
	assert.Contains(t, err.Error(), "step 1: after the update")
	assert.Contains(t, err.Error(), "parameter layers.0.weight [")
	assert.Empty(t, losses)
}

// TestSample_PushesSource: with the constant field v = c the flow is
// x₁ = x₀ + c exactly (RK4 is exact for constants), so fm.Sample returns
// the source draws of SampleSource (N(0, s² I), s = SourceStd) shifted by
// c: the same rng stream, to rounding. The sample mean is within k
// standard errors of c and the standard deviation that of the path's
// source; negative control: a path with another SourceStd gives another
// spread.
func TestSample_PushesSource(t *testing.T) {
	c := []float64{1.5, -0.5}
	v := constantField(c)
	p := fm.VE{SigmaMin: 0.01, SigmaMax: 3}
	n := 4000
	x1, err := fm.Sample(v, p, n, 2, newRNG(50), cnf.SolveOptions{Method: cnf.RK4, Steps: 4})
	require.NoError(t, err)
	x0 := fm.SampleSource(p, n, 2, newRNG(50))
	for i := 0; i < n; i++ {
		for j := range c {
			want := x0.At(i, j) + c[j]
			require.InDelta(t, want, x1.At(i, j), 8*eps*(math.Abs(want)+math.Abs(c[j])), "row %d", i)
		}
	}
	col := func(x *autograd.Tensor, j int) []float64 {
		out := make([]float64, x.Rows)
		for i := range out {
			out[i] = x.At(i, j)
		}
		return out
	}
	k := kFamily(1e-3, 4)
	for j := range c {
		m, se := meanSE(col(x1, j))
		assert.InDelta(t, c[j], m, k*se, "mean of coordinate %d", j)
		// The sample variance of n normals has SE ≈ s²·√(2/(n−1)).
		s2 := se * se * float64(n)
		assert.InDelta(t, 9, s2, k*9*math.Sqrt(2/float64(n-1)), "variance of coordinate %d", j)
		y, err := fm.Sample(v, fm.CondOT{}, n, 2, newRNG(50), cnf.SolveOptions{Method: cnf.RK4, Steps: 4})
		require.NoError(t, err)
		_, se1 := meanSE(col(y, j))
		assert.Greater(t, math.Abs(se1*se1*float64(n)-9), k*9*math.Sqrt(2/float64(n-1)), "negative control: N(0, I) is not N(0, 9I)")
	}
	_, err = fm.Sample(v, p, 3, 2, newRNG(1), cnf.SolveOptions{Method: cnf.RK4})
	assert.Error(t, err, "a fixed-step method without steps is the solver's error")
	assert.Panics(t, func() { _, _ = fm.Sample(v, p, 3, 2, nil, cnf.SolveOptions{Method: cnf.RK4, Steps: 2}) }, "nil rng")
}

// TestCosineSchedule: 0.5·(1 + cos(π(step−1)/steps)) is 1 at the first step,
// ½ halfway, symmetric about it (f(s) + f(steps + 2 − s) = 1, from
// cos θ + cos(π − θ) = 0) and decreasing.
func TestCosineSchedule(t *testing.T) {
	steps := 100
	assert.Equal(t, 1.0, fm.CosineSchedule(1, steps))
	assert.InDelta(t, 0.5, fm.CosineSchedule(51, steps), 4*eps)
	for s := 1; s < steps; s++ {
		a, b := fm.CosineSchedule(s, steps), fm.CosineSchedule(s+1, steps)
		require.Less(t, b, a, "decreasing at step %d", s)
		assert.InDelta(t, 1, fm.CosineSchedule(s, steps)+fm.CosineSchedule(steps+2-s, steps), 4*eps)
	}
	assert.Greater(t, fm.CosineSchedule(steps, steps), 0.0, "the last step still moves")
}

// constantField returns the field v(t, x) = c for every row.
func constantField(c []float64) fm.Velocity {
	return func(_, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, len(c))
		for i := 0; i < x.Rows; i++ {
			copy(out.Row(i), c)
		}
		return out
	}
}
