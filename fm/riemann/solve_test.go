package riemann

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
)

// heightField is v(x) = k·e_z (constant, ambient); projected, it is the
// gradient of k·z on S², whose flow moves along meridians with
// ż = k(1 − z²): z(t) = tanh(k·t + atanh z₀), the azimuth φ fixed.
func heightField(k float64) cnf.Field {
	return func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		v := autograd.Zeros(x.Rows, 3)
		for i := 0; i < x.Rows; i++ {
			v.Data[3*i+2] = k
		}
		return v
	}
}

// heightFlow returns the exact flow of heightField(k) for time s from x.
func heightFlow(k, s float64, x []float64) []float64 {
	z := math.Tanh(k*s + math.Atanh(x[2]))
	r0 := math.Hypot(x[0], x[1])
	r := math.Sqrt(1 - z*z)
	return []float64{x[0] / r0 * r, x[1] / r0 * r, z}
}

// mlpField is a small random MLP field on the embedded coordinates.
func mlpField(d int, seed uint64) cnf.Field {
	net := nn.NewVelocityMLP(d, []int{16, 16}, autograd.ActTanh, newRNG(seed))
	return cnf.FieldOf(net)
}

// Integrate keeps points on S² to rounding: |‖x‖ − 1| ≤ 1e-12 (the issue's
// target) after 50 Euler and 50 RK4 steps of a random MLP field. Negative
// control: cnf's ambient RK4 on the same tangent field, no retraction,
// misses the target (measured drift 1.3e-11).
func TestIntegrate_StaysOnSphere(t *testing.T) {
	rng := newRNG(20)
	m := Sphere{D: 2}
	f := mlpField(3, 21)
	x0 := m.Uniform(200, rng)
	for _, method := range []cnf.Method{cnf.Euler, cnf.RK4} {
		x, err := Integrate(m, f, x0, 0, 1, 50, method, nil)
		require.NoError(t, err)
		for i := 0; i < x.Rows; i++ {
			require.InDelta(t, 1, norm(x.Row(i)), 1e-12, string(method))
		}
	}
	amb := func(tt float64, x *autograd.Tensor) *autograd.Tensor { return m.ProjTensor(x, f(tt, x)) }
	y, _, err := cnf.Integrate(amb, x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: 50})
	require.NoError(t, err)
	worst := 0.0
	for i := 0; i < y.Rows; i++ {
		worst = math.Max(worst, math.Abs(norm(y.Row(i))-1))
	}
	require.Greater(t, worst, 1e-12, "negative control: ambient RK4 stays on the sphere?") // measured 1.3e-11
}

// Measured order against the closed-form height flow (k = 1.5, 20 points):
// with N and 2N steps the error ratio is 2^p, p = 1 for the geodesic Euler
// step and p = 4 for RK4 with retraction; asserted within ±0.3 at
// N = 16 → 32 (the asymptotic regime: the next ratio changes p by < 0.1).
// Negative control: mapping RK4's combined increment back with Exp_x(P_x Δ)
// instead of Retract(x + Δ) is only order 2.
func TestIntegrate_Order(t *testing.T) {
	rng := newRNG(22)
	m := Sphere{D: 2}
	const k = 1.5
	x0 := m.Uniform(20, rng)
	want := autograd.Zeros(20, 3)
	for i := 0; i < 20; i++ {
		copy(want.Row(i), heightFlow(k, 1, x0.Row(i)))
	}
	maxErr := func(x *autograd.Tensor) float64 {
		e := 0.0
		for i := 0; i < x.Rows; i++ {
			e = math.Max(e, norm(sub(x.Row(i), want.Row(i))))
		}
		return e
	}
	order := func(step func(n int) *autograd.Tensor) float64 {
		return math.Log2(maxErr(step(16)) / maxErr(step(32)))
	}
	for _, c := range []struct {
		method cnf.Method
		p      float64
	}{{cnf.Euler, 1}, {cnf.RK4, 4}} {
		p := order(func(n int) *autograd.Tensor {
			x, err := Integrate(m, heightField(k), x0, 0, 1, n, c.method, nil)
			require.NoError(t, err)
			return x
		})
		t.Logf("%s: measured order %.3f", c.method, p)
		require.InDelta(t, c.p, p, 0.3, "%s: measured order %.3f want %v", c.method, p, c.p)
	}
	p := order(func(n int) *autograd.Tensor { return rk4ExpStep(m, heightField(k), x0, n) })
	t.Logf("negative control: measured order %.3f", p)
	require.Less(t, p, 3.0, "negative control: RK4 mapped back by Exp_x(P_x Δ) has order %.3f", p)
}

// rk4ExpStep is the negative control of TestIntegrate_Order: RK4's stages as
// in Integrate, mapped back by Exp_x(P_x Δ).
func rk4ExpStep(m Manifold, f cnf.Field, x0 *autograd.Tensor, n int) *autograd.Tensor {
	g := AmbientField(m, f)
	x := x0.Clone()
	h := 1 / float64(n)
	for s := 0; s < n; s++ {
		tt := float64(s) * h
		k1 := g(tt, x)
		k2 := g(tt+h/2, axpy(x, h/2, k1))
		k3 := g(tt+h/2, axpy(x, h/2, k2))
		k4 := g(tt+h, axpy(x, h, k3))
		next := autograd.Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			d := make([]float64, x.Cols)
			for j := range d {
				d[j] = h / 6 * (k1.Row(i)[j] + 2*k2.Row(i)[j] + 2*k3.Row(i)[j] + k4.Row(i)[j])
			}
			copy(next.Row(i), m.Exp(x.Row(i), m.Proj(x.Row(i), d)))
		}
		x = next
	}
	return x
}

// For a constant ambient v = a, div_g(P a) = −D·(a·x) on S^D (the height
// function is an eigenfunction of the Laplace–Beltrami operator with
// eigenvalue −D), for D = 2 and 4, to rounding. Negative control: cnf's
// Euclidean divergence of the unextended x ↦ P_x a is −(D+2)(a·x).
func TestSphereDivergence_Height(t *testing.T) {
	rng := newRNG(23)
	for _, D := range []int{2, 4} {
		m := Sphere{D: D}
		a := autograd.Normal(1, D+1, 0, 1, rng)
		f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Expand(a, x.Rows, D+1) }
		x := m.Uniform(30, rng)
		div := SphereDivergence(f, 0, x)
		_, amb := cnf.ExactDivergence(AmbientField(m, f), 0, x.NoGraph())
		_, raw := cnf.ExactDivergence(func(tt float64, y *autograd.Tensor) *autograd.Tensor { return m.ProjTensor(y, f(tt, y)) }, 0, x.NoGraph())
		for i := 0; i < x.Rows; i++ {
			ax := dot(a.Row(0), x.Row(i))
			require.InDelta(t, -float64(D)*ax, div.Data[i], 1e-12, "D=%d", D)
			require.InDelta(t, -float64(D)*ax, amb.Data[i], 1e-12, "D=%d AmbientField", D)
			require.InDelta(t, -float64(D+2)*ax, raw.Data[i], 1e-12, "D=%d negative control", D)
		}
	}
}

// The Euclidean divergence of AmbientField equals the written-out
// SphereDivergence for a random MLP field at points of S² and S³ (1e-12,
// rounding of d backward passes), and cnf's Hutchinson estimator on
// AmbientField is unbiased for it (mean of 2,000 Rademacher probes within
// 5 standard errors computed here). Negative control: the unextended
// projected field is off by 2·(x·v).
func TestAmbientField_DivergenceIsRiemannian(t *testing.T) {
	rng := newRNG(24)
	for _, D := range []int{2, 3} {
		m := Sphere{D: D}
		f := mlpField(D+1, uint64(30+D))
		x := m.Uniform(20, rng)
		want := SphereDivergence(f, 0.3, x)
		_, got := cnf.ExactDivergence(AmbientField(m, f), 0.3, x.NoGraph())
		_, raw := cnf.ExactDivergence(func(tt float64, y *autograd.Tensor) *autograd.Tensor { return m.ProjTensor(y, f(tt, y)) }, 0.3, x.NoGraph())
		v := f(0.3, x)
		for i := 0; i < x.Rows; i++ {
			require.InDelta(t, want.Data[i], got.Data[i], 1e-12)
			require.InDelta(t, want.Data[i]-2*dot(x.Row(i), v.Row(i)), raw.Data[i], 1e-12, "negative control")
			require.Greater(t, math.Abs(raw.Data[i]-want.Data[i]), 1e-6, "negative control differs")
		}
		est := make([][]float64, x.Rows)
		probes := cnf.Probes(cnf.Rademacher, 2000, x.Rows, x.Cols, rng)
		for _, p := range probes {
			_, h := cnf.HutchinsonDivergence(AmbientField(m, f), 0.3, x.NoGraph(), []*autograd.Tensor{p})
			for i := range est {
				est[i] = append(est[i], h.Data[i])
			}
		}
		for i := range est {
			mean, se := stats.MeanStdErr(est[i])
			require.InDelta(t, want.Data[i], mean, 5*se+1e-12, "Hutchinson row %d", i)
		}
	}
}

// A rotation x ↦ Rx (the flow of v = ω × x for time 1, ω = angle·axis) is
// an isometry: the model density of the uniform base stays −ln 4π and X0 =
// R⁻¹x (dopri5 at tolerance 1e-10: 1e-8). Negative control: the density
// with the divergence's sign flipped is still −ln 4π (div = 0), so the
// control here is X0: the inverse rotation by the wrong sign is off.
func TestLogLikelihood_Rotation(t *testing.T) {
	rng := newRNG(25)
	m := Sphere{D: 2}
	w := 0.9 // rotation about e_z by angle 0.9
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor {
		v := autograd.Zeros(x.Rows, 3)
		for i := 0; i < x.Rows; i++ {
			r := x.Row(i)
			v.Data[3*i], v.Data[3*i+1] = -w*r[1], w*r[0]
		}
		return v
	}
	x := m.Uniform(10, rng)
	lik, _, err := LogLikelihood(m, f, x.NoGraph(), nil, cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10})
	require.NoError(t, err)
	for i := 0; i < x.Rows; i++ {
		require.InDelta(t, -math.Log(4*math.Pi), lik.LogP1.Data[i], 1e-8)
		r := x.Row(i)
		c, s := math.Cos(w), math.Sin(w)
		back := []float64{c*r[0] + s*r[1], -s*r[0] + c*r[1], r[2]}
		require.InDeltaSlice(t, back, lik.X0.Row(i), 1e-8)
		wrong := []float64{c*r[0] - s*r[1], s*r[0] + c*r[1], r[2]}
		require.Greater(t, norm(sub(wrong, lik.X0.Row(i))), 1e-3*math.Hypot(r[0], r[1]), "negative control")
	}
}

// heightLogDensity is the exact log-density at x of the uniform law on S²
// pushed by the height flow for time 1: z is uniform on [−1, 1]
// (Archimedes) and z₁ = tanh(k + atanh z₀), so
// log p₁(x) = −ln 4π + ln((1 − z₀²)/(1 − z₁²)), z₀ = tanh(atanh z₁ − k).
func heightLogDensity(k float64, x []float64) float64 {
	z1 := x[2]
	z0 := math.Tanh(math.Atanh(z1) - k)
	return -math.Log(4*math.Pi) + math.Log((1-z0*z0)/(1-z1*z1))
}

// The manifold change of variables against a known non-isometric map of
// S² (the height flow, k = 1.5): LogLikelihood with the exact divergence
// matches heightLogDensity to the dopri5 tolerance (1e-10 → 1e-7), and with
// Hutchinson (one Rademacher probe per solve, 150 solves) within 5
// standard errors. Negative control: cnf.LogLikelihood on the unextended
// projected field (Euclidean divergence −(D+2)(a·x) instead of −D(a·x)) is
// off by more than 0.05.
func TestLogLikelihood_HeightFlow(t *testing.T) {
	rng := newRNG(26)
	m := Sphere{D: 2}
	const k = 1.5
	f := heightField(k)
	x := m.Uniform(8, rng)
	opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-10, ATol: 1e-10}
	lik, _, err := LogLikelihood(m, f, x.NoGraph(), nil, opts)
	require.NoError(t, err)
	raw := func(tt float64, y *autograd.Tensor) *autograd.Tensor { return m.ProjTensor(y, f(tt, y)) }
	base := func(x0 *autograd.Tensor) *autograd.Tensor { return autograd.Full(x0.Rows, 1, -m.LogVolume()) }
	bad, _, err := cnf.LogLikelihood(raw, x.NoGraph(), 1, 0, base, nil, opts)
	require.NoError(t, err)
	for i := 0; i < x.Rows; i++ {
		want := heightLogDensity(k, x.Row(i))
		require.InDelta(t, want, lik.LogP1.Data[i], 1e-7, "row %d", i)
		require.Greater(t, math.Abs(bad.LogP1.Data[i]-want), 0.05, "negative control row %d", i)
	}
	rk := cnf.SolveOptions{Method: cnf.RK4, Steps: 40}
	xs := autograd.Zeros(2, 3)
	copy(xs.Row(0), x.Row(0))
	copy(xs.Row(1), x.Row(1))
	est := [2][]float64{}
	for r := 0; r < 150; r++ {
		l, _, err := LogLikelihood(m, f, xs.NoGraph(), cnf.Hutchinson(cnf.Rademacher, 1, rng, false), rk)
		require.NoError(t, err)
		for i := 0; i < 2; i++ {
			est[i] = append(est[i], l.LogP1.Data[i])
		}
	}
	for i := 0; i < 2; i++ {
		mean, se := stats.MeanStdErr(est[i])
		// RK4 with 40 steps adds a bias below 1e-6 (order 4 on this smooth field).
		require.InDelta(t, heightLogDensity(k, xs.Row(i)), mean, 5*se+1e-6, "Hutchinson row %d (se %.2g)", i, se)
	}
}

// The model density of a random MLP field on S² integrates to 1:
// Gauss–Legendre in z (nz nodes) times the trapezoid rule in φ (2nz nodes),
// area element dz·dφ. The quadrature error is estimated by the difference
// between nz = 12 and nz = 24 (the rule converges spectrally, so the finer
// one is far more accurate); asserted: |I₂₄ − 1| ≤ 3·|I₂₄ − I₁₂| + 1e-6
// (dopri5 at 1e-8). Negative control: the unextended field's density does
// not integrate to 1 (off by > 1e-2).
func TestLogLikelihood_IntegratesToOne(t *testing.T) {
	m := Sphere{D: 2}
	f := mlpField(3, 27)
	opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-8, ATol: 1e-8}
	integral := func(nz int, ll func(x *autograd.Tensor) []float64) float64 {
		zs, ws := make([]float64, nz), make([]float64, nz)
		quad.Legendre{}.FixedLocations(zs, ws, -1, 1)
		nphi := 2 * nz
		x := autograd.Zeros(nz*nphi, 3)
		for a, z := range zs {
			for b := 0; b < nphi; b++ {
				phi := 2 * math.Pi * float64(b) / float64(nphi)
				r := math.Sqrt(1 - z*z)
				copy(x.Row(a*nphi+b), []float64{r * math.Cos(phi), r * math.Sin(phi), z})
			}
		}
		lp := ll(x)
		s := 0.0
		for a := range zs {
			for b := 0; b < nphi; b++ {
				s += ws[a] * 2 * math.Pi / float64(nphi) * math.Exp(lp[a*nphi+b])
			}
		}
		return s
	}
	good := func(x *autograd.Tensor) []float64 {
		l, _, err := LogLikelihood(m, f, x.NoGraph(), nil, opts)
		require.NoError(t, err)
		return l.LogP1.Data
	}
	i12, i24 := integral(12, good), integral(24, good)
	t.Logf("∫p: %.10f (nz=12), %.10f (nz=24)", i12, i24)
	require.InDelta(t, 1, i24, 3*math.Abs(i24-i12)+1e-6)
	raw := func(tt float64, y *autograd.Tensor) *autograd.Tensor { return m.ProjTensor(y, f(tt, y)) }
	base := func(x0 *autograd.Tensor) *autograd.Tensor { return autograd.Full(x0.Rows, 1, -m.LogVolume()) }
	bad := integral(12, func(x *autograd.Tensor) []float64 {
		l, _, err := cnf.LogLikelihood(raw, x.NoGraph(), 1, 0, base, nil, opts)
		require.NoError(t, err)
		return l.LogP1.Data
	})
	require.Greater(t, math.Abs(bad-1), 1e-2, "negative control: ∫p = %v", bad)
}

// torusField is a smooth 2π-periodic field on T²:
// v = (0.8 sin(θ₁ + θ₂) + 0.3t, 0.6 cos(θ₁ − 2θ₂) + 0.5 sin θ₂).
func torusField(t float64, x *autograd.Tensor) *autograd.Tensor {
	a, b := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
	v1 := autograd.AddScalar(autograd.Scale(autograd.Sin(autograd.Add(a, b)), 0.8), 0.3*t)
	v2 := autograd.Add(autograd.Scale(autograd.Cos(autograd.Sub(a, autograd.Scale(b, 2))), 0.6), autograd.Scale(autograd.Sin(b), 0.5))
	return autograd.Concat(v1, v2)
}

// The model density of a periodic field on T² integrates to 1 by the
// trapezoid rule (geometric convergence for smooth periodic integrands):
// |I₃₂ − 1| ≤ 3·|I₃₂ − I₁₆| + 1e-6 (dopri5 at 1e-8), from the uniform
// base and from a wrapped normal (σ = 1.5) by LogLikelihoodFrom. Negative
// controls: the divergence with its sign flipped, and the wrapped normal
// scored without its lattice sum (mass P(|σz| < π)² ≈ 0.93 for σ = 1.5),
// give densities that do not integrate to 1.
func TestLogLikelihood_IntegratesToOneTorus(t *testing.T) {
	m := Torus{D: 2}
	opts := cnf.SolveOptions{Method: cnf.Dopri5, RTol: 1e-8, ATol: 1e-8}
	integral := func(n int, base Base, div cnf.DivergenceFunc) float64 {
		x := autograd.Zeros(n*n, 2)
		h := 2 * math.Pi / float64(n)
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				copy(x.Row(a*n+b), []float64{float64(a) * h, float64(b) * h})
			}
		}
		l, _, err := LogLikelihoodFrom(m, base, torusField, x.NoGraph(), div, opts)
		require.NoError(t, err)
		s := 0.0
		for _, lp := range l.LogP1.Data {
			s += math.Exp(lp) * h * h
		}
		return s
	}
	for _, base := range []Base{Uniform{M: m}, NewWrappedNormal(2, 1.5)} {
		i16, i32 := integral(16, base, nil), integral(32, base, nil)
		t.Logf("%v: ∫p on T²: %.10f (16²), %.10f (32²)", base, i16, i32)
		require.InDelta(t, 1, i32, 3*math.Abs(i32-i16)+1e-6, "%v", base)
	}
	flipped := func(f cnf.Field, tt float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		v, d := cnf.ExactDivergence(f, tt, x)
		return v, autograd.Neg(d)
	}
	bad := integral(16, Uniform{M: m}, flipped)
	require.Greater(t, math.Abs(bad-1), 1e-2, "negative control: ∫p = %v", bad)
	bad = integral(16, unwrapped{NewWrappedNormal(2, 1.5)}, nil)
	require.Greater(t, math.Abs(bad-1), 1e-2, "negative control (the normal density without its lattice sum): ∫p = %v", bad)
}

// unwrapped is a wrapped normal scored by the k = 0 term of its lattice
// sum alone, the plain normal density of δ: a negative control that
// misses the mass wrapped around the torus.
type unwrapped struct{ WrappedNormal }

func (u unwrapped) LogDensity(x []float64) float64 {
	lp := 0.0
	for j, mu := range u.Mu {
		d := wrapSym(x[j] - mu)
		lp += -d*d/(2*u.Sigma*u.Sigma) - 0.5*math.Log(2*math.Pi*u.Sigma*u.Sigma)
	}
	return lp
}
