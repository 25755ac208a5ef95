package fm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
)

// eightGaussiansMix is the 8gaussians set as a mixture: (1/8) Σₖ
// N(4(cos πk/4, sin πk/4)/√2, (0.5/√2)² I).
func eightGaussiansMix() *fm.Mixture {
	q := &fm.Mixture{}
	for k := 0; k < 8; k++ {
		s, c := math.Sincos(math.Pi * float64(k) / 4)
		q.Means = append(q.Means, []float64{4 * c / math.Sqrt2, 4 * s / math.Sqrt2})
		q.Stds = append(q.Stds, 0.5/math.Sqrt2)
	}
	return q
}

// rmsDiff returns √(mean over rows of ‖a − b‖²).
func rmsDiff(a, b *autograd.Tensor) float64 {
	s := 0.0
	for k := range a.Data {
		d := a.Data[k] - b.Data[k]
		s += d * d
	}
	return math.Sqrt(s / float64(a.Rows))
}

// TestSampleExpInt_Order: on the exact 8gaussians field under CondOT and
// Cosine, the error of SampleExpInt against an RK4 reference (1000 steps,
// error ~h⁴ ≈ 10⁻¹², far below) falls like N^{−p}; the observed p = log₂(e(N)/e(2N)) at
// N = 320 is nearer 2 than 1 (> 1.5) for order 2, and nearer 1 (< 1.5) for
// order 1, the negative control (the second-order correction removed).
// The approach to 2 is slow on the uniform t grid (the log-SNR steps grow
// without bound at both ends, where the steps are first order): measured
// on CondOT, 1.41 at N = 40 → 80, 1.64 at 80 → 160, 1.79 at 320 → 640.
func TestSampleExpInt_Order(t *testing.T) {
	for _, p := range []fm.AffinePath{fm.CondOT{}, fm.Cosine{}} {
		m := fm.MixtureMarginal{Path: p, Data: eightGaussiansMix()}
		v := mixtureVelocity(m)
		x0 := autograd.Normal(20, 2, 0, 1, fm.NewRand(43))
		ref, _, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: 1000})
		require.NoError(t, err)
		for _, order := range []int{1, 2} {
			e := map[int]float64{}
			for _, n := range []int{320, 640} {
				x, err := fm.SampleExpInt(v, p, x0, n, order)
				require.NoError(t, err)
				e[n] = rmsDiff(x, ref)
			}
			got := math.Log2(e[320] / e[640])
			t.Logf("%T order %d: rms error %.3g at N = 320, %.3g at N = 640, observed order %.2f", p, order, e[320], e[640], got)
			if order == 2 {
				assert.Greater(t, got, 1.5, "%T: second order", p)
			} else {
				assert.Less(t, got, 1.5, "%T: negative control (order 1)", p)
			}
		}
	}
}

// w2sq returns W₂² between two equal-size samples [n, d] by exact
// assignment (fm.Assignment on squared distances).
func w2sq(a, b *autograd.Tensor) float64 {
	_, total := fm.Assignment(fm.SquaredDistances(a, b))
	return total / float64(a.Rows)
}

// TestSampleExpInt_NFE: W₂² to a data sample against NFE, on the exact
// 8gaussians field under CondOT (σ_min = 0), for Euler, Heun, RK4, Dopri5
// and SampleExpInt (order 2), all from the same noise and against the same
// data sample (common random numbers, so differences are the solvers').
// The converged value is RK4 with 200 steps. Target of issue 15: the
// second-order exponential integrator is within 0.01 of it at NFE ≤ 20.
func TestSampleExpInt_NFE(t *testing.T) {
	p := fm.CondOT{}
	m := fm.MixtureMarginal{Path: p, Data: eightGaussiansMix()}
	v := mixtureVelocity(m)
	rng := fm.NewRand(47)
	n := 250
	x0 := autograd.Normal(n, 2, 0, 1, rng)
	data := m.Data.Sample(n, rng)
	solve := func(opts cnf.SolveOptions) (float64, int) {
		x, st, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, opts)
		require.NoError(t, err)
		return w2sq(x, data), st.NFE
	}
	conv, _ := solve(cnf.SolveOptions{Method: cnf.RK4, Steps: 200})
	t.Logf("converged W₂² (RK4, 200 steps) = %.4f", conv)
	for _, nfe := range []int{4, 8, 12, 20, 40} {
		e, _ := solve(cnf.SolveOptions{Method: cnf.Euler, Steps: nfe})
		h, _ := solve(cnf.SolveOptions{Method: cnf.Heun, Steps: max(1, nfe/2)})
		r, _ := solve(cnf.SolveOptions{Method: cnf.RK4, Steps: max(1, nfe/4)})
		x, err := fm.SampleExpInt(v, p, x0, nfe, 2)
		require.NoError(t, err)
		ei := w2sq(x, data)
		t.Logf("NFE %2d: Euler %.4f  Heun %.4f  RK4 %.4f  ExpInt2 %.4f", nfe, e, h, r, ei)
		if nfe == 20 {
			assert.InDelta(t, conv, ei, 0.01, "ExpInt2 at NFE 20: W₂² %.4f, converged %.4f", ei, conv)
		}
	}
	for _, tol := range []float64{1e-2, 1e-3, 1e-5} {
		d, nfe := solve(cnf.SolveOptions{Method: cnf.Dopri5, RTol: tol, ATol: tol})
		t.Logf("Dopri5 tol %g: NFE %d, W₂² %.4f", tol, nfe, d)
	}
}

// TestScheduleChange_SameEndpoints: the ODE of a field of CondOT (σ_min = 0),
// changed to another schedule by ScheduleChange.Velocity, ends where the
// original ODE ends: s₀ = s₁ = 1 for these pairs, so both flows are the same
// map x₀ ↦ x₁ reparametrized (Lipman et al. 2024, §4.8). With RK4 the two
// endpoints agree within the solvers' own errors, estimated by step
// doubling: ‖x^A − x^B‖ ≤ 2(‖x^A_N − x^A_2N‖ + ‖x^B_N − x^B_2N‖) at N = 200
// (RK4's error at N is 16× that at 2N, so this bounds it with room). This
// holds for any field, trained or exact; the exact 8gaussians field is
// used. At 8 Euler steps the schedules differ (their paths are not equally
// straight): W₂² to data is logged. LinearVP is left out: as To its t′_r is
// infinite at r = 1 (t_r = r/(r + √(1 − r²))), where RK4's last stage
// evaluates. Negative control: the field without the (s′/s)·x term (a
// reparametrization whose scale and time derivatives disagree) ends
// elsewhere for Cosine (for Polynomial(2), s_r ≡ 1: a pure time change,
// t_r = r²); a mislabelled From would not, since any consistent (t_r, s_r)
// with s₀ = s₁ = 1 reparametrizes the same ODE.
func TestScheduleChange_SameEndpoints(t *testing.T) {
	p := fm.CondOT{}
	m := fm.MixtureMarginal{Path: p, Data: eightGaussiansMix()}
	v := mixtureVelocity(m)
	x0 := autograd.Normal(50, 2, 0, 1, fm.NewRand(53))
	data := m.Data.Sample(50, fm.NewRand(59))
	run := func(f fm.Velocity, method cnf.Method, n int) *autograd.Tensor {
		x, _, err := cnf.Integrate(cnf.FieldOf(f), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: method, Steps: n})
		require.NoError(t, err)
		return x
	}
	a1, a2 := run(v, cnf.RK4, 100), run(v, cnf.RK4, 200)
	t.Logf("CondOT, Euler 8 steps: W₂² to data %.4f", w2sq(run(v, cnf.Euler, 8), data))
	for _, to := range []fm.AffinePath{fm.Cosine{}, fm.Polynomial{N: 2}} {
		vb := fm.ScheduleChange{From: p, To: to}.Velocity(v)
		b1, b2 := run(vb, cnf.RK4, 100), run(vb, cnf.RK4, 200)
		tol := 2 * (rmsDiff(a1, a2) + rmsDiff(b1, b2))
		got := rmsDiff(a2, b2)
		t.Logf("%T: rms ‖x^A − x^B‖ = %.3g (tol %.3g); Euler 8 steps: W₂² to data %.4f", to, got, tol, w2sq(run(vb, cnf.Euler, 8), data))
		assert.LessOrEqual(t, got, tol, "%T", to)
		c := fm.ScheduleChange{From: p, To: to}
		noDS := func(r, x *autograd.Tensor) *autograd.Tensor {
			out := vb(r, x).Clone()
			for i := 0; i < x.Rows; i++ {
				_, s, _, ds := c.Map(r.Data[i])
				for j := 0; j < x.Cols; j++ {
					out.Data[i*x.Cols+j] -= ds / s * x.At(i, j)
				}
			}
			return out
		}
		wrong := run(noDS, cnf.RK4, 200)
		t.Logf("%T: negative control (without the s′/s term): rms ‖x^A − x^B‖ = %.3g", to, rmsDiff(wrong, a2))
		if _, ok := to.(fm.Polynomial); !ok { // CondOT → Polynomial is a pure time change, s ≡ 1
			assert.Greater(t, rmsDiff(wrong, a2), 100*tol, "%T: negative control", to)
		}
	}
}
