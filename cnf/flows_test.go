package cnf

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

func normalLogPDF(x, mu, sigma float64) float64 {
	return -0.5*((x-mu)/sigma)*((x-mu)/sigma) - math.Log(math.Abs(sigma)) - 0.5*math.Log(2*math.Pi)
}

// TestChangeOfVariables_Affine1D: z ~ N(μ, σ²), x = a·z + b ⇒ x ~ N(aμ + b, (aσ)²)
// exactly (to rounding, 1e-13), for a of either sign. Negative control:
// dropping |(f⁻¹)′| = 1/|a| is off by log|a|.
func TestChangeOfVariables_Affine1D(t *testing.T) {
	const mu, sigma = 0.7, 1.3
	for _, ab := range [][2]float64{{2.5, -1}, {-0.4, 3}, {1e-3, 0}} {
		a, b := ab[0], ab[1]
		logpZ := func(z float64) float64 { return normalLogPDF(z, mu, sigma) }
		finv := func(x float64) float64 { return (x - b) / a }
		dfinv := func(float64) float64 { return 1 / a }
		for _, x := range []float64{-3, 0, 0.5, 4} {
			want := normalLogPDF(x, a*mu+b, a*sigma)
			got := TransformedLogDensity1D(logpZ, finv, dfinv, x)
			assert.InDelta(t, want, got, 1e-13*(1+math.Abs(want)), "a %v b %v x %v", a, b, x)
			noJac := logpZ(finv(x))
			assert.InDelta(t, math.Abs(math.Log(math.Abs(a))), math.Abs(noJac-want), 1e-9*(1+math.Abs(want)))
		}
	}
}

// nonlinear1D is f(z) = z + 0.8·tanh(2z), strictly increasing
// (f′ = 1 + 1.6·sech²(2z) ≥ 1), with f⁻¹ by bisection.
func nonlinear1D(z float64) float64 { return z + 0.8*math.Tanh(2*z) }

func nonlinear1DInv(x float64) float64 {
	lo, hi := x-0.8, x+0.8 // |f(z) − z| < 0.8
	for hi-lo > 1e-15*(1+math.Abs(x)) {
		mid := (lo + hi) / 2
		if nonlinear1D(mid) < x {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func nonlinear1DInvDeriv(x float64) float64 {
	c := math.Cosh(2 * nonlinear1DInv(x))
	return 1 / (1 + 1.6/(c*c))
}

func nonlinear1DDensity(x float64) float64 {
	return math.Exp(TransformedLogDensity1D(func(z float64) float64 { return normalLogPDF(z, 0, 1) }, nonlinear1DInv, nonlinear1DInvDeriv, x))
}

// TestChangeOfVariables_1DIntegratesToOne: the density of f(z), z ~ N(0, 1),
// integrates to 1 over [−11, 11] (it moves mass by < 0.8, so the tails
// beyond hold < 2·Φ(−10) ≈ 1.5e-23) by Gauss–Legendre quadrature, whose
// error is estimated by comparing 200 and 400 nodes.
func TestChangeOfVariables_1DIntegratesToOne(t *testing.T) {
	i1 := quad.Fixed(nonlinear1DDensity, -11, 11, 200, nil, 0)
	i2 := quad.Fixed(nonlinear1DDensity, -11, 11, 400, nil, 0)
	tol := math.Abs(i1-i2) + 1e-12 // + the bisection's relative error 1e-15 per node, summed
	assert.InDelta(t, 1, i2, tol, "got ∫p = %v want 1 (tol %g)", i2, tol)
	// Negative control: the same density without |(f⁻¹)′| integrates to ∫|f′|·N = E[f′(z)] > 1.
	bad := quad.Fixed(func(x float64) float64 { return math.Exp(normalLogPDF(nonlinear1DInv(x), 0, 1)) }, -11, 11, 400, nil, 0)
	assert.Greater(t, bad-1, 100*tol)
}

// chi2 returns Pearson's χ² of counts against the bin probabilities of
// density (by quadrature) over bins edges, with the two tails as bins.
func chi2(counts []float64, edges []float64, density func(float64) float64, n float64) float64 {
	probs := make([]float64, len(counts))
	inside := 0.0
	for i := 0; i+1 < len(edges); i++ {
		probs[i+1] = quad.Fixed(density, edges[i], edges[i+1], 40, nil, 0)
		inside += probs[i+1]
	}
	// The tails split what is left by symmetry-free quadrature.
	probs[0] = quad.Fixed(density, edges[0]-12, edges[0], 200, nil, 0)
	probs[len(probs)-1] = quad.Fixed(density, edges[len(edges)-1], edges[len(edges)-1]+12, 200, nil, 0)
	s := 0.0
	for i, o := range counts {
		e := n * probs[i]
		s += (o - e) * (o - e) / e
	}
	return s
}

// TestChangeOfVariables_Histogram pushes N = 100000 standard normal samples
// through f and compares the histogram (40 bins on [−3, 3] plus two tail
// bins, B = 42) with the transformed density by Pearson's χ². Under the
// right density χ² ~ χ²_{B−1}, mean B − 1 and sd √(2(B − 1)); the threshold
// B − 1 + 5·√(2(B − 1)) ≈ 86 is passed by chance with probability < 1e-4.
// Negative control: the density without the Jacobian factor, renormalized,
// fails by far.
func TestChangeOfVariables_Histogram(t *testing.T) {
	rng := newRNG(20)
	const n, bins, lo, hi = 100000, 40, -3.0, 3.0
	counts := make([]float64, bins+2)
	for i := 0; i < n; i++ {
		x := nonlinear1D(rng.NormFloat64())
		switch {
		case x < lo:
			counts[0]++
		case x >= hi:
			counts[bins+1]++
		default:
			counts[1+int((x-lo)/(hi-lo)*bins)]++
		}
	}
	edges := make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/bins
	}
	df := float64(bins + 1)
	threshold := df + 5*math.Sqrt(2*df)
	got := chi2(counts, edges, nonlinear1DDensity, n)
	assert.Less(t, got, threshold, "χ² %v threshold %v", got, threshold)

	noJac := func(x float64) float64 { return math.Exp(normalLogPDF(nonlinear1DInv(x), 0, 1)) }
	norm := quad.Fixed(noJac, -15, 15, 400, nil, 0)
	bad := chi2(counts, edges, func(x float64) float64 { return noJac(x) / norm }, n)
	assert.Greater(t, bad, threshold, "the wrong density passed: χ² %v", bad)
}

// testLayers returns one of each layer on ℝ³ with random parameters; the
// planar U is chosen with wᵀu < −1 so the constraint is active.
func testLayers(rng *rand.Rand) map[string]Layer {
	w := autograd.Normal(1, 3, 0, 1, rng)
	u := autograd.Scale(w, -2) // wᵀu = −2‖w‖² < −1
	planar := &Planar{W: w.SetRequiresGrad(true), U: u.Clone().SetRequiresGrad(true), B: autograd.Scalar(0.3).SetRequiresGrad(true)}
	radial := &Radial{Z0: autograd.Normal(1, 3, 0, 0.5, rng).SetRequiresGrad(true),
		AlphaRaw: autograd.Scalar(0.2).SetRequiresGrad(true), BetaRaw: autograd.Scalar(-2).SetRequiresGrad(true)}
	radialPos := &Radial{Z0: autograd.Normal(1, 3, 0, 0.5, rng), AlphaRaw: autograd.Scalar(-0.5), BetaRaw: autograd.Scalar(2)}
	affine := &ElementwiseAffine{LogScale: autograd.Normal(1, 3, 0, 0.5, rng), Shift: autograd.Normal(1, 3, 0, 1, rng)}
	coupling := &Coupling{Net: nn.NewMLP([]int{1, 8, 4}, autograd.ActTanh, rng), Split: 1}
	flipped := &Coupling{Net: nn.NewMLP([]int{2, 8, 2}, autograd.ActTanh, rng), Split: 1, Flip: true}
	return map[string]Layer{
		"affine": affine, "planar": planar, "radial": radial, "radial+": radialPos,
		"coupling": coupling, "coupling/flip": flipped,
		"flow": &Flow{Layers: []Layer{affine, planar, coupling, radial, flipped}},
	}
}

// fdJacobian is the central-difference Jacobian of l.Forward at row z.
func fdJacobian(l Layer, z []float64, h float64) *mat.Dense {
	d := len(z)
	J := mat.NewDense(d, d, nil)
	for j := 0; j < d; j++ {
		zp, zm := append([]float64(nil), z...), append([]float64(nil), z...)
		zp[j] += h
		zm[j] -= h
		xp, _ := l.Forward(autograd.FromSlice(1, d, zp).NoGraph())
		xm, _ := l.Forward(autograd.FromSlice(1, d, zm).NoGraph())
		for i := 0; i < d; i++ {
			J.Set(i, j, (xp.Data[i]-xm.Data[i])/(2*h))
		}
	}
	return J
}

// TestLayers_LogDet compares each layer's log-det with log|det| of a
// central-difference Jacobian J_h. Its error δJ = O(h²) is estimated by
// (J_2h − J_h)/3 (Richardson) plus rounding ε·|x|/h per entry, and moves
// log|det| by tr(J⁻¹δJ) ≤ ‖J⁻¹‖_F‖δJ‖_F; we allow 4 times that. The exact
// autograd Jacobian (LogAbsDetJacobian) must agree to rounding. Negative
// control: the planar log-det without the factor tanh′ (log|1 + wᵀû|) fails.
func TestLayers_LogDet(t *testing.T) {
	rng := newRNG(21)
	const h = 1e-4
	for name, l := range testLayers(rng) {
		z := autograd.Normal(5, 3, 0, 1, rng)
		_, ld := l.Forward(z.NoGraph())
		exact, err := LogAbsDetJacobian(func(z *autograd.Tensor) *autograd.Tensor { x, _ := l.Forward(z); return x }, z)
		require.NoError(t, err)
		for r := 0; r < z.Rows; r++ {
			J := fdJacobian(l, z.Row(r), h)
			J2 := fdJacobian(l, z.Row(r), 2*h)
			var inv, dJ mat.Dense
			require.NoError(t, inv.Inverse(J))
			dJ.Sub(J2, J)
			x, _ := l.Forward(autograd.FromSlice(1, 3, append([]float64(nil), z.Row(r)...)).NoGraph())
			xmax := mat.Norm(mat.NewVecDense(3, x.Data), math.Inf(1))
			tol := 4 * mat.Norm(&inv, 2) * (mat.Norm(&dJ, 2)/3 + 3*64*epsilon*(1+xmax)/h)
			fd := math.Log(math.Abs(mat.Det(J)))
			assert.InDelta(t, fd, ld.Data[r], tol, "%s row %d: got %v want %v (tol %g)", name, r, ld.Data[r], fd, tol)
			assert.InDelta(t, exact[r], ld.Data[r], 1e-12*(1+math.Abs(exact[r])), "%s row %d vs autograd Jacobian", name, r)
			if name == "planar" {
				p := l.(*Planar)
				uh := p.UHat().Data
				wu := 0.0
				for j := range uh {
					wu += p.W.Data[j] * uh[j]
				}
				bad := math.Log(math.Abs(1 + wu))
				assert.Greater(t, math.Abs(bad-fd), tol, "the wrong planar log-det passed at row %d", r)
			}
		}
	}
}

// TestLayers_Inverse checks inverse(forward(z)) = z and that the inverse's
// log-det is minus the forward one, to rounding (the planar bisection runs
// to the last bit of a).
func TestLayers_Inverse(t *testing.T) {
	rng := newRNG(22)
	for name, l := range testLayers(rng) {
		z := autograd.Normal(7, 3, 0, 1.5, rng)
		x, ld := l.Forward(z.NoGraph())
		back, ldInv, err := l.Inverse(x)
		require.NoError(t, err, name)
		assert.InDeltaSlice(t, z.Data, back.Data, 1e-12, name)
		for i := range ld.Data {
			assert.InDelta(t, -ld.Data[i], ldInv.Data[i], 1e-12, name)
		}
	}
}

// TestPlanar_Constraint: for any u, wᵀû = m(wᵀu) = −1 + softplus(wᵀu) > −1.
// TestRadial_Constraint: β ≥ −α for any raw parameters.
func TestPlanar_Constraint(t *testing.T) {
	rng := newRNG(23)
	for k := 0; k < 50; k++ {
		w := autograd.Normal(1, 3, 0, 1, rng)
		u := autograd.Normal(1, 3, 0, 10, rng)
		p := &Planar{W: w, U: u, B: autograd.Scalar(0)}
		uh := p.UHat()
		wuh, wu := 0.0, 0.0
		for j := range uh.Data {
			wuh += w.Data[j] * uh.Data[j]
			wu += w.Data[j] * u.Data[j]
		}
		assert.Greater(t, wuh, -1.0)
		assert.InDelta(t, -1+math.Log1p(math.Exp(wu)), wuh, 1e-9*(1+math.Abs(wu)))
	}
}

func TestRadial_Constraint(t *testing.T) {
	for _, raw := range [][2]float64{{-5, -30}, {0, 0}, {3, -10}, {-20, 5}} {
		r := &Radial{Z0: autograd.Zeros(1, 2), AlphaRaw: autograd.Scalar(raw[0]), BetaRaw: autograd.Scalar(raw[1])}
		a, b := r.alphaBeta()
		assert.Positive(t, a.Item())
		assert.GreaterOrEqual(t, b.Item(), -a.Item())
	}
}

// moons draws n points of sklearn's make_moons with Gaussian noise (noise
// 0.1 unscaled; differential entropy ≈ 1.006 nats, data.Entropy("moons-sklearn")).
func moons(n int, noise float64, rng *rand.Rand) *autograd.Tensor {
	x := autograd.Zeros(n, 2)
	for i := 0; i < n; i++ {
		th := math.Pi * rng.Float64()
		var a, b float64
		if i%2 == 0 {
			a, b = math.Cos(th), math.Sin(th)
		} else {
			a, b = 1-math.Cos(th), 0.5-math.Sin(th)
		}
		x.Data[2*i] = a + noise*rng.NormFloat64()
		x.Data[2*i+1] = b + noise*rng.NormFloat64()
	}
	return x
}

// gaussianNLL returns the per-point NLL of held-out data under the
// maximum-likelihood Gaussian fitted to train.
func gaussianNLL(train, test *autograd.Tensor) []float64 {
	var mu [2]float64
	for i := 0; i < train.Rows; i++ {
		mu[0] += train.At(i, 0) / float64(train.Rows)
		mu[1] += train.At(i, 1) / float64(train.Rows)
	}
	var c [3]float64
	for i := 0; i < train.Rows; i++ {
		a, b := train.At(i, 0)-mu[0], train.At(i, 1)-mu[1]
		c[0] += a * a / float64(train.Rows)
		c[1] += a * b / float64(train.Rows)
		c[2] += b * b / float64(train.Rows)
	}
	det := c[0]*c[2] - c[1]*c[1]
	out := make([]float64, test.Rows)
	for i := range out {
		a, b := test.At(i, 0)-mu[0], test.At(i, 1)-mu[1]
		q := (c[2]*a*a - 2*c[1]*a*b + c[0]*b*b) / det
		out[i] = 0.5*q + 0.5*math.Log(det) + math.Log(2*math.Pi)
	}
	return out
}

// TestFlow_TrainMoons trains affine + 4 RealNVP couplings by maximum
// likelihood on moons and requires the held-out NLL to beat the best
// Gaussian (the moment-matched fit, ≈ 2.0 nats) by more than 4 standard
// errors of the paired difference, computed here. The floor is the entropy
// ≈ 1.006, so the bound leaves the flow plenty of room.
func TestFlow_TrainMoons(t *testing.T) {
	rng := newRNG(24)
	steps := 400
	if testing.Short() {
		steps = 150
	}
	flow := &Flow{Layers: []Layer{NewElementwiseAffine(2)}}
	for k := 0; k < 4; k++ {
		flow.Layers = append(flow.Layers, &Coupling{Net: nn.NewMLP([]int{1, 32, 32, 2}, autograd.ActTanh, rng), Split: 1, Flip: k%2 == 1})
	}
	opt := nn.NewAdam(flow.Params(), 5e-3)
	train, test := moons(4000, 0.1, rng), moons(2000, 0.1, rng)
	nll := func(x *autograd.Tensor) *autograd.Tensor {
		lp, err := LogProb(flow, StandardNormalLogProb, x)
		require.NoError(t, err)
		return lp
	}
	first := 0.0
	for s := 0; s < steps; s++ {
		idx := rng.Perm(train.Rows)[:256]
		batch := autograd.Zeros(256, 2)
		for i, j := range idx {
			copy(batch.Row(i), train.Row(j))
		}
		opt.ZeroGrad()
		loss := autograd.Neg(autograd.Mean(nll(batch)))
		loss.Backward()
		opt.Step()
		if s == 0 {
			first = loss.Item()
		}
	}
	lp := nll(test.NoGraph())
	gauss := gaussianNLL(train, test)
	diffs := make([]float64, test.Rows)
	mean := 0.0
	for i := range diffs {
		diffs[i] = gauss[i] - (-lp.Data[i])
	}
	m, v, _ := meanVar(diffs)
	se := math.Sqrt(v / float64(test.Rows))
	for _, g := range gauss {
		mean += g / float64(len(gauss))
	}
	t.Logf("first batch NLL %.3f; held-out NLL flow %.3f, Gaussian %.3f, improvement %.3f ± %.3f", first, mean-m, mean, m, se)
	assert.Greater(t, m, 4*se, "the flow's held-out NLL %.3f does not beat the Gaussian's %.3f", mean-m, mean)
}
