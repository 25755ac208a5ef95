package fm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
)

const eps = 0x1p-52

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func randVec(d int, s float64, rng *rand.Rand) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = s * rng.NormFloat64()
	}
	return v
}

var testPaths = map[string]fm.Path{
	"CondOT": fm.CondOT{SigmaMin: 0.01},
	"VE":     fm.VE{SigmaMin: 0.01, SigmaMax: 5},
	"VP":     fm.VP{},
}

func TestCondLogProb_MatchesGonum(t *testing.T) {
	rng := newRNG(1)
	for name, p := range testPaths {
		x, x1 := randVec(3, 1, rng), randVec(3, 1, rng)
		s := 0.3
		mu, _ := p.Mean(s, x1)
		sg, _ := p.Std(s, x1)
		want := 0.0
		for j := range x {
			want += distuv.Normal{Mu: mu[j], Sigma: sg}.LogProb(x[j])
		}
		got := fm.CondLogProb(p, s, x, x1)
		tol := 64 * eps * (1 + math.Abs(want)) // a sum of 3 terms, each a few flops
		assert.InDelta(t, want, got, tol, "%s: got %v want %v (tol %.3g)", name, got, want, tol)
		// Negative control: a density with σ_t² in place of σ_t differs.
		bad := 0.0
		for j := range x {
			bad += distuv.Normal{Mu: mu[j], Sigma: sg * sg}.LogProb(x[j])
		}
		if math.Abs(sg-1) > 0.01 {
			assert.Greater(t, math.Abs(bad-got), tol, name)
		}
	}
}

func TestFlowBatch_MatchesFlow(t *testing.T) {
	rng := newRNG(2)
	n, d := 5, 3
	x := autograd.Normal(n, d, 0, 1, rng)
	x1 := autograd.Normal(n, d, 0, 2, rng)
	tt := autograd.Uniform(n, 1, 0.05, 0.95, rng)
	for name, p := range testPaths {
		xt := fm.FlowBatch(p, tt, x, x1)
		u := fm.CondFieldBatch(p, tt, x, x1)
		for i := 0; i < n; i++ {
			wantX := fm.Flow(p, tt.Data[i], x.Row(i), x1.Row(i))
			wantU := fm.CondField(p, tt.Data[i], x.Row(i), x1.Row(i))
			for j := 0; j < d; j++ {
				assert.InDelta(t, wantX[j], xt.At(i, j), 8*eps*(1+math.Abs(wantX[j])), name)
				assert.InDelta(t, wantU[j], u.At(i, j), 8*eps*(1+math.Abs(wantU[j])), name)
			}
		}
	}
}

func TestCondFieldBatch_MatchesCondField(t *testing.T) {
	// The batched field is built from ops and differentiable in x: its
	// Jacobian is (σ′/σ)·I, checked against central differences.
	rng := newRNG(3)
	x := autograd.Normal(4, 2, 0, 1, rng)
	x1 := autograd.Normal(4, 2, 0, 1, rng)
	tt := autograd.Uniform(4, 1, 0.1, 0.9, rng)
	for name, p := range testPaths {
		err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor {
			return fm.CondFieldBatch(p, tt, xs[0], x1)
		}, []*autograd.Tensor{x}, nil)
		require.NoError(t, err, name)
	}
}

func TestCondOT_FieldConstantAlongTrajectory(t *testing.T) {
	p := fm.CondOT{SigmaMin: 0.01}
	rng := newRNG(4)
	x0, x1 := randVec(2, 1, rng), randVec(2, 1, rng)
	want := []float64{x1[0] - 0.99*x0[0], x1[1] - 0.99*x0[1]}
	for _, s := range []float64{0, 0.2, 0.5, 0.9, 0.999} {
		u := p.Field(s, fm.Flow(p, s, x0, x1), x1)
		for j := range u {
			// (x₁ − c((1 − ct)x₀ + t x₁))/(1 − ct): rounding grows like 1/(1 − ct).
			tol := 16 * eps * (1 + math.Abs(x0[j]) + math.Abs(x1[j])) / (1 - 0.99*s)
			assert.InDelta(t, want[j], u[j], tol, "t=%v", s)
		}
	}
	// Negative control: the VP field is not constant along its trajectories.
	vp := fm.VP{}
	a := vp.Field(0.2, fm.Flow(vp, 0.2, x0, x1), x1)
	b := vp.Field(0.8, fm.Flow(vp, 0.8, x0, x1), x1)
	assert.Greater(t, math.Abs(a[0]-b[0]), 1e-3)
}

func TestVP_NoiseEnd(t *testing.T) {
	a, _ := fm.VP{}.Alpha(1)
	assert.InDelta(t, math.Exp(-5.025), a, 4*eps)
	_, _, s, _ := fm.VP{}.Schedule(0)
	assert.InDelta(t, 0.99998, s, 5e-6)
}

// TestPath_MisuseDimensions: a point and a data point of different
// dimensions panic with *autograd.MisuseError in every pointwise function
// (not with an index out of range).
func TestPath_MisuseDimensions(t *testing.T) {
	x, x1 := []float64{1, 2, 3}, []float64{1, 2}
	for name, f := range map[string]func(){
		"Flow":        func() { fm.Flow(fm.CondOT{}, 0.5, x, x1) },
		"CondLogProb": func() { fm.CondLogProb(fm.VE{SigmaMin: 0.1, SigmaMax: 1}, 0.5, x, x1) },
		"CondField":   func() { fm.CondField(fm.VP{}, 0.5, x, x1) },
		"CondOT":      func() { fm.CondOT{}.Field(0.5, x, x1) },
		"VE":          func() { fm.VE{SigmaMin: 0.1, SigmaMax: 1}.Field(0.5, x, x1) },
		"VP":          func() { fm.VP{}.Field(0.5, x, x1) },
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				var me *autograd.MisuseError
				assert.ErrorAs(t, err, &me, name)
			}()
			f()
		}()
	}
	assert.NotPanics(t, func() { fm.Flow(fm.CondOT{}, 0.5, x1, x1) })
}

// TestAffinePath_SigmaDSigma: SigmaDSigma is ½·d(σ_t²)/dt, checked against
// a central difference of σ_t² from Schedule with h = 1e-4. The tolerance is
// the difference between the central differences at h and 2h (which bounds
// the O(h²) truncation error at h, a quarter of that at 2h) plus the
// rounding of σ², 8u·σ²/h. Negative control: σσ′ without the ½, i.e.
// d(σ²)/dt, fails where σσ′ is not tiny.
func TestAffinePath_SigmaDSigma(t *testing.T) {
	paths := map[string]fm.AffinePath{
		"CondOT": fm.CondOT{SigmaMin: 0.01},
		"VE":     fm.VE{SigmaMin: 0.01, SigmaMax: 5},
		"VP":     fm.VP{},
	}
	for name, p := range paths {
		s2 := func(t float64) float64 { _, _, s, _ := p.Schedule(t); return s * s }
		fd := func(t, h float64) float64 { return (s2(t+h) - s2(t-h)) / (4 * h) }
		for _, tt := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
			h := 1e-4
			want := fd(tt, h)
			tol := math.Abs(fd(tt, 2*h)-want) + 8*eps*s2(tt)/h
			got := p.SigmaDSigma(tt)
			assert.InDelta(t, want, got, tol, "%s t=%v: got %v want %v (tol %.3g)", name, tt, got, want, tol)
			assert.Greater(t, math.Abs(2*got-want), tol, "%s t=%v: negative control", name, tt)
		}
	}
}
