package cnf

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
)

// testA is a non-normal 2×2 matrix with complex eigenvalues, so the test
// problems rotate, shear and contract: trace −0.8.
var testA = [][]float64{{-0.5, 1}, {-2, -0.3}}

// linearField is v(t, x) = A·x for every row x, i.e. x·Aᵀ on the batch.
func linearField(a [][]float64) Field {
	A := autograd.FromRows(a)
	return func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.MatMulNT(x, A) }
}

// expm returns e^{sA} by gonum.
func expm(a [][]float64, s float64) *mat.Dense {
	n := len(a)
	m := mat.NewDense(n, n, nil)
	for i := range a {
		for j := range a[i] {
			m.Set(i, j, s*a[i][j])
		}
	}
	var e mat.Dense
	e.Exp(m)
	return &e
}

// applyRows returns each row x of xs mapped to M·x.
func applyRows(m *mat.Dense, xs *autograd.Tensor) *autograd.Tensor {
	out := autograd.Zeros(xs.Rows, xs.Cols)
	for i := 0; i < xs.Rows; i++ {
		var y mat.VecDense
		y.MulVec(m, mat.NewVecDense(xs.Cols, append([]float64(nil), xs.Row(i)...)))
		for j := 0; j < xs.Cols; j++ {
			out.Data[i*xs.Cols+j] = y.AtVec(j)
		}
	}
	return out
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// problem is an initial-value problem on [0, 1] with a known solution.
type problem struct {
	name  string
	f     Field
	x0    *autograd.Tensor
	exact *autograd.Tensor // x(1)
}

func testProblems() []problem {
	x0 := autograd.FromRows([][]float64{{1, 0}, {0.3, -0.7}, {-1.2, 0.4}})
	// y′ = y·cos t, y(0) = y₀ ⇒ y(t) = y₀·e^{sin t}: nonlinear in t, so the
	// stage times cᵢ matter.
	y0 := autograd.FromRows([][]float64{{1}, {-0.5}})
	ycos := func(t float64, y *autograd.Tensor) *autograd.Tensor { return autograd.Scale(y, math.Cos(t)) }
	yExact := autograd.FromRows([][]float64{{math.Exp(math.Sin(1))}, {-0.5 * math.Exp(math.Sin(1))}})
	// y′ = −y², y(0) = 1 ⇒ y(t) = 1/(1 + t): nonlinear in y.
	sq := func(_ float64, y *autograd.Tensor) *autograd.Tensor { return autograd.Neg(autograd.Square(y)) }
	return []problem{
		{"linear", linearField(testA), x0, applyRows(expm(testA, 1), x0)},
		{"ycost", ycos, y0, yExact},
		{"riccati", sq, autograd.FromRows([][]float64{{1}}), autograd.FromRows([][]float64{{0.5}})},
	}
}

// slope fits log err = p·log h + c by least squares.
func slope(hs, errs []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(hs))
	for i := range hs {
		x, y := math.Log(hs[i]), math.Log(errs[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// measuredOrder integrates with N = 8, 16, 32, 64 steps and returns the
// fitted slope of log error against log h and the local slopes between
// consecutive halvings.
func measuredOrder(t *testing.T, tab tableau, p problem) (fit float64, local []float64) {
	var hs, errs []float64
	for _, n := range []int{8, 16, 32, 64} {
		grid, err := timeGrid(0, 1, SolveOptions{Steps: n})
		require.NoError(t, err)
		x, _, err := fixedStep(tab, p.f, p.x0.NoGraph(), grid, nil)
		require.NoError(t, err)
		hs = append(hs, 1/float64(n))
		errs = append(errs, maxAbsDiff(x.Data, p.exact.Data))
	}
	for i := 1; i < len(hs); i++ {
		local = append(local, math.Log(errs[i-1]/errs[i])/math.Log(2))
	}
	return slope(hs, errs), local
}

// TestIntegrate_ConvergenceOrder measures the global error at t = 1 for
// h = 1/8 … 1/64 and fits its slope in log–log. The global error of an
// order-p method is C·hᵖ(1 + D·h + …), so the local slope between h and h/2
// is p + D·h/2·… and the fitted one p + O(h): the band |slope − p| ≤ 0.2
// admits |D| up to ~3 at h = 1/8 (the local slopes, logged with -v, drift
// by at most 0.12 here and shrink as h halves).
func TestIntegrate_ConvergenceOrder(t *testing.T) {
	orders := map[Method]float64{Euler: 1, Midpoint: 2, Heun: 2, RK4: 4}
	for _, m := range []Method{Euler, Midpoint, Heun, RK4} {
		for _, p := range testProblems() {
			t.Run(fmt.Sprintf("%s/%s", m, p.name), func(t *testing.T) {
				fit, local := measuredOrder(t, tableaus[m], p)
				t.Logf("fitted slope %.3f, local slopes %.3f", fit, local)
				assert.InDelta(t, orders[m], fit, 0.2, "got order %.3f want %v (tol 0.2)", fit, orders[m])
			})
		}
	}
}

// TestIntegrate_ConvergenceOrder_WrongWeightFails is the negative control:
// RK4 with 1/6 of weight moved from stage 2 to stage 3
// (b = 1/6, 1/6, 1/2, 1/6) still satisfies the order-1, 2 and 3 conditions
// Σbᵢ = 1, Σbᵢcᵢ = ½, Σbᵢcᵢ² = ⅓ but not Σbᵢaᵢⱼcⱼ = 1/6, so the measured order
// must drop below 4 − 0.2.
func TestIntegrate_ConvergenceOrder_WrongWeightFails(t *testing.T) {
	bad := tableaus[RK4]
	bad.b = []float64{1.0 / 6, 1.0 / 6, 1.0 / 2, 1.0 / 6}
	for _, p := range testProblems()[:2] {
		fit, _ := measuredOrder(t, bad, p)
		assert.Less(t, fit, 4-0.2, "%s: a wrong RK4 weight still measured order %.3f", p.name, fit)
	}
}

// countingField wraps f and counts its evaluations.
func countingField(f Field, n *int) Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor { *n++; return f(t, x) }
}

func TestIntegrate_NFE(t *testing.T) {
	p := testProblems()[0]
	perStep := map[Method]int{Euler: 1, Midpoint: 2, Heun: 2, RK4: 4}
	for m, s := range perStep {
		t.Run(string(m), func(t *testing.T) {
			calls := 0
			_, st, err := Integrate(countingField(p.f, &calls), p.x0, 0, 1, SolveOptions{Method: m, Steps: 7})
			require.NoError(t, err)
			assert.Equal(t, 7*s, st.NFE)
			assert.Equal(t, calls, st.NFE)
			assert.Equal(t, 7, st.Accepted)
			assert.Zero(t, st.Rejected)
		})
	}
	t.Run("dopri5", func(t *testing.T) {
		calls := 0
		_, st, err := Integrate(countingField(p.f, &calls), p.x0, 0, 1, SolveOptions{Method: Dopri5, RTol: 1e-8, ATol: 1e-8})
		require.NoError(t, err)
		assert.Equal(t, calls, st.NFE)
		assert.Equal(t, 2+6*(st.Accepted+st.Rejected), st.NFE, "stats %+v", st)
	})
	t.Run("dopri5/firststep", func(t *testing.T) {
		// A first step of the whole interval at tight tolerance must be
		// rejected, so the FSAL accounting across rejections is exercised.
		calls := 0
		_, st, err := Integrate(countingField(p.f, &calls), p.x0, 0, 1, SolveOptions{Method: Dopri5, RTol: 1e-9, ATol: 1e-9, FirstStep: 1})
		require.NoError(t, err)
		require.Positive(t, st.Rejected)
		assert.Equal(t, calls, st.NFE)
		assert.Equal(t, 1+6*(st.Accepted+st.Rejected), st.NFE, "stats %+v", st)
	})
}

// TestDopri5_MeetsTolerance bounds the global error by the sum of the
// accepted local errors, each ≤ ATol + RTol·|x|max (the acceptance test in
// the RMS norm bounds every element by √(#elements) times that), propagated
// by at most e^{L·T} with L the Lipschitz constant (‖A‖₂ for the linear
// problem, 1 for y·cos t, 2 for −y² on y ∈ [½, 1]):
//
//	|x(1) − x̂(1)| ≤ Accepted·√m·(ATol + RTol·max|x|)·e^{L}.
func TestDopri5_MeetsTolerance(t *testing.T) {
	lips := []float64{mat.Norm(mat.NewDense(2, 2, []float64{-0.5, 1, -2, -0.3}), 2), 1, 2}
	for i, p := range testProblems() {
		prevErr, prevNFE := math.Inf(1), 0
		for _, tol := range []float64{1e-4, 1e-6, 1e-8} {
			x, st, err := Integrate(p.f, p.x0.NoGraph(), 0, 1, SolveOptions{Method: Dopri5, RTol: tol, ATol: tol})
			require.NoError(t, err)
			xmax := 0.0
			for _, v := range append(p.x0.Data, p.exact.Data...) {
				xmax = math.Max(xmax, math.Abs(v))
			}
			if i == 0 {
				xmax *= mat.Norm(expm(testA, 0.5), 2) * 2 // bound on |x(t)| over [0, 1], loose
			}
			bound := float64(st.Accepted) * math.Sqrt(float64(len(x.Data))) * (tol + tol*xmax) * math.Exp(lips[i])
			got := maxAbsDiff(x.Data, p.exact.Data)
			t.Logf("%s tol %g: error %.3g bound %.3g stats %+v", p.name, tol, got, bound, st)
			assert.LessOrEqual(t, got, bound, "%s: got error %g want ≤ %g", p.name, got, bound)
			assert.Less(t, got, prevErr, "%s: the error must fall as the tolerance does", p.name)
			assert.Greater(t, st.NFE, prevNFE)
			prevErr, prevNFE = got, st.NFE
		}
	}
}

// TestIntegrate_ForwardBackward integrates the linear problem 0 → 1 and back
// 1 → 0. With the exact flow Φ, x̂₀ − x₀ = (Φ̂₁₀(x̂₁) − Φ₁₀(x̂₁)) + e^{−A}(x̂₁ − Φ₀₁(x₀)),
// so |x̂₀ − x₀| ≤ E_back + ‖e^{−A}‖₂·E_fwd, both measured against the matrix
// exponential (plus rounding, 1e-13).
func TestIntegrate_ForwardBackward(t *testing.T) {
	p := testProblems()[0]
	for _, o := range []SolveOptions{
		{Method: Euler, Steps: 50}, {Method: Midpoint, Steps: 20}, {Method: Heun, Steps: 20},
		{Method: RK4, Steps: 10}, {Method: Dopri5, RTol: 1e-6, ATol: 1e-6},
	} {
		t.Run(string(o.Method), func(t *testing.T) {
			x1, _, err := Integrate(p.f, p.x0.NoGraph(), 0, 1, o)
			require.NoError(t, err)
			back, _, err := Integrate(p.f, x1, 1, 0, o)
			require.NoError(t, err)
			eFwd := maxAbsDiff(x1.Data, p.exact.Data)
			eBack := maxAbsDiff(back.Data, applyRows(expm(testA, -1), x1).Data)
			bound := eBack + math.Sqrt(2)*mat.Norm(expm(testA, -1), 2)*eFwd + 1e-13
			got := maxAbsDiff(back.Data, p.x0.Data)
			assert.LessOrEqual(t, got, bound, "round trip: got %g want ≤ %g", got, bound)
		})
	}
}

func TestIntegrate_GridAndCallback(t *testing.T) {
	p := testProblems()[1]
	grid := []float64{0, 0.1, 0.15, 0.5, 1}
	var times []float64
	x, st, err := Integrate(p.f, p.x0.NoGraph(), 0, 1, SolveOptions{Method: RK4, Grid: grid,
		Callback: func(t float64, _ *autograd.Tensor) { times = append(times, t) }})
	require.NoError(t, err)
	assert.Equal(t, grid, times)
	assert.Equal(t, 4, st.Accepted)
	assert.Equal(t, 16, st.NFE)
	// One RK4 step per interval: the same as stepping interval by interval.
	y := p.x0.NoGraph()
	for i := 1; i < len(grid); i++ {
		y = rkStep(tableaus[RK4], p.f, grid[i-1], y, grid[i]-grid[i-1])
	}
	assert.Equal(t, y.Data, x.Data)

	// Backwards grid.
	_, st, err = Integrate(p.f, p.x0.NoGraph(), 1, 0, SolveOptions{Method: Euler, Grid: []float64{1, 0.5, 0}})
	require.NoError(t, err)
	assert.Equal(t, 2, st.NFE)
}

func TestIntegrate_Errors(t *testing.T) {
	p := testProblems()[1]
	for name, o := range map[string]SolveOptions{
		"no method":         {},
		"unknown method":    {Method: "rk45", Steps: 3},
		"no steps":          {Method: RK4},
		"empty grid":        {Method: RK4, Grid: []float64{}},
		"one-point grid":    {Method: RK4, Grid: []float64{0}},
		"wrong endpoint":    {Method: RK4, Grid: []float64{0, 0.5}},
		"non-monotone":      {Method: RK4, Grid: []float64{0, 0.6, 0.4, 1}},
		"steps and grid":    {Method: RK4, Steps: 2, Grid: []float64{0, 1}},
		"negative steps":    {Method: RK4, Steps: -1},
		"dopri5 no tol":     {Method: Dopri5},
		"dopri5 with steps": {Method: Dopri5, Steps: 4, RTol: 1e-3},
	} {
		_, _, err := Integrate(p.f, p.x0, 0, 1, o)
		assert.ErrorIs(t, err, ErrOptions, name)
	}

	nan := func(t float64, x *autograd.Tensor) *autograd.Tensor {
		if t > 0.3 {
			return autograd.Full(x.Rows, x.Cols, math.NaN())
		}
		return x
	}
	_, _, err := Integrate(nan, p.x0, 0, 1, SolveOptions{Method: Heun, Steps: 10})
	assert.ErrorIs(t, err, ErrNonFinite)
	_, _, err = Integrate(nan, p.x0, 0, 1, SolveOptions{Method: Dopri5, RTol: 1e-6})
	assert.ErrorIs(t, err, ErrNonFinite)

	_, st, err := Integrate(p.f, p.x0, 0, 1, SolveOptions{Method: Dopri5, RTol: 1e-10, ATol: 1e-10, MaxSteps: 3})
	assert.ErrorIs(t, err, ErrMaxSteps)
	assert.Equal(t, 3, st.Accepted+st.Rejected)

	// y′ = −sign(y − ½) chatters around y = ½: every step across it has a
	// nonzero error estimate, which ATol = 1e-300 never accepts, so the step
	// shrinks until it underflows.
	chatter := func(_ float64, y *autograd.Tensor) *autograd.Tensor {
		v := autograd.Zeros(y.Rows, y.Cols)
		for i, yi := range y.Data {
			v.Data[i] = -math.Copysign(1, yi-0.5)
		}
		return v
	}
	_, _, err = Integrate(chatter, autograd.FromRows([][]float64{{0}}), 0, 1, SolveOptions{Method: Dopri5, ATol: 1e-300, MaxSteps: 1 << 20})
	assert.ErrorIs(t, err, ErrStepUnderflow)
	t.Log(err)
}

// TestIntegrate_Modes checks that a NoGraph state gives a plain result even
// when the field has parameters that require gradients, and that a recorded
// solve backpropagates the derivative of the discrete scheme exactly.
func TestIntegrate_Modes(t *testing.T) {
	a := autograd.Scalar(-0.7).SetRequiresGrad(true)
	f := func(_ float64, y *autograd.Tensor) *autograd.Tensor {
		return autograd.MulCol(y, autograd.Expand(a, y.Rows, 1))
	}
	y0 := autograd.FromRows([][]float64{{1.5}})

	x, _, err := Integrate(f, y0.NoGraph(), 0, 1, SolveOptions{Method: RK4, Steps: 5})
	require.NoError(t, err)
	assert.True(t, x.IsNoGraph())
	assert.False(t, x.RequiresGrad())

	// RK4 on y′ = a·y multiplies by R(ah) = 1 + z + z²/2 + z³/6 + z⁴/24 per
	// step: y_N = y₀·R(ah)ᴺ, d y_N/da = y₀·N·R^{N−1}·R′(ah)·h.
	const n, h = 5, 0.2
	x, _, err = Integrate(f, y0, 0, 1, SolveOptions{Method: RK4, Steps: n})
	require.NoError(t, err)
	require.True(t, x.RequiresGrad())
	x.Backward()
	z := -0.7 * h
	r := 1 + z + z*z/2 + z*z*z/6 + z*z*z*z/24
	dr := 1 + z + z*z/2 + z*z*z/6
	assert.InDelta(t, 1.5*math.Pow(r, n), x.Item(), 1e-15)
	want := 1.5 * n * math.Pow(r, n-1) * dr * h
	assert.InDelta(t, want, a.Grad[0], 1e-14, "got %v want %v", a.Grad[0], want)
}

// TestIntegrate_GradCheck backpropagates through every scheme and compares
// with central differences (autograd.GradCheck derives its tolerance).
func TestIntegrate_GradCheck(t *testing.T) {
	for _, o := range []SolveOptions{{Method: Euler, Steps: 4}, {Method: Midpoint, Steps: 3}, {Method: Heun, Steps: 3}, {Method: RK4, Steps: 3}} {
		fn := func(xs []*autograd.Tensor) *autograd.Tensor {
			A := xs[1]
			f := func(t float64, x *autograd.Tensor) *autograd.Tensor {
				return autograd.Tanh(autograd.AddScalar(autograd.MatMulNT(x, A), t))
			}
			y, _, err := Integrate(f, xs[0], 0, 1, o)
			require.NoError(t, err)
			return y
		}
		x0 := autograd.FromRows([][]float64{{0.2, -0.4}, {1, 0.5}})
		require.NoError(t, autograd.GradCheck(fn, []*autograd.Tensor{x0, autograd.FromRows(testA)}, nil), o.Method)
	}
}
