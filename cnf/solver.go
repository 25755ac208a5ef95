package cnf

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

// Field is a time-dependent vector field v(t, x) evaluated on a batch
// x [n, d]; it returns v [n, d]. Rows are independent samples: the
// divergence and likelihood code assumes row i of the output depends only on
// row i of x (no batch coupling such as batch normalization).
//
// A Field built from ops is recorded when x (or a parameter) requires a
// gradient and x is not in the no-graph mode, so the same Field serves
// inference (NoGraph) and training through the solver.
type Field func(t float64, x *autograd.Tensor) *autograd.Tensor

// Method names an ODE integration scheme.
type Method string

// The integration schemes. The fixed-step ones take SolveOptions.Steps or
// SolveOptions.Grid; Dopri5 takes RTol and ATol.
const (
	Euler    Method = "euler"    // order 1, 1 evaluation a step
	Midpoint Method = "midpoint" // order 2, 2 evaluations a step
	Heun     Method = "heun"     // order 2 (explicit trapezoid), 2 evaluations a step
	RK4      Method = "rk4"      // order 4 (classical Runge–Kutta), 4 evaluations a step
	Dopri5   Method = "dopri5"   // adaptive Dormand–Prince 5(4), 6 evaluations an attempted step
)

// SolveOptions configures Integrate. There is no default step count: a
// fixed-step method needs exactly one of Steps or Grid, and Dopri5 needs a
// positive RTol or ATol, so what a "step" means is always stated by the caller.
type SolveOptions struct {
	Method Method

	// Steps is the number of equal steps from t0 to t1 (fixed-step methods).
	Steps int
	// Grid is an explicit time grid for the fixed-step methods: Grid[0] = t0,
	// Grid[len−1] = t1, strictly monotone in the direction of integration,
	// at least 2 points. One step is taken per interval.
	Grid []float64

	// RTol and ATol set the Dopri5 error tolerance per element:
	// scᵢ = ATol + RTol·max(|yᵢ|, |ŷᵢ|); a step is accepted when
	// √(mean((errᵢ/scᵢ)²)) ≤ 1.
	RTol, ATol float64
	// MaxSteps bounds the attempted Dopri5 steps (accepted + rejected);
	// 0 means 10000. Exceeding it returns an error wrapping ErrMaxSteps.
	MaxSteps int
	// FirstStep, if positive, is |h| of the first Dopri5 step; otherwise
	// it is chosen by Hairer's algorithm at the cost of 2 evaluations.
	FirstStep float64

	// Callback, if set, is called with the initial state at t0 and after
	// every accepted step with the new time and state (a trajectory).
	Callback func(t float64, x *autograd.Tensor)
}

// Stats counts the work of one Integrate call.
type Stats struct {
	NFE      int // evaluations of the field
	Accepted int // accepted steps (every step, for fixed-step methods)
	Rejected int // rejected steps (Dopri5 only)
}

// Errors returned by Integrate, wrapped with details; test with errors.Is.
var (
	ErrOptions       = errors.New("cnf: invalid solve options")
	ErrNonFinite     = errors.New("cnf: non-finite state (NaN or ±Inf)")
	ErrStepUnderflow = errors.New("cnf: step size underflow")
	ErrMaxSteps      = errors.New("cnf: too many steps")
)

// Integrate solves dx/dt = f(t, x) from x(t0) = x0 to t1 and returns x(t1).
// t0 > t1 integrates backwards in time (e.g. from data at t = 1 to noise at
// t = 0). x0 is not modified.
//
// The state's mode is kept: a NoGraph x0 gives a plain result with no tape
// (inference); a recorded x0, or a field whose parameters require gradients,
// gives a result that can be backpropagated through every step (training).
//
// Fixed-step methods cost Euler N, Midpoint and Heun 2N, RK4 4N evaluations
// for N steps. Dopri5 costs 6 per attempted step (first-same-as-last reuses
// the 7th stage of an accepted step as the 1st of the next) plus 1 for the
// initial slope and 1 more when the first step is chosen automatically:
// NFE = 2 + 6·(Accepted + Rejected). TestIntegrate_NFE checks all of these;
// TestIntegrate_ConvergenceOrder the orders.
func Integrate(f Field, x0 *autograd.Tensor, t0, t1 float64, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	mustFieldAndState("cnf.Integrate", f, x0)
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return nil, Stats{}, fmt.Errorf("%w: t0 = %v, t1 = %v", ErrOptions, t0, t1)
	}
	switch opts.Method {
	case Euler, Midpoint, Heun, RK4:
		grid, err := timeGrid(t0, t1, opts)
		if err != nil {
			return nil, Stats{}, err
		}
		return fixedStep(tableaus[opts.Method], f, x0, grid, opts.Callback)
	case Dopri5:
		if opts.Steps != 0 || opts.Grid != nil {
			return nil, Stats{}, fmt.Errorf("%w: dopri5 chooses its own steps; Steps and Grid must be unset", ErrOptions)
		}
		return dopri5(f, x0, t0, t1, opts)
	case "":
		return nil, Stats{}, fmt.Errorf("%w: no Method (want euler, midpoint, heun, rk4 or dopri5)", ErrOptions)
	default:
		return nil, Stats{}, fmt.Errorf("%w: unknown Method %q", ErrOptions, opts.Method)
	}
}

// mustFieldAndState panics with a *autograd.MisuseError when f or x is nil.
func mustFieldAndState(op string, f Field, x *autograd.Tensor) {
	switch {
	case f == nil:
		panic(autograd.Misuse(op, "nil Field"))
	case x == nil:
		panic(autograd.Misuse(op, "nil state tensor"))
	}
}

// timeGrid returns the grid of a fixed-step solve: either Steps equal steps
// from t0 to t1, or the explicit Grid, checked.
func timeGrid(t0, t1 float64, opts SolveOptions) ([]float64, error) {
	switch {
	case opts.Steps != 0 && opts.Grid != nil:
		return nil, fmt.Errorf("%w: set Steps or Grid, not both", ErrOptions)
	case opts.Steps < 0:
		return nil, fmt.Errorf("%w: Steps = %d", ErrOptions, opts.Steps)
	case opts.Steps > 0:
		g := make([]float64, opts.Steps+1)
		for i := range g {
			g[i] = t0 + (t1-t0)*float64(i)/float64(opts.Steps)
		}
		g[opts.Steps] = t1
		return g, nil
	case opts.Grid == nil:
		return nil, fmt.Errorf("%w: method %s needs Steps or Grid (there is no default step count)", ErrOptions, opts.Method)
	}
	g := opts.Grid
	if len(g) < 2 {
		return nil, fmt.Errorf("%w: Grid has %d points, need at least 2", ErrOptions, len(g))
	}
	if g[0] != t0 || g[len(g)-1] != t1 {
		return nil, fmt.Errorf("%w: Grid runs from %v to %v, want %v to %v", ErrOptions, g[0], g[len(g)-1], t0, t1)
	}
	dir := math.Copysign(1, t1-t0)
	for i := 1; i < len(g); i++ {
		if !((g[i]-g[i-1])*dir > 0) {
			return nil, fmt.Errorf("%w: Grid not strictly monotone from t0 to t1 at index %d", ErrOptions, i)
		}
	}
	return g, nil
}

// tableau is an explicit Runge–Kutta scheme (Butcher tableau):
//
//	kᵢ = f(t + cᵢh, x + h·Σⱼ<ᵢ aᵢⱼ kⱼ),  x′ = x + h·Σᵢ bᵢ kᵢ
type tableau struct {
	a    [][]float64
	b, c []float64
}

var tableaus = map[Method]tableau{
	Euler:    {a: [][]float64{{}}, b: []float64{1}, c: []float64{0}},
	Midpoint: {a: [][]float64{{}, {0.5}}, b: []float64{0, 1}, c: []float64{0, 0.5}},
	Heun:     {a: [][]float64{{}, {1}}, b: []float64{0.5, 0.5}, c: []float64{0, 1}},
	RK4: {
		a: [][]float64{{}, {0.5}, {0, 0.5}, {0, 0, 1}},
		b: []float64{1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
		c: []float64{0, 0.5, 0.5, 1},
	},
}

func fixedStep(tab tableau, f Field, x0 *autograd.Tensor, grid []float64, cb func(float64, *autograd.Tensor)) (*autograd.Tensor, Stats, error) {
	var st Stats
	x := x0
	if cb != nil {
		cb(grid[0], x)
	}
	for i := 1; i < len(grid); i++ {
		t, h := grid[i-1], grid[i]-grid[i-1]
		x = rkStep(tab, f, t, x, h)
		st.NFE += len(tab.b)
		st.Accepted++
		if i := firstNonFinite(x.Data); i >= 0 {
			return nil, st, fmt.Errorf("%w: element %d is %v after the step to t = %v", ErrNonFinite, i, x.Data[i], grid[i])
		}
		if cb != nil {
			cb(grid[i], x)
		}
	}
	return x, st, nil
}

// rkStep takes one step of the explicit scheme tab, built from ops so that
// it is recorded when x is.
func rkStep(tab tableau, f Field, t float64, x *autograd.Tensor, h float64) *autograd.Tensor {
	k := make([]*autograd.Tensor, len(tab.b))
	for i := range k {
		k[i] = f(t+tab.c[i]*h, combine(x, h, tab.a[i], k))
	}
	return combine(x, h, tab.b, k)
}

// combine returns x + h·Σⱼ wⱼ kⱼ, skipping zero weights.
func combine(x *autograd.Tensor, h float64, w []float64, k []*autograd.Tensor) *autograd.Tensor {
	var s *autograd.Tensor
	for j, wj := range w {
		if wj == 0 {
			continue
		}
		term := autograd.Scale(k[j], h*wj)
		if s == nil {
			s = term
		} else {
			s = autograd.Add(s, term)
		}
	}
	if s == nil {
		return x
	}
	return autograd.Add(x, s)
}

func firstNonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}
