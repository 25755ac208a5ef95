package tests

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
)

const eps = 0x1p-52 // float64 machine epsilon

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x853c49e6748fea9b)) }

// timeDerivative returns the central difference D(h) = (f(t+h) − f(t−h))/2h
// of a vector function and, per element, the derived bound on its error:
//
//	D(h) = f′ + h²f‴/6 + O(h⁴) + rounding,
//
// truncation estimated by Richardson, |D(2h) − D(h)|/3 ≈ |h²f‴/6|, and
// rounding by 64ε·max|f|/h; tol = 4·(truncation + rounding).
func timeDerivative(f func(t float64) []float64, t, h float64) (d, tol []float64) {
	fp, fm := f(t+h), f(t-h)
	fp2, fm2 := f(t+2*h), f(t-2*h)
	d = make([]float64, len(fp))
	tol = make([]float64, len(fp))
	for j := range fp {
		d[j] = (fp[j] - fm[j]) / (2 * h)
		d2 := (fp2[j] - fm2[j]) / (4 * h)
		size := max(math.Abs(fp[j]), math.Abs(fm[j]), math.Abs(fp2[j]), math.Abs(fm2[j]))
		tol[j] = 4 * (math.Abs(d2-d[j])/3 + 64*eps*(size+1)/h)
	}
	return d, tol
}

// continuity returns the continuity residual r = ∂ₜp + div(p u) at (t, x)
// by central differences with step h (cnf.ContinuityResidual), the size of
// its terms, and the derived finite-difference bound on |r| if the exact
// residual is 0: r(h) = r + c·h² + O(h⁴) + rounding, so the truncation is
// estimated by Richardson as |r(2h) − r(h)|/3 (a true nonzero residual
// cancels in that difference and so stays above the bound), and rounding as
// 64ε·(d+1)·P/h with P the size of the differenced quantities p and p·uᵢ
// (≤ scale·h after differencing, so estimated from p(x)·(1 + ‖u‖)).
func continuity(m fm.Marginal, field func(t float64, x []float64) []float64, t float64, x []float64, h float64) (r, scale, tol float64) {
	r, scale = cnf.ContinuityResidual(m.LogProb, field, t, x, h)
	r2, _ := cnf.ContinuityResidual(m.LogProb, field, t, x, 2*h)
	p := math.Exp(m.LogProb(t, x))
	un := 0.0
	for _, v := range field(t, x) {
		un += math.Abs(v)
	}
	tol = 4 * (math.Abs(r2-r)/3 + 64*eps*float64(len(x)+1)*p*(1+un)/h)
	return r, scale, tol
}

// meanSE is the sample mean of v and its standard error s/√n (two-pass).
var meanSE = stats.MeanStdErr
