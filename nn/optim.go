package nn

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update θ ← θ − (…) using each parameter's Grad.
	Step()
	// ZeroGrad sets every parameter's Grad to 0 (Backward accumulates).
	ZeroGrad()
}

var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Adam)(nil)
)

// Parameters without a Grad (they do not require gradients) are skipped by
// every optimizer, as PyTorch skips parameters whose .grad is None.

func zeroGrads(params []*autograd.Tensor) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

func buffers(params []*autograd.Tensor) [][]float64 {
	b := make([][]float64, len(params))
	for i, p := range params {
		b[i] = make([]float64, len(p.Data))
	}
	return b
}

// SGD is stochastic gradient descent with (heavy-ball) momentum μ, as
// torch.optim.SGD with dampening 0 and nesterov off:
//
//	b ← μ·b + g   (b₀ = 0, so b₁ = g)
//	θ ← θ − η·b
//
// With μ = 0 it is plain θ ← θ − η·g. TestSGD_Momentum.
type SGD struct {
	LR, Momentum float64
	params       []*autograd.Tensor
	buf          [][]float64
}

// NewSGD returns SGD over params with learning rate lr and momentum μ.
func NewSGD(params []*autograd.Tensor, lr, momentum float64) *SGD {
	return &SGD{LR: lr, Momentum: momentum, params: params, buf: buffers(params)}
}

// Step applies one SGD update; it does not allocate.
func (o *SGD) Step() {
	for i, p := range o.params {
		if p.Grad == nil {
			continue
		}
		b := o.buf[i]
		for j, g := range p.Grad {
			b[j] = o.Momentum*b[j] + g
			p.Data[j] -= o.LR * b[j]
		}
	}
}

// ZeroGrad zeroes the parameters' gradients.
func (o *SGD) ZeroGrad() { zeroGrads(o.params) }

// Adam is torch.optim.Adam (amsgrad off), and with Decoupled set,
// torch.optim.AdamW. At step k = 1, 2, … with g = ∂L/∂θ:
//
//	g ← g + λ·θ                 (WeightDecay λ, Adam only: L2 penalty)
//	θ ← θ·(1 − η·λ)             (AdamW only: decoupled decay)
//	m ← β₁·m + (1 − β₁)·g       (m₀ = 0)
//	v ← β₂·v + (1 − β₂)·g²      (v₀ = 0)
//	θ ← θ − (η / (1 − β₁ᵏ)) · m / (√v / √(1 − β₂ᵏ) + ε)
//
// (m is updated as m + (1 − β₁)·(g − m), PyTorch's lerp, the same value up
// to rounding), the bias corrections 1 − βᵏ undoing the pull of m₀ = v₀ = 0 towards 0.
// ε is added after the bias correction of √v, exactly as PyTorch does
// (Kingma & Ba's Algorithm 1 writes m̂/(√v̂ + ε), the same thing).
// TestAdam_HandComputedTwoSteps, TestAdamW_HandComputed.
type Adam struct {
	LR           float64 // η
	Beta1, Beta2 float64 // β₁, β₂: decay rates of m and v
	Eps          float64 // ε
	WeightDecay  float64 // λ
	Decoupled    bool    // AdamW's decay instead of the L2 penalty

	params []*autograd.Tensor
	m, v   [][]float64
	k      int
}

// NewAdam returns Adam with PyTorch's defaults β = (0.9, 0.999), ε = 1e-8
// and no weight decay.
func NewAdam(params []*autograd.Tensor, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		params: params, m: buffers(params), v: buffers(params)}
}

// NewAdamW returns AdamW (decoupled weight decay λ = weightDecay) with
// β = (0.9, 0.999), ε = 1e-8.
func NewAdamW(params []*autograd.Tensor, lr, weightDecay float64) *Adam {
	a := NewAdam(params, lr)
	a.WeightDecay, a.Decoupled = weightDecay, true
	return a
}

// Steps returns the number of steps taken, k.
func (o *Adam) Steps() int { return o.k }

// Step applies one Adam (or AdamW) update; it does not allocate. Each
// parameter is updated by fused.AdamStep, whose doc comment is the loop
// (PyTorch's operation order, every operation rounded once) and whose
// vector kernel gives that loop's results to the bit.
func (o *Adam) Step() {
	o.k++
	k := float64(o.k)
	b1, b2, lam := o.Beta1, o.Beta2, o.WeightDecay
	p := fused.AdamParams{
		C1: 1 - b1, Beta2: b2, C2: 1 - b2,
		StepSize: o.LR / (1 - math.Pow(b1, k)),
		BC2Sqrt:  math.Sqrt(1 - math.Pow(b2, k)),
		Eps:      o.Eps,
	}
	if !o.Decoupled {
		p.L2 = lam
	}
	for i, pr := range o.params {
		if pr.Grad == nil {
			continue
		}
		th := pr.Data
		if o.Decoupled && lam != 0 {
			decay := 1 - o.LR*lam
			for j := range th {
				th[j] *= decay
			}
		}
		fused.AdamStep(th, pr.Grad, o.m[i], o.v[i], &p)
	}
}

// ZeroGrad zeroes the parameters' gradients.
func (o *Adam) ZeroGrad() { zeroGrads(o.params) }

// ClipGradNorm rescales the gradients of params, as torch.nn.utils.
// clip_grad_norm_ does, so that their joint Euclidean norm is at most
// maxNorm:
//
//	N = √(Σₚ Σᵢ gₚᵢ²),  g ← g · min(1, maxNorm / (N + 10⁻⁶))
//
// and returns N, the norm before clipping. Parameters without a Grad are
// ignored. A non-finite N is returned as is and, as in PyTorch, spreads to
// the gradients. TestClipGradNorm.
func ClipGradNorm(params []*autograd.Tensor, maxNorm float64) float64 {
	ss := 0.0
	for _, p := range params {
		for _, g := range p.Grad {
			ss += g * g
		}
	}
	n := math.Sqrt(ss)
	c := maxNorm / (n + 1e-6)
	if c < 1 || math.IsNaN(c) {
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= c
			}
		}
	}
	return n
}

// EMA keeps an exponential moving average of parameters, the weights
// usually sampled from after training:
//
//	shadow ← decay·shadow + (1 − decay)·θ   (shadow starts at θ)
//
// TestEMA_Formula.
type EMA struct {
	Decay  float64
	params []*autograd.Tensor
	shadow []*autograd.Tensor
}

// NewEMA returns an EMA of params whose shadow copies start equal to them.
func NewEMA(params []*autograd.Tensor, decay float64) *EMA {
	e := &EMA{Decay: decay, params: params, shadow: make([]*autograd.Tensor, len(params))}
	for i, p := range params {
		e.shadow[i] = p.Clone()
	}
	return e
}

// Update moves each shadow towards its parameter; it does not allocate.
func (e *EMA) Update() {
	d := e.Decay
	for i, p := range e.params {
		s := e.shadow[i].Data
		for j, x := range p.Data {
			s[j] = d*s[j] + (1-d)*x
		}
	}
}

// Params returns the shadow tensors (leaves that require no gradient), in
// the order of the parameters given to NewEMA.
func (e *EMA) Params() []*autograd.Tensor { return e.shadow }

// CopyTo copies the shadow values into dst, which must match the tracked
// parameters in number and shapes (e.g. the Params of a second model of the
// same architecture, or of a Frozen view to sample with averaged weights).
func (e *EMA) CopyTo(dst []*autograd.Tensor) {
	if len(dst) != len(e.shadow) {
		panic(autograd.Misuse("nn.EMA.CopyTo", "%d tensors, want %d", len(dst), len(e.shadow)))
	}
	for i, d := range dst {
		s := e.shadow[i]
		if d.Rows != s.Rows || d.Cols != s.Cols {
			panic(&autograd.MisuseError{Op: "nn.EMA.CopyTo", Shapes: [][2]int{d.Shape(), s.Shape()}, Reason: fmt.Sprintf("tensor %d: shape differs from the shadow", i)})
		}
		copy(d.Data, s.Data)
	}
}
