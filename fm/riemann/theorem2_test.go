package riemann

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Theorem 2 of Lipman et al. 2022 (arXiv:2210.02747, §3.2) on the flat
// torus T², where the marginal field is exactly computable.
//
// The path is the wrapped image of a Gaussian path of the cover ℝ²: given
// the data point x₁ (weights q_k over 5 points) and z ~ N(0, I),
//
//	x_t = (μ_t + σ_t·z) mod 2π,  μ_t = t·x₁,  σ_t = (1 − t)·σ₀ + t·σ₁,
//
// with σ₀ = 2 (p₀ is the wrapped N(0, 4I), close to uniform) and σ₁ = 0.3.
// Conditioned on (x₁, z) the velocity is ũ = x₁ + σ̇·z, i.e. on the lift
// x̃ = μ_t + σ_t·z: ũ = x₁ + (σ̇/σ_t)(x̃ − μ_t). The marginal field at
// x ∈ T² is the posterior mean of ũ over the data point and the lattice
// translate n ∈ ℤ² of the lift x̃ = x + 2πn:
//
//	u_t(x) = Σ_{k,n} w_{k,n}(x)·(x₁ᵏ + (σ̇/σ_t)(x + 2πn − μ_tᵏ)),
//	w_{k,n} ∝ q_k·N(x + 2πn; μ_tᵏ, σ_t²I),
//
// a lattice sum, truncated at |nᵢ| ≤ 3: |xᵢ − μᵢ| < 2π, so a term left out
// lies ≥ 6π from the lift and weighs below e^{−(6π)²/(2σ₀²)} ≈ 5e-20 of the
// largest. Per sample, with v = v_θ(t, x_t),
//
//	‖v − ũ‖² − ‖v − u‖² − ‖ũ − u‖² = −2(v − u)·(ũ − u),
//
// of mean zero since E[ũ | x_t] = u: L_CFM − L_FM = E‖ũ − u‖² for every θ.

type torusProblem struct {
	points [][]float64
	q      []float64
	s0, s1 float64
}

func newTorusProblem() torusProblem {
	rng := newRNG(40)
	p := torusProblem{s0: 2, s1: 0.3}
	for k := 0; k < 5; k++ {
		p.points = append(p.points, []float64{2 * math.Pi * rng.Float64(), 2 * math.Pi * rng.Float64()})
		p.q = append(p.q, float64(k+1))
	}
	return p
}

// marginal returns u_t(x) by the lattice sum over |nᵢ| ≤ nmax.
func (p torusProblem) marginal(t float64, x []float64, nmax int) []float64 {
	sig := (1-t)*p.s0 + t*p.s1
	ds := p.s1 - p.s0
	var lw []float64
	var us [][]float64
	for k, x1 := range p.points {
		for n0 := -nmax; n0 <= nmax; n0++ {
			for n1 := -nmax; n1 <= nmax; n1++ {
				a := x[0] + 2*math.Pi*float64(n0) - t*x1[0]
				b := x[1] + 2*math.Pi*float64(n1) - t*x1[1]
				lw = append(lw, math.Log(p.q[k])-(a*a+b*b)/(2*sig*sig))
				us = append(us, []float64{x1[0] + ds/sig*a, x1[1] + ds/sig*b})
			}
		}
	}
	lse := stats.LogSumExp(lw)
	u := []float64{0, 0}
	for i, l := range lw {
		w := math.Exp(l - lse)
		u[0] += w * us[i][0]
		u[1] += w * us[i][1]
	}
	return u
}

// sample draws n triples (t, x_t, ũ).
func (p torusProblem) sample(n int, rng *rand.Rand) (t, xt, uc *autograd.Tensor) {
	cat := stats.NewCategorical(p.q)
	t, xt, uc = autograd.Zeros(n, 1), autograd.Zeros(n, 2), autograd.Zeros(n, 2)
	for i := 0; i < n; i++ {
		s := rng.Float64()
		x1 := p.points[cat.Draw(rng)]
		sig := (1-s)*p.s0 + s*p.s1
		t.Data[i] = s
		for j := 0; j < 2; j++ {
			z := rng.NormFloat64()
			xt.Data[2*i+j] = Wrap(s*x1[j] + sig*z)
			uc.Data[2*i+j] = x1[j] + (p.s1-p.s0)*z
		}
	}
	return t, xt, uc
}

// torusModel is v_θ(t, x) = φ(t, x)·W with periodic features φ, W [8, 2].
func torusModel(w *autograd.Tensor) func(t, x *autograd.Tensor) *autograd.Tensor {
	return func(t, x *autograd.Tensor) *autograd.Tensor {
		phi := autograd.Zeros(x.Rows, 8)
		for i := 0; i < x.Rows; i++ {
			a, b := x.At(i, 0), x.At(i, 1)
			copy(phi.Row(i), []float64{math.Sin(a), math.Cos(a), math.Sin(b), math.Cos(b), math.Sin(a + b), math.Cos(a - b), t.Data[i], 1})
		}
		return autograd.MatMul(phi, w)
	}
}

func marginalBatch(p torusProblem, t, x *autograd.Tensor, nmax int) *autograd.Tensor {
	u := autograd.Zeros(x.Rows, 2)
	for i := 0; i < x.Rows; i++ {
		copy(u.Row(i), p.marginal(t.Data[i], x.Row(i), nmax))
	}
	return u
}

// L_CFM(θ) − L_FM(θ) is the same for three random θ and equals the floor
// E‖ũ − u‖²: the per-sample differences of the two sides have mean zero,
// checked within 5 standard errors computed over 12,000 common samples.
// Negative control: the marginal field without the lattice sum (the
// nearest image only, nmax = 0) makes L_CFM − L_FM depend on θ (more than
// 5 standard errors from the floor's).
func TestTheorem2Torus_LossesDifferByConstant(t *testing.T) {
	p := newTorusProblem()
	rng := newRNG(41)
	tt, xt, uc := p.sample(12000, rng)
	for _, nmax := range []int{3, 0} {
		um := marginalBatch(p, tt, xt, nmax)
		var worst float64
		for s := 0; s < 3; s++ {
			w := autograd.Normal(8, 2, 0, 1, newRNG(uint64(50+s)))
			v := torusModel(w)(tt, xt)
			diff := make([]float64, xt.Rows) // (‖v − ũ‖² − ‖v − u‖²) − ‖ũ − u‖²
			var cfm, fmv, floor []float64
			for i := range diff {
				a := sqDist(v.Row(i), uc.Row(i))
				b := sqDist(v.Row(i), um.Row(i))
				c := sqDist(uc.Row(i), um.Row(i))
				diff[i] = a - b - c
				cfm, fmv, floor = append(cfm, a), append(fmv, b), append(floor, c)
			}
			mean, se := stats.MeanStdErr(diff)
			lc, _ := stats.MeanStdErr(cfm)
			lf, _ := stats.MeanStdErr(fmv)
			fl, _ := stats.MeanStdErr(floor)
			t.Logf("nmax=%d θ%d: L_CFM=%.4f L_FM=%.4f L_CFM−L_FM=%.4f floor=%.4f, difference %.4f ± %.4f", nmax, s, lc, lf, lc-lf, fl, mean, se)
			worst = math.Max(worst, math.Abs(mean)/se)
		}
		if nmax > 0 {
			require.Less(t, worst, 5.0, "L_CFM − L_FM − floor: %.2f standard errors from 0", worst)
		} else {
			require.Greater(t, worst, 5.0, "negative control: the nearest-image marginal also satisfies Theorem 2?")
		}
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

// ∇_θ L_CFM = ∇_θ L_FM: the gradient of their difference over 40
// independent batches of 300 has mean zero within 5 standard errors in
// each of the 16 coordinates of W, and its norm is below 3·√(Σⱼ seⱼ²)
// (E‖mean‖² = Σⱼ seⱼ² when the mean is zero).
// Negative control: with the nearest-image marginal some coordinate is
// more than 5 standard errors away.
func TestTheorem2Torus_GradientsEqual(t *testing.T) {
	p := newTorusProblem()
	rng := newRNG(42)
	w := autograd.Normal(8, 2, 0, 1, newRNG(60)).SetRequiresGrad(true)
	model := torusModel(w)
	for _, nmax := range []int{3, 0} {
		per := make([][]float64, 16)
		var gc []float64
		for b := 0; b < 40; b++ {
			tt, xt, uc := p.sample(300, rng)
			um := marginalBatch(p, tt, xt, nmax)
			v := model(tt, xt)
			lossC := autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(v, uc))))
			lossF := autograd.Mean(autograd.SumCols(autograd.Square(autograd.Sub(v, um))))
			g := autograd.Grad(autograd.Sub(lossC, lossF), nil, w)[0]
			for j := range per {
				per[j] = append(per[j], g.Data[j])
			}
			if b == 0 {
				gc = append(gc, autograd.Grad(lossC, nil, w)[0].Data...)
			}
		}
		worst, meanSq, seSq := 0.0, 0.0, 0.0
		for j := range per {
			mean, se := stats.MeanStdErr(per[j])
			worst = math.Max(worst, math.Abs(mean)/se)
			meanSq += mean * mean
			seSq += se * se
		}
		t.Logf("nmax=%d: ‖E∇(L_CFM − L_FM)‖ = %.4g (noise √Σse² = %.4g), ‖∇L_CFM‖ = %.4g, worst coordinate %.2f s.e.", nmax, math.Sqrt(meanSq), math.Sqrt(seSq), norm(gc), worst)
		if nmax > 0 {
			require.Less(t, worst, 5.0)
			require.Less(t, math.Sqrt(meanSq), 3*math.Sqrt(seSq))
		} else {
			require.Greater(t, worst, 5.0, "negative control")
		}
	}
}
