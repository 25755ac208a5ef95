package fm_test

import (
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
		losses := fm.Train(m, fm.TrainConfig{Path: fm.CondOT{}, Data: q.Sample, Coupling: fm.SinkhornOT{Reg: 0.1},
			BatchSize: 16, Steps: 10, LR: 1e-2, Seed: seed,
			Callback: func(step int, loss float64) { seen = append(seen, loss) }})
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
	losses := fm.Train(model, fm.TrainConfig{Path: p, Data: q.Sample, BatchSize: 256, Steps: steps, LR: 2e-3, Seed: 14,
		Callback: func(step int, _ float64) {
			if step == steps/5 || step == steps {
				checkpoints = append(checkpoints, eval())
			}
		}})
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

	// Negative control: the marginal field with the seed's slip (no q(x₁)
	// in the weights). The model, trained by CFM alone, is measurably closer
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
	fm.Train(m, fm.TrainConfig{Path: fm.CondOT{}, Data: moons, Source: eightGaussians, Coupling: c,
		BatchSize: 128, Steps: steps, LR: 2e-3, Seed: 16})
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
	a0, a1 := fm.Independent{}.Pair(x0, moons(x0.Rows, newRNG(22)), nil)
	b0, b1 := fm.ExactOT{}.Pair(a0, a1, nil)
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
		BatchSize: 128, Steps: steps, LR: 2e-3, Seed: 19}, 2048, 2, cnf.SolveOptions{Method: cnf.RK4, Steps: 20})
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
	v := func(_, x *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			copy(out.Row(i), c)
		}
		return out
	}
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

// TestTrain_FusedMatchesAutograd: the fused training step and the autograd
// step give the same trajectory of losses and parameters, up to rounding
// (the two differ only in the order of floating-point operations, so after
// a few Adam steps the parameters agree to ~1e-12 relative; 1e-8 leaves
// room for Adam's division by √v̂ amplifying differences in tiny v̂).
func TestTrain_FusedMatchesAutograd(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		run := func(autogradOnly bool) (*nn.VelocityMLP, []float64) {
			m := nn.NewVelocityMLP(2, []int{16, 16}, act, fm.NewRand(1))
			losses := fm.Train(m, fm.TrainConfig{
				Path: fm.CondOT{SigmaMin: 1e-4}, Data: (&fm.Mixture{Means: [][]float64{{-2, 0}, {2, 1}}, Stds: []float64{0.3, 0.5}}).Sample, BatchSize: 32, Steps: 5, LR: 1e-2, Seed: 3,
				Autograd: autogradOnly,
			})
			return m, losses
		}
		mf, lf := run(false)
		ma, la := run(true)
		require.InDeltaSlice(t, la, lf, 1e-10, "%s: losses", act)
		for i, p := range ma.Params() {
			q := mf.Params()[i]
			for j := range p.Data {
				require.InDelta(t, p.Data[j], q.Data[j], 1e-8*(1+math.Abs(p.Data[j])), "%s: param %d[%d]", act, i, j)
			}
		}
	}
}
