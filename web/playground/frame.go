package playground

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
)

// View is what the page asks to see.
type View struct {
	T    float64 `json:"t"`    // time in [0, 1]
	N    int     `json:"n"`    // model samples (0: 200)
	Traj int     `json:"traj"` // of which this many carry a trajectory (0: none)
	Grid int     `json:"grid"` // arrows per side (0: 17)
	Res  int     `json:"res"`  // density cells per side (0: 64)
	// Cond, if set, asks for the conditional path p_t(x|x₁) and field
	// u_t(x|x₁) of this x₁ instead of the marginal ones.
	Cond []float64 `json:"cond,omitempty"`
	Lo   float64   `json:"lo"` // the square [Lo, Hi]² drawn (0, 0: [−6, 6]²)
	Hi   float64   `json:"hi"`
}

// Frame is what the page draws at time T. Points are flattened (x, y) pairs;
// grids run row by row from (Lo, Lo), x fastest.
type Frame struct {
	T     float64 `json:"t"`
	Steps int     `json:"steps"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	// Samples are the model's x_t: x₀ ~ p₀ (a fixed draw) pushed by RK4 on
	// v_θ from 0 to T, ⌈10T⌉ steps.
	Samples []float64 `json:"samples"`
	// Traj[i] is the trajectory of sample i at the RK4 steps (x, y pairs).
	Traj [][]float64 `json:"traj"`
	// Learned is v_θ(T, x) at the Grid×Grid arrow points; Exact is the
	// exact u_T(x) there (marginal, or conditional on Cond).
	Grid    int       `json:"grid"`
	Learned []float64 `json:"learned"`
	Exact   []float64 `json:"exact"`
	// LogP is the exact log p_T(x) on Res×Res cell centres (marginal, or
	// conditional on Cond).
	Res  int       `json:"res"`
	LogP []float64 `json:"logp"`
	Cond []float64 `json:"cond,omitempty"`
}

// tMax keeps the exact quantities off t = 1, where VP's conditional field is
// singular (σ₁ = 0, σ′₁ = −∞) and the empirical marginal is a sum of points.
const tMax = 0.999

// Frame computes what the page draws at v.T.
func (s *Session) Frame(v View) (*Frame, error) {
	if !(v.T >= 0 && v.T <= 1) {
		return nil, fmt.Errorf("time %g: want in [0, 1]", v.T)
	}
	if v.N == 0 {
		v.N = 200
	}
	if v.Grid == 0 {
		v.Grid = 17
	}
	if v.Res == 0 {
		v.Res = 64
	}
	if v.Lo == 0 && v.Hi == 0 {
		v.Lo, v.Hi = -6, 6
	}
	switch {
	case v.N < 1 || v.N > 20000:
		return nil, fmt.Errorf("samples %d: want 1 to 20000", v.N)
	case v.Traj < 0 || v.Traj > v.N:
		return nil, fmt.Errorf("trajectories %d: want 0 to %d", v.Traj, v.N)
	case v.Grid < 2 || v.Grid > 100, v.Res < 2 || v.Res > 400:
		return nil, fmt.Errorf("grid %d, res %d: want 2 to 100 and 2 to 400", v.Grid, v.Res)
	case !(v.Hi > v.Lo):
		return nil, fmt.Errorf("view [%g, %g]: want lo < hi", v.Lo, v.Hi)
	case v.Cond != nil && len(v.Cond) != 2:
		return nil, fmt.Errorf("x₁ has %d coordinates, want 2", len(v.Cond))
	}
	f := &Frame{T: v.T, Steps: s.steps, Lo: v.Lo, Hi: v.Hi, Grid: v.Grid, Res: v.Res, Cond: v.Cond}

	// The model's samples at T and their trajectories.
	x0 := fm.SampleSource(s.path, v.N, 2, fm.NewRand(s.cfg.Seed^0x5a3b1e))
	field := cnf.FieldOf(s.model.Frozen())
	xt := x0
	if n := int(math.Ceil(10 * v.T)); n > 0 {
		record := func(_ float64, x *autograd.Tensor) {
			for i := range f.Traj {
				f.Traj[i] = append(f.Traj[i], x.Data[2*i], x.Data[2*i+1])
			}
		}
		f.Traj = make([][]float64, v.Traj)
		var err error
		xt, _, err = cnf.Integrate(field, x0, 0, v.T, cnf.SolveOptions{Method: cnf.RK4, Steps: n, Callback: record})
		if err != nil {
			return nil, fmt.Errorf("samples at t = %g: %w", v.T, err)
		}
	} else if v.Traj > 0 {
		f.Traj = make([][]float64, v.Traj)
		for i := range f.Traj {
			f.Traj[i] = []float64{x0.Data[2*i], x0.Data[2*i+1]}
		}
	}
	f.Samples = xt.Data

	// Arrows: the learned field and the exact one.
	te := min(v.T, tMax)
	g := gridPoints(v.Grid, v.Lo, v.Hi, false)
	tcol := autograd.Full(g.Rows, 1, v.T)
	f.Learned = s.model.Frozen().Forward(tcol, g).Data
	f.Exact = make([]float64, 0, 2*g.Rows)
	for i := range g.Rows {
		x := g.Data[2*i : 2*i+2]
		var u []float64
		if v.Cond != nil {
			u = fm.CondField(s.path, te, x, v.Cond)
		} else {
			u = s.marg.Field(te, x)
		}
		f.Exact = append(f.Exact, u...)
	}

	// The exact density at the cell centres.
	c := gridPoints(v.Res, v.Lo, v.Hi, true)
	f.LogP = make([]float64, c.Rows)
	for i := range c.Rows {
		x := c.Data[2*i : 2*i+2]
		if v.Cond != nil {
			f.LogP[i] = fm.CondLogProb(s.path, te, x, v.Cond)
		} else {
			f.LogP[i] = s.marg.LogProb(te, x)
		}
	}
	return f, nil
}

// gridPoints returns the n×n points of [lo, hi]², row by row from (lo, lo),
// x fastest: the corners and edges when cells is false, the cell centres
// when it is true.
func gridPoints(n int, lo, hi float64, cells bool) *autograd.Tensor {
	g := autograd.Zeros(n*n, 2)
	at := func(i int) float64 {
		if cells {
			return lo + (hi-lo)*(float64(i)+0.5)/float64(n)
		}
		return lo + (hi-lo)*float64(i)/float64(n-1)
	}
	for r := range n {
		for c := range n {
			g.Data[2*(r*n+c)], g.Data[2*(r*n+c)+1] = at(c), at(r)
		}
	}
	return g
}
