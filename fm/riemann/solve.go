package riemann

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/steparena"
)

// AmbientField extends a field on m to a neighbourhood of m in ℝ^Ambient:
//
//	f̃(t, y) = P_{R(y)} f(t, R(y)),
//
// with R = RetractTensor (y/‖y‖ on the sphere: f̃ is constant along rays
// and tangent to every sphere ‖y‖ = r, so its exact flow keeps ‖y‖; on the
// torus R is the identity and f must be 2π-periodic). f's output may be any
// ambient vector: f̃ is the tangent-projected field of Chen & Lipman 2023
// (arXiv:2302.03660, §3.1). f̃ is differentiable in y, and on m
//
//	div f̃(x) = tr ∂f̃/∂y = div_g(P f)(x),
//
// the Riemannian divergence (SphereDivergence writes it out on the
// sphere), because ∂f̃/∂y = J·P_x on m, where J is the ambient Jacobian of
// the tangent field P f, and tr(J·P_x) = tr(P_x·J·P_x). So cnf's
// ExactDivergence and Hutchinson estimators applied to f̃ are Riemannian
// divergences. Tested by TestAmbientField_DivergenceIsRiemannian.
func AmbientField(m Manifold, f cnf.Field) cnf.Field {
	return func(t float64, y *autograd.Tensor) *autograd.Tensor {
		x := m.RetractTensor(y)
		return m.ProjTensor(x, f(t, x))
	}
}

// SphereDivergence returns the Riemannian divergence on S^D of the
// tangent-projected field w = P_x v, v = f(t, ·) any ambient field, at the
// rows of x [n, D+1] (‖xᵢ‖ = 1), written out from the ambient Jacobian
// J = ∂v/∂x of v itself:
//
//	div_g(P v)(x) = tr(P_x J P_x) − D·(x·v)
//	              = tr J − xᵀJx − D·(x·v).
//
// Derivation: ∂ᵢ(vⱼ − xⱼ(x·v)) = Jⱼᵢ − δᵢⱼ(x·v) − xⱼ(vᵢ + (xᵀJ)ᵢ), and the
// trace of P_x times that over the tangent space drops every term with a
// factor xⱼ (P_x x = 0) and leaves tr(P_x J) − (x·v)·tr P_x, tr P_x = D.
// For a constant v = a it is −D·(a·x): the Laplacian of the height function
// a·x, an eigenfunction of the Laplace–Beltrami operator of S^D with
// eigenvalue −D. It returns [n, 1] plain values. Tested by
// TestSphereDivergence_Height and TestAmbientField_DivergenceIsRiemannian.
func SphereDivergence(f cnf.Field, t float64, x *autograd.Tensor) *autograd.Tensor {
	xl := x.Detach().SetRequiresGrad(true)
	v := f(t, xl)
	_, trJ := cnf.ExactDivergence(f, t, x.Detach().NoGraph())
	div := autograd.Zeros(x.Rows, 1)
	var xJ *autograd.Tensor // rows xᵀJ
	if v.RequiresGrad() {
		xJ = autograd.Grad(v, x.Detach(), xl)[0]
	}
	d := float64(x.Cols - 1)
	for i := 0; i < x.Rows; i++ {
		xi, vi := x.Row(i), v.Row(i)
		xJx := 0.0
		if xJ != nil {
			xJx = dot(xJ.Row(i), xi)
		}
		div.Data[i] = trJ.Data[i] - xJx - d*dot(xi, vi)
	}
	return div
}

// Integrate solves dx/dt = P_x f(t, x) on m from x0 [n, Ambient] at t0 to
// t1 in steps equal steps, and keeps every point on m:
//
//   - cnf.Euler: x ← Exp_x(h·P_x f(t, x)), the geodesic Euler step (Chen &
//     Lipman 2023, §3.4): order 1; the new point is on m to rounding.
//   - cnf.RK4: the classical Runge–Kutta step on AmbientField(m, f) in
//     ℝ^Ambient, then x ← Retract(x + Δ). The exact flow of the extended
//     field lies on m, so the retraction moves the ambient step by its own
//     O(h⁵) distance to m: order 4, and on m to rounding.
//
// cb, if non-nil, sees every state (t0 first). f is evaluated on plain
// (NoGraph) tensors, in an arena of the solve's own (cnf.ArenaField), so a
// network's intermediate tensors are allocated once per solve; the states
// are those of the heap, bit for bit (TestIntegrate_ArenaBitIdentical;
// BenchmarkIntegrate measures the allocations). TestIntegrate_StaysOnSphere,
// TestIntegrate_Order (measured orders 1 and 4 against a closed-form flow,
// with the unprojected Euler step as negative control).
func Integrate(m Manifold, f cnf.Field, x0 *autograd.Tensor, t0, t1 float64, steps int, method cnf.Method, cb func(t float64, x *autograd.Tensor)) (*autograd.Tensor, error) {
	if steps < 1 || x0.Cols != m.Ambient() || f == nil {
		panic(&autograd.MisuseError{Op: "riemann.Integrate", Shapes: [][2]int{x0.Shape()},
			Reason: fmt.Sprintf("want steps ≥ 1 (got %d), x0 [n,%d] and a field", steps, m.Ambient())})
	}
	if method != cnf.Euler && method != cnf.RK4 {
		panic(autograd.Misuse("riemann.Integrate", "method %q: want cnf.Euler or cnf.RK4", method))
	}
	// The field's evaluations run in one arena for the solve (cnf.ArenaField):
	// each reuses the memory of the one before.
	g := cnf.ArenaField(AmbientField(m, f), steparena.New())
	eval := func(t float64, y *autograd.Tensor) *autograd.Tensor { return g(t, y.NoGraph()) }
	x := x0.Clone().NoGraph()
	h := (t1 - t0) / float64(steps)
	if cb != nil {
		cb(t0, x)
	}
	for s := 0; s < steps; s++ {
		t := t0 + float64(s)*h
		next := autograd.Zeros(x.Rows, x.Cols)
		switch method {
		case cnf.Euler:
			k := eval(t, x)
			for i := 0; i < x.Rows; i++ {
				v := k.Row(i)
				hv := make([]float64, len(v))
				for j := range v {
					hv[j] = h * v[j]
				}
				copy(next.Row(i), m.Exp(x.Row(i), hv))
			}
		case cnf.RK4:
			k1 := eval(t, x)
			k2 := eval(t+h/2, axpy(x, h/2, k1))
			k3 := eval(t+h/2, axpy(x, h/2, k2))
			k4 := eval(t+h, axpy(x, h, k3))
			for i := 0; i < x.Rows; i++ {
				y := make([]float64, x.Cols)
				xi := x.Row(i)
				for j := range y {
					y[j] = xi[j] + h/6*(k1.Row(i)[j]+2*k2.Row(i)[j]+2*k3.Row(i)[j]+k4.Row(i)[j])
				}
				copy(next.Row(i), m.Retract(y))
			}
		}
		for _, v := range next.Data {
			if v != v || v > 1e300 || v < -1e300 {
				return nil, fmt.Errorf("riemann.Integrate: state not finite at t = %g (step %d of %d)", t+h, s+1, steps)
			}
		}
		x = next.NoGraph()
		if cb != nil {
			cb(t+h, x)
		}
	}
	return x, nil
}

func axpy(x *autograd.Tensor, a float64, k *autograd.Tensor) *autograd.Tensor {
	y := autograd.Zeros(x.Rows, x.Cols)
	for i := range y.Data {
		y.Data[i] = x.Data[i] + a*k.Data[i]
	}
	return y.NoGraph()
}

// LogLikelihood returns the model's log-density on m at the rows of x
// [n, Ambient] (points of m at the data time t = 1), with the uniform law
// on m at t = 0 as base, by the Riemannian instantaneous change of
// variables (Chen & Lipman 2023, §3.4; Mathieu & Nickel 2020,
// arXiv:2006.10605, §3):
//
//	log p₁(x) = −ln vol(M) − ∫₀¹ div_g v_t(x_t) dt,
//
// with v_t = P f(t, ·). It is LogLikelihoodFrom with Uniform{m}. div nil
// means cnf.ExactDivergence, cnf.Hutchinson gives the stochastic estimate.
// The result's densities are with respect to the Riemannian volume (area on
// S²). Tested by TestLogLikelihood_Rotation, TestLogLikelihood_HeightFlow
// (a non-isometric map of S² with a closed-form density, negative control:
// the unextended field) and TestLogLikelihood_IntegratesToOne.
func LogLikelihood(m Manifold, f cnf.Field, x *autograd.Tensor, div cnf.DivergenceFunc, opts cnf.SolveOptions) (cnf.Likelihood, cnf.Stats, error) {
	return LogLikelihoodFrom(m, Uniform{M: m}, f, x, div, opts)
}

// LogLikelihoodFrom is LogLikelihood with the base law p₀ = base:
//
//	log p₁(x) = log p₀(x₀) − ∫₀¹ div_g v_t(x_t) dt,  x₀ = ψ₀(x),
//
// computed as cnf.LogLikelihood on AmbientField(m, f), whose Euclidean
// divergence is the Riemannian one on m, with base.LogDensity at the ODE's
// end x₀ (on the torus a point of the lift; the base reduces it mod 2π).
// Tested by TestLogLikelihood_IntegratesToOneTorus (a wrapped-normal base).
func LogLikelihoodFrom(m Manifold, base Base, f cnf.Field, x *autograd.Tensor, div cnf.DivergenceFunc, opts cnf.SolveOptions) (cnf.Likelihood, cnf.Stats, error) {
	if base == nil {
		panic(autograd.Misuse("riemann.LogLikelihoodFrom", "nil base (want Uniform{M: m} or a WrappedNormal)"))
	}
	logp0 := func(x0 *autograd.Tensor) *autograd.Tensor {
		lp := autograd.Zeros(x0.Rows, 1)
		for i := range lp.Data {
			lp.Data[i] = base.LogDensity(x0.Row(i))
		}
		return lp
	}
	return cnf.LogLikelihood(AmbientField(m, f), x, 1, 0, logp0, div, opts)
}
