package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
)

// Tensor is a dense, row-major float64 matrix of shape [Rows, Cols]; a scalar
// is [1, 1] and a batch of n points in d dimensions is [n, d].
//
// A Tensor made by an op remembers its inputs and how to send a gradient back
// to them; a leaf (made by a constructor) remembers nothing. Grad holds
// ∂L/∂t after Backward for leaves that require gradients.
type Tensor struct {
	Rows, Cols int
	Data       []float64 // row-major, len Rows·Cols
	Grad       []float64 // ∂L/∂t, accumulated by Backward (leaves that require grad)

	op           string
	inputs       []*Tensor
	backward     func(g *Tensor) []*Tensor // ∂L/∂inputs from g = ∂L/∂t, built from ops
	requiresGrad bool                      // a gradient flows to or through t
	noGraph      bool                      // t and everything computed from it record nothing
	arena        *Arena                    // owns the memory of everything computed from t (nil: the heap)
}

// Zeros returns a [rows, cols] leaf filled with 0 (Arena.Zeros with no arena).
func Zeros(rows, cols int) *Tensor { return (*Arena)(nil).Zeros(rows, cols) }

// Full returns a [rows, cols] leaf with every element equal to v.
func Full(rows, cols int, v float64) *Tensor {
	t := Zeros(rows, cols)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// Scalar returns the [1, 1] leaf holding v.
func Scalar(v float64) *Tensor { return &Tensor{Rows: 1, Cols: 1, Data: []float64{v}} }

// FromSlice returns a [rows, cols] leaf that uses data (row-major) as its
// storage; len(data) must be rows·cols.
func FromSlice(rows, cols int, data []float64) *Tensor {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		panic(&MisuseError{Op: "FromSlice", Shapes: [][2]int{{rows, cols}},
			Reason: fmt.Sprintf("len(data) = %d, want rows·cols = %d", len(data), rows*cols)})
	}
	return &Tensor{Rows: rows, Cols: cols, Data: data}
}

// FromRows returns a leaf holding a copy of the given rows, which must all
// have the same length.
func FromRows(rows [][]float64) *Tensor {
	if len(rows) == 0 {
		return Zeros(0, 0)
	}
	t := Zeros(len(rows), len(rows[0]))
	for i, r := range rows {
		if len(r) != t.Cols {
			panic(&MisuseError{Op: "FromRows", Shapes: [][2]int{{len(rows), t.Cols}},
				Reason: fmt.Sprintf("row %d has length %d", i, len(r))})
		}
		copy(t.Data[i*t.Cols:], r)
	}
	return t
}

// Normal returns a [rows, cols] leaf of independent N(mean, std²) draws from
// rng (Arena.Normal with no arena). A nil rng panics with a *MisuseError.
func Normal(rows, cols int, mean, std float64, rng *rand.Rand) *Tensor {
	return (*Arena)(nil).Normal(rows, cols, mean, std, rng)
}

// Uniform returns a [rows, cols] leaf of independent U[lo, hi) draws from
// rng (Arena.Uniform with no arena). A nil rng panics with a *MisuseError.
func Uniform(rows, cols int, lo, hi float64, rng *rand.Rand) *Tensor {
	return (*Arena)(nil).Uniform(rows, cols, lo, hi, rng)
}

// mustRNG panics with a *MisuseError naming op when rng is nil: every random
// draw in flowmatch comes from an explicit generator.
func mustRNG(op string, rng *rand.Rand) {
	if rng == nil {
		panic(Misuse(op, "nil *rand.Rand; pass rand.New(rand.NewPCG(seed, stream))"))
	}
}

// Shape returns [Rows, Cols].
func (t *Tensor) Shape() [2]int { return [2]int{t.Rows, t.Cols} }

// At returns the element in row i, column j.
func (t *Tensor) At(i, j int) float64 { return t.Data[i*t.Cols+j] }

// Item returns the value of a [1, 1] tensor.
func (t *Tensor) Item() float64 {
	if t.Rows != 1 || t.Cols != 1 {
		panic(&MisuseError{Op: "Item", Shapes: [][2]int{t.Shape()}, Reason: "not a scalar [1, 1]"})
	}
	return t.Data[0]
}

// Row returns row i as a slice of Data (not a copy).
func (t *Tensor) Row(i int) []float64 { return t.Data[i*t.Cols : (i+1)*t.Cols] }

// Op returns the name of the op that made t, or "" for a leaf.
func (t *Tensor) Op() string { return t.op }

// String formats the shape and, for small tensors, the values.
func (t *Tensor) String() string {
	if len(t.Data) > 16 {
		return fmt.Sprintf("Tensor[%d,%d]", t.Rows, t.Cols)
	}
	return fmt.Sprintf("Tensor[%d,%d]%v", t.Rows, t.Cols, t.Data)
}

// SetRequiresGrad marks a leaf as a variable: Backward accumulates ∂L/∂t into
// its Grad (taken from t's arena, if it has one), and ops record how to reach
// it. It returns t.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	if t.op != "" {
		panic(&MisuseError{Op: "SetRequiresGrad", Shapes: [][2]int{t.Shape()}, Reason: "not a leaf (made by " + t.op + "); use Detach first"})
	}
	t.requiresGrad = on
	if on && t.Grad == nil {
		t.Grad = t.arena.floats(len(t.Data))
	}
	return t
}

// RequiresGrad reports whether a gradient can flow to or through t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// ZeroGrad sets t.Grad to 0.
func (t *Tensor) ZeroGrad() {
	for i := range t.Grad {
		t.Grad[i] = 0
	}
}

// Detach returns a leaf that shares t's Data (and arena) but has no history
// and does not require gradients.
func (t *Tensor) Detach() *Tensor {
	d := t.arena.tensor()
	d.Rows, d.Cols, d.Data, d.arena = t.Rows, t.Cols, t.Data, t.arena
	return d
}

// NoGraph returns a view of t (sharing Data) from which no op records a
// graph: every tensor computed from it, even together with parameters that
// require gradients, is a plain value with no history and no backward
// closure. It is the inference mode: sampling starts from NoGraph noise.
// The mode travels with the data, not with a global switch, so goroutines
// that train and goroutines that sample do not interfere.
func (t *Tensor) NoGraph() *Tensor {
	v := t.Detach()
	v.noGraph = true
	return v
}

// IsNoGraph reports whether t was made in the no-graph mode.
func (t *Tensor) IsNoGraph() bool { return t.noGraph }

// Clone returns a leaf holding a copy of t's data, on the heap even when t
// belongs to an arena: the way to keep a value past the arena's Reset.
func (t *Tensor) Clone() *Tensor {
	c := Zeros(t.Rows, t.Cols)
	copy(c.Data, t.Data)
	return c
}

// result allocates the output of an op on the given inputs, zeroed, from the
// arena of the first input that has one (else the heap), and decides whether
// the op records: it does when some input requires a gradient and no input
// is in the no-graph mode. The caller sets backward only when
// out.recording() is true, so the no-graph mode allocates no closure.
func result(op string, rows, cols int, inputs ...*Tensor) *Tensor {
	var a *Arena
	for _, in := range inputs {
		if in.arena != nil {
			a = in.arena
			break
		}
	}
	out := a.tensor()
	out.Rows, out.Cols, out.Data, out.op, out.arena = rows, cols, a.floats(rows*cols), op, a
	for _, in := range inputs {
		if in.noGraph {
			out.noGraph = true
			out.requiresGrad = false
			return out
		}
		if in.requiresGrad {
			out.requiresGrad = true
		}
	}
	if out.requiresGrad {
		out.inputs = a.list(inputs) // a copy, so that the caller's slice stays on its stack
	}
	return out
}

// recording reports whether the op that made t keeps a backward closure.
func (t *Tensor) recording() bool { return t.requiresGrad }

// finish runs the opt-in finiteness check on an op's output and returns it.
func finish(t *Tensor) *Tensor {
	if checkFinite.Load() > 0 {
		for i, v := range t.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				panic(&NonFiniteError{Op: t.op, Shape: t.Shape(), Index: i, Value: v})
			}
		}
	}
	return t
}

var checkFinite atomic.Int32

// Backward computes ∂t/∂x for every leaf x that requires a gradient and that
// t depends on, and adds it to x.Grad (gradients accumulate: call ZeroGrad
// between steps). t must be a scalar [1, 1]. The graph is not consumed:
// Backward may be called again.
func (t *Tensor) Backward() {
	if t.Rows != 1 || t.Cols != 1 {
		panic(&MisuseError{Op: "Backward", Shapes: [][2]int{t.Shape()}, Reason: "needs a scalar [1, 1] loss; use Grad with a seed for a vector-Jacobian product"})
	}
	if !t.requiresGrad {
		panic(&MisuseError{Op: "Backward", Shapes: [][2]int{t.Shape()}, Reason: "the loss does not depend on any tensor that requires a gradient"})
	}
	seed := t.arena.Zeros(1, 1)
	seed.Data[0], seed.noGraph = 1, true
	w := t.arena.walk()
	defer t.arena.done(w)
	for x, g := range w.propagate(t, seed, nil) {
		if x.op == "" && x.requiresGrad {
			if x.Grad == nil {
				x.Grad = x.arena.floats(len(x.Data))
			}
			for i, v := range g.Data {
				x.Grad[i] += v
			}
		}
	}
}

// Grad returns the vector-Jacobian products seedᵀ·∂y/∂x for each x in wrt,
// without touching any Grad field. seed has y's shape; nil means ones, and is
// allowed only for a scalar y. A wrt tensor that y does not depend on gets
// zeros. The results are plain values (no graph); use GradGraph to
// differentiate them again.
func Grad(y, seed *Tensor, wrt ...*Tensor) []*Tensor {
	return gradients("Grad", y, seed, wrt, false)
}

// GradGraph is Grad with the backward pass itself recorded as a graph
// (PyTorch's create_graph=True): the returned gradients depend differentiably
// on y's inputs, so they can be differentiated again, e.g. to train through
// a divergence. Tested by TestGradGraph_SecondOrder.
func GradGraph(y, seed *Tensor, wrt ...*Tensor) []*Tensor {
	return gradients("GradGraph", y, seed, wrt, true)
}

func gradients(op string, y, seed *Tensor, wrt []*Tensor, createGraph bool) []*Tensor {
	a := y.arena
	if seed == nil {
		if y.Rows != 1 || y.Cols != 1 {
			panic(&MisuseError{Op: op, Shapes: [][2]int{y.Shape()}, Reason: "a nil seed needs a scalar [1, 1] output"})
		}
		seed = a.Zeros(1, 1)
		seed.Data[0] = 1
	} else if seed.Rows != y.Rows || seed.Cols != y.Cols {
		panic(&MisuseError{Op: op, Shapes: [][2]int{y.Shape(), seed.Shape()}, Reason: "seed must have the output's shape"})
	}
	if !createGraph {
		seed = seed.NoGraph()
	}
	out := make([]*Tensor, len(wrt))
	if y.requiresGrad {
		w := a.walk()
		defer a.done(w)
		for _, x := range wrt {
			w.targets[x] = true
		}
		grads := w.propagate(y, seed, w.targets)
		for i, x := range wrt {
			out[i] = grads[x]
		}
	}
	for i, x := range wrt {
		if out[i] == nil {
			out[i] = a.Zeros(x.Rows, x.Cols)
		}
	}
	return out
}

// propagate walks the graph under y in reverse topological order and returns
// ∂(seed·y)/∂n for every node n that leads to a target (every leaf that
// requires grad, when targets is nil). A node's gradient is complete before
// its backward runs, because every path from y to it has been visited. The
// map returned is w's: it is valid until w is done.
func (w *walk) propagate(y, seed *Tensor, targets map[*Tensor]bool) map[*Tensor]*Tensor {
	w.visit(y, targets)
	useful, grads := w.useful, w.grads
	grads[y] = seed
	for i := len(w.order) - 1; i >= 0; i-- {
		n := w.order[i]
		g := grads[n]
		if g == nil || n.backward == nil || !useful[n] || (len(targets) == 1 && targets[n]) {
			continue
		}
		for j, gi := range n.backward(g) {
			in := n.inputs[j]
			if gi == nil || !useful[in] {
				continue
			}
			if prev := grads[in]; prev != nil {
				gi = Add(prev, gi) // a shared input: gradients from every use add up
			}
			grads[in] = gi
		}
	}
	return grads
}

// visit appends n and the nodes under it to w.order in topological order
// (inputs first), records in w.useful whether each leads to a target, and
// returns that for n.
func (w *walk) visit(n *Tensor, targets map[*Tensor]bool) bool {
	if u, seen := w.useful[n]; seen {
		return u
	}
	u := targets[n] || (targets == nil && n.op == "" && n.requiresGrad)
	if !(u && len(targets) == 1) {
		// Below the only target nothing is needed: this keeps a divergence
		// at step k of a recorded ODE solve from walking the k steps before it.
		for _, in := range n.inputs {
			if in.requiresGrad && w.visit(in, targets) {
				u = true
			}
		}
	}
	w.useful[n] = u
	w.order = append(w.order, n)
	return u
}

// Custom records a user-defined op: out holds the forward result computed
// from inputs, and backward maps g = ∂L/∂out to ∂L/∂inputs (one entry per
// input, nil for none), built from ops so that it can itself be
// differentiated. It returns out, which must be a fresh leaf.
// GradCheck's own test uses it to register a deliberately wrong backward.
func Custom(name string, out *Tensor, inputs []*Tensor, backward func(g *Tensor) []*Tensor) *Tensor {
	r := result(name, out.Rows, out.Cols, inputs...)
	r.Data = out.Data
	if r.recording() {
		r.backward = backward
	}
	return finish(r)
}

// DetectAnomaly runs f with the finiteness check on: the first op whose
// output holds NaN or ±Inf stops f, and DetectAnomaly returns a
// *NonFiniteError naming that op, its shape and the offending element. The
// check is global while f runs (ops on other goroutines are checked too)
// and costs one pass over every op's output.
func DetectAnomaly(f func()) (err error) {
	checkFinite.Add(1)
	defer checkFinite.Add(-1)
	defer func() {
		if r := recover(); r != nil {
			if nf, ok := r.(*NonFiniteError); ok {
				err = nf
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}
