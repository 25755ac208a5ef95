package cnf

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xc0ffee)) }

// tanhField is v(t, x) = tanh(x·Wᵀ + t·c) with Jacobian diag(1 − v²)·W, so
// div v = Σⱼ (1 − vⱼ²)·Wⱼⱼ exactly.
func tanhField(w, c *autograd.Tensor) Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.Tanh(autograd.AddRow(autograd.MatMulNT(x, w), autograd.Scale(c, t)))
	}
}

func tanhDiv(w, c *autograd.Tensor, t float64, x *autograd.Tensor) []float64 {
	v := tanhField(w, c)(t, x.NoGraph())
	d := make([]float64, x.Rows)
	for i := range d {
		for j := 0; j < x.Cols; j++ {
			d[i] += (1 - v.At(i, j)*v.At(i, j)) * w.At(j, j)
		}
	}
	return d
}

func TestDivergence_Linear(t *testing.T) {
	rng := newRNG(1)
	a := autograd.Normal(3, 3, 0, 1, rng)
	x := autograd.Normal(5, 3, 0, 1, rng)
	tr := a.At(0, 0) + a.At(1, 1) + a.At(2, 2)
	A := [][]float64{a.Row(0), a.Row(1), a.Row(2)}
	for name, xin := range map[string]*autograd.Tensor{"nograph": x.NoGraph(), "plain": x, "recorded": x.Clone().SetRequiresGrad(true)} {
		div := exactDiv(linearField(A), 0.3, xin)
		require.Equal(t, [2]int{5, 1}, div.Shape())
		for i := range div.Data {
			assert.InDelta(t, tr, div.Data[i], 1e-14, "%s row %d", name, i)
		}
		assert.Equal(t, xin.IsNoGraph(), div.IsNoGraph(), name)
	}
}

func TestDivergence_Nonlinear(t *testing.T) {
	rng := newRNG(2)
	w, c := autograd.Normal(3, 3, 0, 1, rng), autograd.Normal(1, 3, 0, 1, rng)
	x := autograd.Normal(6, 3, 0, 1, rng)
	want := tanhDiv(w, c, 0.7, x)
	got := exactDiv(tanhField(w, c), 0.7, x.NoGraph())
	for i := range want {
		assert.InDelta(t, want[i], got.Data[i], 1e-14)
	}
	// Negative control: the trace of the wrong matrix (Wⱼ₀ instead of Wⱼⱼ)
	// differs from what Divergence computes.
	wrong := w.Clone()
	for j := 0; j < 3; j++ {
		wrong.Data[j*3+j] = w.At(j, 0)
	}
	bad := tanhDiv(wrong, c, 0.7, x)
	assert.Greater(t, math.Abs(bad[0]-got.Data[0]), 1e-3)
}

// TestDivergence_Trainable checks that the recorded divergence is
// differentiable in the field's parameters (a second-order gradient),
// against central differences.
func TestDivergence_Trainable(t *testing.T) {
	rng := newRNG(3)
	w, c := autograd.Normal(2, 2, 0, 1, rng), autograd.Normal(1, 2, 0, 1, rng)
	x := autograd.Normal(4, 2, 0, 1, rng)
	fn := func(xs []*autograd.Tensor) *autograd.Tensor { return exactDiv(tanhField(xs[0], xs[1]), 0.4, x) }
	require.NoError(t, autograd.GradCheck(fn, []*autograd.Tensor{w, c}, nil))
	fx := func(xs []*autograd.Tensor) *autograd.Tensor { return exactDiv(tanhField(w, c), 0.4, xs[0]) }
	require.NoError(t, autograd.GradCheck(fx, []*autograd.Tensor{x}, nil))
}

// jacobian returns ∂v/∂x at the single point x (a [1, d] tensor) by d VJPs.
func jacobian(f Field, t float64, x *autograd.Tensor) *mat.Dense {
	d := x.Cols
	xl := x.Clone().SetRequiresGrad(true)
	v := f(t, xl)
	J := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		e := autograd.Zeros(1, d)
		e.Data[i] = 1
		g := autograd.Grad(v, e, xl)[0]
		J.SetRow(i, g.Data)
	}
	return J
}

// meanVar returns the sample mean, the sample variance and the standard
// error of the sample variance, √((m₄ − s⁴)/M), from the fourth central
// moment m₄ (no normality assumed).
func meanVar(xs []float64) (mean, variance, seVar float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var m2, m4 float64
	for _, x := range xs {
		d := (x - mean) * (x - mean)
		m2 += d
		m4 += d * d
	}
	variance = m2 / (n - 1)
	m4 /= n
	return mean, variance, math.Sqrt(math.Max(m4-variance*variance, 0) / n)
}

// hutchinsonSamples returns M independent K-probe estimates at the point x
// by repeating x in M rows (rows are independent samples).
func hutchinsonSamples(f Field, x *autograd.Tensor, kind ProbeKind, k, m int, rng *rand.Rand) []float64 {
	xs := autograd.Zeros(m, x.Cols)
	for i := 0; i < m; i++ {
		copy(xs.Row(i), x.Data)
	}
	_, div := HutchinsonDivergence(f, 0.5, xs.NoGraph(), Probes(kind, k, m, x.Cols, rng))
	return div.Data
}

// hutchinsonVariance is the one-probe variance of εᵀJε: with S = (J + Jᵀ)/2,
// Gaussian 2‖S‖²_F, Rademacher 2·Σ_{i≠j} S²ᵢⱼ.
func hutchinsonVariance(J *mat.Dense, kind ProbeKind) float64 {
	d, _ := J.Dims()
	v := 0.0
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			s := (J.At(i, j) + J.At(j, i)) / 2
			if i != j || kind == Gaussian {
				v += 2 * s * s
			}
		}
	}
	return v
}

// TestHutchinson_Unbiased: the mean of M = 20000 one-probe estimates lies
// within k = 4 standard errors (s/√M, computed here) of the exact
// divergence; a false alarm has probability ≈ 6e-5 per check.
func TestHutchinson_Unbiased(t *testing.T) {
	rng := newRNG(4)
	w, c := autograd.Normal(3, 3, 0, 1, rng), autograd.Normal(1, 3, 0, 1, rng)
	f := tanhField(w, c)
	x := autograd.Normal(1, 3, 0, 0.5, rng)
	exact := exactDiv(f, 0.5, x.NoGraph()).Item()
	const m, k = 20000, 4.0
	for _, kind := range []ProbeKind{Rademacher, Gaussian} {
		mean, variance, _ := meanVar(hutchinsonSamples(f, x, kind, 1, m, rng))
		se := math.Sqrt(variance / m)
		assert.InDelta(t, exact, mean, k*se, "kind %d: got mean %g want %g (tol %g)", kind, mean, exact, k*se)
		// Negative control: a biased estimator (probes with E[εεᵀ] = 1.1²·I)
		// is caught by the same test.
		scaled := Probes(kind, 1, m, 3, rng)
		for i := range scaled[0].Data {
			scaled[0].Data[i] *= 1.1
		}
		xs := autograd.Zeros(m, 3)
		for i := 0; i < m; i++ {
			copy(xs.Row(i), x.Data)
		}
		_, biased := HutchinsonDivergence(f, 0.5, xs.NoGraph(), scaled)
		bm, bv, _ := meanVar(biased.Data)
		assert.Greater(t, math.Abs(bm-exact), k*math.Sqrt(bv/m), "kind %d: the biased control was not caught", kind)
	}
}

// TestHutchinson_VarianceShrinksAsOneOverK: the sample variance of K-probe
// estimates matches Var₁/K from the exact Jacobian within k = 4 standard
// errors of the sample variance (from the fourth moment), for K = 1, 4, 16.
// Negative control: 1/√K is rejected at K = 16.
func TestHutchinson_VarianceShrinksAsOneOverK(t *testing.T) {
	rng := newRNG(5)
	w, c := autograd.Normal(3, 3, 0, 1, rng), autograd.Normal(1, 3, 0, 1, rng)
	f := tanhField(w, c)
	x := autograd.Normal(1, 3, 0, 0.5, rng)
	J := jacobian(f, 0.5, x)
	const m, k = 20000, 4.0
	for _, kind := range []ProbeKind{Rademacher, Gaussian} {
		v1 := hutchinsonVariance(J, kind)
		for _, K := range []int{1, 4, 16} {
			_, v, se := meanVar(hutchinsonSamples(f, x, kind, K, m, rng))
			want := v1 / float64(K)
			assert.InDelta(t, want, v, k*se, "kind %d K %d: got variance %g want %g (tol %g)", kind, K, v, want, k*se)
			if K == 16 {
				assert.Greater(t, math.Abs(v-v1/4), k*se, "1/√K not rejected")
			}
		}
	}
}

func TestHutchinson_FixedAndFresh(t *testing.T) {
	rng := newRNG(6)
	w, c := autograd.Normal(2, 2, 0, 1, rng), autograd.Normal(1, 2, 0, 1, rng)
	f := tanhField(w, c)
	x := autograd.Normal(3, 2, 0, 1, rng).NoGraph()
	fixed := Hutchinson(Rademacher, 1, rng, false)
	_, d1 := fixed(f, 0.5, x)
	_, d2 := fixed(f, 0.5, x)
	assert.Equal(t, d1.Data, d2.Data, "a fixed probe gives the same estimate twice")
	fresh := Hutchinson(Gaussian, 1, rng, true)
	_, d3 := fresh(f, 0.5, x)
	_, d4 := fresh(f, 0.5, x)
	assert.NotEqual(t, d3.Data, d4.Data, "fresh probes differ")
}

// solveBound is the global-error bound of TestDopri5_MeetsTolerance:
// Accepted·√m·(ATol + RTol·zmax)·e^{L}.
func solveBound(st Stats, m int, tol, zmax, lip float64) float64 {
	return float64(st.Accepted) * math.Sqrt(float64(m)) * tol * (1 + zmax) * math.Exp(lip)
}

// TestLogLikelihood_LinearField: v = τA·x on [0, 1] moves N(0, I) to
// p₁ = N(0, e^{τA}e^{τA}ᵀ), whose log-density is
//
//	log p₁(x) = log p₀(e^{−τA}x) − τ·tr A.
//
// The error of log p is at most |∇log p₀|·|Δx(0)| + |Δℓ(0)| ≤ (1 + max|x(0)|)·
// the solver bound. Negative control: the opposite sign of dℓ/dt fails.
func TestLogLikelihood_LinearField(t *testing.T) {
	rng := newRNG(7)
	x1 := autograd.Normal(8, 2, 0, 1.5, rng)
	const tol = 1e-9
	for _, tau := range []float64{0.3, 1, 2} {
		A := [][]float64{{tau * testA[0][0], tau * testA[0][1]}, {tau * testA[1][0], tau * testA[1][1]}}
		x0 := applyRows(expm(A, -1), x1)
		want := StandardNormalLogProb(x0)
		for i := range want.Data {
			want.Data[i] -= A[0][0] + A[1][1]
		}
		gotLk, st, err := LogLikelihood(linearField(A), x1.NoGraph(), 1, 0, StandardNormalLogProb, nil, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
		got := gotLk.LogP1
		require.NoError(t, err)
		assert.True(t, got.IsNoGraph())
		zmax := 0.0
		for _, v := range x0.Data {
			zmax = math.Max(zmax, math.Abs(v))
		}
		bound := (1 + zmax) * solveBound(st, 3*x1.Rows, tol, zmax, mat.Norm(mat.NewDense(2, 2, append(A[0], A[1]...)), 2))
		for i := range want.Data {
			assert.InDelta(t, want.Data[i], got.Data[i], bound, "τ %v row %d (tol %g)", tau, i, bound)
		}
		flipped := func(f Field, t float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
			v, d := ExactDivergence(f, t, x)
			return v, autograd.Neg(d)
		}
		badLk, _, err := LogLikelihood(linearField(A), x1.NoGraph(), 1, 0, StandardNormalLogProb, flipped, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
		bad := badLk.LogP1
		require.NoError(t, err)
		assert.Greater(t, maxAbsDiff(bad.Data, want.Data), 100*bound, "τ %v: the flipped sign was not caught", tau)
	}
}

// TestLogLikelihood_Interval: the time-dependent linear field v = t·A·x
// carries x at t₁ to x(t₀) = e^{(t₀² − t₁²)A/2}·x, with
// ∫_{t₀}^{t₁} div v dt = (t₁² − t₀²)/2·tr A, so on any interval
//
//	log p_{t₁}(x) = log p_{t₀}(x(t₀)) − (t₁² − t₀²)/2·tr A.
//
// Checked for Flow Matching's [1 → 0], FFJORD's direction (data at 0,
// base at T = 2) and an intermediate [0.7 → 0.3], LogP1 and X0 within the
// solver bound (the Lipschitz exponent is ‖A‖·|t₁² − t₀²|/2, as the field's
// constant is |t|·‖A‖). Negative control: the closed form of the default
// interval [1 → 0] is far from the result on the other intervals, so an
// implementation that ignored the interval would fail.
func TestLogLikelihood_Interval(t *testing.T) {
	rng := newRNG(41)
	x := autograd.Normal(6, 2, 0, 1.5, rng)
	At := autograd.FromRows(testA)
	f := func(s float64, x *autograd.Tensor) *autograd.Tensor {
		return autograd.Scale(autograd.MatMulNT(x, At), s)
	}
	trA := testA[0][0] + testA[1][1]
	normA := mat.Norm(mat.NewDense(2, 2, append(append([]float64(nil), testA[0]...), testA[1]...)), 2)
	want := func(t1, t0 float64) (x0, lp *autograd.Tensor) {
		x0 = applyRows(expm(testA, (t0*t0-t1*t1)/2), x)
		lp = StandardNormalLogProb(x0)
		for i := range lp.Data {
			lp.Data[i] -= (t1*t1 - t0*t0) / 2 * trA
		}
		return x0, lp
	}
	const tol = 1e-9
	_, defaultLP := want(1, 0)
	for _, iv := range [][2]float64{{1, 0}, {0, 2}, {0.7, 0.3}} {
		t1, t0 := iv[0], iv[1]
		lk, st, err := LogLikelihood(f, x.NoGraph(), t1, t0, StandardNormalLogProb, nil, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
		require.NoError(t, err)
		wantX0, wantLP := want(t1, t0)
		zmax := 0.0
		for _, v := range wantX0.Data {
			zmax = math.Max(zmax, math.Abs(v))
		}
		bound := (1 + zmax) * solveBound(st, 3*x.Rows, tol, zmax, normA*math.Abs(t1*t1-t0*t0)/2)
		assert.Equal(t, x.Data, lk.X1.Data, "[%v → %v]: X1 is the input", t1, t0)
		assert.LessOrEqual(t, maxAbsDiff(lk.X0.Data, wantX0.Data), bound, "[%v → %v]: X0 (tol %g)", t1, t0, bound)
		assert.LessOrEqual(t, maxAbsDiff(lk.LogP1.Data, wantLP.Data), bound, "[%v → %v]: LogP1 (tol %g)", t1, t0, bound)
		assert.Equal(t, StandardNormalLogProb(lk.X0).Data, lk.LogP0.Data, "[%v → %v]: LogP0 is log p₀(X0)", t1, t0)
		if t1 != 1 || t0 != 0 {
			assert.Greater(t, maxAbsDiff(lk.LogP1.Data, defaultLP.Data), 100*bound, "[%v → %v]: indistinguishable from [1 → 0]", t1, t0)
		}
	}
}

// condOT is the Gaussian target N(m, s²I) under the CondOT path with
// σ_min = 0, x_t = (1 − t)x₀ + t·x₁. Its marginal is p_t = N(t·m, σ_t² I) with
// σ_t² = (1 − t)² + t²s², and the field that generates it (Theorem 3 of
// Lipman et al. applied to the marginal Gaussian) is
//
//	u_t(x) = μ̇ + (σ̇/σ)(x − μ) = m + ((t·s² − (1 − t))/σ_t²)·(x − t·m).
type condOT struct {
	m []float64
	s float64
}

func (g condOT) sigma2(t float64) float64 { return (1-t)*(1-t) + t*t*g.s*g.s }

func (g condOT) field() Field {
	m := autograd.FromRows([][]float64{g.m})
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		k := (t*g.s*g.s - (1 - t)) / g.sigma2(t)
		return autograd.AddRow(autograd.Scale(autograd.AddRow(x, autograd.Scale(m, -t)), k), m)
	}
}

func (g condOT) logp(t float64, x []float64) float64 {
	s2 := g.sigma2(t)
	q := 0.0
	for i, xi := range x {
		q += (xi - t*g.m[i]) * (xi - t*g.m[i])
	}
	d := float64(len(x))
	return -q/(2*s2) - d/2*math.Log(2*math.Pi*s2)
}

func (g condOT) v(t float64, x []float64) []float64 {
	k := (t*g.s*g.s - (1 - t)) / g.sigma2(t)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = g.m[i] + k*(x[i]-t*g.m[i])
	}
	return out
}

// TestLogLikelihood_GaussianCondOT: the likelihood through the closed-form
// marginal CondOT field equals the target's Gaussian log-density, within
// the solver bound (as in TestLogLikelihood_LinearField; the field's
// Lipschitz constant is max_t |σ̇/σ| ≤ max(1, 1/s)).
func TestLogLikelihood_GaussianCondOT(t *testing.T) {
	g := condOT{m: []float64{1, -2}, s: 0.5}
	rng := newRNG(8)
	x1 := autograd.Zeros(10, 2)
	for i := 0; i < 10; i++ {
		for j := 0; j < 2; j++ {
			x1.Data[i*2+j] = g.m[j] + g.s*rng.NormFloat64()
		}
	}
	const tol = 1e-9
	gotLk, st, err := LogLikelihood(g.field(), x1.NoGraph(), 1, 0, StandardNormalLogProb, nil, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
	got := gotLk.LogP1
	require.NoError(t, err)
	bound := 6 * solveBound(st, 30, tol, 5, 2)
	for i := 0; i < 10; i++ {
		want := g.logp(1, x1.Row(i))
		assert.InDelta(t, want, got.Data[i], bound, "row %d (tol %g)", i, bound)
	}
	// Negative control: a target of the wrong width s = 0.55.
	for i := 0; i < 10; i++ {
		wrong := condOT{m: g.m, s: 0.55}.logp(1, x1.Row(i))
		if math.Abs(wrong-got.Data[i]) > bound {
			return
		}
	}
	t.Fatal("the wrong width was not caught on any row")
}

// TestLogLikelihood_ForwardBackwardAgree: carrying log p along while
// sampling (0 → 1) and recomputing it backwards from the sample (1 → 0)
// give the same value, within the sum of the two solver bounds, for a
// nonlinear field; also for RK4 with fixed steps, within the error of the
// RK4 likelihood measured against a fine Dopri5 reference.
func TestLogLikelihood_ForwardBackwardAgree(t *testing.T) {
	rng := newRNG(9)
	w, c := autograd.Normal(2, 2, 0, 1, rng), autograd.Normal(1, 2, 0, 1, rng)
	f := tanhField(w, c)
	x0 := autograd.Normal(16, 2, 0, 1, rng)
	const tol = 1e-9
	opts := SolveOptions{Method: Dopri5, RTol: tol, ATol: tol}
	fwdLk, st1, err := SampleWithLogLikelihood(f, x0, 0, 1, StandardNormalLogProb, nil, opts)
	require.NoError(t, err)
	x1, fwd := fwdLk.X1, fwdLk.LogP1
	bwdLk, st2, err := LogLikelihood(f, x1, 1, 0, StandardNormalLogProb, nil, opts)
	bwd := bwdLk.LogP1
	require.NoError(t, err)
	lip := mat.Norm(mat.NewDense(2, 2, w.Data), 2) + 2 // ‖W‖ bounds ∂v/∂x; the ℓ-row adds ≤ 2·max|W|
	bound := 6 * (solveBound(st1, 48, tol, 6, lip) + solveBound(st2, 48, tol, 6, lip))
	for i := range fwd.Data {
		assert.InDelta(t, fwd.Data[i], bwd.Data[i], bound, "row %d (tol %g)", i, bound)
	}
	// The sample is the plain Sample's result.
	xs, _, err := Sample(f, x0, opts)
	require.NoError(t, err)
	assert.InDeltaSlice(t, xs.Data, x1.Data, 10*tol)
}

// TestLogLikelihood_IntegratesToOne: the density of a nonlinear 2-D CNF
// (N(0, I) pushed by the bounded field tanh(·), which moves each point by at
// most √2) integrates to 1 on [−7, 7]². The error budget is derived:
//   - tail: mass outside the box comes from base mass with some
//     |zⱼ| > 7 − √2, at most 4·Φ(−5.58) < 1e-7;
//   - quadrature: the midpoint rule on a smooth, rapidly decaying integrand;
//     its error is estimated by |I_h − I_{h/2}| for h = 0.2, 0.1;
//   - solver: Σᵢ pᵢh²·|Δlog pᵢ| ≤ ‖p·h²‖₂·‖Δ‖₂ (Cauchy–Schwarz), with ‖Δ‖₂ ≤
//     √m·(1 + zmax)·RMS bound of TestDopri5_MeetsTolerance.
//
// Negative control: with dℓ/dt = +div v the integral misses 1 by far more.
func TestLogLikelihood_IntegratesToOne(t *testing.T) {
	rng := newRNG(10)
	w, c := autograd.Normal(2, 2, 0, 1, rng), autograd.Normal(1, 2, 0, 1, rng)
	f := tanhField(w, c)
	lip := mat.Norm(mat.NewDense(2, 2, w.Data), 2) + 2
	const L, tol = 7.0, 1e-8
	integral := func(h float64, div DivergenceFunc) (sum, solverErr float64) {
		n := int(math.Round(2 * L / h))
		pts := autograd.Zeros(n*n, 2)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				pts.Data[2*(i*n+j)] = -L + (float64(i)+0.5)*h
				pts.Data[2*(i*n+j)+1] = -L + (float64(j)+0.5)*h
			}
		}
		lpLk, st, err := LogLikelihood(f, pts.NoGraph(), 1, 0, StandardNormalLogProb, div, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
		lp := lpLk.LogP1
		require.NoError(t, err)
		q2 := 0.0
		for _, v := range lp.Data {
			q := math.Exp(v) * h * h
			sum += q
			q2 += q * q
		}
		m := float64(3 * n * n)
		rms := float64(st.Accepted) * tol * (1 + L + 2) * math.Exp(lip)
		return sum, math.Sqrt(q2) * math.Sqrt(m) * (1 + L + 2) * rms
	}
	i1, _ := integral(0.2, nil)
	i2, se := integral(0.1, nil)
	tolQ := math.Abs(i1-i2) + 1e-7 + se
	t.Logf("∫p = %.10f (h = 0.2), %.10f (h = 0.1); tol %.3g", i1, i2, tolQ)
	assert.InDelta(t, 1, i2, tolQ, "got ∫p = %v want 1 (tol %g)", i2, tolQ)

	flipped := func(f Field, t float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		v, d := ExactDivergence(f, t, x)
		return v, autograd.Neg(d)
	}
	bad, _ := integral(0.2, flipped)
	assert.Greater(t, math.Abs(bad-1), 100*tolQ, "the flipped sign integrates to %v", bad)
}

// TestContinuityResidual_GaussianPath: for the CondOT Gaussian pair
// (p_t, u_t) the residual is pure central-difference error r(h) = c·h² + …,
// so r(h/2) ≈ (r(h) − r(h/2))/3; we require |r(h/2)| ≤ 2·|r(h) − r(h/2)|/3
// plus rounding 1e3·ε·scale/h. A wrong field (σ̇ with the wrong sign) has
// r → r₀ ≠ 0 and fails the same check (negative control); so does the
// linear pair with a wrong trace sign.
func TestContinuityResidual_GaussianPath(t *testing.T) {
	g := condOT{m: []float64{1, -2}, s: 0.5}
	check := func(logp func(float64, []float64) float64, v func(float64, []float64) []float64, tt float64, x []float64) bool {
		const h = 1e-3
		r1, _ := ContinuityResidual(logp, v, tt, x, h)
		r2, scale := ContinuityResidual(logp, v, tt, x, h/2)
		return math.Abs(r2) <= 2*math.Abs(r1-r2)/3+1e3*epsilon*scale/(h/2)
	}
	wrong := func(t float64, x []float64) []float64 {
		k := -(t*g.s*g.s - (1 - t)) / g.sigma2(t)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = g.m[i] + k*(x[i]-t*g.m[i])
		}
		return out
	}
	A := [][]float64{{-0.5, 1}, {-2, -0.3}}
	linLogp := func(sign float64) func(float64, []float64) float64 {
		return func(t float64, x []float64) float64 {
			x0 := applyRows(expm(A, -t), autograd.FromRows([][]float64{x}))
			return StandardNormalLogProb(x0).Item() - sign*t*(A[0][0]+A[1][1])
		}
	}
	linV := func(_ float64, x []float64) []float64 {
		return []float64{A[0][0]*x[0] + A[0][1]*x[1], A[1][0]*x[0] + A[1][1]*x[1]}
	}
	rng := newRNG(11)
	for k := 0; k < 20; k++ {
		tt := 0.05 + 0.9*rng.Float64()
		x := []float64{tt*g.m[0] + rng.NormFloat64(), tt*g.m[1] + rng.NormFloat64()}
		assert.True(t, check(g.logp, g.v, tt, x), "CondOT at t %v x %v", tt, x)
		assert.False(t, check(g.logp, wrong, tt, x), "wrong field not caught at t %v x %v", tt, x)
		assert.True(t, check(linLogp(1), linV, tt, x), "linear at t %v x %v", tt, x)
		assert.False(t, check(linLogp(-1), linV, tt, x), "wrong trace sign not caught at t %v x %v", tt, x)
		r, scale := ContinuityResidual(g.logp, wrong, tt, x, 1e-3)
		assert.Greater(t, math.Abs(r)/scale, 1e-3)
	}
}

// TestFieldOf_VelocityMLP: a VelocityMLP adapted by FieldOf integrates in
// the no-graph mode and its divergence matches central differences.
func TestFieldOf_VelocityMLP(t *testing.T) {
	net := nn.NewVelocityMLP(2, []int{16, 16}, autograd.ActTanh, newRNG(12))
	f := FieldOf(net)
	x := autograd.Normal(3, 2, 0, 1, newRNG(13))
	x1, _, err := Sample(f, x, SolveOptions{Method: RK4, Steps: 4})
	require.NoError(t, err)
	assert.True(t, x1.IsNoGraph())
	div := exactDiv(f, 0.3, x.NoGraph())
	const h = 1e-5
	for i := 0; i < 3; i++ {
		fd := 0.0
		for j := 0; j < 2; j++ {
			xp, xm := x.Clone(), x.Clone()
			xp.Data[2*i+j] += h
			xm.Data[2*i+j] -= h
			fd += (f(0.3, xp.NoGraph()).At(i, j) - f(0.3, xm.NoGraph()).At(i, j)) / (2 * h)
		}
		assert.InDelta(t, fd, div.Data[i], 1e-8) // h²·|v‴|/6 + ε/h ≈ 1e-10 + 1e-11 per term
	}
}

// TestLogLikelihood_HutchinsonUnbiased: on a fixed RK4 grid the x-path does
// not depend on the divergence, and ℓ is linear in the divergence values,
// so the log-likelihood with one fixed Rademacher probe per solve is an
// unbiased estimate of the one with the exact divergence on the same grid.
// M = 4000 copies of one point (rows are independent, each gets its own
// probe) give M estimates; their mean lies within k = 4 standard errors.
// Negative control: the 1.1-scaled probes are biased and caught.
func TestLogLikelihood_HutchinsonUnbiased(t *testing.T) {
	rng := newRNG(40)
	w, c := autograd.Normal(3, 3, 0, 1, rng), autograd.Normal(1, 3, 0, 1, rng)
	f := tanhField(w, c)
	opts := SolveOptions{Method: RK4, Steps: 6}
	const m = 4000
	x := autograd.Zeros(m, 3)
	p := []float64{0.3, -0.8, 1.1}
	for i := 0; i < m; i++ {
		copy(x.Row(i), p)
	}
	exactLk, _, err := LogLikelihood(f, autograd.FromRows([][]float64{p}).NoGraph(), 1, 0, StandardNormalLogProb, nil, opts)
	exact := exactLk.LogP1
	require.NoError(t, err)
	estLk, _, err := LogLikelihood(f, x.NoGraph(), 1, 0, StandardNormalLogProb, Hutchinson(Rademacher, 1, rng, false), opts)
	est := estLk.LogP1
	require.NoError(t, err)
	mean, v, _ := meanVar(est.Data)
	se := math.Sqrt(v / m)
	assert.InDelta(t, exact.Item(), mean, 4*se, "got %g want %g (tol %g)", mean, exact.Item(), 4*se)

	scaled := func(f Field, t float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		ps := Probes(Rademacher, 1, x.Rows, x.Cols, rng)
		return HutchinsonDivergence(f, t, x, []*autograd.Tensor{autograd.Scale(ps[0], 1.1)})
	}
	badLk, _, err := LogLikelihood(f, x.NoGraph(), 1, 0, StandardNormalLogProb, scaled, opts)
	bad := badLk.LogP1
	require.NoError(t, err)
	bm, bv, _ := meanVar(bad.Data)
	assert.Greater(t, math.Abs(bm-exact.Item()), 4*math.Sqrt(bv/m), "biased control not caught")
}

// exactDiv is the divergence alone, from the package's one exact divergence.
func exactDiv(f Field, t float64, x *autograd.Tensor) *autograd.Tensor {
	_, div := ExactDivergence(f, t, x)
	return div
}
