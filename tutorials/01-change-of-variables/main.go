// Tutorial 01: the change-of-variables formula (Papamakarios et al. 2021,
// arXiv:1912.02762, §2).
//
// It pushes samples through invertible maps and checks the density that the
// formula predicts: exactly for an affine map of a Gaussian (1-D and 2-D),
// against a histogram for a nonlinear 1-D map, and against the closed form
// for a nonlinear 2-D map whose Jacobian autograd computes.
//
//	go run ./tutorials/01-change-of-variables [-out DIR] [-n 200000]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/plot"
)

// Config sets the size of the run; the test uses a smaller one.
type Config struct {
	Out  string // directory for the pictures ("" writes none)
	N    int    // samples pushed through each map
	Seed uint64
}

// Result holds every number main prints; main_test.go asserts on them.
type Result struct {
	// Part 1, affine 1-D: x = a·z + b, z ~ N(μ, σ²) ⇒ x ~ N(aμ + b, (aσ)²).
	AffineMaxErr     float64 // max |formula − closed form| of log p over a grid
	AffineWantMean   float64 // aμ + b
	AffineWantStd    float64 // |a|σ
	AffineMean       float64 // sample mean of x, and its standard error
	AffineMeanSE     float64
	AffineStd        float64 // sample standard deviation of x, and its standard error
	AffineStdSE      float64
	AffineMaxRelDiff float64 // max relative difference between the formula and closed form (p, not log p)

	// Part 2, nonlinear 1-D: x = z + c·sin z.
	Bins           int     // histogram cells (B − 2 inner bins and two tails)
	Chi2           float64 // Pearson χ² of the histogram against the formula
	Chi2NoJacobian float64 // the same, against the density without |(f⁻¹)′| (renormalized)
	Chi2Threshold  float64 // B − 1 + 5·√(2(B − 1))
	BinQuadErr     float64 // max over bins |Simpson ∫p − exact CDF difference|
	Integral       float64 // ∫p over [−L, L] (Simpson, 2M intervals) plus the exact tail mass
	IntegralErr    float64 // Richardson estimate of Simpson's error: |I_2M − I_M|/15

	// Part 3, 2-D maps through autograd's Jacobian (cnf.TransformedLogDensity).
	Affine2DMaxErr    float64 // affine: max |formula − Gaussian log-density|
	Affine2DCond      float64 // condition number of A (scales the rounding tolerance)
	Banana2DMaxErr    float64 // nonlinear: max |formula − closed form|
	Banana2DNoJacDiff float64 // nonlinear without the log-det: mean |difference| (not small)
}

// The maps of the tutorial.
const (
	mu, sigma, a, b = 0.5, 0.8, -2.0, 1.0 // part 1
	sz, c           = 1.5, 0.9            // part 2: z ~ N(0, sz²), x = z + c·sin z
	alpha, beta     = 0.4, 0.4            // part 3: banana map
	lo, hi, inner   = -3.5, 3.5, 35       // part 2 histogram
)

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "01-change-of-variables"), N: 200000, Seed: 1}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.IntVar(&cfg.N, "n", cfg.N, "samples per map")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("1. Affine map, 1-D: z ~ N(0.5, 0.8²), x = −2z + 1")
	fmt.Printf("   the formula p(x) = π(f⁻¹(x))·|(f⁻¹)′(x)| equals N(aμ+b, (aσ)²) = N(%.1f, %.1f²): max |Δ log p| = %.1e over a grid\n", r.AffineWantMean, r.AffineWantStd, r.AffineMaxErr)
	fmt.Printf("   %d samples: mean %.4f ± %.4f (want %.1f), std %.4f ± %.4f (want %.1f)\n", cfg.N, r.AffineMean, r.AffineMeanSE, r.AffineWantMean, r.AffineStd, r.AffineStdSE, r.AffineWantStd)
	fmt.Println("2. Nonlinear map, 1-D: z ~ N(0, 1.5²), x = z + 0.9·sin z (peaks where f′ is small, at x = ±π)")
	fmt.Printf("   histogram (%d cells) against the formula: χ² = %.1f, threshold %.1f (mean %d)\n", r.Bins, r.Chi2, r.Chi2Threshold, r.Bins-1)
	fmt.Printf("   against the density without the Jacobian factor: χ² = %.0f (rejected)\n", r.Chi2NoJacobian)
	fmt.Printf("   ∫p dx = %.10f (Simpson error ≈ %.1e); bin integrals match the exact CDF to %.1e\n", r.Integral, r.IntegralErr, r.BinQuadErr)
	fmt.Println("3. 2-D maps, log|det ∂f⁻¹/∂x| from autograd's Jacobian")
	fmt.Printf("   affine x = Az + b: max |Δ log p| = %.1e against N(b, AAᵀ) (cond A = %.1f)\n", r.Affine2DMaxErr, r.Affine2DCond)
	fmt.Printf("   banana x = (z₁, z₂·e^{0.4z₁} + 0.4z₁²): max |Δ log p| = %.1e; dropping the log-det is off by %.2f nats on average\n", r.Banana2DMaxErr, r.Banana2DNoJacDiff)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

// normalLogPDF is log N(x; m, s²).
func normalLogPDF(x, m, s float64) float64 {
	d := (x - m) / s
	return -0.5*d*d - math.Log(s) - 0.5*math.Log(2*math.Pi)
}

// normalCDF is Φ((x − m)/s).
func normalCDF(x, m, s float64) float64 { return 0.5 * math.Erfc(-(x-m)/(s*math.Sqrt2)) }

// f is the nonlinear map of part 2; it is increasing since f′ = 1 + c·cos z ≥ 1 − c > 0.
func f(z float64) float64 { return z + c*math.Sin(z) }

// finv inverts f by bisection: the root lies within c of x.
func finv(x float64) float64 {
	l, h := x-c-1e-9, x+c+1e-9
	for range 200 {
		m := 0.5 * (l + h)
		if m == l || m == h {
			break
		}
		if f(m) < x {
			l = m
		} else {
			h = m
		}
	}
	return 0.5 * (l + h)
}

// dfinv is (f⁻¹)′(x) = 1/f′(f⁻¹(x)).
func dfinv(x float64) float64 { return 1 / (1 + c*math.Cos(finv(x))) }

// density is the change-of-variables density of part 2.
func density(x float64) float64 {
	return math.Exp(cnf.TransformedLogDensity1D(func(z float64) float64 { return normalLogPDF(z, 0, sz) }, finv, dfinv, x))
}

// simpson integrates g over [l, h] with m (even) intervals.
func simpson(g func(float64) float64, l, h float64, m int) float64 {
	dx := (h - l) / float64(m)
	s := g(l) + g(h)
	for i := 1; i < m; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * g(l+float64(i)*dx)
	}
	return s * dx / 3
}

// chi2 is Pearson's statistic of counts against cell probabilities.
func chi2(counts, probs []float64, n int) float64 {
	s := 0.0
	for i, o := range counts {
		e := probs[i] * float64(n)
		s += (o - e) * (o - e) / e
	}
	return s
}

func meanStd(xs []float64) (m, s float64) {
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(xs)-1))
}

func run(cfg Config) (Result, error) {
	var r Result
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return r, err
		}
	}

	// Part 1: affine 1-D. f⁻¹(x) = (x − b)/a, (f⁻¹)′ = 1/a.
	r.AffineWantMean, r.AffineWantStd = a*mu+b, math.Abs(a)*sigma
	for i := 0; i <= 40; i++ {
		x := -5 + 0.25*float64(i)
		got := cnf.TransformedLogDensity1D(func(z float64) float64 { return normalLogPDF(z, mu, sigma) },
			func(x float64) float64 { return (x - b) / a }, func(float64) float64 { return 1 / a }, x)
		want := normalLogPDF(x, r.AffineWantMean, r.AffineWantStd)
		r.AffineMaxErr = max(r.AffineMaxErr, math.Abs(got-want))
	}
	xs := make([]float64, cfg.N)
	for i := range xs {
		xs[i] = a*(mu+sigma*rng.NormFloat64()) + b
	}
	r.AffineMean, r.AffineStd = meanStd(xs)
	r.AffineMeanSE = r.AffineStd / math.Sqrt(float64(cfg.N))
	r.AffineStdSE = r.AffineStd / math.Sqrt(2*float64(cfg.N-1)) // sd of the sample sd, Gaussian data

	// Part 2: nonlinear 1-D, histogram with two tail cells.
	r.Bins = inner + 2
	counts := make([]float64, r.Bins)
	samples := make([]float64, cfg.N)
	for i := range samples {
		x := f(sz * rng.NormFloat64())
		samples[i] = x
		switch {
		case x < lo:
			counts[0]++
		case x >= hi:
			counts[r.Bins-1]++
		default:
			counts[1+min(inner-1, int((x-lo)/(hi-lo)*inner))]++
		}
	}
	edge := func(i int) float64 { return lo + (hi-lo)*float64(i)/inner }
	// Cell probabilities from the formula: Simpson inside, and for the tails
	// 1 minus the inner mass split by the exact tail ratio (the tails are
	// checked against the CDF too).
	probs := make([]float64, r.Bins)
	noJac := make([]float64, r.Bins)
	exactCell := func(l, h float64) float64 { return normalCDF(finv(h), 0, sz) - normalCDF(finv(l), 0, sz) }
	noJacDensity := func(x float64) float64 { return math.Exp(normalLogPDF(finv(x), 0, sz)) }
	for i := 0; i < inner; i++ {
		probs[1+i] = simpson(density, edge(i), edge(i+1), 64)
		noJac[1+i] = simpson(noJacDensity, edge(i), edge(i+1), 16)
		r.BinQuadErr = max(r.BinQuadErr, math.Abs(probs[1+i]-exactCell(edge(i), edge(i+1))))
	}
	probs[0], probs[r.Bins-1] = normalCDF(finv(lo), 0, sz), 1-normalCDF(finv(hi), 0, sz)
	// Without the Jacobian: the tails use the same unnormalized density.
	noJac[0] = simpson(noJacDensity, lo-20, lo, 2000)
	noJac[r.Bins-1] = simpson(noJacDensity, hi, hi+20, 2000)
	total := 0.0
	for _, p := range noJac {
		total += p
	}
	for i := range noJac {
		noJac[i] /= total
	}
	df := float64(r.Bins - 1)
	r.Chi2, r.Chi2NoJacobian = chi2(counts, probs, cfg.N), chi2(counts, noJac, cfg.N)
	r.Chi2Threshold = df + 5*math.Sqrt(2*df)
	// ∫p = 1: Simpson over [−L, L] plus the exact tail mass 2·Φ(−f⁻¹(L)/sz).
	const L = 8.0
	iM, i2M := simpson(density, -L, L, 800), simpson(density, -L, L, 1600)
	tail := 2 * normalCDF(-finv(L), 0, sz)
	r.Integral, r.IntegralErr = i2M+tail, math.Abs(i2M-iM)/15

	// Part 3: 2-D maps. Rows of x are points; f⁻¹ is written with ops so
	// that autograd can take its Jacobian.
	A := [2][2]float64{{1.5, 0.5}, {-0.3, 0.8}}
	shift := autograd.FromRows([][]float64{{1, -1}})
	det := A[0][0]*A[1][1] - A[0][1]*A[1][0]
	Ainv := [2][2]float64{{A[1][1] / det, -A[0][1] / det}, {-A[1][0] / det, A[0][0] / det}}
	// Row convention: x = z·Aᵀ + b, so z = (x − b)·A⁻ᵀ.
	AinvT := autograd.FromRows([][]float64{{Ainv[0][0], Ainv[1][0]}, {Ainv[0][1], Ainv[1][1]}})
	affineInv := func(x *autograd.Tensor) *autograd.Tensor {
		return autograd.MatMul(autograd.Sub(x, autograd.Expand(shift, x.Rows, 2)), AinvT)
	}
	// Condition number of A from its singular values.
	fro2 := A[0][0]*A[0][0] + A[0][1]*A[0][1] + A[1][0]*A[1][0] + A[1][1]*A[1][1]
	disc := math.Sqrt(fro2*fro2 - 4*det*det)
	r.Affine2DCond = math.Sqrt((fro2 + disc) / (fro2 - disc))
	// The closed form: N(b, Σ) with Σ = AAᵀ.
	S := [2][2]float64{
		{A[0][0]*A[0][0] + A[0][1]*A[0][1], A[0][0]*A[1][0] + A[0][1]*A[1][1]},
		{A[0][0]*A[1][0] + A[0][1]*A[1][1], A[1][0]*A[1][0] + A[1][1]*A[1][1]},
	}
	sdet := S[0][0]*S[1][1] - S[0][1]*S[1][0]
	gauss := func(x []float64) float64 {
		d0, d1 := x[0]-shift.Data[0], x[1]-shift.Data[1]
		q := (S[1][1]*d0*d0 - 2*S[0][1]*d0*d1 + S[0][0]*d1*d1) / sdet
		return -0.5*q - 0.5*math.Log(sdet) - math.Log(2*math.Pi)
	}
	n2 := min(cfg.N, 2000)
	z2 := autograd.Normal(n2, 2, 0, 1, rng)
	x2 := autograd.AddRow(autograd.MatMul(z2, autograd.FromRows([][]float64{{A[0][0], A[1][0]}, {A[0][1], A[1][1]}})), shift)
	lp, err := cnf.TransformedLogDensity(cnf.StandardNormalLogProb, affineInv, x2.NoGraph())
	if err != nil {
		return r, err
	}
	for i := 0; i < n2; i++ {
		r.Affine2DMaxErr = max(r.Affine2DMaxErr, math.Abs(lp.Data[i]-gauss(x2.Row(i))))
	}

	// Banana: x = (z₁, z₂·e^{αz₁} + βz₁²), so z = (x₁, (x₂ − βx₁²)·e^{−αx₁}) and
	// log|det ∂f⁻¹/∂x| = −αx₁ (the Jacobian of f⁻¹ is triangular).
	bananaInv := func(x *autograd.Tensor) *autograd.Tensor {
		x1, x2 := autograd.Slice(x, 0, 1), autograd.Slice(x, 1, 2)
		z2 := autograd.Mul(autograd.Sub(x2, autograd.Scale(autograd.Square(x1), beta)), autograd.Exp(autograd.Scale(x1, -alpha)))
		return autograd.Concat(x1, z2)
	}
	bananaClosed := func(x0, x1 float64) float64 {
		z1, z2 := x0, (x1-beta*x0*x0)*math.Exp(-alpha*x0)
		return normalLogPDF(z1, 0, 1) + normalLogPDF(z2, 0, 1) - alpha*x0
	}
	zb := autograd.Normal(n2, 2, 0, 1, rng)
	xb := autograd.Zeros(n2, 2)
	for i := 0; i < n2; i++ {
		z1, z2 := zb.At(i, 0), zb.At(i, 1)
		xb.Data[2*i], xb.Data[2*i+1] = z1, z2*math.Exp(alpha*z1)+beta*z1*z1
	}
	lb, err := cnf.TransformedLogDensity(cnf.StandardNormalLogProb, bananaInv, xb.NoGraph())
	if err != nil {
		return r, err
	}
	noJacLogp := cnf.StandardNormalLogProb(bananaInv(xb.NoGraph()))
	for i := 0; i < n2; i++ {
		r.Banana2DMaxErr = max(r.Banana2DMaxErr, math.Abs(lb.Data[i]-bananaClosed(xb.At(i, 0), xb.At(i, 1))))
		r.Banana2DNoJacDiff += math.Abs(lb.Data[i]-noJacLogp.Data[i]) / float64(n2)
	}

	if cfg.Out == "" {
		return r, nil
	}
	// Pictures: the histogram of part 2 with the two candidate densities,
	// and the banana's density next to its samples.
	var hx, hy []float64
	for i := 0; i < inner; i++ {
		h := counts[1+i] / float64(cfg.N) / (edge(i+1) - edge(i))
		hx, hy = append(hx, edge(i), edge(i+1)), append(hy, h, h)
	}
	var gx, gy, gw []float64
	for i := 0; i <= 400; i++ {
		x := lo + (hi-lo)*float64(i)/400
		gx, gy = append(gx, x), append(gy, density(x))
		gw = append(gw, noJacDensity(x)/total)
	}
	if err := plot.Lines(filepath.Join(cfg.Out, "histogram.png"), "x = z + 0.9·sin z, z ~ N(0, 1.5²)", plot.Axes{X: "x", Y: "density"},
		[]plot.Curve{
			{Name: "histogram of samples", X: hx, Y: hy},
			{Name: "formula π(g(x))·|g′(x)|, g = inverse of f", X: gx, Y: gy},
			{Name: "without the factor |g′(x)| (wrong)", X: gx, Y: gw, Dashed: true},
		}); err != nil {
		return r, err
	}
	// The density on a grid of cell centres, one batched call of the formula.
	const g, x0, x1, y0, y1 = 120, -3.5, 3.5, -2.5, 6.5
	pts := autograd.Zeros(g*g, 2)
	for iy := 0; iy < g; iy++ {
		for ix := 0; ix < g; ix++ {
			k := iy*g + ix
			pts.Data[2*k] = x0 + (float64(ix)+0.5)*(x1-x0)/g
			pts.Data[2*k+1] = y0 + (float64(iy)+0.5)*(y1-y0)/g
		}
	}
	lg, err := cnf.TransformedLogDensity(cnf.StandardNormalLogProb, bananaInv, pts.NoGraph())
	if err != nil {
		return r, err
	}
	grid := make([][]float64, g)
	for iy := range grid {
		grid[iy] = lg.Data[iy*g : (iy+1)*g]
	}
	if err := plot.DensityGrid(filepath.Join(cfg.Out, "banana-density.png"), "banana: π(g(x))·|det ∂g/∂x|, g = inverse map",
		grid, x0, x1, y0, y1); err != nil {
		return r, err
	}
	return r, plot.Samples(filepath.Join(cfg.Out, "banana-samples.png"), "banana: samples x = f(z)", nil, xb)
}
