package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GradCheckOptions tunes GradCheck. The zero value is sensible.
type GradCheckOptions struct {
	// Step is the finite-difference step h, scaled by max(1, |x|) for each
	// element. Default 1e-5: it balances truncation error O(h²) against
	// rounding error O(ε/h) near their sum's minimum for smooth f.
	Step float64
	// Seed fixes the random projection w used for non-scalar outputs.
	Seed uint64
}

// GradCheckError reports the worst element found by GradCheck.
type GradCheckError struct {
	Input     int     // which input tensor
	Row, Col  int     // which element of it
	Got, Want float64 // the backward pass's gradient, the central difference
	Tol       float64 // the derived tolerance it exceeded
}

func (e *GradCheckError) Error() string {
	return fmt.Sprintf("autograd: gradient of input %d at [%d,%d]: got %.10g want %.10g (tol %.3g)",
		e.Input, e.Row, e.Col, e.Got, e.Want, e.Tol)
}

// GradCheck compares the gradient that the backward pass computes for f at
// xs with central differences, for every element of every input, in
// float64. f may return any shape: it is reduced to the scalar
// L = Σ w ⊙ f(xs) with a fixed random w, so every column of the Jacobian is
// exercised. It returns nil, or a *GradCheckError for the element that is
// worst relative to its tolerance.
//
// For each element the central difference is
//
//	D(h) = (L(x + h) − L(x − h)) / 2h = ∂L/∂x + h²·L‴/6 + O(h⁴) + rounding.
//
// The tolerance is derived, not tuned: the truncation term is estimated
// from D(2h) − D(h) ≈ 3·(h²·L‴/6) (Richardson), and the rounding term as
// ε·S/h with S the magnitude of L and a safety factor for the rounding inside
// f. tol = 4·(|D(2h) − D(h)|/3 + 256·ε·(|L| + 1)/h) + 256·ε·|got|.
//
// xs are not modified: f receives fresh leaves with copies of their data
// (each requiring a gradient, in every call). f must be deterministic. To check a second
// derivative, let f return a gradient computed with GradGraph.
func GradCheck(f func(xs []*Tensor) *Tensor, xs []*Tensor, opts *GradCheckOptions) error {
	var o GradCheckOptions
	if opts != nil {
		o = *opts
	}
	if o.Step == 0 {
		o.Step = 1e-5
	}
	vars := make([]*Tensor, len(xs))
	for i, x := range xs {
		vars[i] = x.Clone().SetRequiresGrad(true)
	}
	y := f(vars)
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	w := Normal(y.Rows, y.Cols, 0, 1, rng)
	var got []*Tensor
	if y.requiresGrad {
		got = Grad(y, w, vars...)
	} else {
		got = Grad(Zeros(1, 1), nil, vars...) // L does not depend on xs: zeros
	}
	loss := func() float64 {
		out := f(vars) // the same leaves, perturbed in place: f sees what it saw above
		s := 0.0
		for i, v := range out.Data {
			s += w.Data[i] * v
		}
		return s
	}
	const eps = 0x1p-52
	var worst *GradCheckError
	worstRatio := 0.0
	for i, v := range vars {
		for k := range v.Data {
			x0 := v.Data[k]
			h := o.Step * max(1, math.Abs(x0))
			diff := func(h float64) (d, size float64) {
				v.Data[k] = x0 + h
				lp := loss()
				v.Data[k] = x0 - h
				lm := loss()
				v.Data[k] = x0
				return (lp - lm) / (2 * h), max(math.Abs(lp), math.Abs(lm))
			}
			d1, size := diff(h)
			d2, _ := diff(2 * h)
			g := got[i].Data[k]
			tol := 4*(math.Abs(d2-d1)/3+256*eps*(size+1)/h) + 256*eps*math.Abs(g)
			err := math.Abs(g - d1)
			if math.IsNaN(err) || err > tol {
				ratio := err / tol
				if math.IsNaN(ratio) {
					ratio = math.Inf(1)
				}
				if worst == nil || ratio > worstRatio {
					worstRatio = ratio
					worst = &GradCheckError{Input: i, Row: k / max(v.Cols, 1), Col: k % max(v.Cols, 1), Got: g, Want: d1, Tol: tol}
				}
			}
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}
