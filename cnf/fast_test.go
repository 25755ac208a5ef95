package cnf

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/autograd/fused"
	"github.com/flowmatch/flowmatch/internal/fusedref"
	"github.com/flowmatch/flowmatch/nn"
)

// divBound returns fusedref.ErrorBound's bound on the divergence of m at the
// rows of x and time t: any two exact-divergence implementations differ by
// at most twice it.
func divBound(m *nn.VelocityMLP, act autograd.Activation, x []float64, t float64) []float64 {
	d := m.Dim()
	n := len(x) / d
	net := fused.Net{Sizes: m.Net.Sizes(), Act: act}
	for _, l := range m.Net.Layers {
		net.W, net.B = append(net.W, l.W.Data), append(net.B, l.B.Data)
	}
	in := make([]float64, n*(d+1))
	for i := range n {
		copy(in[i*(d+1):], x[i*d:(i+1)*d])
		in[i*(d+1)+d] = t
	}
	return fusedref.ErrorBound(net, in, n, make([]float64, n*d)).Div
}

func TestFastField_EqualsFieldOf(t *testing.T) {
	m := nn.NewVelocityMLP(2, []int{64, 64}, autograd.ActSiLU, newRNG(10))
	x := autograd.Normal(37, 2, 0, 1, newRNG(11))
	f := FastField(m, 64)
	got := f(0.4, x.NoGraph())
	want := FieldOf(m)(0.4, x.NoGraph())
	assert.Equal(t, want.Data, got.Data)
	assert.True(t, got.IsNoGraph())
	// A plain input is evaluated by autograd and recorded (the parameters
	// require gradients).
	assert.True(t, f(0.4, x).RequiresGrad())
	// Activations without a fused path fall back to FieldOf.
	r := nn.NewVelocityMLP(2, []int{8}, autograd.ActReLU, newRNG(12))
	assert.Equal(t, FieldOf(r)(0.2, x.NoGraph()).Data, FastField(r, 8)(0.2, x.NoGraph()).Data)
}

// TestFastDivergence_MatchesExact: the forward-mode divergence equals
// ExactDivergence's (d reverse-mode VJPs through autograd) within twice
// fusedref.ErrorBound, for SiLU and tanh, and v is the same to the bit.
// Negative control: moving one weight by 1e-6 breaks the agreement.
func TestFastDivergence_MatchesExact(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		for _, n := range []int{1, 7, 100} {
			t.Run(fmt.Sprintf("%s/n=%d", act, n), func(t *testing.T) {
				m := nn.NewVelocityMLP(2, []int{256, 256, 256}, act, newRNG(20))
				x := autograd.Normal(n, 2, 0, 1.5, newRNG(uint64(n)))
				const tt = 0.35
				wantV, wantDiv := ExactDivergence(FieldOf(m.Frozen()), tt, x.NoGraph())
				bound := divBound(m, act, x.Data, tt)
				fd := FastDivergence(m, 64)
				v, div := fd(nil, tt, x.NoGraph())
				assert.Equal(t, wantV.Data, v.Data)
				assert.True(t, div.IsNoGraph())
				off := func(div []float64, report bool) int {
					bad := 0
					for i := range div {
						if tol := 2 * bound[i]; !(math.Abs(div[i]-wantDiv.Data[i]) <= tol) {
							if report {
								t.Errorf("row %d: got %v want %v (tol %.3g)", i, div[i], wantDiv.Data[i], tol)
							}
							bad++
						}
					}
					return bad
				}
				assert.Zero(t, off(div.Data, true))

				w := m.Net.Layers[3].W.Data // W₄[0, 0] enters ∂v₀/∂x₀ directly
				w[0] += 1e-6
				_, bad := fd(nil, tt, x.NoGraph())
				w[0] -= 1e-6
				assert.Positive(t, off(bad.Data, false))
			})
		}
	}
}

// TestFastLogLikelihood_MatchesGeneric: LogLikelihood with FastField and
// FastDivergence equals the generic LogLikelihood (FieldOf, ExactDivergence).
// Both take the same Euler steps on x, whose field values are equal to the
// bit (checked along the trajectory), so only ℓ differs: by at most
// Σₖ |h|·2·bound(div at xₖ) from the divergences, plus the roundings of the
// two ℓ updates and of the final subtraction, 2u·Σₖ(|ℓₖ| + |h·divₖ|) + 2u·|log p|.
func TestFastLogLikelihood_MatchesGeneric(t *testing.T) {
	for _, act := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh} {
		t.Run(string(act), func(t *testing.T) {
			const steps, n = 10, 50
			m := nn.NewVelocityMLP(2, []int{64, 64, 64}, act, newRNG(30))
			x1 := autograd.Normal(n, 2, 0, 1, newRNG(31))
			var states [][]float64
			var times []float64
			opts := SolveOptions{Method: Euler, Steps: steps, Callback: func(t float64, z *autograd.Tensor) {
				states = append(states, append([]float64(nil), z.Data...))
				times = append(times, t)
			}}
			wantLk, _, err := LogLikelihood(FieldOf(m.Frozen()), x1.NoGraph(), 1, 0, StandardNormalLogProb, nil, opts)
			want := wantLk.LogP1
			require.NoError(t, err)
			generic := states
			states, times = nil, nil
			gotLk, _, err := LogLikelihood(FastField(m, n), x1.NoGraph(), 1, 0, StandardNormalLogProb, FastDivergence(m, n), opts)
			got := gotLk.LogP1
			require.NoError(t, err)
			require.Len(t, states, steps+1)

			tol := make([]float64, n)
			for k := 0; k < steps; k++ {
				x := make([]float64, 2*n)
				for i := range n {
					for d := range 2 {
						x[2*i+d] = states[k][3*i+d]
						require.Equal(t, generic[k][3*i+d], states[k][3*i+d], "x at step %d", k)
					}
				}
				h := math.Abs(times[k+1] - times[k])
				b := divBound(m, act, x, times[k])
				for i := range n {
					l, dl := states[k][3*i+2], states[k+1][3*i+2]-states[k][3*i+2]
					tol[i] += h*2*b[i] + 2*0x1p-53*(math.Abs(l)+math.Abs(dl))
				}
			}
			for i := range n {
				tol[i] += 2 * 0x1p-53 * math.Abs(want.Data[i])
				assert.InDelta(t, want.Data[i], got.Data[i], tol[i], "row %d", i)
			}
		})
	}
}

// BenchmarkSample integrates the peer's sampling workload: v_θ 3 → 256 →
// 256 → 256 → 2 (SiLU), Euler with 100 steps from 10,000 N(0, I) points,
// with FastField (chunks of maxBatch rows).
func BenchmarkSample(b *testing.B) {
	m := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRNG(1))
	const points = 10000
	x0 := autograd.Normal(points, 2, 0, 1, newRNG(2)).NoGraph()
	for _, chunk := range []int{256, 512, 1024} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			f := FastField(m, chunk)
			for b.Loop() {
				if _, _, err := Sample(f, x0, SolveOptions{Method: Euler, Steps: 100}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkLogLikelihood is the peer's exact log-likelihood workload: Euler
// with 100 steps backwards from 1,000 points, exact 2×2 Jacobian trace, with
// FastField and FastDivergence (forward-mode tangents), and with the
// generic path (ExactDivergence, reverse mode through autograd) for scale.
func BenchmarkLogLikelihood(b *testing.B) {
	m := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, newRNG(1))
	const points = 1000
	x1 := autograd.Normal(points, 2, 0, 1, newRNG(3)).NoGraph()
	run := func(b *testing.B, f Field, div DivergenceFunc) {
		for b.Loop() {
			if _, _, err := LogLikelihood(f, x1, 1, 0, StandardNormalLogProb, div, SolveOptions{Method: Euler, Steps: 100}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
	}
	for _, chunk := range []int{64, 128, 256} {
		b.Run(fmt.Sprintf("fast/chunk=%d", chunk), func(b *testing.B) {
			run(b, FastField(m, chunk), FastDivergence(m, chunk))
		})
	}
	b.Run("autograd", func(b *testing.B) { run(b, FieldOf(m.Frozen()), nil) })
}
