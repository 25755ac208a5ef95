package exercises

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/fm"
)

const eps = 0x1p-52

type fieldFunc func(sigmaMin, t float64, x, x1 []float64) []float64

// flowWorst returns the worst |D(h) − u|/tol of d/dt ψ_t(x₀) =
// u_t(ψ_t(x₀)|x₁) over random points, with the CondOT flow
// ψ_t(x₀) = (1 − (1 − σ_min)t)·x₀ + t·x₁ written out. ψ is linear in t, so
// the central difference is exact up to rounding: tol = 64ε·(1 + |ψ|)/h.
func flowWorst(t *testing.T, u fieldFunc) float64 {
	rng := rand.New(rand.NewPCG(4, 4))
	const h = 1e-4
	worst := 0.0
	for k := 0; k < 200; k++ {
		sm := []float64{0, 0.01, 0.2}[k%3]
		tt := 2*h + (1-4*h)*rng.Float64()
		x0 := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		x1 := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
		psi := func(s float64) []float64 {
			out := make([]float64, 3)
			for j := range out {
				out[j] = (1-(1-sm)*s)*x0[j] + s*x1[j]
			}
			return out
		}
		got := u(sm, tt, psi(tt), x1)
		require.Len(t, got, 3, "one component per coordinate")
		p, m := psi(tt+h), psi(tt-h)
		for j := range got {
			d := (p[j] - m[j]) / (2 * h)
			tol := 64 * eps * (1 + math.Abs(p[j]) + math.Abs(m[j])) / h
			worst = max(worst, math.Abs(d-got[j])/tol)
		}
	}
	return worst
}

// TestCondOTField_GeneratesFlow: the field moves points along ψ_t.
func TestCondOTField_GeneratesFlow(t *testing.T) {
	grade.Try(t, func() {
		worst := flowWorst(t, CondOTField)
		assert.LessOrEqual(t, worst, 1.0, "worst |d/dt ψ − u|/tol = %v", worst)
	})
}

// theorem3Input is the grader's input for the comparison with Theorem 3: 200 random
// (σ_min, t, x, x₁) in 3-D with σ_min > 0, so that every mistake below changes the answer.
type theorem3Input struct {
	sm, t []float64
	x, x1 [][]float64
}

func newTheorem3Input() theorem3Input {
	rng := rand.New(rand.NewPCG(5, 5))
	var in theorem3Input
	for k := 0; k < 200; k++ {
		in.sm = append(in.sm, 0.05+0.2*rng.Float64())
		in.t = append(in.t, 0.05+0.9*rng.Float64())
		in.x = append(in.x, []float64{3 * rng.NormFloat64(), 3 * rng.NormFloat64(), 3 * rng.NormFloat64()})
		in.x1 = append(in.x1, []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64(), 2 * rng.NormFloat64()})
	}
	return in
}

// all concatenates u(σ_min, t, x, x₁) over the input.
func (in theorem3Input) all(u fieldFunc) []float64 {
	var out []float64
	for k := range in.t {
		out = append(out, u(in.sm[k], in.t[k], in.x[k], in.x1[k])...)
	}
	return out
}

// theorem3Tol: the field takes ~6 roundings per component, relative to 1 + |u|: 64ε.
const theorem3Tol = 64 * eps

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintSign    = "the field points the wrong way"
	hintTimes   = "t and 1 − t are swapped"
	hintFactor  = "right for σ_min = 0 only"
	hintDenom   = "right at t = 0 only"
	hintSigmaT  = "σ_t is wrong"
	hintSigmaT1 = "σ_min is missing from σ_t"
)

// theorem3Mistakes returns what each likely mistake returns on the input, computed from the
// generic Theorem-3 field fm.CondField with one ingredient changed.
func theorem3Mistakes(in theorem3Input) []grade.Mistake {
	ref := func(sm, t float64, x, x1 []float64) []float64 { return fm.CondField(fm.CondOT{SigmaMin: sm}, t, x, x1) }
	gaussian := func(mean func(t float64) float64, sigma func(sm, t float64) (s, ds float64)) fieldFunc {
		return func(sm, t float64, x, x1 []float64) []float64 {
			s, ds := sigma(sm, t)
			out := make([]float64, len(x))
			for j := range x {
				out[j] = ds/s*(x[j]-mean(t)*x1[j]) + x1[j]
			}
			return out
		}
	}
	id := func(t float64) float64 { return t }
	return []grade.Mistake{
		{Hint: hintSign + ": every component has the opposite sign. Check the order of a subtraction: the flow moves x toward x₁.",
			Got: grade.Scale(in.all(ref), -1)},
		{Hint: hintTimes + ": your field is the right one at time 1 − t. Check which end is noise (t = 0) and which is data (t = 1) in μ_t and σ_t.",
			Got: in.all(func(sm, t float64, x, x1 []float64) []float64 { return ref(sm, 1-t, x, x1) })},
		{Hint: hintFactor + ": a factor that depends on σ_min is missing. Recompute σ′_t before substituting into Theorem 3.",
			Got: in.all(func(sm, t float64, x, x1 []float64) []float64 {
				out := make([]float64, len(x))
				for j := range x {
					out[j] = (x1[j] - x[j]) / (1 - (1-sm)*t)
				}
				return out
			})},
		{Hint: hintDenom + ": the division by σ_t of Theorem 3 is missing, or you wrote the field in terms of x₀. The function receives x = ψ_t(x₀), a point on the path.",
			Got: in.all(func(sm, t float64, x, x1 []float64) []float64 { return ref(sm, 0, x, x1) })},
		{Hint: hintSigmaT + ": σ_t must be 1 at t = 0 and σ_min at t = 1; yours is not. See the CondOT path (Lipman et al. 2022, eq. 20).",
			Got: in.all(gaussian(id, func(sm, t float64) (float64, float64) { return 1 - sm*t, -sm }))},
		{Hint: hintSigmaT1 + ": your σ_t reaches 0 at t = 1 instead of σ_min (that is the σ_min = 0 path).",
			Got: in.all(func(_, t float64, x, x1 []float64) []float64 { return ref(0, t, x, x1) })},
	}
}

// TestCondOTField_MatchesTheorem3: equal to the generic Theorem-3 field fm.CondField of
// fm.CondOT to rounding, at random (σ_min, t, x, x₁), and the inputs are not modified. A wrong
// answer is compared with the likely mistakes, and the failure says which one it resembles.
func TestCondOTField_MatchesTheorem3(t *testing.T) {
	grade.Try(t, func() {
		in := newTheorem3Input()
		x, x1 := in.x[0], in.x1[0]
		xc, x1c := append([]float64(nil), x...), append([]float64(nil), x1...)
		require.Len(t, CondOTField(in.sm[0], in.t[0], x, x1), 3, "one component per coordinate")
		require.Equal(t, xc, x, "x was modified")
		require.Equal(t, x1c, x1, "x1 was modified")
		grade.Check(t, "CondOTField", in.all(CondOTField), in.all(func(sm, t float64, x, x1 []float64) []float64 {
			return fm.CondField(fm.CondOT{SigmaMin: sm}, t, x, x1)
		}), theorem3Tol, theorem3Mistakes(in)...)
	})
}

// TestDiagnosis: each deliberately wrong CondOTField, written as a student might, gets the
// hint of its mistake; the right one passes.
func TestDiagnosis(t *testing.T) {
	field := func(num func(sm, t, x, x1 float64) float64, den func(sm, t float64) float64) fieldFunc {
		return func(sm, t float64, x, x1 []float64) []float64 {
			out := make([]float64, len(x))
			for j := range x {
				out[j] = num(sm, t, x[j], x1[j]) / den(sm, t)
			}
			return out
		}
	}
	rightNum := func(sm, t, x, x1 float64) float64 { return x1 - (1-sm)*x }
	rightDen := func(sm, t float64) float64 { return 1 - (1-sm)*t }
	in := newTheorem3Input()
	want := in.all(func(sm, t float64, x, x1 []float64) []float64 { return fm.CondField(fm.CondOT{SigmaMin: sm}, t, x, x1) })
	for _, c := range []struct {
		name, hint string
		u          fieldFunc
	}{
		{"right", "", field(rightNum, rightDen)},
		{"sign flipped", hintSign, field(func(sm, t, x, x1 float64) float64 { return (1-sm)*x - x1 }, rightDen)},
		{"t and 1 − t swapped", hintTimes, field(rightNum, func(sm, t float64) float64 { return 1 - (1-sm)*(1-t) })},
		{"(1 − σ_min) dropped", hintFactor, field(func(sm, t, x, x1 float64) float64 { return x1 - x }, rightDen)},
		{"no denominator", hintDenom, field(rightNum, func(float64, float64) float64 { return 1 })},
		{"σ_t = 1 − σ_min·t", hintSigmaT, field(func(sm, t, x, x1 float64) float64 { return (1-sm*t)*x1 - sm*(x-t*x1) }, func(sm, t float64) float64 { return 1 - sm*t })},
		{"σ_t = 1 − t", hintSigmaT1, field(func(sm, t, x, x1 float64) float64 { return x1 - x }, func(_, t float64) float64 { return 1 - t })},
		{"factor 2", "times 2:", func(sm, t float64, x, x1 []float64) []float64 {
			return grade.Scale(field(rightNum, rightDen)(sm, t, x, x1), 2)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("CondOTField", in.all(c.u), want, theorem3Tol, theorem3Mistakes(in)...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}

// TestCondOTField_Endpoints: at t = 0 the field is x₁ − (1 − σ_min)x; for
// σ_min = 0 at x = t·x₁ (the mean) it is x₁ for every t.
func TestCondOTField_Endpoints(t *testing.T) {
	grade.Try(t, func() {
		x, x1 := []float64{0.5, -1}, []float64{2, 3}
		got := CondOTField(0.1, 0, x, x1)
		assert.InDelta(t, 2-0.9*0.5, got[0], 4*eps*4)
		assert.InDelta(t, 3+0.9, got[1], 4*eps*4)
		for _, tt := range []float64{0.25, 0.5, 0.75} {
			got = CondOTField(0, tt, []float64{tt * 2, tt * 3}, x1)
			assert.InDelta(t, 2, got[0], 16*eps*4, "t=%v", tt)
			assert.InDelta(t, 3, got[1], 16*eps*4, "t=%v", tt)
		}
	})
}

// TestGrader_CatchesMissingFactor is the grader's negative control: the
// field with (1 − σ_min) dropped from the numerator, (x₁ − x)/σ_t, fails
// the flow check when σ_min > 0.
func TestGrader_CatchesMissingFactor(t *testing.T) {
	wrong := func(sm, tt float64, x, x1 []float64) []float64 {
		out := make([]float64, len(x))
		for j := range x {
			out[j] = (x1[j] - x[j]) / (1 - (1-sm)*tt)
		}
		return out
	}
	assert.Greater(t, flowWorst(t, wrong), 1.0, "a field without (1 − σ_min) passed")
}
