package riemann

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/nn"
)

// requireMisuse asserts that f panics with an *autograd.MisuseError whose
// Op is op.
func requireMisuse(t *testing.T, op string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		require.NotNil(t, r, "%s: no panic", op)
		err, ok := r.(error)
		require.True(t, ok, "%s: panic value %v is not an error", op, r)
		var me *autograd.MisuseError
		require.True(t, errors.As(err, &me), "%s: %v", op, err)
		require.Equal(t, op, me.Op)
	}()
	f()
}

// Programmer misuse panics with an *autograd.MisuseError naming the call.
func TestMisuse(t *testing.T) {
	s, tor := Sphere{D: 2}, Torus{D: 2}
	requireMisuse(t, "riemann.Sphere.Exp", func() { s.Exp([]float64{1, 0}, []float64{0, 1}) })
	requireMisuse(t, "riemann.Torus.Log", func() { tor.Log([]float64{1}, []float64{0, 1}) })
	requireMisuse(t, "riemann.Sphere.Uniform", func() { s.Uniform(3, nil) })
	requireMisuse(t, "riemann.CondField", func() { CondField(s, 1, []float64{1, 0, 0}, []float64{0, 1, 0}) })
	requireMisuse(t, "riemann.PathBatch", func() {
		PathBatch(s, autograd.Zeros(2, 1), autograd.Zeros(2, 3), autograd.Zeros(3, 3))
	})
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return x }
	requireMisuse(t, "riemann.Integrate", func() { _, _ = Integrate(s, f, s.Uniform(2, newRNG(1)), 0, 1, 0, cnf.Euler, nil) })
	requireMisuse(t, "riemann.Integrate", func() { _, _ = Integrate(s, f, s.Uniform(2, newRNG(1)), 0, 1, 4, cnf.Dopri5, nil) })
	model := nn.NewVelocityMLP(3, []int{4}, autograd.ActSiLU, newRNG(2))
	requireMisuse(t, "riemann.Train", func() { _, _ = Train(s, model, TrainConfig{BatchSize: 4, Steps: 1, LR: 1e-3}) })
	requireMisuse(t, "riemann.Train", func() {
		_, _ = Train(s, model, TrainConfig{Data: s.Uniform, BatchSize: 4, Steps: 1, LR: math.NaN()})
	})
	requireMisuse(t, "riemann.NewTorusMLP", func() { NewTorusMLP(0, nil, autograd.ActSiLU, newRNG(3)) })
	requireMisuse(t, "riemann.TorusMLP.Forward", func() {
		NewTorusMLP(2, []int{4}, autograd.ActSiLU, newRNG(3)).Forward(autograd.Zeros(1, 1), autograd.Zeros(1, 3))
	})
	requireMisuse(t, "riemann.VMFMixture.Sample", func() {
		d, _ := Dataset("sphere-vmf")
		d.Sample(2, nil)
	})
	requireMisuse(t, "riemann.NewWrappedNormal", func() { NewWrappedNormal(2, 0) })
	requireMisuse(t, "riemann.NewWrappedNormal", func() { NewWrappedNormal(0, 1) })
	requireMisuse(t, "riemann.WrappedNormal.Sample", func() { NewWrappedNormal(2, 1).Sample(2, nil) })
	requireMisuse(t, "riemann.WrappedNormal.LogDensity", func() { NewWrappedNormal(2, 1).LogDensity([]float64{1}) })
	requireMisuse(t, "riemann.LogLikelihoodFrom", func() {
		_, _, _ = LogLikelihoodFrom(tor, nil, f, tor.Uniform(2, newRNG(4)), nil, cnf.SolveOptions{Method: cnf.RK4, Steps: 2})
	})
	requireMisuse(t, "riemann.VMFLogNormalizer", func() { VMFLogNormalizer(2, 0) })
	requireMisuse(t, "riemann.VMFLogNormalizer", func() { VMFLogNormalizer(0, 1) })
	requireMisuse(t, "riemann.SaveCheckpoint", func() { _ = SaveCheckpoint(t.TempDir()+"/x.safetensors", Checkpoint{M: s}, nil) })
	requireMisuse(t, "riemann.Checkpoint.Field", func() { Checkpoint{M: s, Model: otherModel{}}.Field() })
}

// otherModel is a Model that is neither an *nn.VelocityMLP nor a *TorusMLP.
type otherModel struct{}

func (otherModel) Forward(_, x *autograd.Tensor) *autograd.Tensor { return x }
func (otherModel) Params() []*autograd.Tensor                     { return nil }

// A field whose values blow up makes Integrate return an error naming the
// time, not a panic.
func TestIntegrate_NonFinite(t *testing.T) {
	s := Sphere{D: 2}
	f := func(_ float64, x *autograd.Tensor) *autograd.Tensor { return autograd.Full(x.Rows, 3, math.NaN()) }
	_, err := Integrate(s, f, s.Uniform(2, newRNG(1)), 0, 1, 3, cnf.RK4, nil)
	require.ErrorContains(t, err, "not finite at t = ")
}

// TestGrad/<Op> for the differentiable batch maps of the manifolds
// (compositions of autograd ops): ProjTensor in x and v, RetractTensor in y,
// AmbientField's output in y, checked by autograd.GradCheck.
func TestGrad(t *testing.T) {
	rng := newRNG(5)
	s := Sphere{D: 2}
	x := autograd.Normal(4, 3, 0, 1, rng)
	v := autograd.Normal(4, 3, 0, 1, rng)
	w := autograd.Normal(4, 3, 0, 1, rng)
	weigh := func(y *autograd.Tensor) *autograd.Tensor { return autograd.Sum(autograd.Mul(y, w)) }
	t.Run("ProjTensor", func(t *testing.T) {
		require.NoError(t, autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return weigh(s.ProjTensor(xs[0], xs[1])) },
			[]*autograd.Tensor{x.Clone(), v.Clone()}, nil))
	})
	t.Run("RetractTensor", func(t *testing.T) {
		require.NoError(t, autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return weigh(s.RetractTensor(xs[0])) },
			[]*autograd.Tensor{x.Clone()}, nil))
	})
	t.Run("AmbientField", func(t *testing.T) {
		f := AmbientField(s, mlpField(3, 6))
		require.NoError(t, autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return weigh(f(0.4, xs[0])) },
			[]*autograd.Tensor{x.Clone()}, nil))
	})
	t.Run("NegativeControl", func(t *testing.T) { // a wrong backward is caught
		wrong := func(xs []*autograd.Tensor) *autograd.Tensor {
			y := s.RetractTensor(xs[0])
			bad := autograd.Custom("wrong", y.Detach(), []*autograd.Tensor{y}, func(g *autograd.Tensor) []*autograd.Tensor {
				return []*autograd.Tensor{autograd.Scale(g, 2)}
			})
			return weigh(bad)
		}
		require.Error(t, autograd.GradCheck(wrong, []*autograd.Tensor{x.Clone()}, nil))
	})
}
