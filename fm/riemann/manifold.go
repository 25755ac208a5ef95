package riemann

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

// Manifold is a Riemannian manifold M embedded in (or charted by) ℝ^Ambient,
// with the metric of the ambient inner product: the sphere S^d ⊂ ℝ^{d+1} and
// the flat torus T^d = [0, 2π)^d. Points and tangent vectors are rows of
// Ambient() coordinates (Chen & Lipman 2023, arXiv:2302.03660, §2).
//
// Tested by TestManifold_ExpLogInverse, TestManifold_DistIsLogNorm and
// TestManifold_ProjIsTangent for both manifolds.
type Manifold interface {
	// Name is "sphere" or "torus".
	Name() string
	// Dim is the intrinsic dimension d.
	Dim() int
	// Ambient is the number of coordinates of a point (d+1 on S^d, d on T^d).
	Ambient() int
	// Exp returns Exp_x(v): the end, at time 1, of the geodesic leaving x
	// with velocity v ∈ T_xM.
	Exp(x, v []float64) []float64
	// Log returns Log_x(y) ∈ T_xM, the inverse of Exp_x off the cut locus
	// of x, with ‖Log_x(y)‖ = Dist(x, y).
	Log(x, y []float64) []float64
	// Proj returns the orthogonal projection P_x v of an ambient vector onto T_xM.
	Proj(x, v []float64) []float64
	// Retract returns the point of M nearest to an ambient point y (the
	// normalization y/‖y‖ on the sphere, the reduction mod 2π on the torus).
	Retract(y []float64) []float64
	// Dist returns the geodesic distance d_g(x, y).
	Dist(x, y []float64) float64
	// Uniform draws n points [n, Ambient] of the uniform law, density
	// 1/vol(M) with respect to the Riemannian volume.
	Uniform(n int, rng *rand.Rand) *autograd.Tensor
	// LogVolume is ln vol(M), so the uniform log-density is −LogVolume.
	LogVolume() float64
	// ProjTensor is Proj row by row on a batch, differentiable in x and v:
	// P_x v for x, v [n, Ambient].
	ProjTensor(x, v *autograd.Tensor) *autograd.Tensor
	// RetractTensor is Retract row by row, differentiable in y where
	// Retract is smooth (on the sphere, y/‖y‖; on the torus the identity:
	// a torus field is 2π-periodic, so it is evaluated on the lift).
	RetractTensor(y *autograd.Tensor) *autograd.Tensor
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func mustLen(op string, want int, vs ...[]float64) {
	for _, v := range vs {
		if len(v) != want {
			panic(autograd.Misuse(op, "want %d coordinates, got %d", want, len(v)))
		}
	}
}

// Sphere is the unit sphere S^D = {x ∈ ℝ^{D+1} : ‖x‖ = 1} with the metric
// induced by ℝ^{D+1}. Its geodesics are great circles:
//
//	Exp_x(v)  = cos‖v‖·x + sin‖v‖·v/‖v‖
//	Log_x(y)  = θ·(y − (x·y)x)/‖y − (x·y)x‖,  θ = d(x, y)
//	d(x, y)   = atan2(‖y − (x·y)x‖, x·y)       (= arccos x·y, stable near 0 and π)
//	P_x v     = v − (x·v)x
//	vol(S^D)  = 2π^{(D+1)/2}/Γ((D+1)/2)         (4π on S²)
//
// Log is undefined at the antipode y = −x (the cut locus, a null set); Log
// returns 0 there. Tested by TestManifold_ExpLogInverse,
// TestManifold_DistIsLogNorm, TestManifold_ProjIsTangent and
// TestSphere_UniformMoments.
type Sphere struct{ D int }

// Name returns "sphere".
func (s Sphere) Name() string { return "sphere" }

// Dim returns D.
func (s Sphere) Dim() int { return s.D }

// Ambient returns D+1.
func (s Sphere) Ambient() int { return s.D + 1 }

// sinc returns sin(a)/a, by its series near 0.
func sinc(a float64) float64 {
	if a < 1e-4 {
		return 1 - a*a/6
	}
	return math.Sin(a) / a
}

// Exp returns cos‖v‖·x + sin‖v‖·v/‖v‖ (see Sphere).
func (s Sphere) Exp(x, v []float64) []float64 {
	mustLen("riemann.Sphere.Exp", s.D+1, x, v)
	a := norm(v)
	c, sc := math.Cos(a), sinc(a)
	y := make([]float64, len(x))
	for i := range y {
		y[i] = c*x[i] + sc*v[i]
	}
	return y
}

// Log returns θ·(y − (x·y)x)/‖y − (x·y)x‖ with θ = d(x, y) (see Sphere).
func (s Sphere) Log(x, y []float64) []float64 {
	mustLen("riemann.Sphere.Log", s.D+1, x, y)
	u := s.Proj(x, y)
	su := norm(u) // sin θ
	theta := math.Atan2(su, dot(x, y))
	f := 1.0 // θ / sin θ, → 1 as θ → 0
	switch {
	case su == 0:
		if theta > math.Pi/2 { // antipode: cut locus
			f = 0
		}
	case theta > 1e-4:
		f = theta / su
	default:
		f = 1 + theta*theta/6
	}
	for i := range u {
		u[i] *= f
	}
	return u
}

// Proj returns v − (x·v)x.
func (s Sphere) Proj(x, v []float64) []float64 {
	mustLen("riemann.Sphere.Proj", s.D+1, x, v)
	xv := dot(x, v)
	p := make([]float64, len(v))
	for i := range p {
		p[i] = v[i] - xv*x[i]
	}
	return p
}

// Retract returns y/‖y‖.
func (s Sphere) Retract(y []float64) []float64 {
	mustLen("riemann.Sphere.Retract", s.D+1, y)
	r := norm(y)
	out := make([]float64, len(y))
	for i := range out {
		out[i] = y[i] / r
	}
	return out
}

// Dist returns atan2(‖y − (x·y)x‖, x·y).
func (s Sphere) Dist(x, y []float64) float64 {
	mustLen("riemann.Sphere.Dist", s.D+1, x, y)
	return math.Atan2(norm(s.Proj(x, y)), dot(x, y))
}

// Uniform returns n points z/‖z‖ with z ~ N(0, I_{D+1}), which is uniform on
// S^D by the rotation invariance of the standard normal.
func (s Sphere) Uniform(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil {
		panic(autograd.Misuse("riemann.Sphere.Uniform", "nil *rand.Rand"))
	}
	x := autograd.Zeros(n, s.D+1)
	for i := 0; i < n; i++ {
		row := x.Row(i)
		for {
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			if r := norm(row); r > 1e-12 {
				for j := range row {
					row[j] /= r
				}
				break
			}
		}
	}
	return x
}

// LogVolume returns ln(2π^{(D+1)/2}/Γ((D+1)/2)); ln 4π on S².
func (s Sphere) LogVolume() float64 {
	lg, _ := math.Lgamma(float64(s.D+1) / 2)
	return math.Ln2 + float64(s.D+1)/2*math.Log(math.Pi) - lg
}

// ProjTensor returns v − (x·v)x row by row.
func (s Sphere) ProjTensor(x, v *autograd.Tensor) *autograd.Tensor {
	return autograd.Sub(v, autograd.MulCol(x, autograd.SumCols(autograd.Mul(x, v))))
}

// RetractTensor returns y/‖y‖ row by row.
func (s Sphere) RetractTensor(y *autograd.Tensor) *autograd.Tensor {
	return autograd.MulCol(y, autograd.Pow(autograd.SumCols(autograd.Square(y)), -0.5))
}

// Torus is the flat torus T^D = ℝ^D/(2πℤ)^D, points as angles in [0, 2π)^D,
// with the Euclidean metric of its cover ℝ^D:
//
//	Exp_x(v) = (x + v) mod 2π
//	Log_x(y) = w(y − x),  w(a) = a − 2π·round(a/2π) ∈ [−π, π] per coordinate
//	d(x, y)  = ‖Log_x(y)‖
//	P_x v    = v
//	vol(T^D) = (2π)^D
//
// Log is undefined where some |yᵢ − xᵢ| = π (the cut locus). Tested by
// TestManifold_ExpLogInverse, TestManifold_DistIsLogNorm and
// TestManifold_ProjIsTangent.
type Torus struct{ D int }

// Name returns "torus".
func (t Torus) Name() string { return "torus" }

// Dim returns D.
func (t Torus) Dim() int { return t.D }

// Ambient returns D.
func (t Torus) Ambient() int { return t.D }

// Wrap returns a mod 2π in [0, 2π).
func Wrap(a float64) float64 {
	r := math.Mod(a, 2*math.Pi)
	if r < 0 {
		r += 2 * math.Pi
	}
	if r >= 2*math.Pi { // −tiny mod 2π rounds to 2π
		r = 0
	}
	return r
}

// wrapSym returns a − 2π·round(a/2π), in [−π, π].
func wrapSym(a float64) float64 { return a - 2*math.Pi*math.Round(a/(2*math.Pi)) }

// Exp returns (x + v) mod 2π.
func (t Torus) Exp(x, v []float64) []float64 {
	mustLen("riemann.Torus.Exp", t.D, x, v)
	y := make([]float64, len(x))
	for i := range y {
		y[i] = Wrap(x[i] + v[i])
	}
	return y
}

// Log returns y − x reduced to [−π, π] per coordinate.
func (t Torus) Log(x, y []float64) []float64 {
	mustLen("riemann.Torus.Log", t.D, x, y)
	v := make([]float64, len(x))
	for i := range v {
		v[i] = wrapSym(y[i] - x[i])
	}
	return v
}

// Proj returns v: every ambient vector is tangent.
func (t Torus) Proj(x, v []float64) []float64 {
	mustLen("riemann.Torus.Proj", t.D, x, v)
	return append([]float64(nil), v...)
}

// Retract returns y mod 2π.
func (t Torus) Retract(y []float64) []float64 {
	mustLen("riemann.Torus.Retract", t.D, y)
	out := make([]float64, len(y))
	for i := range out {
		out[i] = Wrap(y[i])
	}
	return out
}

// Dist returns ‖Log_x(y)‖.
func (t Torus) Dist(x, y []float64) float64 { return norm(t.Log(x, y)) }

// Uniform returns n points with independent U[0, 2π) angles.
func (t Torus) Uniform(n int, rng *rand.Rand) *autograd.Tensor {
	if rng == nil {
		panic(autograd.Misuse("riemann.Torus.Uniform", "nil *rand.Rand"))
	}
	return autograd.Uniform(n, t.D, 0, 2*math.Pi, rng)
}

// LogVolume returns D·ln 2π.
func (t Torus) LogVolume() float64 { return float64(t.D) * math.Log(2*math.Pi) }

// ProjTensor returns v.
func (t Torus) ProjTensor(_, v *autograd.Tensor) *autograd.Tensor { return v }

// RetractTensor returns y (a torus field is periodic: it is evaluated on the lift).
func (t Torus) RetractTensor(y *autograd.Tensor) *autograd.Tensor { return y }
