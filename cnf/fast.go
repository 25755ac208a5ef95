package cnf

import (
	"sync"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// fastEval is an nn.Evaluator shared by the closures of FastField and
// FastDivergence, with a mutex that makes them safe for concurrent use
// (calls are serialized: the Evaluator's buffers are reused).
type fastEval struct {
	mu sync.Mutex
	e  *nn.Evaluator
}

func newFastEval(m *nn.VelocityMLP, maxBatch int) *fastEval {
	e, err := nn.NewEvaluator(m, maxBatch)
	if err != nil {
		return nil
	}
	return &fastEval{e: e}
}

// FastField returns the Field of m, evaluated by nn.Evaluator in chunks of
// maxBatch rows: no graph, no [n, width] allocations (only the [n, d]
// result is allocated), the same values as FieldOf(m) to the bit for
// batches of at most maxBatch rows (TestFastField_EqualsFieldOf).
//
// The fast path serves inputs in the no-graph mode (what Sample and an
// inference LogLikelihood pass); any other input, and a model whose
// activation has no fused path (only SiLU and tanh have one), is evaluated
// by FieldOf(m), so results that must be recorded still are. The Field is
// safe for concurrent use; concurrent calls are serialized.
func FastField(m *nn.VelocityMLP, maxBatch int) Field {
	mustFastArgs("cnf.FastField", m, maxBatch)
	slow := FieldOf(m)
	fe := newFastEval(m, maxBatch)
	if fe == nil {
		return slow
	}
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		if !x.IsNoGraph() {
			return slow(t, x)
		}
		mustDim(x, m)
		v := autograd.Zeros(x.Rows, x.Cols)
		fe.mu.Lock()
		fe.e.Eval(v.Data, t, x.Data)
		fe.mu.Unlock()
		return v.NoGraph()
	}
}

// FastDivergence returns a DivergenceFunc for the field of m that computes
// v and its exact divergence with forward-mode tangents
// (nn.Evaluator.EvalDiv): about 1 + d forward passes instead of one forward
// and d backward passes, and no graph.
//
// It ignores its Field argument: it always evaluates m, so pair it with
// FastField(m, …) or FieldOf(m). Inputs not in the no-graph mode, and models
// whose activation has no fused path, fall back to ExactDivergence on
// FieldOf(m), which records what must be recorded. Safe for concurrent use
// (calls are serialized). TestFastDivergence_MatchesExact,
// TestFastLogLikelihood_MatchesGeneric.
func FastDivergence(m *nn.VelocityMLP, maxBatch int) DivergenceFunc {
	mustFastArgs("cnf.FastDivergence", m, maxBatch)
	slow := FieldOf(m)
	fe := newFastEval(m, maxBatch)
	return func(_ Field, t float64, x *autograd.Tensor) (v, div *autograd.Tensor) {
		if fe == nil || !x.IsNoGraph() {
			return ExactDivergence(slow, t, x)
		}
		mustDim(x, m)
		v, div = autograd.Zeros(x.Rows, x.Cols), autograd.Zeros(x.Rows, 1)
		fe.mu.Lock()
		fe.e.EvalDiv(v.Data, div.Data, t, x.Data)
		fe.mu.Unlock()
		return v.NoGraph(), div.NoGraph()
	}
}

// mustFastArgs panics with a *autograd.MisuseError for a nil model or a
// chunk size below 1 (which would otherwise silently drop the fast path).
func mustFastArgs(op string, m *nn.VelocityMLP, maxBatch int) {
	switch {
	case m == nil:
		panic(autograd.Misuse(op, "nil model"))
	case maxBatch < 1:
		panic(autograd.Misuse(op, "maxBatch = %d, want ≥ 1 rows per chunk", maxBatch))
	}
}

func mustDim(x *autograd.Tensor, m *nn.VelocityMLP) {
	if x.Cols != m.Dim() {
		panic(&autograd.MisuseError{Op: "cnf.FastField", Shapes: [][2]int{x.Shape()}, Reason: "x has the wrong number of columns for the model"})
	}
}
