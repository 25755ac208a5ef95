package cnf

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
)

// DivergenceFunc evaluates a field and its divergence at a batch:
// v = f(t, x) [n, d] and div v(t, x) [n, 1], one value per row. The mode of
// x is kept: NoGraph in, plain values out; recorded in, recorded out (so the
// divergence can be trained through). ExactDivergence and the estimators
// returned by Hutchinson are DivergenceFuncs.
type DivergenceFunc func(f Field, t float64, x *autograd.Tensor) (v, div *autograd.Tensor)

// ExactDivergence computes v = f(t, x) and its exact divergence
// div v = Σⱼ ∂vⱼ/∂xⱼ = tr ∂v/∂x at every row of x [n, d] (div is [n, 1]),
// with d vector-Jacobian products, one per coordinate j, each seeded with
// the one-hot column eⱼ for every row:
//
//	div v(x)ᵢ = Σⱼ (eⱼᵀ ∂v/∂x)ᵢⱼ
//
// It is the package's one exact divergence: LogLikelihood's default
// DivergenceFunc, and the reference for HutchinsonDivergence and
// FastDivergence. For the divergence alone, write _, div := ExactDivergence(…).
//
// Row i of a VJP depends only on row i of x because rows are independent
// samples. A NoGraph x is evaluated on a private leaf with a throw-away
// tape and the results are returned as NoGraph values; otherwise the VJPs
// are recorded (autograd.GradGraph), so the divergence is differentiable in
// the field's parameters. Cost: one forward pass and d backward passes.
// Tested against tr A for linear fields by TestDivergence_Linear and
// against a finite-difference Jacobian by TestDivergence_Nonlinear.
func ExactDivergence(f Field, t float64, x *autograd.Tensor) (v, div *autograd.Tensor) {
	xv, plain := leafFor(x)
	v = f(t, xv)
	mustFieldShape(v, x)
	// The constants are made in x's arena, if it has one.
	div = x.Arena().Zeros(x.Rows, 1)
	if !v.RequiresGrad() { // v does not depend on x or anything variable
		return out(v, div, plain)
	}
	grad := autograd.GradGraph
	if plain {
		grad = autograd.Grad
	}
	var sum *autograd.Tensor
	for j := 0; j < x.Cols; j++ {
		e := x.Arena().Zeros(x.Rows, x.Cols)
		for i := 0; i < x.Rows; i++ {
			e.Data[i*x.Cols+j] = 1
		}
		g := autograd.Slice(grad(v, e, xv)[0], j, j+1)
		if sum == nil {
			sum = g
		} else {
			sum = autograd.Add(sum, g)
		}
	}
	if sum != nil {
		div = sum
	}
	return out(v, div, plain)
}

// ProbeKind selects the distribution of Hutchinson probe vectors ε, both
// with E[ε] = 0 and E[εεᵀ] = I.
type ProbeKind int

const (
	// Rademacher probes have independent ±1 entries. They give the smaller
	// variance: Var[εᵀJε] = 2·Σ_{i≠j} ((Jᵢⱼ + Jⱼᵢ)/2)², no diagonal term.
	Rademacher ProbeKind = iota
	// Gaussian probes have independent N(0, 1) entries:
	// Var[εᵀJε] = 2·‖(J + Jᵀ)/2‖²_F.
	Gaussian
)

// Probes returns k probe tensors [n, d] of the given kind drawn from rng.
// k < 1, n or d < 0, an unknown kind and a nil rng panic with a
// *autograd.MisuseError.
func Probes(kind ProbeKind, k, n, d int, rng *rand.Rand) []*autograd.Tensor {
	switch {
	case k < 1 || n < 0 || d < 0:
		panic(&autograd.MisuseError{Op: "cnf.Probes", Shapes: [][2]int{{n, d}}, Reason: fmt.Sprintf("needs k ≥ 1 probes (got %d) of a non-negative shape", k)})
	case kind != Rademacher && kind != Gaussian:
		panic(autograd.Misuse("cnf.Probes", "unknown ProbeKind %d", kind))
	case rng == nil:
		panic(autograd.Misuse("cnf.Probes", "nil *rand.Rand"))
	}
	ps := make([]*autograd.Tensor, k)
	for p := range ps {
		e := autograd.Zeros(n, d)
		for i := range e.Data {
			switch kind {
			case Rademacher:
				if rng.IntN(2) == 0 {
					e.Data[i] = -1
				} else {
					e.Data[i] = 1
				}
			case Gaussian:
				e.Data[i] = rng.NormFloat64()
			}
		}
		ps[p] = e
	}
	return ps
}

// HutchinsonDivergence is Hutchinson's (1989) unbiased trace estimator of
// the divergence with the given probes ε₁…ε_K (each [n, d]):
//
//	div v(x) = tr ∂v/∂x ≈ (1/K)·Σₖ εₖᵀ (∂v/∂x) εₖ,
//
// one VJP per probe, so it costs K backward passes instead of d
// (Grathwohl et al. 2018, arXiv:1810.01367, §3.1). It is unbiased because E[εεᵀ] = I, and its
// variance is Var[εᵀJε]/K. Tested by TestHutchinson_Unbiased and
// TestHutchinson_VarianceShrinksAsOneOverK. It returns v as well.
func HutchinsonDivergence(f Field, t float64, x *autograd.Tensor, probes []*autograd.Tensor) (v, div *autograd.Tensor) {
	if len(probes) == 0 {
		panic(autograd.Misuse("cnf.HutchinsonDivergence", "needs at least one probe"))
	}
	xv, plain := leafFor(x)
	v = f(t, xv)
	mustFieldShape(v, x)
	if !v.RequiresGrad() {
		return out(v, x.Arena().Zeros(x.Rows, 1), plain)
	}
	grad := autograd.GradGraph
	if plain {
		grad = autograd.Grad
	}
	var sum *autograd.Tensor
	for _, e := range probes {
		if e.Rows != x.Rows || e.Cols != x.Cols {
			panic(&autograd.MisuseError{Op: "cnf.HutchinsonDivergence", Shapes: [][2]int{x.Shape(), e.Shape()}, Reason: "probe shape differs from x"})
		}
		// εᵀJ, then its dot product with ε, row by row.
		q := autograd.SumCols(autograd.Mul(grad(v, e, xv)[0], e))
		if sum == nil {
			sum = q
		} else {
			sum = autograd.Add(sum, q)
		}
	}
	return out(v, autograd.Scale(sum, 1/float64(len(probes))), plain)
}

// Hutchinson returns a DivergenceFunc that estimates the divergence with k
// probes of the given kind drawn from rng.
//
// With fresh = false the probes are drawn once, at the first evaluation,
// and reused for every later evaluation of this DivergenceFunc: the ODE it
// defines is then deterministic, which adaptive solvers need, and the
// log-likelihood it yields is an unbiased estimate (FFJORD's choice: one
// probe per solve, so call Hutchinson again for every solve). With
// fresh = true every evaluation draws new probes (fine for fixed-step
// solvers, not for Dopri5, whose error control would see the noise).
// Fixed probes must keep the batch shape; a different shape panics.
// k < 1, an unknown kind and a nil rng panic with a *autograd.MisuseError at
// once, not at the first evaluation.
func Hutchinson(kind ProbeKind, k int, rng *rand.Rand, fresh bool) DivergenceFunc {
	switch {
	case k < 1:
		panic(autograd.Misuse("cnf.Hutchinson", "needs k ≥ 1 probes, got %d", k))
	case kind != Rademacher && kind != Gaussian:
		panic(autograd.Misuse("cnf.Hutchinson", "unknown ProbeKind %d", kind))
	case rng == nil:
		panic(autograd.Misuse("cnf.Hutchinson", "nil *rand.Rand"))
	}
	var fixed []*autograd.Tensor
	return func(f Field, t float64, x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		probes := fixed
		if fresh || fixed == nil {
			probes = Probes(kind, k, x.Rows, x.Cols, rng)
			if !fresh {
				fixed = probes
			}
		}
		return HutchinsonDivergence(f, t, x, probes)
	}
}

// leafFor returns the tensor to evaluate the field on and whether the
// result must be a plain value. A NoGraph x, or a plain leaf that requires
// no gradient, is replaced by a fresh leaf that does (sharing x's data), so
// the field records a tape to differentiate; a recorded x is used as is.
func leafFor(x *autograd.Tensor) (xv *autograd.Tensor, plain bool) {
	if x.RequiresGrad() {
		return x, false
	}
	return x.Detach().SetRequiresGrad(true), x.IsNoGraph()
}

func out(v, div *autograd.Tensor, plain bool) (*autograd.Tensor, *autograd.Tensor) {
	if plain {
		return v.NoGraph(), div.NoGraph()
	}
	return v, div
}

func mustFieldShape(v, x *autograd.Tensor) {
	if v.Rows != x.Rows || v.Cols != x.Cols {
		panic(&autograd.MisuseError{Op: "cnf.Field", Shapes: [][2]int{x.Shape(), v.Shape()}, Reason: "the field must return the shape of x"})
	}
}
