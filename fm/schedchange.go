package fm

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
)

/*
Changing the schedule at sampling time (Lipman et al. 2024, The Flow Matching
Guide and Code, arXiv:2412.06264, §4.8, the scale–time transformation).

A model trained on the affine path A, x_t = α_t x₁ + σ_t x₀, can be sampled
along another affine path B, x̄_r = ᾱ_r x₁ + σ̄_r x₀, with the same data and
noise. Match the signal-to-noise ratios ρ = α/σ: let t_r solve
ρ^A(t_r) = ρ^B(r) and s_r = σ̄_r/σ_{t_r}. Then

	s_r·x_{t_r} = s_r α_{t_r} x₁ + σ̄_r x₀ = ᾱ_r x₁ + σ̄_r x₀ = x̄_r

(since s_r α_{t_r} = σ̄_r ρ^A(t_r) = σ̄_r ρ^B(r) = ᾱ_r), so B's path is A's
path rescaled and retimed, and differentiating x̄_r = s_r x_{t_r} in r
inside the conditional expectation gives B's marginal field from A's:

	ū_r(x) = (s′_r/s_r)·x + s_r t′_r·u_{t_r}(x/s_r),
	t′_r = ρ^B′(r)/ρ^A′(t_r),  s′_r = (σ̄′_r − s_r σ′_{t_r} t′_r)/σ_{t_r}.

t_r is found by bisection on the increasing ρ^A to the last bit of t. So
that the ends, where α or σ is 0 and ρ′ infinite, stay finite, Map computes
s_r = ᾱ_r/α_{t_r} or σ̄_r/σ_{t_r}, whichever denominator is larger (equal
where both are defined), s′_r from the same quotient, and t′_r through the
log-SNR λ = log ρ, λ′ = Δ/(ασ) with Δ = α′σ − ασ′ finite:

	t′_r = λ̄′_r/λ′_{t_r} = Δ̄_r/(Δ_{t_r} s_r²)    (as ᾱσ̄ = s² ασ).
*/

// ScheduleChange maps times of schedule To to times of schedule From with
// the same signal-to-noise ratio (Lipman et al. 2024, arXiv:2412.06264,
// §4.8; derivation at the top of schedchange.go). A field of From becomes a
// field of To by Field or Velocity. Tested by TestScheduleChange_MixtureFields
// (exact mixture fields under From, transformed, equal those under To;
// negative control: without the s′/s term).
type ScheduleChange struct {
	From, To AffinePath
}

// Map returns, for time r of To, the time t_r of From with
// ρ^From(t_r) = ρ^To(r), the scale s_r = σ^To_r/σ^From_{t_r}, and their
// derivatives t′_r and s′_r. A ratio ρ^To(r) outside From's range
// [ρ^From(0), ρ^From(1)] (VP or VE paired with a path that reaches α = 0
// or σ = 0) panics with a *autograd.MisuseError.
func (c ScheduleChange) Map(r float64) (t, s, dt, ds float64) {
	if c.From == nil || c.To == nil {
		panic(autograd.Misuse("fm.ScheduleChange", "want both From and To; got %v, %v", c.From, c.To))
	}
	rhoB, _ := SNR(c.To, r)
	lo, hi := 0.0, 1.0
	rlo, _ := SNR(c.From, lo)
	rhi, _ := SNR(c.From, hi)
	switch {
	case rhoB == rlo:
		t = lo
	case rhoB == rhi:
		t = hi
	case !(rlo < rhoB && rhoB < rhi):
		panic(autograd.Misuse("fm.ScheduleChange.Map", "the SNR of To at r = %v is %v, outside From's range [%v, %v]", r, rhoB, rlo, rhi))
	default:
		for {
			mid := lo + (hi-lo)/2
			if mid <= lo || mid >= hi {
				break
			}
			if rm, _ := SNR(c.From, mid); rm < rhoB {
				lo = mid
			} else {
				hi = mid
			}
		}
		t = lo
		rl, _ := SNR(c.From, lo)
		if rh, _ := SNR(c.From, hi); math.Abs(rh-rhoB) < math.Abs(rl-rhoB) {
			t = hi
		}
	}
	aA, daA, sA, dsA := c.From.Schedule(t)
	aB, daB, sB, dsB := c.To.Schedule(r)
	dt = (daB*sB - aB*dsB) / (daA*sA - aA*dsA) // Δ_B/Δ_A, divided by s² below
	if aA >= sA {
		s = aB / aA
		dt /= s * s
		ds = (daB - s*daA*dt) / aA
	} else {
		s = sB / sA
		dt /= s * s
		ds = (dsB - s*dsA*dt) / sA
	}
	return t, s, dt, ds
}

// Field returns To's field ū_r(x) = (s′_r/s_r)·x + s_r t′_r·u_{t_r}(x/s_r)
// from From's field u (Map gives t_r, s_r, t′_r, s′_r).
func (c ScheduleChange) Field(u func(t float64, x []float64) []float64) func(r float64, x []float64) []float64 {
	return func(r float64, x []float64) []float64 {
		t, s, dt, ds := c.Map(r)
		xs := make([]float64, len(x))
		for j := range x {
			xs[j] = x[j] / s
		}
		ut := u(t, xs)
		out := make([]float64, len(x))
		for j := range x {
			out[j] = ds/s*x[j] + s*dt*ut[j]
		}
		return out
	}
}

// Velocity returns To's field from a model v trained on From, row by row
// as in Field, differentiable in x through v: a trained model sampled
// along another schedule (TestScheduleChange_Velocity).
func (c ScheduleChange) Velocity(v Velocity) Velocity {
	if v == nil {
		panic(autograd.Misuse("fm.ScheduleChange.Velocity", "v is nil"))
	}
	return func(r, x *autograd.Tensor) *autograd.Tensor {
		n := r.Rows
		t, inv, cx, cv := autograd.Zeros(n, 1), autograd.Zeros(n, 1), autograd.Zeros(n, 1), autograd.Zeros(n, 1)
		for i, ri := range r.Data {
			ti, s, dt, ds := c.Map(ri)
			t.Data[i], inv.Data[i], cx.Data[i], cv.Data[i] = ti, 1/s, ds/s, s*dt
		}
		return autograd.Add(autograd.MulCol(x, cx), autograd.MulCol(v(t, autograd.MulCol(x, inv)), cv))
	}
}
