package cnf

import "github.com/flowmatch/flowmatch/autograd"

// ArenaField returns f evaluated in the arena a, for inference solves: on
// a state x in the no-graph mode (what Sample passes) it evaluates
// f(t, x.In(a)), so every op of the evaluation draws its memory from a,
// copies the result to the heap (a no-graph [n, d] tensor) if it is a's,
// and Resets a. A result that is not a's (a field that computes on the
// heap, such as FastField) is returned as it is, with no copy; it must not
// share memory with a tensor of a.
// Each evaluation thus reuses the buffers of the one before: a network's
// intermediate tensors (a U-Net's feature maps) are allocated once per
// solve instead of once per evaluation, and only the result and the
// solver's own combinations are new. The values are f's, bit for bit
// (TestArenaField_MatchesHeap, ExampleArenaField; BenchmarkSampleUNet
// measures the allocations).
//
// f must not keep its input, or any tensor it computes, past the call:
// after the Reset they belong to the next evaluation (a copy, Clone, may be
// kept).
//
// A state that is recorded (not in the no-graph mode: training through the
// solver, MaxLikelihoodLoss) is evaluated by f itself, outside a, so its
// tape survives; a nil a returns f unchanged. The field uses a for every
// call and Resets it: give it an arena of its own, and do not call it from
// several goroutines at once.
func ArenaField(f Field, a *autograd.Arena) Field {
	if f == nil {
		panic(autograd.Misuse("cnf.ArenaField", "nil Field"))
	}
	if a == nil {
		return f
	}
	return func(t float64, x *autograd.Tensor) *autograd.Tensor {
		if !x.IsNoGraph() {
			return f(t, x)
		}
		v := f(t, x.In(a))
		if v.Arena() == a {
			v = v.Clone().NoGraph()
		}
		a.Reset()
		return v
	}
}
