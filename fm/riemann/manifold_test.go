package riemann

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func manifolds() []Manifold { return []Manifold{Sphere{D: 2}, Sphere{D: 4}, Torus{D: 2}, Torus{D: 3}} }

// randomTangent returns P_x z with z ~ N(0, s²I).
func randomTangent(m Manifold, x []float64, s float64, rng *rand.Rand) []float64 {
	z := make([]float64, m.Ambient())
	for i := range z {
		z[i] = s * rng.NormFloat64()
	}
	return m.Proj(x, z)
}

func sub(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

// pointErr is the chord distance on the sphere and the wrapped distance on
// the torus, so that angles 0 and 2π count as equal.
func pointErr(m Manifold, a, b []float64) float64 {
	if _, ok := m.(Torus); ok {
		return norm(m.Log(a, b))
	}
	return norm(sub(a, b))
}

// Exp_x(Log_x(y)) = y and Log_x(Exp_x(v)) = v for ‖v‖ < injectivity radius
// (π on S^d, and each |vᵢ| < π on the torus). Rounding: a few ulps of the
// coordinates times the Lipschitz constants of Exp/Log (≤ π/sin θ for θ
// away from π), so 1e-12. Negative control: the sphere's Log without the
// factor θ/sin θ (it returns the projection sin θ·…) breaks the round trip.
func TestManifold_ExpLogInverse(t *testing.T) {
	rng := newRNG(1)
	for _, m := range manifolds() {
		for k := 0; k < 200; k++ {
			x := m.Uniform(1, rng).Row(0)
			y := m.Uniform(1, rng).Row(0)
			if m.Dist(x, y) > 0.95*math.Pi { // stay away from the cut locus
				continue
			}
			back := m.Exp(x, m.Log(x, y))
			require.Less(t, pointErr(m, back, y), 1e-12, "%s: Exp∘Log: got %v want %v", m.Name(), back, y)
			v := randomTangent(m, x, 0.8, rng)
			if _, ok := m.(Torus); ok {
				for i := range v {
					v[i] = math.Max(-3, math.Min(3, v[i]))
				}
			} else if norm(v) > 3 {
				continue
			}
			w := m.Log(x, m.Exp(x, v))
			require.Less(t, norm(sub(w, v)), 1e-11, "%s: Log∘Exp: got %v want %v", m.Name(), w, v)
		}
	}
	// Negative control: the projection P_x y instead of Log_x(y).
	s := Sphere{D: 2}
	x, y := []float64{1, 0, 0}, []float64{0, 1, 0}
	require.Greater(t, norm(sub(s.Exp(x, s.Proj(x, y)), y)), 0.1)
}

// d(x, y) = ‖Log_x(y)‖ = d(y, x), and on the sphere d = arccos(x·y) (for
// pairs where arccos is well conditioned). Small-angle branch: d(x, Exp_x(v))
// = ‖v‖ for ‖v‖ = 1e-6 to relative 1e-9 (the series sinc ≈ 1 − a²/6 has
// error a⁴/120). Negative control: the chord ‖x − y‖ differs from d.
func TestManifold_DistIsLogNorm(t *testing.T) {
	rng := newRNG(2)
	for _, m := range manifolds() {
		for k := 0; k < 200; k++ {
			x, y := m.Uniform(1, rng).Row(0), m.Uniform(1, rng).Row(0)
			d := m.Dist(x, y)
			require.InDelta(t, norm(m.Log(x, y)), d, 1e-12, m.Name())
			require.InDelta(t, m.Dist(y, x), d, 1e-12, m.Name())
			if s, ok := m.(Sphere); ok {
				if c := dot(x, y); math.Abs(c) < 0.9 {
					require.InDelta(t, math.Acos(c), d, 1e-12, s.Name())
				}
				require.Greater(t, math.Abs(norm(sub(x, y))-d), 1e-6*d*d*d, "negative control: chord = distance?")
			}
			v := randomTangent(m, x, 1, rng)
			nv := norm(v)
			for i := range v {
				v[i] *= 1e-6 / nv
			}
			require.InDelta(t, 1e-6, m.Dist(x, m.Exp(x, v)), 1e-15, m.Name())
		}
	}
}

// P_x v is tangent (x·P_x v = 0 on the sphere), P is idempotent, and
// ProjTensor agrees with Proj. Exp_x(v) lies on the sphere to rounding,
// |‖Exp_x(v)‖ − 1| ≤ 1e-15 (a few ulps of 2.2e-16). Negative control: v itself is not tangent.
func TestManifold_ProjIsTangent(t *testing.T) {
	rng := newRNG(3)
	for _, m := range manifolds() {
		x := m.Uniform(50, rng)
		v := autograd.Normal(50, m.Ambient(), 0, 1, rng)
		pt := m.ProjTensor(x, v)
		for i := 0; i < 50; i++ {
			p := m.Proj(x.Row(i), v.Row(i))
			require.InDeltaSlice(t, p, pt.Row(i), 1e-14)
			require.InDeltaSlice(t, p, m.Proj(x.Row(i), p), 1e-14)
			if _, ok := m.(Sphere); ok {
				require.InDelta(t, 0, dot(x.Row(i), p), 1e-14)
				require.Greater(t, math.Abs(dot(x.Row(i), v.Row(i))), 1e-6, "negative control")
				require.InDelta(t, 1, norm(m.Exp(x.Row(i), p)), 1e-15) // ≈ 4 ulps
			}
		}
	}
}

// The uniform law on S^d has E[x] = 0 and E[xxᵀ] = I/(d+1); each checked
// within 5 standard errors computed here. ln vol(S²) = ln 4π and
// ln vol(S¹) = ln 2π from the Γ formula. Negative control: a sampler that
// forgets to normalize has E[‖x‖²] = d+1 ≠ 1.
func TestSphere_UniformMoments(t *testing.T) {
	require.InDelta(t, math.Log(4*math.Pi), Sphere{D: 2}.LogVolume(), 1e-14)
	require.InDelta(t, math.Log(2*math.Pi), Sphere{D: 1}.LogVolume(), 1e-14)
	require.InDelta(t, math.Log(2*math.Pi*math.Pi), Sphere{D: 3}.LogVolume(), 1e-14)
	require.InDelta(t, 2*math.Log(2*math.Pi), Torus{D: 2}.LogVolume(), 1e-14)
	rng := newRNG(4)
	s := Sphere{D: 3}
	x := s.Uniform(20000, rng)
	for j := 0; j < 4; j++ {
		col, sq := make([]float64, x.Rows), make([]float64, x.Rows)
		for i := range col {
			col[i] = x.At(i, j)
			sq[i] = col[i] * col[i]
		}
		m, se := stats.MeanStdErr(col)
		require.InDelta(t, 0, m, 5*se)
		m, se = stats.MeanStdErr(sq)
		require.InDelta(t, 0.25, m, 5*se)
		z := autograd.Normal(2000, 4, 0, 1, rng) // negative control
		var n2 float64
		for i := 0; i < z.Rows; i++ {
			n2 += dot(z.Row(i), z.Row(i)) / float64(z.Rows)
		}
		require.Greater(t, math.Abs(n2-1), 1.0)
	}
}
