package cnf

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
Dormand–Prince 5(4) (Dormand & Prince 1980; Hairer, Nørsett & Wanner,
Solving ODEs I, §II.4–II.5, code DOPRI5). Seven stages; the 7th is evaluated
at (t + h, x′) where x′ is the 5th-order solution, so on acceptance it is the
1st stage of the next step (first same as last, FSAL): 6 new evaluations per
attempted step. The embedded 4th-order solution gives the error estimate

	err = h·Σᵢ eᵢkᵢ,  e = b − b̂,
	‖err‖ = √(mean((errᵢ / (ATol + RTol·max(|xᵢ|, |x′ᵢ|)))²)),

and the step is accepted when ‖err‖ ≤ 1. The next step is
h·min(facMax, max(facMin, 0.9·‖err‖^(−1/5))) with facMin = 0.2,
facMax = 10, and facMax = 1 right after a rejection (Hairer's choice, which
avoids oscillating between rejection and growth). The state advances with
the 5th-order solution (local extrapolation).

Initial step (Hairer I, §II.4, "Starting Step Size"), with sc = ATol + RTol·|x₀|
and ‖·‖ the RMS norm scaled by sc:

	d₀ = ‖x₀‖, d₁ = ‖f(t₀, x₀)‖, h₀ = 0.01·d₀/d₁ (1e-6 if d₀ or d₁ < 1e-5),
	x₁ = x₀ + h₀·f(t₀, x₀), d₂ = ‖f(t₀ + h₀, x₁) − f(t₀, x₀)‖ / h₀,
	h₁ = (0.01 / max(d₁, d₂))^(1/5)  (max(1e-6, h₀·1e-3) if max(d₁, d₂) ≤ 1e-15),
	h = min(100·h₀, h₁).

The evaluation at (t₀, x₀) is reused as the first stage, so choosing h costs
one extra evaluation beyond the initial slope.
*/

var (
	dpC = [7]float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}
	dpA = [7][]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	}
	// dpE = b − b̂: 5th-order weights (row 7 of A) minus the embedded 4th-order ones.
	dpE = [7]float64{
		35.0/384 - 5179.0/57600,
		0,
		500.0/1113 - 7571.0/16695,
		125.0/192 - 393.0/640,
		-2187.0/6784 + 92097.0/339200,
		11.0/84 - 187.0/2100,
		-1.0 / 40,
	}
)

const (
	dpSafety = 0.9
	dpFacMin = 0.2
	dpFacMax = 10.0
)

func dopri5(f Field, x0 *autograd.Tensor, t0, t1 float64, opts SolveOptions) (*autograd.Tensor, Stats, error) {
	var st Stats
	if !(opts.RTol >= 0 && opts.ATol >= 0 && opts.RTol+opts.ATol > 0) {
		return nil, st, fmt.Errorf("%w: dopri5 needs RTol ≥ 0, ATol ≥ 0, not both 0 (got %v, %v)", ErrOptions, opts.RTol, opts.ATol)
	}
	maxSteps := opts.MaxSteps
	if maxSteps == 0 {
		maxSteps = 10000
	}
	if maxSteps < 0 || opts.FirstStep < 0 {
		return nil, st, fmt.Errorf("%w: MaxSteps = %d, FirstStep = %v", ErrOptions, opts.MaxSteps, opts.FirstStep)
	}
	if opts.Callback != nil {
		opts.Callback(t0, x0)
	}
	if t0 == t1 {
		return x0, st, nil
	}
	dir := math.Copysign(1, t1-t0)

	x, t := x0, t0
	k1 := f(t, x)
	st.NFE++
	if i := firstNonFinite(k1.Data); i >= 0 {
		return nil, st, fmt.Errorf("%w: f(%v, x₀) element %d is %v", ErrNonFinite, t, i, k1.Data[i])
	}
	h := opts.FirstStep
	if h == 0 {
		h = initialStep(f, x, k1, t, dir, opts.RTol, opts.ATol)
		st.NFE++
	}
	h = math.Min(h, math.Abs(t1-t0)) * dir

	facMax := dpFacMax
	for (t1-t)*dir > 0 {
		if st.Accepted+st.Rejected >= maxSteps {
			return nil, st, fmt.Errorf("%w: %d attempted dopri5 steps reached t = %v of [%v, %v]", ErrMaxSteps, maxSteps, t, t0, t1)
		}
		if math.Abs(h) <= 16*epsilon*math.Max(math.Abs(t), 1) {
			return nil, st, fmt.Errorf("%w: |h| = %g at t = %v", ErrStepUnderflow, math.Abs(h), t)
		}
		last := false
		if (t+h-t1)*dir >= 0 {
			h, last = t1-t, true
		}
		var k [7]*autograd.Tensor
		k[0] = k1
		for i := 1; i < 7; i++ {
			k[i] = f(t+dpC[i]*h, combine(x, h, dpA[i], k[:i]))
			st.NFE++
			if j := firstNonFinite(k[i].Data); j >= 0 {
				return nil, st, fmt.Errorf("%w: stage %d at t = %v, h = %g: element %d is %v", ErrNonFinite, i+1, t, h, j, k[i].Data[j])
			}
		}
		xNew := combine(x, h, dpA[6], k[:6])
		e := errorNorm(x.Data, xNew.Data, k[:], h, opts.RTol, opts.ATol)
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return nil, st, fmt.Errorf("%w: error estimate %v at t = %v, h = %g", ErrNonFinite, e, t, h)
		}
		fac := dpFacMax
		if e > 0 {
			fac = dpSafety * math.Pow(e, -0.2)
		}
		if e <= 1 {
			st.Accepted++
			if last {
				t = t1
			} else {
				t += h
			}
			x, k1 = xNew, k[6]
			if opts.Callback != nil {
				opts.Callback(t, x)
			}
			h *= math.Min(facMax, math.Max(dpFacMin, fac))
			facMax = dpFacMax
		} else {
			st.Rejected++
			h *= math.Min(1, math.Max(dpFacMin, fac))
			facMax = 1
		}
	}
	return x, st, nil
}

const epsilon = 0x1p-52

// errorNorm is ‖h·Σ eᵢkᵢ‖ in the scaled RMS norm described above.
func errorNorm(x, xNew []float64, k []*autograd.Tensor, h, rtol, atol float64) float64 {
	s := 0.0
	for j := range x {
		err := 0.0
		for i, ei := range dpE {
			if ei != 0 {
				err += ei * k[i].Data[j]
			}
		}
		sc := atol + rtol*math.Max(math.Abs(x[j]), math.Abs(xNew[j]))
		r := h * err / sc
		s += r * r
	}
	return math.Sqrt(s / float64(len(x)))
}

// initialStep is Hairer's starting step size (see the comment at the top),
// returned as a positive magnitude. It evaluates f once, on plain values.
func initialStep(f Field, x0, f0 *autograd.Tensor, t0, dir, rtol, atol float64) float64 {
	n := float64(len(x0.Data))
	var d0, d1 float64
	for i, v := range x0.Data {
		sc := atol + rtol*math.Abs(v)
		d0 += (v / sc) * (v / sc)
		d1 += (f0.Data[i] / sc) * (f0.Data[i] / sc)
	}
	d0, d1 = math.Sqrt(d0/n), math.Sqrt(d1/n)
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	x1 := autograd.Zeros(x0.Rows, x0.Cols)
	for i, v := range x0.Data {
		x1.Data[i] = v + dir*h0*f0.Data[i]
	}
	f1 := f(t0+dir*h0, x1.NoGraph())
	d2 := 0.0
	for i, v := range x0.Data {
		sc := atol + rtol*math.Abs(v)
		r := (f1.Data[i] - f0.Data[i]) / sc
		d2 += r * r
	}
	d2 = math.Sqrt(d2/n) / h0
	var h1 float64
	if m := math.Max(d1, d2); m <= 1e-15 || math.IsNaN(m) {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/m, 0.2)
	}
	return math.Min(100*h0, h1)
}
