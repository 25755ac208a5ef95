package data

// Log-densities of the "noisy curve" sets by 1-D quadrature.
//
// moons, circles, rings, 2spirals and swissroll all have the form
//
//	x = s·(γ_j(θ) + η) + b,   j ~ w,   θ ~ ρ_j on [lo_j, hi_j],   η ~ K_j (independent)
//
// for a curve γ_j, a density ρ_j of the curve parameter, a noise density K_j, a scale s > 0 and
// a shift b. Their density is the curve measure convolved with the noise:
//
//	p(x) = s⁻² Σ_j w_j ∫ ρ_j(θ) K_j(u − γ_j(θ)) dθ,   u = (x − b)/s,
//
// which we evaluate by composite Simpson's rule with m panels per curve (log-sum-exp over the
// nodes, so far-away points give a finite log p). The step is chosen so that the curve moves at
// most σ/8 per node (σ the noise scale): the integrand is then a well resolved Gaussian bump
// and Simpson's O(h⁴) error is far below the Monte-Carlo error of the entropy; the test
// TestEntropy_QuadratureConverged doubles m and checks the change. Nodes farther than 9σ in a
// coordinate (kernel ratio below e⁻⁴⁰) are skipped; for a point that far from every node, the
// nodes within √(d²_min + 2·reach²) of it are summed.
//
// The entropy is then H = E[−log p(x)] over samples (Monte Carlo, with its standard error).

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

type curve struct {
	w      float64                                 // mixture weight w_j
	lo, hi float64                                 // θ range
	logRho func(th float64) float64                // log ρ_j(θ)
	gamma  func(th float64) (float64, float64)     // γ_j(θ)
	logK   func(dx, dy float64) float64            // log K_j(η)
	speed  float64                                 // an upper bound of |γ_j'(θ)|
	sigma  float64                                 // the noise scale of K_j
	reach  float64                                 // K_j(η) < e⁻⁴⁰·max K_j when |η₁| or |η₂| > reach
	sample func(rng *rand.Rand) (float64, float64) // one draw of γ_j(θ) + η
}

// curveSet is a mixture of noisy curves with an affine map x = s·u + b.
type curveSet struct {
	name   string
	curves []curve
	scale  float64
	shift  [2]float64
	refine int // multiplies the default number of panels (1 normally; 2 in the convergence test)

	once  sync.Once // builds nodes on first use, safely under concurrent LogDensity calls
	nodes *curveNodes
}

type curveNodes struct {
	gx, gy, lw []float64 // γ(θ_i) and log(w_j ρ_j(θ_i) · Simpson weight)
	k          []int     // curve index of node i
}

func (c *curveSet) Name() string { return c.name }
func (c *curveSet) Dim() int     { return 2 }

func (c *curveSet) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	mustDraw("data."+c.name+".Sample", n, rng)
	t := autograd.Zeros(n, 2)
	w := make([]float64, len(c.curves))
	for j, cv := range c.curves {
		w[j] = cv.w
	}
	pick := stats.NewCategorical(w)
	for i := range n {
		x, y := c.curves[pick.Draw(rng)].sample(rng)
		t.Data[2*i] = c.scale*x + c.shift[0]
		t.Data[2*i+1] = c.scale*y + c.shift[1]
	}
	return t
}

// panels returns the (even) number of Simpson panels for curve cv: step h with
// h·speed ≤ σ/8, at least 64.
func (c *curveSet) panels(cv curve) int {
	m := int(math.Ceil((cv.hi - cv.lo) * cv.speed * 8 / cv.sigma))
	m = max(m, 64) * max(c.refine, 1)
	return m + m%2
}

// build returns the quadrature nodes, computing them once (safe for
// concurrent use; TestLogDensity_Concurrent).
func (c *curveSet) build() *curveNodes {
	c.once.Do(func() { c.nodes = c.buildNodes() })
	return c.nodes
}

func (c *curveSet) buildNodes() *curveNodes {
	nd := &curveNodes{}
	var wsum float64
	for _, cv := range c.curves {
		wsum += cv.w
	}
	for j, cv := range c.curves {
		m := c.panels(cv)
		h := (cv.hi - cv.lo) / float64(m)
		for i := 0; i <= m; i++ {
			th := cv.lo + h*float64(i)
			sw := 2.0
			switch {
			case i == 0 || i == m:
				sw = 1
			case i%2 == 1:
				sw = 4
			}
			lr := cv.logRho(th)
			if math.IsInf(lr, -1) {
				continue
			}
			x, y := cv.gamma(th)
			nd.gx = append(nd.gx, x)
			nd.gy = append(nd.gy, y)
			nd.lw = append(nd.lw, math.Log(cv.w/wsum*sw*h/3)+lr)
			nd.k = append(nd.k, j)
		}
	}
	return nd
}

// LogDensity returns log p(x) by Simpson quadrature over the curve parameter (see the top of
// this file); accurate to far better than 10⁻³ nats near the data.
func (c *curveSet) LogDensity(x []float64) float64 {
	nd := c.build()
	u := (x[0] - c.shift[0]) / c.scale
	v := (x[1] - c.shift[1]) / c.scale
	var terms []float64
	for i := range nd.lw {
		cv := &c.curves[nd.k[i]]
		dx, dy := u-nd.gx[i], v-nd.gy[i]
		if math.Abs(dx) > cv.reach || math.Abs(dy) > cv.reach {
			continue // a relative contribution below e⁻⁴⁰
		}
		terms = append(terms, nd.lw[i]+cv.logK(dx, dy))
	}
	if len(terms) == 0 {
		// x is far from every curve: keep the nodes with d² ≤ d²_min + 2·reach², where d is the
		// distance to the node (for a Gaussian kernel the rest add a relative e⁻⁸¹).
		dmin := math.Inf(1)
		for i := range nd.lw {
			dx, dy := u-nd.gx[i], v-nd.gy[i]
			dmin = math.Min(dmin, dx*dx+dy*dy)
		}
		for i := range nd.lw {
			cv := &c.curves[nd.k[i]]
			dx, dy := u-nd.gx[i], v-nd.gy[i]
			if dx*dx+dy*dy <= dmin+2*cv.reach*cv.reach {
				terms = append(terms, nd.lw[i]+cv.logK(dx, dy))
			}
		}
	}
	return stats.LogSumExp(terms) - 2*math.Log(c.scale)
}

// Entropy returns the Monte-Carlo estimate of E[−log p(x)] over n samples with its standard
// error; log p by quadrature.
func (c *curveSet) Entropy(n int, rng *rand.Rand) (h, se float64) { return mcEntropy(c, n, rng) }

// gaussK returns the log-density of N(0, σ² I) in 2-D.
func gaussK(sigma float64) func(dx, dy float64) float64 {
	c := -math.Log(2 * math.Pi * sigma * sigma)
	a := 0.5 / (sigma * sigma)
	return func(dx, dy float64) float64 { return c - a*(dx*dx+dy*dy) }
}

func uniformRho(lo, hi float64) func(float64) float64 {
	c := -math.Log(hi - lo)
	return func(float64) float64 { return c }
}

// Moons is scikit-learn's make_moons with Gaussian noise, then an affine map:
//
//	outer (prob ½): p = (cos θ, sin θ);  inner (prob ½): p = (1 − cos θ, ½ − sin θ);  θ ~ U[0, π]
//	x = Scale·(p + Noise·ε) + Shift,   ε ~ N(0, I)
//
// make_moons (scikit-learn, Pedregosa et al. 2011) splits n exactly in halves; here the half
// is drawn per point. Scaling by c adds 2 ln c to the entropy. Entropies (unscaled): noise 0.1
// ≈ 1.006 ± 0.004, noise 0.05 ≈ 0.294 ± 0.004 nats, independent Monte-Carlo estimates that
// TestEntropy_KnownValues recomputes here with the quadrature density. Built-in variants:
// "moons" (FFJORD, Grathwohl et al. 2018, arXiv:1810.01367, lib/toy_data.py: noise 0.1, ×2,
// + (−1, −0.2)), "moons-sklearn" (noise 0.1, unscaled; the setting of the 2-D CNF example of
// facebookresearch/flow_matching, github.com/facebookresearch/flow_matching), "moons-peer" (the
// PyTorch peer benchmark in this repository, bench/peers/torch_fm.py --data moons: noise
// 0.05, ×2, − (1, 0.25)).
type Moons struct {
	Noise, Scale float64 // Scale 0 means 1
	Shift        [2]float64
	Label        string

	once sync.Once // builds set on first use, safely under concurrent calls
	set  *curveSet
}

// MoonsFFJORD returns FFJORD's moons: make_moons(noise 0.1)·2 + (−1, −0.2).
func MoonsFFJORD() *Moons {
	return &Moons{Noise: 0.1, Scale: 2, Shift: [2]float64{-1, -0.2}, Label: "moons"}
}

// MoonsPeer returns the moons of the repository's PyTorch peer benchmark
// (bench/peers/torch_fm.py --data moons): 2·(p + 0.05ε) − (1, 0.25).
func MoonsPeer() *Moons {
	return &Moons{Noise: 0.05, Scale: 2, Shift: [2]float64{-1, -0.25}, Label: "moons-peer"}
}

func (m *Moons) curves() *curveSet {
	m.once.Do(m.buildSet)
	return m.set
}

func (m *Moons) buildSet() {
	s := m.Scale
	if s == 0 {
		s = 1
	}
	sig := m.Noise
	mk := func(g func(th float64) (float64, float64)) curve {
		return curve{w: 0.5, lo: 0, hi: math.Pi, logRho: uniformRho(0, math.Pi), gamma: g,
			logK: gaussK(sig), speed: 1, sigma: sig, reach: 9 * sig,
			sample: func(rng *rand.Rand) (float64, float64) {
				x, y := g(rng.Float64() * math.Pi)
				return x + sig*rng.NormFloat64(), y + sig*rng.NormFloat64()
			}}
	}
	outer := func(th float64) (float64, float64) { return math.Cos(th), math.Sin(th) }
	inner := func(th float64) (float64, float64) { return 1 - math.Cos(th), 0.5 - math.Sin(th) }
	m.set = &curveSet{name: m.Label, curves: []curve{mk(outer), mk(inner)}, scale: s, shift: m.Shift}
}

func (m *Moons) Name() string                                  { return m.Label }
func (m *Moons) Dim() int                                      { return 2 }
func (m *Moons) Sample(n int, rng *rand.Rand) *autograd.Tensor { return m.curves().Sample(n, rng) }

// LogDensity returns log p(x) by quadrature over θ (see Moons and curves.go).
func (m *Moons) LogDensity(x []float64) float64 { return m.curves().LogDensity(x) }

// Entropy returns E[−log p] over n samples (Monte Carlo) and its standard error.
func (m *Moons) Entropy(n int, rng *rand.Rand) (h, se float64) { return m.curves().Entropy(n, rng) }

func ringCurve(w, r, sig float64) curve {
	g := func(th float64) (float64, float64) { return r * math.Cos(th), r * math.Sin(th) }
	return curve{w: w, lo: 0, hi: 2 * math.Pi, logRho: uniformRho(0, 2*math.Pi), gamma: g,
		logK: gaussK(sig), speed: r, sigma: sig, reach: 9 * sig,
		sample: func(rng *rand.Rand) (float64, float64) {
			x, y := g(rng.Float64() * 2 * math.Pi)
			return x + sig*rng.NormFloat64(), y + sig*rng.NormFloat64()
		}}
}

// Circles is FFJORD's circles: scikit-learn make_circles(factor 0.5, noise 0.08)·3, i.e.
//
//	r = 1 or 0.5 (prob ½ each),  θ ~ U[0, 2π),  x = 3·(r cos θ + 0.08ε₁, r sin θ + 0.08ε₂)
//
// (make_circles spaces the angles evenly and splits n in halves; here both are drawn).
// H by Monte Carlo + quadrature.
func Circles() Density {
	return &curveSet{name: "circles", scale: 3,
		curves: []curve{ringCurve(0.5, 1, 0.08), ringCurve(0.5, 0.5, 0.08)}}
}

// Rings is FFJORD's rings: 4 concentric circles of radius 3·{1, 0.75, 0.5, 0.25}, each with
// probability ¼, θ ~ U[0, 2π), plus N(0, 0.08²) noise added after the ×3:
//
//	x = 3 r (cos θ, sin θ) + 0.08 ε
//
// (FFJORD uses evenly spaced angles and n/4 points per ring; here both are drawn.)
func Rings() Density {
	var cs []curve
	for _, r := range []float64{1, 0.75, 0.5, 0.25} {
		cs = append(cs, ringCurve(0.25, 3*r, 0.08))
	}
	return &curveSet{name: "rings", scale: 1, curves: cs}
}

// TwoSpirals is FFJORD's 2spirals: with U, U', U” ~ U[0, 1) and ε ~ N(0, I),
//
//	t = √U · 3π,  d = (−t cos t + ½U', t sin t + ½U''),  x = ±d/3 + 0.1ε  (sign ± with prob ½)
//
// (FFJORD takes exactly n/2 of each sign.) The density of t is 2t/(3π)² on [0, 3π]; the noise
// of each coordinate is a uniform on [0, 1/6] (or [−1/6, 0] for the mirror) plus N(0, 0.1²),
// whose density is 6·(Φ(u/0.1) − Φ((u − 1/6)/0.1)).
func TwoSpirals() Density {
	const sig = 0.1
	logBox := func(u, lo float64) float64 { // log density of U[lo, lo+1/6] + N(0, σ²) at u
		a := (u - lo) / (sig * math.Sqrt2)
		b := (u - lo - 1.0/6) / (sig * math.Sqrt2)
		var p float64
		if a > 0 && b > 0 { // both in the upper tail: use erfc to keep precision
			p = 0.5 * (math.Erfc(b) - math.Erfc(a))
		} else if a < 0 && b < 0 {
			p = 0.5 * (math.Erfc(-a) - math.Erfc(-b))
		} else {
			p = 0.5 * (math.Erf(a) - math.Erf(b))
		}
		return math.Log(6 * p)
	}
	tmax := 3 * math.Pi
	logRho := func(t float64) float64 { return math.Log(2 * t / (tmax * tmax)) }
	mk := func(sgn float64) curve {
		lo := 0.0
		if sgn < 0 {
			lo = -1.0 / 6
		}
		g := func(t float64) (float64, float64) { return sgn * -t * math.Cos(t) / 3, sgn * t * math.Sin(t) / 3 }
		return curve{w: 0.5, lo: 0, hi: tmax, logRho: logRho, gamma: g,
			logK:  func(dx, dy float64) float64 { return logBox(dx, lo) + logBox(dy, lo) },
			speed: math.Sqrt(1+tmax*tmax) / 3, sigma: sig, reach: 1.0/6 + 9*sig,
			sample: func(rng *rand.Rand) (float64, float64) {
				t := math.Sqrt(rng.Float64()) * tmax
				dx := -math.Cos(t)*t + rng.Float64()*0.5
				dy := math.Sin(t)*t + rng.Float64()*0.5
				return sgn*dx/3 + sig*rng.NormFloat64(), sgn*dy/3 + sig*rng.NormFloat64()
			}}
	}
	return &curveSet{name: "2spirals", scale: 1, curves: []curve{mk(1), mk(-1)}}
}

// SwissRoll is FFJORD's swissroll: scikit-learn make_swiss_roll(noise 1.0), columns [0, 2], ÷5:
//
//	t ~ U[1.5π, 4.5π],  x = (t cos t + ε₁, t sin t + ε₂)/5,  ε ~ N(0, I)
func SwissRoll() Density {
	lo, hi := 1.5*math.Pi, 4.5*math.Pi
	g := func(t float64) (float64, float64) { return t * math.Cos(t), t * math.Sin(t) }
	c := curve{w: 1, lo: lo, hi: hi, logRho: uniformRho(lo, hi), gamma: g, logK: gaussK(1),
		speed: math.Sqrt(1 + hi*hi), sigma: 1, reach: 9,
		sample: func(rng *rand.Rand) (float64, float64) {
			x, y := g(lo + (hi-lo)*rng.Float64())
			return x + rng.NormFloat64(), y + rng.NormFloat64()
		}}
	return &curveSet{name: "swissroll", scale: 0.2, curves: []curve{c}}
}
