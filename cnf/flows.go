package cnf

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
Discrete normalizing flows (Papamakarios et al. 2021, "Normalizing Flows for
Probabilistic Modeling and Inference", arXiv:1912.02762, §2). A flow is x = f_K ∘ … ∘ f₁(z₀) with
z₀ ~ π₀ and invertible layers f_i; by the change of variables

	log p(x) = log π₀(z₀) − Σᵢ log|det ∂fᵢ/∂zᵢ₋₁|
	         = log π₀(z₀) + Σᵢ log|det ∂fᵢ⁻¹/∂zᵢ|,  z₀ = f₁⁻¹ ∘ … ∘ f_K⁻¹(x).

Every Layer reports log|det| per row in both directions. ElementwiseAffine
and Coupling have closed-form, differentiable inverses and are trained by
maximum likelihood on data (TestFlow_TrainMoons). Planar and Radial
(Rezende & Mohamed 2015) are differentiable forwards; their inverses are
computed numerically on values (Planar: a monotone scalar equation solved
by bisection; Radial: a quadratic in the radius), so they serve density
evaluation, not training on data. TestLayers_LogDet checks every log-det
against a finite-difference Jacobian, TestLayers_Inverse every inverse.
*/

// Layer is an invertible map of ℝᵈ acting on each row of a batch [n, d].
type Layer interface {
	// Forward returns x = f(z) and log|det ∂f/∂z| per row, [n, 1].
	Forward(z *autograd.Tensor) (x, logDet *autograd.Tensor)
	// Inverse returns z = f⁻¹(x) and log|det ∂f⁻¹/∂x| per row, [n, 1].
	Inverse(x *autograd.Tensor) (z, logDet *autograd.Tensor, err error)
	// Params returns the trainable tensors.
	Params() []*autograd.Tensor
}

// ErrNotInvertible is returned when a numerical inverse fails.
var ErrNotInvertible = errors.New("cnf: inverse failed")

// LogProb returns log p(x) [n, 1] of the density of x = l(z), z ~ base:
//
//	log p(x) = log base(l⁻¹(x)) + log|det ∂l⁻¹/∂x|.
func LogProb(l Layer, base LogDensity, x *autograd.Tensor) (*autograd.Tensor, error) {
	z, ld, err := l.Inverse(x)
	if err != nil {
		return nil, err
	}
	return autograd.Add(base(z), ld), nil
}

// Flow composes layers: Forward applies Layers[0] first. It is itself a
// Layer, with log-dets summed.
type Flow struct {
	Layers []Layer
}

// Forward returns x = f_K ∘ … ∘ f₁(z) and Σᵢ log|det ∂fᵢ/∂zᵢ₋₁|.
func (f *Flow) Forward(z *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
	var sum *autograd.Tensor
	for _, l := range f.Layers {
		var ld *autograd.Tensor
		z, ld = l.Forward(z)
		sum = addOrSet(sum, ld)
	}
	if sum == nil {
		sum = autograd.Zeros(z.Rows, 1)
	}
	return z, sum
}

// Inverse applies the layers' inverses in reverse order and sums their
// log-dets.
func (f *Flow) Inverse(x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor, error) {
	var sum *autograd.Tensor
	for i := len(f.Layers) - 1; i >= 0; i-- {
		var ld *autograd.Tensor
		var err error
		x, ld, err = f.Layers[i].Inverse(x)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %d: %w", i, err)
		}
		sum = addOrSet(sum, ld)
	}
	if sum == nil {
		sum = autograd.Zeros(x.Rows, 1)
	}
	return x, sum, nil
}

// Params returns every layer's parameters.
func (f *Flow) Params() []*autograd.Tensor {
	var ps []*autograd.Tensor
	for _, l := range f.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func addOrSet(sum, t *autograd.Tensor) *autograd.Tensor {
	if sum == nil {
		return t
	}
	return autograd.Add(sum, t)
}

// ElementwiseAffine is x = z ⊙ exp(LogScale) + Shift with LogScale and
// Shift [1, d]; log|det ∂x/∂z| = Σⱼ LogScaleⱼ. The exponential keeps every
// scale positive, so the layer is always invertible.
type ElementwiseAffine struct {
	LogScale, Shift *autograd.Tensor
}

// NewElementwiseAffine returns the identity map on ℝᵈ with trainable
// parameters. d < 1 panics with a *autograd.MisuseError.
func NewElementwiseAffine(d int) *ElementwiseAffine {
	if d < 1 {
		panic(autograd.Misuse("cnf.NewElementwiseAffine", "dimension d = %d, want ≥ 1", d))
	}
	return &ElementwiseAffine{LogScale: autograd.Zeros(1, d).SetRequiresGrad(true), Shift: autograd.Zeros(1, d).SetRequiresGrad(true)}
}

// Forward returns z ⊙ e^s + b and Σ s.
func (a *ElementwiseAffine) Forward(z *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
	x := autograd.AddRow(autograd.Mul(z, autograd.Expand(autograd.Exp(a.LogScale), z.Rows, z.Cols)), a.Shift)
	return x, autograd.Expand(autograd.Sum(a.LogScale), z.Rows, 1)
}

// Inverse returns (x − b) ⊙ e^{−s} and −Σ s.
func (a *ElementwiseAffine) Inverse(x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor, error) {
	z := autograd.Mul(autograd.AddRow(x, autograd.Neg(a.Shift)), autograd.Expand(autograd.Exp(autograd.Neg(a.LogScale)), x.Rows, x.Cols))
	return z, autograd.Expand(autograd.Neg(autograd.Sum(a.LogScale)), x.Rows, 1), nil
}

// Params returns [LogScale, Shift].
func (a *ElementwiseAffine) Params() []*autograd.Tensor {
	return []*autograd.Tensor{a.LogScale, a.Shift}
}

// Planar is the planar flow of Rezende & Mohamed (2015, §4.1),
//
//	x = z + û·tanh(wᵀz + b),  log|det ∂x/∂z| = log|1 + (1 − tanh²(wᵀz + b))·wᵀû|,
//
// with W, U [1, d] and B [1, 1]. Invertibility needs wᵀû ≥ −1; it is
// enforced by the paper's reparametrization (their Appendix A)
//
//	û = u + (m(wᵀu) − wᵀu)·w/‖w‖²,  m(a) = −1 + softplus(a),
//
// which gives wᵀû = m(wᵀu) > −1 for every u (TestPlanar_Constraint).
type Planar struct {
	W, U, B *autograd.Tensor
}

// UHat returns û [1, d].
func (p *Planar) UHat() *autograd.Tensor {
	wu := autograd.SumCols(autograd.Mul(p.W, p.U))
	m := autograd.AddScalar(autograd.Softplus(wu), -1)
	coef := autograd.Div(autograd.Sub(m, wu), autograd.SumCols(autograd.Square(p.W)))
	return autograd.Add(p.U, autograd.Mul(autograd.Expand(coef, 1, p.W.Cols), p.W))
}

// Forward returns z + û·tanh(wᵀz + b) and its log-det.
func (p *Planar) Forward(z *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
	uh := p.UHat()
	h := autograd.Tanh(autograd.Add(autograd.MatMulNT(z, p.W), autograd.Expand(p.B, z.Rows, 1)))
	x := autograd.Add(z, autograd.MatMul(h, uh))
	wuh := autograd.Expand(autograd.SumCols(autograd.Mul(p.W, uh)), z.Rows, 1)
	hp := autograd.AddScalar(autograd.Neg(autograd.Square(h)), 1) // tanh′ = 1 − tanh²
	return x, autograd.Log(autograd.AddScalar(autograd.Mul(hp, wuh), 1))
}

// Inverse solves x = z + û·tanh(wᵀz + b) on values. With a = wᵀz + b it
// reduces to the scalar equation a + c·tanh(a) = wᵀx + b, c = wᵀû > −1,
// whose left side is strictly increasing; a lies within |c| of wᵀx + b and
// is found by bisection to the last bit, then z = x − û·tanh(a). The result
// is a plain value (no graph).
func (p *Planar) Inverse(x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor, error) {
	uh := p.UHat().Data
	w, b := p.W.Data, p.B.Data[0]
	c := 0.0
	for j := range w {
		c += w[j] * uh[j]
	}
	z := autograd.Zeros(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		xi := x.Row(i)
		y := b
		for j := range w {
			y += w[j] * xi[j]
		}
		lo, hi := y-math.Abs(c), y+math.Abs(c)
		for k := 0; k < 200 && lo < hi; k++ {
			mid := lo + (hi-lo)/2
			if mid == lo || mid == hi {
				break
			}
			if mid+c*math.Tanh(mid) < y {
				lo = mid
			} else {
				hi = mid
			}
		}
		a := lo + (hi-lo)/2
		if math.IsNaN(a) {
			return nil, nil, fmt.Errorf("%w: planar row %d", ErrNotInvertible, i)
		}
		th := math.Tanh(a)
		for j := range xi {
			z.Data[i*x.Cols+j] = xi[j] - uh[j]*th
		}
	}
	z = z.NoGraph()
	_, ld := p.Forward(z)
	return z, autograd.Neg(ld), nil
}

// Params returns [W, U, B].
func (p *Planar) Params() []*autograd.Tensor { return []*autograd.Tensor{p.W, p.U, p.B} }

// Radial is the radial flow of Rezende & Mohamed (2015, §4.1),
//
//	x = z + β·h(α, r)·(z − z₀),  r = ‖z − z₀‖,  h = 1/(α + r),
//	log|det ∂x/∂z| = (d − 1)·log(1 + βh) + log(1 + βh + βh′r)
//	               = (d − 1)·log(1 + β/(α + r)) + log(1 + αβ/(α + r)²),
//
// with Z0 [1, d] and raw scalars AlphaRaw, BetaRaw [1, 1]. Invertibility
// needs α > 0 and β ≥ −α; they are enforced as α = softplus(AlphaRaw) and
// β = −α + softplus(BetaRaw) (TestRadial_Constraint).
type Radial struct {
	Z0, AlphaRaw, BetaRaw *autograd.Tensor
}

func (r *Radial) alphaBeta() (alpha, beta *autograd.Tensor) {
	alpha = autograd.Softplus(r.AlphaRaw)
	return alpha, autograd.Sub(autograd.Softplus(r.BetaRaw), alpha)
}

// Forward returns the radial map of z and its log-det.
func (r *Radial) Forward(z *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
	n, d := z.Rows, z.Cols
	alpha, beta := r.alphaBeta()
	a, b := autograd.Expand(alpha, n, 1), autograd.Expand(beta, n, 1)
	diff := autograd.AddRow(z, autograd.Neg(r.Z0))
	rad := autograd.Sqrt(autograd.SumCols(autograd.Square(diff)))
	ar := autograd.Add(a, rad)
	bh := autograd.Div(b, ar) // β·h
	x := autograd.Add(z, autograd.MulCol(diff, bh))
	ld := autograd.Log(autograd.AddScalar(autograd.Div(autograd.Mul(a, b), autograd.Square(ar)), 1))
	if d > 1 {
		ld = autograd.Add(ld, autograd.Scale(autograd.Log(autograd.AddScalar(bh, 1)), float64(d-1)))
	}
	return x, ld
}

// Inverse solves the radial map on values: with ρ = ‖x − z₀‖ the radius
// r = ‖z − z₀‖ satisfies r·(1 + β/(α + r)) = ρ, i.e. r² + (α + β − ρ)r − αρ = 0,
// whose nonnegative root is taken in the cancellation-free form; then
// z = z₀ + (x − z₀)/(1 + β/(α + r)). The result is a plain value.
func (r *Radial) Inverse(x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor, error) {
	al, be := r.alphaBeta()
	alpha, beta := al.Data[0], be.Data[0]
	z0 := r.Z0.Data
	z := autograd.Zeros(x.Rows, x.Cols)
	for i := 0; i < x.Rows; i++ {
		xi := x.Row(i)
		rho := 0.0
		for j := range xi {
			rho += (xi[j] - z0[j]) * (xi[j] - z0[j])
		}
		rho = math.Sqrt(rho)
		bb := alpha + beta - rho
		disc := math.Sqrt(bb*bb + 4*alpha*rho)
		var rad float64
		if bb >= 0 {
			rad = 2 * alpha * rho / (bb + disc)
		} else {
			rad = (disc - bb) / 2
		}
		s := 1 + beta/(alpha+rad)
		if !(s > 0) || math.IsNaN(rad) {
			return nil, nil, fmt.Errorf("%w: radial row %d", ErrNotInvertible, i)
		}
		for j := range xi {
			z.Data[i*x.Cols+j] = z0[j] + (xi[j]-z0[j])/s
		}
	}
	z = z.NoGraph()
	_, ld := r.Forward(z)
	return z, autograd.Neg(ld), nil
}

// Params returns [Z0, AlphaRaw, BetaRaw].
func (r *Radial) Params() []*autograd.Tensor {
	return []*autograd.Tensor{r.Z0, r.AlphaRaw, r.BetaRaw}
}

// Conditioner is a network mapping [n, k] to [n, m], such as nn.MLP.
type Conditioner interface {
	Forward(x *autograd.Tensor) *autograd.Tensor
	Params() []*autograd.Tensor
}

// Coupling is the affine coupling layer of RealNVP (Dinh et al. 2016).
// The columns are split at k = Split: with a = z[:, :k] and b = z[:, k:]
// (swapped when Flip),
//
//	x_a = a,  x_b = b ⊙ exp(s(a)) + t(a),  (s, t) = (tanh(net(a)[:, :m]), net(a)[:, m:]),
//	log|det ∂x/∂z| = Σⱼ s(a)ⱼ,
//
// with m = d − k (or k when Flip) and Net: [n, |a|] → [n, 2m]. The Jacobian
// is triangular, so the log-det is exact and cheap, and the inverse
// b = (x_b − t(x_a)) ⊙ exp(−s(x_a)) is closed-form and differentiable. The
// tanh bounds the log-scale to (−1, 1) per layer, for stable training.
type Coupling struct {
	Net   Conditioner
	Split int
	Flip  bool
}

func (c *Coupling) parts(z *autograd.Tensor) (a, b *autograd.Tensor) {
	if c.Flip {
		return autograd.Slice(z, c.Split, z.Cols), autograd.Slice(z, 0, c.Split)
	}
	return autograd.Slice(z, 0, c.Split), autograd.Slice(z, c.Split, z.Cols)
}

func (c *Coupling) join(a, b *autograd.Tensor) *autograd.Tensor {
	if c.Flip {
		return autograd.Concat(b, a)
	}
	return autograd.Concat(a, b)
}

func (c *Coupling) scaleShift(a *autograd.Tensor, m int) (s, t *autograd.Tensor) {
	out := c.Net.Forward(a)
	if out.Cols != 2*m {
		panic(&autograd.MisuseError{Op: "cnf.Coupling", Shapes: [][2]int{a.Shape(), out.Shape()}, Reason: fmt.Sprintf("the conditioner must return 2·%d columns", m)})
	}
	return autograd.Tanh(autograd.Slice(out, 0, m)), autograd.Slice(out, m, 2*m)
}

// Forward returns the coupling map of z and Σ s.
func (c *Coupling) Forward(z *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
	a, b := c.parts(z)
	s, t := c.scaleShift(a, b.Cols)
	xb := autograd.Add(autograd.Mul(b, autograd.Exp(s)), t)
	return c.join(a, xb), autograd.SumCols(s)
}

// Inverse returns the inverse coupling map of x and −Σ s.
func (c *Coupling) Inverse(x *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor, error) {
	a, xb := c.parts(x)
	s, t := c.scaleShift(a, xb.Cols)
	b := autograd.Mul(autograd.Sub(xb, t), autograd.Exp(autograd.Neg(s)))
	return c.join(a, b), autograd.Neg(autograd.SumCols(s)), nil
}

// Params returns the conditioner's parameters.
func (c *Coupling) Params() []*autograd.Tensor { return c.Net.Params() }
