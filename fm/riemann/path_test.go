package riemann

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
)

// condFieldOf is the conditional field u_t(·|x₁) of one x₁ as a cnf.Field.
func condFieldOf(m Manifold, x1 []float64) cnf.Field {
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		u := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			copy(u.Row(i), CondField(m, t, x.Row(i), x1))
		}
		return u.NoGraph()
	}
}

// x_0 = x₀, x_1 = x₁, and d(x₀, x_t) = t·d(x₀, x₁), d(x_t, x₁) = (1 − t)·d
// (constant speed), to rounding (1e-12). Negative control: the chord
// interpolation Retract((1 − t)x₀ + t·x₁) has the right ends but not
// constant speed on the sphere (off by ≥ 1e-3 at t = 1/4 for d ≥ 1).
func TestGeodesic_EndpointsAndConstantSpeed(t *testing.T) {
	rng := newRNG(10)
	for _, m := range manifolds() {
		for k := 0; k < 100; k++ {
			x0, x1 := m.Uniform(1, rng).Row(0), m.Uniform(1, rng).Row(0)
			d := m.Dist(x0, x1)
			if d > 0.95*math.Pi {
				continue
			}
			require.Less(t, pointErr(m, Geodesic(m, 0, x0, x1), x0), 1e-12)
			require.Less(t, pointErr(m, Geodesic(m, 1, x0, x1), x1), 1e-12)
			for _, s := range []float64{0.1, 0.25, 0.5, 0.9} {
				xt := Geodesic(m, s, x0, x1)
				require.InDelta(t, s*d, m.Dist(x0, xt), 1e-12, "%s d(x₀, x_t)", m.Name())
				require.InDelta(t, (1-s)*d, m.Dist(xt, x1), 1e-12, "%s d(x_t, x₁)", m.Name())
			}
			if sp, ok := m.(Sphere); ok && d > 1 {
				chord := make([]float64, len(x0))
				for i := range chord {
					chord[i] = 0.75*x0[i] + 0.25*x1[i]
				}
				require.Greater(t, math.Abs(sp.Dist(x0, sp.Retract(chord))-0.25*d), 1e-3, "negative control")
			}
		}
	}
}

// The target generates the path: d/dt x_t = u_t(x_t|x₁), checked by a
// central difference with h = 1e-4, whose error is h²/6·‖x⃛‖ ≤ h²·π³/6 ≈ 5e-8
// on the sphere (x_t = cos(tθ)x₀ + sin(tθ)e, ‖x⃛‖ = θ³) plus rounding
// 2·1e-16/h, so tol 1e-7. u is tangent. Negative control: Log_x(x₁)
// without the 1/(1 − t) is off by t/(1 − t)·d ≥ 0.1 at t ≥ 0.25.
func TestCondField_GeneratesPath(t *testing.T) {
	rng := newRNG(11)
	const h = 1e-4
	for _, m := range manifolds() {
		for k := 0; k < 50; k++ {
			x0, x1 := m.Uniform(1, rng).Row(0), m.Uniform(1, rng).Row(0)
			d := m.Dist(x0, x1)
			if d > 0.95*math.Pi || d < 0.5 {
				continue
			}
			for _, s := range []float64{0.25, 0.5, 0.8} {
				xt := Geodesic(m, s, x0, x1)
				u := CondField(m, s, xt, x1)
				fd := m.Log(Geodesic(m, s-h, x0, x1), Geodesic(m, s+h, x0, x1))
				if _, ok := m.(Sphere); ok { // the chord difference on the embedding
					fd = sub(Geodesic(m, s+h, x0, x1), Geodesic(m, s-h, x0, x1))
					require.InDelta(t, 0, dot(xt, u), 1e-12, "u tangent")
				}
				for i := range fd {
					fd[i] /= 2 * h
				}
				require.Less(t, norm(sub(fd, u)), 1e-7, "%s: d/dt x_t: got %v want %v", m.Name(), u, fd)
				require.Greater(t, norm(sub(fd, m.Log(xt, x1))), 0.1, "negative control")
			}
		}
	}
}

// Solving the conditional field from x₀ lands on x₁: the geodesic Euler
// step moves the fraction h/(1 − t) of the remaining geodesic, so it is
// exact for this field and the last step (h = 1 − t) ends at x₁: to
// rounding (1e-12) with 7 steps. Every state is on the sphere to 1e-15.
// Negative control: the ambient Euler step x + h·u leaves the sphere by
// O(h²·d²).
func TestCondField_SolvesToX1(t *testing.T) {
	rng := newRNG(12)
	for _, m := range manifolds() {
		x0, x1 := m.Uniform(1, rng), m.Uniform(1, rng).Row(0)
		got, err := Integrate(m, condFieldOf(m, x1), x0, 0, 1, 7, cnf.Euler, func(_ float64, x *autograd.Tensor) {
			if _, ok := m.(Sphere); ok {
				require.InDelta(t, 1, norm(x.Row(0)), 1e-15)
			}
		})
		require.NoError(t, err)
		require.Less(t, pointErr(m, got.Row(0), x1), 1e-12, "%s: got %v want %v", m.Name(), got.Row(0), x1)
		if _, ok := m.(Sphere); ok {
			u := CondField(m, 0, x0.Row(0), x1)
			y := make([]float64, len(u))
			for i := range y {
				y[i] = x0.Row(0)[i] + u[i]/7
			}
			require.Greater(t, math.Abs(norm(y)-1), 1e-4, "negative control")
		}
	}
}

// With one data point, the conditional field is the marginal field, so
// CFMLoss is 0 for v = u_t(x|x₁) plus any normal component c·x: the
// projection removes it (to rounding, 1e-24 on a squared norm). Negative
// control: fm.SquaredError without the projection is c²·1 = 0.25.
func TestCFMLoss_ZeroAtTarget(t *testing.T) {
	rng := newRNG(13)
	m := Sphere{D: 2}
	x1 := m.Uniform(1, rng).Row(0)
	v := func(tt, x *autograd.Tensor) *autograd.Tensor {
		u := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			ui := CondField(m, tt.Data[i], x.Row(i), x1)
			for j := range ui {
				ui[j] += 0.5 * x.Row(i)[j]
			}
			copy(u.Row(i), ui)
		}
		return u
	}
	n := 64
	x0 := m.Uniform(n, rng)
	x1s := autograd.Zeros(n, 3)
	for i := 0; i < n; i++ {
		copy(x1s.Row(i), x1)
	}
	tt := autograd.Uniform(n, 1, 0, 0.99, rng)
	require.Less(t, CFMLoss(m, v, tt, x0, x1s).Item(), 1e-24)
	xt, ut := PathBatch(m, tt, x0, x1s)
	require.InDelta(t, 0.25, fm.SquaredError(v(tt, xt), ut).Item(), 1e-12, "negative control")
}
