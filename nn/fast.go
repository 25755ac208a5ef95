package nn

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
)

/*
Fused fast paths for VelocityMLP.

TrainStep and Evaluator run v_θ without building a graph, on buffers
allocated once, through package autograd/fused (whose doc states the
forward, backward and forward-mode formulas). They read the parameters'
Data and write their Grad in place, so they interleave freely with the
autograd path and with any Optimizer: the same model, the same numbers up to
rounding. TestTrainStep_MatchesAutograd bounds the gradient difference,
TestEvaluator_EqualsForward shows the forward pass is the same to the bit,
TestTrainStep_NoAllocs shows a step allocates nothing.

Only SiLU and tanh networks have a fused path; NewTrainStep and
NewEvaluator return an error for the other activations so that callers can
fall back to autograd.
*/

// fusedNet returns the fused view of m's parameters, sharing their Data.
func fusedNet(m *VelocityMLP) (fused.Net, error) {
	net := fused.Net{Sizes: m.Net.Sizes(), Act: m.Net.act}
	for _, l := range m.Net.Layers {
		net.W = append(net.W, l.W.Data)
		net.B = append(net.B, l.B.Data)
	}
	return net, net.Check()
}

// packInput writes the rows (xᵢ, tᵢ, cᵢ) of the network input
// [n, dim+1+ctx]; t has one entry per row, or a single entry for every row,
// and c has ctx entries per row, or ctx entries for every row (nothing for
// ctx 0).
func packInput(in, x, t, c []float64, dim, ctx, n int) {
	w := dim + 1 + ctx
	for i := range n {
		r := in[i*w : (i+1)*w]
		copy(r, x[i*dim:(i+1)*dim])
		if len(t) == 1 {
			r[dim] = t[0]
		} else {
			r[dim] = t[i]
		}
		if ctx == 0 {
			continue
		}
		if len(c) == ctx {
			copy(r[dim+1:], c)
		} else {
			copy(r[dim+1:], c[i*ctx:(i+1)*ctx])
		}
	}
}

// width returns the network's input width dim+1+ctx.
func (v *VelocityMLP) width() int { return v.dim + 1 + v.ctx }

// TrainStep computes the flow-matching loss of a VelocityMLP and its
// parameter gradients with the fused path, allocating nothing after
// construction. It is not safe for concurrent use.
type TrainStep struct {
	m      *VelocityMLP
	ws     *fused.Workspace
	batch  int
	in     []float64 // [batch, dim+1+ctx], rows (x_t, t, c)
	out    []float64 // v_θ, then ∂L/∂v, [batch, dim]
	dW, dB [][]float64
	// The running call's targets and 2/n, read by chunkLoss, which
	// fused.Workspace.LossGrad calls once per chunk of rows.
	u         []float64
	k         float64
	chunkLoss fused.LossGradFunc
}

// NewTrainStep returns a TrainStep for m and batches of up to batch rows. It
// returns an error if m's activation has no fused path (only SiLU and tanh
// have one) or if m's parameters do not require gradients (a Frozen view).
func NewTrainStep(m *VelocityMLP, batch int) (*TrainStep, error) {
	if batch < 1 {
		return nil, fmt.Errorf("nn: NewTrainStep: batch %d must be positive", batch)
	}
	net, err := fusedNet(m)
	if err != nil {
		return nil, err
	}
	s := &TrainStep{m: m, ws: fused.NewWorkspace(net, batch, 0), batch: batch,
		in: make([]float64, batch*m.width()), out: make([]float64, batch*m.dim)}
	s.chunkLoss = s.rowsLoss
	for _, l := range m.Net.Layers {
		if l.W.Grad == nil || l.B.Grad == nil {
			return nil, fmt.Errorf("nn: NewTrainStep: the parameters require no gradient (a Frozen model?)")
		}
		s.dW = append(s.dW, l.W.Grad)
		s.dB = append(s.dB, l.B.Grad)
	}
	return s, nil
}

// LossGrad evaluates, for the n = len(t) rows xt [n, dim], t [n] and targets
// u [n, dim] (1 ≤ n ≤ batch), the conditional flow-matching loss
//
//	L = (1/n)·Σᵢ Σ_d (v_θ(xtᵢ, tᵢ)_d − uᵢ_d)²
//
// (Lipman et al. 2022, eq. 9 with the CondOT target; the loss of the PyTorch
// peer), accumulates ∂L/∂θ into the parameters' Grad (+=, as Backward does)
// and returns L. The output gradient is ∂L/∂v = (2/n)·(v − u); the fused
// backward pass carries it to every parameter. TestTrainStep_MatchesAutograd.
// A conditional model panics with a *autograd.MisuseError: call LossGradCond.
func (s *TrainStep) LossGrad(t, xt, u []float64) float64 {
	if s.m.ctx != 0 {
		panic(autograd.Misuse("nn.TrainStep.LossGrad", "the model is conditional (context width %d): call LossGradCond", s.m.ctx))
	}
	return s.lossGrad("nn.TrainStep.LossGrad", t, xt, nil, u)
}

// LossGradCond is LossGrad for a conditional model: the same loss with
// v_θ(tᵢ, xtᵢ, cᵢ), the contexts c [n·ctx] given row by row,
//
//	L = (1/n)·Σᵢ Σ_d (v_θ(tᵢ, xtᵢ, cᵢ)_d − uᵢ_d)²,
//
// the conditional flow-matching loss of Zheng et al. 2023
// (arXiv:2311.13443, §3, with label dropout done by the caller,
// fm.DropContext). TestTrainStep_MatchesAutogradCond. An unconditional
// model panics with a *autograd.MisuseError.
func (s *TrainStep) LossGradCond(t, xt, c, u []float64) float64 {
	const op = "nn.TrainStep.LossGradCond"
	if s.m.ctx == 0 {
		panic(autograd.Misuse(op, "the model is unconditional (context width 0): call LossGrad"))
	}
	if len(c) != len(t)*s.m.ctx {
		panic(autograd.Misuse(op, "len(c) = %d for %d rows of context width %d", len(c), len(t), s.m.ctx))
	}
	return s.lossGrad(op, t, xt, c, u)
}

func (s *TrainStep) lossGrad(op string, t, xt, c, u []float64) float64 {
	n, dim := len(t), s.m.dim
	if n < 1 || n > s.batch || len(xt) != n*dim || len(u) != n*dim {
		panic(autograd.Misuse(op, "len(xt) = %d, len(t) = %d, len(u) = %d for batch ≤ %d, dim %d",
			len(xt), len(t), len(u), s.batch, dim))
	}
	packInput(s.in, xt, t, c, dim, s.m.ctx, n)
	s.u, s.k = u, 2/float64(n)
	loss := s.ws.LossGrad(s.dW, s.dB, s.in, s.out[:n*dim], n, s.chunkLoss)
	s.u = nil
	return loss / float64(n)
}

// rowsLoss is the fused.LossGradFunc of lossGrad: for rows i0 … i1−1 it
// returns Σᵢ Σ_d rᵢ_d², rᵢ_d = v_θ(xtᵢ, tᵢ)_d − uᵢ_d, and overwrites out
// with ∂L/∂v = (2/n)·r, row by row.
func (s *TrainStep) rowsLoss(out []float64, i0, i1 int) float64 {
	dim := s.m.dim
	u := s.u[i0*dim : i1*dim]
	loss := 0.0
	for i := range i1 - i0 {
		row := 0.0
		for d := range dim {
			r := out[i*dim+d] - u[i*dim+d]
			row += r * r
			out[i*dim+d] = r * s.k
		}
		loss += row
	}
	return loss
}

// Evaluator evaluates a VelocityMLP, and its exact divergence in x, without
// a graph and without allocating (after the first EvalDiv or EvalGuided,
// which allocate their buffers). Batches larger than maxBatch are evaluated
// in chunks of maxBatch rows. It reads the parameters' current Data at every
// call. An Evaluator is not safe for concurrent use.
type Evaluator struct {
	m        *VelocityMLP
	net      fused.Net
	maxBatch int
	ws, wsd  *fused.Workspace // forward only; forward with dim tangents (lazy)
	in       []float64        // [maxBatch, dim+1+ctx]
	tOne     [1]float64
	// EvalGuided's stacked pass (lazy): 2·maxBatch rows.
	wsg       *fused.Workspace
	inG, outG []float64
}

// NewEvaluator returns an Evaluator for m with chunks of up to maxBatch
// rows, or an error if m's activation has no fused path (SiLU and tanh have
// one).
func NewEvaluator(m *VelocityMLP, maxBatch int) (*Evaluator, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("nn: NewEvaluator: maxBatch %d must be positive", maxBatch)
	}
	net, err := fusedNet(m)
	if err != nil {
		return nil, err
	}
	return &Evaluator{m: m, net: net, maxBatch: maxBatch,
		ws: fused.NewWorkspace(net, maxBatch, 0), in: make([]float64, maxBatch*m.width())}, nil
}

// Dim returns the dimension of x and v.
func (e *Evaluator) Dim() int { return e.m.dim }

// Ctx returns the model's context width (0 for an unconditional model).
func (e *Evaluator) Ctx() int { return e.m.ctx }

func (e *Evaluator) rows(op string, dst, x []float64) int {
	dim := e.m.dim
	if len(x)%dim != 0 || len(dst) != len(x) {
		panic(autograd.Misuse("nn.Evaluator."+op, "len(x) = %d, len(dst) = %d, want equal multiples of dim %d", len(x), len(dst), dim))
	}
	return len(x) / dim
}

// uncond panics unless the model is unconditional.
func (e *Evaluator) uncond(op, instead string) {
	if e.m.ctx != 0 {
		panic(autograd.Misuse("nn.Evaluator."+op, "the model is conditional (context width %d): call %s with a context", e.m.ctx, instead))
	}
}

// checkCtx panics unless the model is conditional and c holds one context
// row for every point or for each of the n points.
func (e *Evaluator) checkCtx(op, name string, c []float64, n int) {
	k := e.m.ctx
	if k == 0 {
		panic(autograd.Misuse("nn.Evaluator."+op, "the model is unconditional (context width 0): call the method without Cond"))
	}
	if len(c) != k && len(c) != n*k {
		panic(autograd.Misuse("nn.Evaluator."+op, "len(%s) = %d: want one context row (%d) or one per point (%d·%d)", name, len(c), k, n, k))
	}
}

// ctxChunk returns the context rows of points i0 … i0+n−1.
func (e *Evaluator) ctxChunk(c []float64, i0, n int) []float64 {
	k := e.m.ctx
	if len(c) == k {
		return c
	}
	return c[i0*k : (i0+n)*k]
}

// Eval writes v_θ(t, x) for the rows of x [n, dim] into dst [n, dim], the
// same values as Forward(t, x) (TestEvaluator_EqualsForward).
func (e *Evaluator) Eval(dst []float64, t float64, x []float64) {
	e.uncond("Eval", "EvalCond")
	e.tOne[0] = t
	e.eval("Eval", dst, x, e.tOne[:], nil)
}

// EvalRows is Eval with one time per row, t [n].
func (e *Evaluator) EvalRows(dst, t, x []float64) {
	e.uncond("EvalRows", "EvalCond")
	if len(t)*e.m.dim != len(x) {
		panic(autograd.Misuse("nn.Evaluator.EvalRows", "len(t) = %d for %d values of x", len(t), len(x)))
	}
	e.eval("EvalRows", dst, x, t, nil)
}

// EvalCond writes v_θ(t, x, c) for the rows of x [n, dim] into dst
// [n, dim], with c one context row [ctx] for every point or one per point
// [n·ctx]: the same values as ForwardCond (TestEvaluator_EqualsForwardCond).
func (e *Evaluator) EvalCond(dst []float64, t float64, x, c []float64) {
	n := e.rows("EvalCond", dst, x)
	e.checkCtx("EvalCond", "c", c, n)
	e.tOne[0] = t
	e.eval("EvalCond", dst, x, e.tOne[:], c)
}

func (e *Evaluator) eval(op string, dst, x, t, c []float64) {
	n, dim := e.rows(op, dst, x), e.m.dim
	for i0 := 0; i0 < n; i0 += e.maxBatch {
		k := min(e.maxBatch, n-i0)
		tc := t
		if len(t) > 1 {
			tc = t[i0 : i0+k]
		}
		packInput(e.in, x[i0*dim:(i0+k)*dim], tc, e.ctxChunk(c, i0, k), dim, e.m.ctx, k)
		e.ws.Forward(dst[i0*dim:(i0+k)*dim], e.in, k)
	}
}

// EvalDiv writes v_θ(t, x) into dst [n, dim] and its exact divergence
// div v_θ = Σⱼ ∂vⱼ/∂xⱼ into div [n], by forward-mode tangents (one product
// per hidden layer for v and its dim tangents together; see package
// autograd/fused). dst equals Eval's. The divergence is checked against the
// autograd exact divergence by cnf: TestFastDivergence_MatchesExact.
func (e *Evaluator) EvalDiv(dst, div []float64, t float64, x []float64) {
	e.uncond("EvalDiv", "EvalDivCond")
	e.evalDiv("EvalDiv", dst, div, t, x, nil)
}

// EvalDivCond is EvalDiv for a conditional model: v_θ(t, x, c) and its
// divergence in x only, div = Σⱼ ∂vⱼ/∂xⱼ at fixed t and c (the density of a
// conditional flow, log p(x|c), needs nothing else), with c as in EvalCond.
// TestEvaluator_DivCond checks it against autograd.
func (e *Evaluator) EvalDivCond(dst, div []float64, t float64, x, c []float64) {
	n := e.rows("EvalDivCond", dst, x)
	e.checkCtx("EvalDivCond", "c", c, n)
	e.evalDiv("EvalDivCond", dst, div, t, x, c)
}

func (e *Evaluator) evalDiv(op string, dst, div []float64, t float64, x, c []float64) {
	n, dim := e.rows(op, dst, x), e.m.dim
	if len(div) != n {
		panic(autograd.Misuse("nn.Evaluator."+op, "len(div) = %d, want %d", len(div), n))
	}
	if e.wsd == nil {
		e.wsd = fused.NewWorkspace(e.net, e.maxBatch, dim)
	}
	e.tOne[0] = t
	for i0 := 0; i0 < n; i0 += e.maxBatch {
		k := min(e.maxBatch, n-i0)
		packInput(e.in, x[i0*dim:(i0+k)*dim], e.tOne[:], e.ctxChunk(c, i0, k), dim, e.m.ctx, k)
		e.wsd.Divergence(dst[i0*dim:(i0+k)*dim], div[i0:i0+k], e.in, k)
	}
}

// EvalGuided writes the classifier-free guided field (Ho & Salimans 2022,
// arXiv:2207.12598, eq. 6 written for velocities; fm.Guided)
//
//	ṽ(t, x) = (1 − w)·v_θ(t, x, ∅) + w·v_θ(t, x, c)
//
// into dst [n, dim], with c and null (∅) each one context row [ctx] for every
// point or one per point [n·ctx]. The two halves are stacked into one
// forward pass of 2n rows (the n rows with ∅, then the n rows with c), so
// each layer is one matrix product. At w = 0 and w = 1 only one half is
// evaluated, as fm.Guided does. It equals fm.Guided(model.ForwardCond, c,
// null, w) up to rounding (TestEvaluator_GuidedEqualsGuided).
func (e *Evaluator) EvalGuided(dst []float64, t float64, x, c, null []float64, w float64) {
	const op = "EvalGuided"
	n, dim, k := e.rows(op, dst, x), e.m.dim, e.m.ctx
	e.checkCtx(op, "c", c, n)
	e.checkCtx(op, "null", null, n)
	switch w {
	case 1:
		e.EvalCond(dst, t, x, c)
		return
	case 0:
		e.EvalCond(dst, t, x, null)
		return
	}
	if e.wsg == nil {
		e.wsg = fused.NewWorkspace(e.net, 2*e.maxBatch, 0)
		e.inG = make([]float64, 2*e.maxBatch*e.m.width())
		e.outG = make([]float64, 2*e.maxBatch*dim)
	}
	e.tOne[0] = t
	wid := e.m.width()
	for i0 := 0; i0 < n; i0 += e.maxBatch {
		m := min(e.maxBatch, n-i0)
		xc := x[i0*dim : (i0+m)*dim]
		packInput(e.inG, xc, e.tOne[:], e.ctxChunk(null, i0, m), dim, k, m)
		packInput(e.inG[m*wid:], xc, e.tOne[:], e.ctxChunk(c, i0, m), dim, k, m)
		out := e.outG[:2*m*dim]
		e.wsg.Forward(out, e.inG, 2*m)
		vn, vc, d := out[:m*dim], out[m*dim:], dst[i0*dim:(i0+m)*dim]
		for j := range d {
			d[j] = vn[j]*(1-w) + vc[j]*w
		}
	}
}

// SetThreads sets the number of goroutines the fused paths' matrix products,
// activations and Adam steps may use, process-wide (fused.SetThreads;
// default 1). TrainStep runs its batch in chunks of at least 256 rows on
// that many goroutines at once (fused.Workspace.LossGrad), so a batch of
// 256 rows or fewer is one chunk and leaves the threads to the products.
// Results are bit-identical for every setting
// (BenchmarkFastTrainStep/batch=1024/threads=2 times it; fused's
// TestLossGrad_ThreadsBitIdentical checks it).
func SetThreads(n int) { fused.SetThreads(n) }
