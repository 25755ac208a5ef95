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

// packInput writes the rows (xᵢ, tᵢ) of the network input [n, dim+1]; t has
// one entry per row, or a single entry for every row.
func packInput(in, x, t []float64, dim, n int) {
	for i := range n {
		r := in[i*(dim+1) : (i+1)*(dim+1)]
		copy(r, x[i*dim:(i+1)*dim])
		if len(t) == 1 {
			r[dim] = t[0]
		} else {
			r[dim] = t[i]
		}
	}
}

// TrainStep computes the flow-matching loss of a VelocityMLP and its
// parameter gradients with the fused path, allocating nothing after
// construction. It is not safe for concurrent use.
type TrainStep struct {
	m      *VelocityMLP
	ws     *fused.Workspace
	batch  int
	in     []float64 // [batch, dim+1], rows (x_t, t)
	out, g []float64 // v_θ and ∂L/∂v, [batch, dim]
	dW, dB [][]float64
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
		in: make([]float64, batch*(m.dim+1)), out: make([]float64, batch*m.dim), g: make([]float64, batch*m.dim)}
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
func (s *TrainStep) LossGrad(t, xt, u []float64) float64 {
	n, dim := len(t), s.m.dim
	if n < 1 || n > s.batch || len(xt) != n*dim || len(u) != n*dim {
		panic(autograd.Misuse("nn.TrainStep.LossGrad", "len(xt) = %d, len(t) = %d, len(u) = %d for batch ≤ %d, dim %d",
			len(xt), len(t), len(u), s.batch, dim))
	}
	packInput(s.in, xt, t, dim, n)
	out, g := s.out[:n*dim], s.g[:n*dim]
	s.ws.Forward(out, s.in, n)
	loss := 0.0
	for i := range n {
		row := 0.0
		for d := range dim {
			r := out[i*dim+d] - u[i*dim+d]
			row += r * r
			g[i*dim+d] = r
		}
		loss += row
	}
	c := 2 / float64(n)
	for i := range g {
		g[i] *= c
	}
	s.ws.Backward(s.dW, s.dB, s.in, g)
	return loss / float64(n)
}

// Evaluator evaluates a VelocityMLP, and its exact divergence in x, without
// a graph and without allocating (after the first EvalDiv, which allocates
// the tangent buffers). Batches larger than maxBatch are evaluated in chunks
// of maxBatch rows. It reads the parameters' current Data at every call. An
// Evaluator is not safe for concurrent use.
type Evaluator struct {
	m        *VelocityMLP
	net      fused.Net
	maxBatch int
	ws, wsd  *fused.Workspace // forward only; forward with dim tangents (lazy)
	in       []float64        // [maxBatch, dim+1]
	tOne     [1]float64
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
		ws: fused.NewWorkspace(net, maxBatch, 0), in: make([]float64, maxBatch*(m.dim+1))}, nil
}

// Dim returns the dimension of x and v.
func (e *Evaluator) Dim() int { return e.m.dim }

func (e *Evaluator) rows(op string, dst, x []float64) int {
	dim := e.m.dim
	if len(x)%dim != 0 || len(dst) != len(x) {
		panic(autograd.Misuse("nn.Evaluator."+op, "len(x) = %d, len(dst) = %d, want equal multiples of dim %d", len(x), len(dst), dim))
	}
	return len(x) / dim
}

// Eval writes v_θ(t, x) for the rows of x [n, dim] into dst [n, dim], the
// same values as Forward(t, x) (TestEvaluator_EqualsForward).
func (e *Evaluator) Eval(dst []float64, t float64, x []float64) {
	e.tOne[0] = t
	e.eval("Eval", dst, x, e.tOne[:])
}

// EvalRows is Eval with one time per row, t [n].
func (e *Evaluator) EvalRows(dst, t, x []float64) {
	if len(t)*e.m.dim != len(x) {
		panic(autograd.Misuse("nn.Evaluator.EvalRows", "len(t) = %d for %d values of x", len(t), len(x)))
	}
	e.eval("EvalRows", dst, x, t)
}

func (e *Evaluator) eval(op string, dst, x, t []float64) {
	n, dim := e.rows(op, dst, x), e.m.dim
	for i0 := 0; i0 < n; i0 += e.maxBatch {
		c := min(e.maxBatch, n-i0)
		tc := t
		if len(t) > 1 {
			tc = t[i0 : i0+c]
		}
		packInput(e.in, x[i0*dim:(i0+c)*dim], tc, dim, c)
		e.ws.Forward(dst[i0*dim:(i0+c)*dim], e.in, c)
	}
}

// EvalDiv writes v_θ(t, x) into dst [n, dim] and its exact divergence
// div v_θ = Σⱼ ∂vⱼ/∂xⱼ into div [n], by forward-mode tangents (one product
// per hidden layer for v and its dim tangents together; see package
// autograd/fused). dst equals Eval's. The divergence is checked against the
// autograd exact divergence by cnf: TestFastDivergence_MatchesExact.
func (e *Evaluator) EvalDiv(dst, div []float64, t float64, x []float64) {
	n, dim := e.rows("EvalDiv", dst, x), e.m.dim
	if len(div) != n {
		panic(autograd.Misuse("nn.Evaluator.EvalDiv", "len(div) = %d, want %d", len(div), n))
	}
	if e.wsd == nil {
		e.wsd = fused.NewWorkspace(e.net, e.maxBatch, dim)
	}
	e.tOne[0] = t
	for i0 := 0; i0 < n; i0 += e.maxBatch {
		c := min(e.maxBatch, n-i0)
		packInput(e.in, x[i0*dim:(i0+c)*dim], e.tOne[:], dim, c)
		e.wsd.Divergence(dst[i0*dim:(i0+c)*dim], div[i0:i0+c], e.in, c)
	}
}

// SetThreads sets the number of goroutines the fused paths' matrix products,
// activations and Adam steps may use, process-wide (fused.SetThreads;
// default 1). Results are
// bit-identical for every setting; 2 threads pay at batch 1024, where the
// products are large (BenchmarkFastTrainStep/batch=1024/threads=2).
func SetThreads(n int) { fused.SetThreads(n) }
