package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// kSE is the number of standard errors a Monte-Carlo check allows. With ~60 such checks in
// this package, P(|Z| > 5) ≈ 5.7·10⁻⁷ each keeps the chance of a spurious failure below 10⁻⁴;
// the seeds are fixed anyway, so a failure means a change in the code.
const kSE = 5.0

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

func TestNames_Lookup(t *testing.T) {
	names := Names()
	require.True(t, sort.StringsAreSorted(names))
	require.Contains(t, names, "8gaussians")
	for _, n := range names {
		toy, err := Lookup(n)
		require.NoError(t, err)
		assert.Equal(t, n, toy.Name())
		x, err := Sample(n, 7, newRNG(1))
		require.NoError(t, err)
		assert.Equal(t, [2]int{7, 2}, x.Shape(), n)
		y, _ := Sample(n, 7, newRNG(1))
		assert.Equal(t, x.Data, y.Data, "%s: same seed, same samples", n)
	}
	_, err := Sample("9gaussians", 3, newRNG(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"9gaussians"`)
	assert.Contains(t, err.Error(), "checkerboard, circles")
	_, err = Sample("moons", -1, newRNG(1))
	require.Error(t, err)
}

// checkMoments returns an error unless the sample mean of each coordinate and of |x|² is within
// kSE standard errors (computed from the sample) of the exact values.
func checkMoments(x *autograd.Tensor, mean []float64, m2 float64) error {
	n := x.Rows
	for j := range x.Cols {
		col := make([]float64, n)
		for i := range n {
			col[i] = x.At(i, j)
		}
		m, se := stats.MeanStdErr(col)
		if math.Abs(m-mean[j]) > kSE*se {
			return fmt.Errorf("mean[%d]: got %.5f want %.5f (tol %.5f)", j, m, mean[j], kSE*se)
		}
	}
	sq := make([]float64, n)
	for i := range n {
		for _, v := range x.Row(i) {
			sq[i] += v * v
		}
	}
	m, se := stats.MeanStdErr(sq)
	if math.Abs(m-m2) > kSE*se {
		return fmt.Errorf("E|x|²: got %.5f want %.5f (tol %.5f)", m, m2, kSE*se)
	}
	return nil
}

// moonsMoments returns E[x] and E|x|² of Moons from its definition: unscaled E[p] = (½, ¼),
// E|p|² = (1 + 9/4 − 2/π)/2, noise adds 2σ².
func moonsMoments(noise, s float64, b [2]float64) ([]float64, float64) {
	eu := [2]float64{0.5, 0.25}
	eu2 := (1+2.25-2/math.Pi)/2 + 2*noise*noise
	return []float64{s*eu[0] + b[0], s*eu[1] + b[1]},
		s*s*eu2 + 2*s*(b[0]*eu[0]+b[1]*eu[1]) + b[0]*b[0] + b[1]*b[1]
}

func TestToys_Moments(t *testing.T) {
	pi := math.Pi
	lo, hi := 1.5*pi, 4.5*pi
	et2 := (hi*hi*hi - lo*lo*lo) / (3 * (hi - lo))
	spir := (4.5*pi*pi+2*0.25*4/(3*pi)+2*0.25*2*(9*pi*pi-4)/(9*pi*pi)+2.0/12)/9 + 2*0.01
	mF, m2F := moonsMoments(0.1, 2, [2]float64{-1, -0.2})
	mS, m2S := moonsMoments(0.1, 1, [2]float64{})
	mP, m2P := moonsMoments(0.05, 2, [2]float64{-1, -0.25})
	want := map[string]struct {
		mean []float64
		m2   float64
	}{
		"8gaussians":    {[]float64{0, 0}, (16 + 2*0.25) / 2},
		"gaussian":      {[]float64{0, 0}, 2},
		"checkerboard":  {[]float64{0, 0}, 32.0 / 3},
		"moons":         {mF, m2F},
		"moons-sklearn": {mS, m2S},
		"moons-peer":    {mP, m2P},
		"circles":       {[]float64{0, 0}, 9*(1+0.25)/2 + 2*0.24*0.24},
		"rings":         {[]float64{0, 0}, 9*(1+0.5625+0.25+0.0625)/4 + 2*0.08*0.08},
		"2spirals":      {[]float64{0, 0}, spir},
		"swissroll":     {[]float64{2.0 / 5, 2 / (15 * pi)}, (et2 + 2) / 25},
		"pinwheel":      {[]float64{0, 0}, 4 * (1 + 0.09 + 0.01)},
	}
	require.Len(t, want, len(Names()), "every set has its exact moments here")
	for i, name := range Names() {
		t.Run(name, func(t *testing.T) {
			x, err := Sample(name, 40000, newRNG(uint64(100+i)))
			require.NoError(t, err)
			w := want[name]
			require.NoError(t, checkMoments(x, w.mean, w.m2))
			// Negative control: a 10% error in E|x|² or a shift of 0.1 in the mean is caught.
			assert.Error(t, checkMoments(x, w.mean, 1.1*w.m2))
			assert.Error(t, checkMoments(x, []float64{w.mean[0] + 0.1, w.mean[1]}, w.m2))
		})
	}
	// Negative control on a definition: FFJORD 8gaussians without the ÷√2 fails.
	x := EightGaussians().Sample(20000, newRNG(3))
	for i := range x.Data {
		x.Data[i] *= math.Sqrt2
	}
	assert.Error(t, checkMoments(x, []float64{0, 0}, 8.25))
}

func TestCheckerboard_Definition(t *testing.T) {
	const n = 40000
	var cb Checkerboard
	x := cb.Sample(n, newRNG(5))
	counts := map[[2]int]int{}
	for i := range n {
		r := x.Row(i)
		require.Equal(t, -math.Log(32), cb.LogDensity(r), "point %v off the support", r)
		counts[[2]int{int(math.Floor(r[0] / 2)), int(math.Floor(r[1] / 2))}]++
	}
	require.Len(t, counts, 8, "8 black squares")
	// Each square has probability 1/8: binomial standard error √(p(1−p)/n).
	se := math.Sqrt(1.0 / 8 * 7 / 8 / n)
	for sq, c := range counts {
		assert.InDelta(t, 1.0/8, float64(c)/n, kSE*se, "square %v", sq)
	}
	assert.Equal(t, math.Inf(-1), cb.LogDensity([]float64{1, 3}), "white square")
	assert.Equal(t, math.Inf(-1), cb.LogDensity([]float64{4.5, 0}), "outside")
	// Negative control: without the (⌊x₁⌋ mod 2) shift half the points fall on white squares.
	rng, off := newRNG(6), 0
	for range 1000 {
		x1 := rng.Float64()*4 - 2
		x2 := rng.Float64() - 2*float64(rng.IntN(2))
		if math.IsInf(cb.LogDensity([]float64{2 * x1, 2 * x2}), -1) {
			off++
		}
	}
	assert.Greater(t, off, 400)
}

// gridIntegral returns the trapezoid/midpoint sum Σ f(x_i, y_j) h² over a grid of spacing h
// covering [x0, x1] × [y0, y1] (f negligible at the border).
func gridIntegral(f func(x, y float64) float64, x0, x1, y0, y1, h float64) float64 {
	var s float64
	for x := x0; x <= x1; x += h {
		for y := y0; y <= y1; y += h {
			s += f(x, y)
		}
	}
	return s * h * h
}

func TestGaussianMixture_LogDensity(t *testing.T) {
	g := EightGaussians()
	// Against the formula written out: (1/8) Σ_k exp(−|x − c_k/√2|²/(2s²)) / (2π s²).
	s := 0.5 / math.Sqrt2
	direct := func(x []float64) float64 {
		var p float64
		for k := range 8 {
			cx, cy := 4*math.Cos(math.Pi*float64(k)/4)/math.Sqrt2, 4*math.Sin(math.Pi*float64(k)/4)/math.Sqrt2
			d2 := (x[0]-cx)*(x[0]-cx) + (x[1]-cy)*(x[1]-cy)
			p += math.Exp(-d2/(2*s*s)) / (2 * math.Pi * s * s) / 8
		}
		return math.Log(p)
	}
	rng := newRNG(8)
	for range 100 {
		x := []float64{4 * rng.NormFloat64(), 4 * rng.NormFloat64()}
		assert.InDelta(t, direct(x), g.LogDensity(x), 1e-9*math.Max(1, math.Abs(direct(x))))
	}
	// ∫ p = 1: the trapezoid rule with h/s = 0.11 on a Gaussian is exact to
	// ~exp(−2π² s²/h²) ≈ 0 and the mass outside [−6, 6]² is below 2Φ(−8.9) ≈ 10⁻¹⁸, so the
	// tolerance is round-off.
	mass := gridIntegral(func(x, y float64) float64 { return math.Exp(g.LogDensity([]float64{x, y})) }, -6, 6, -6, 6, 0.04)
	assert.InDelta(t, 1, mass, 1e-9)

	// A correlated 2-D Gaussian: log N(x; μ, Σ) with Σ = [[2, 0.6], [0.6, 0.5]].
	cov := mat.NewSymDense(2, []float64{2, 0.6, 0.6, 0.5})
	one, err := NewGaussianMixture("c", []float64{3}, [][]float64{{1, -1}}, []*mat.SymDense{cov})
	require.NoError(t, err)
	det := 2*0.5 - 0.6*0.6
	x := []float64{0.3, 0.2}
	dx, dy := x[0]-1, x[1]+1
	q := (0.5*dx*dx - 2*0.6*dx*dy + 2*dy*dy) / det
	want := -0.5*q - math.Log(2*math.Pi) - 0.5*math.Log(det)
	assert.InDelta(t, want, one.LogDensity(x), 1e-12)
	// Negative control: dropping the ½ on log det is off by ½ log det ≠ 0.
	assert.Greater(t, math.Abs(want-0.5*math.Log(det)-one.LogDensity(x)), 1e-3)
	// Its samples have mean μ and covariance Σ (within k standard errors).
	xs := one.Sample(40000, newRNG(9))
	var m [2]float64
	for i := range xs.Rows {
		m[0] += xs.At(i, 0) / float64(xs.Rows)
		m[1] += xs.At(i, 1) / float64(xs.Rows)
	}
	assert.InDelta(t, 1, m[0], kSE*math.Sqrt(2.0/40000))
	assert.InDelta(t, -1, m[1], kSE*math.Sqrt(0.5/40000))
	cross := make([]float64, xs.Rows)
	for i := range cross {
		cross[i] = (xs.At(i, 0) - 1) * (xs.At(i, 1) + 1)
	}
	c, se := stats.MeanStdErr(cross)
	assert.InDelta(t, 0.6, c, kSE*se)

	for _, bad := range []func() error{
		func() error { _, err := NewGaussianMixture("b", nil, nil, nil); return err },
		func() error {
			_, err := NewGaussianMixture("b", []float64{-1}, [][]float64{{0}}, []*mat.SymDense{mat.NewSymDense(1, []float64{1})})
			return err
		},
		func() error {
			_, err := NewGaussianMixture("b", []float64{1}, [][]float64{{0}}, []*mat.SymDense{mat.NewSymDense(1, []float64{-1})})
			return err
		},
		func() error {
			_, err := NewGaussianMixture("b", []float64{1}, [][]float64{{0, 0}}, []*mat.SymDense{mat.NewSymDense(1, []float64{1})})
			return err
		},
	} {
		assert.Error(t, bad())
	}
}

// TestCurves_Normalised checks ∫ p = 1 for the quadrature densities on a grid. The grid step
// h ≤ 0.8σ makes the trapezoid error ~exp(−2π²σ²/h²) < e⁻³⁰ (Poisson summation: p is a
// measure convolved with N(0, σ²I)) and the boxes reach ≥ 10σ past the curves (mass outside
// < 10⁻²²), so the tolerance is the Simpson error in θ (< 10⁻⁶,
// TestEntropy_QuadratureConverged) plus round-off.
func TestCurves_Normalised(t *testing.T) {
	for _, tc := range []struct {
		name              string
		d                 Density
		x0, x1, y0, y1, h float64
	}{
		{"moons-sklearn", &Moons{Noise: 0.1, Scale: 1}, -2.1, 3.1, -1.6, 2.1, 0.08},
		{"moons-peer", MoonsPeer(), -4, 4, -3, 3, 0.08},
		{"2spirals", TwoSpirals(), -4.5, 4.5, -4.5, 4.5, 0.08},
		{"circles", Circles(), -5.5, 5.5, -5.5, 5.5, 0.16},
		{"rings", Rings(), -4, 4, -4, 4, 0.064},
		{"swissroll", SwissRoll(), -5, 5, -5, 5, 0.16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mass := gridIntegral(func(x, y float64) float64 { return math.Exp(tc.d.LogDensity([]float64{x, y})) },
				tc.x0, tc.x1, tc.y0, tc.y1, tc.h)
			assert.InDelta(t, 1, mass, 1e-5)
		})
	}
}

// TestEntropy_QuadratureConverged doubles the number of Simpson panels: log p changes by less
// than a tenth of the Monte-Carlo standard error of the entropy (Simpson's error shrinks 16×
// per doubling, so the change bounds the error of the coarser rule).
func TestEntropy_QuadratureConverged(t *testing.T) {
	for _, mk := range []func() *curveSet{
		func() *curveSet { return (&Moons{Noise: 0.05, Scale: 1}).curves() },
		func() *curveSet { return TwoSpirals().(*curveSet) },
		func() *curveSet { return Circles().(*curveSet) },
		func() *curveSet { return Rings().(*curveSet) },
		func() *curveSet { return SwissRoll().(*curveSet) },
	} {
		c1, c2 := mk(), mk()
		c2.refine = 2
		x := c1.Sample(200, newRNG(11))
		var worst float64
		for i := range x.Rows {
			worst = math.Max(worst, math.Abs(c1.LogDensity(x.Row(i))-c2.LogDensity(x.Row(i))))
		}
		assert.Less(t, worst, 0.1*0.004, "%s: |Δ log p| (tol: a tenth of a 0.004 standard error)", c1.name)
	}
}

func TestEntropy_KnownValues(t *testing.T) {
	h, se, err := Entropy("checkerboard")
	require.NoError(t, err)
	assert.Equal(t, math.Log(32), h)
	assert.Zero(t, se)
	assert.InDelta(t, 3.4657, h, 5e-5)
	h, _, err = Entropy("gaussian")
	require.NoError(t, err)
	assert.InDelta(t, math.Log(2*math.Pi*math.E), h, 1e-15)

	// 8gaussians ≈ 2.829 (an independent Monte-Carlo estimate with 2·10⁵ samples, whose standard
	// error is ours rescaled to that sample size), and against −∫ p log p by 2-D quadrature (grid
	// step 0.04 ≈ 0.11 s: trapezoid exact to round-off, as in TestGaussianMixture_LogDensity).
	h, se, err = Entropy("8gaussians")
	require.NoError(t, err)
	seRef := se * math.Sqrt(float64(DefaultEntropySamples("8gaussians"))/2e5)
	tol := kSE * math.Hypot(se, seRef)
	assert.InDelta(t, 2.829, h, tol, "got %.4f ± %.4f", h, se)
	g := EightGaussians()
	hq := gridIntegral(func(x, y float64) float64 {
		lp := g.LogDensity([]float64{x, y})
		if math.IsInf(lp, -1) {
			return 0
		}
		return -lp * math.Exp(lp)
	}, -6, 6, -6, 6, 0.04)
	assert.InDelta(t, hq, h, kSE*se, "quadrature %.5f", hq)
	// Negative control: forgetting the weights 1/8 in log p shifts H by ln 8.
	assert.Greater(t, math.Abs(h-math.Log(8)-2.829), tol)

	// moons, unscaled, noise 0.1 and 0.05: 1.006 ± 0.004 and 0.294 ± 0.004 (independent
	// Monte-Carlo estimates with the density by quadrature);
	// our quadrature error is < 0.0004 (TestEntropy_QuadratureConverged).
	for _, tc := range []struct{ noise, want float64 }{{0.1, 1.006}, {0.05, 0.294}} {
		m := &Moons{Noise: tc.noise, Scale: 1}
		h, se := m.Entropy(20000, newRNG(12))
		tol := kSE*math.Hypot(se, 0.004) + 0.0004
		assert.InDelta(t, tc.want, h, tol, "moons noise %v: %.4f ± %.4f", tc.noise, h, se)
		// Scaling by c adds 2 ln c exactly (same draws, so only round-off differs).
		ms := &Moons{Noise: tc.noise, Scale: 2, Shift: [2]float64{-1, -0.2}}
		hs, _ := ms.Entropy(20000, newRNG(12))
		assert.InDelta(t, h+2*math.Ln2, hs, 1e-9)
		// Negative control: a σ/√2 kernel in log p (a dropped factor 2 in the variance) is caught.
		c := m.curves()
		wrong := &curveSet{name: "wrong", scale: 1, curves: append([]curve(nil), c.curves...)}
		for i := range wrong.curves {
			wrong.curves[i].logK = gaussK(tc.noise / math.Sqrt2)
		}
		hw, _ := mcEntropy(&sampler{wrong, c}, 5000, newRNG(12))
		assert.Greater(t, math.Abs(hw-tc.want), tol)
	}
	// pinwheel: H = H(x | k) + ln 5 − E[H(k | x)] and, the arms being injective up to a fold
	// of mass ~10⁻⁹, H(x | k) = H(a, b) + E log|det ∂x/∂(a, b)| with H(a, b) = ln(2πe σ_r σ_t)
	// and det = s²(1 + r·b·eᵃ). So H ≤ U = ln(2πe σ_r σ_t s⁴) + ln 5 + E log|1 + r·b·eᵃ|, with
	// E[H(k | x)] ≤ ln 5 (arms overlap only near the centre). E log|·| by the midpoint rule
	// over ±8 standard deviations (its log singularity on the fold carries ~10⁻⁹ of the mass).
	// The quadrature comparison is in TestPinwheel_Normalised.
	h, se, err = Entropy("pinwheel")
	require.NoError(t, err)
	m := pinwheelFFJORD
	var elog float64
	const nz = 400
	dz := 16.0 / nz
	for i := range nz {
		za := -8 + (float64(i)+0.5)*dz
		for j := range nz {
			zb := -8 + (float64(j)+0.5)*dz
			w := math.Exp(-(za*za+zb*zb)/2) / (2 * math.Pi) * dz * dz
			elog += w * math.Log(math.Abs(1+m.rate*m.st*zb*math.Exp(m.mu+m.sr*za)))
		}
	}
	u := math.Log(2*math.Pi*math.E*m.sr*m.st*math.Pow(m.scale, 4)) + math.Log(5) + elog
	assert.Less(t, h, u+kSE*se, "pinwheel H = %.4f ± %.4f, upper bound %.4f", h, se, u)
	assert.Greater(t, h, u-math.Log(5), "pinwheel H = %.4f, lower bound %.4f", h, u-math.Log(5))
	assert.Less(t, se, 0.003, "200,000 samples")

	_, _, err = Entropy("nope")
	assert.Error(t, err)
}

// sampler draws from src and evaluates the log-density of dens.
type sampler struct{ dens, src Density }

func (s *sampler) Name() string                                { return "sampler" }
func (s *sampler) Dim() int                                    { return 2 }
func (s *sampler) Sample(n int, r *rand.Rand) *autograd.Tensor { return s.src.Sample(n, r) }
func (s *sampler) LogDensity(x []float64) float64              { return s.dens.LogDensity(x) }
