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

// TestCondOTField_MatchesTheorem3: equal to the generic Theorem-3 field
// fm.CondField of fm.CondOT to rounding, at random (t, x, x₁), and the
// inputs are not modified.
func TestCondOTField_MatchesTheorem3(t *testing.T) {
	grade.Try(t, func() {
		rng := rand.New(rand.NewPCG(5, 5))
		for k := 0; k < 200; k++ {
			sm, tt := 0.1*rng.Float64(), rng.Float64()
			x := []float64{3 * rng.NormFloat64(), 3 * rng.NormFloat64()}
			x1 := []float64{2 * rng.NormFloat64(), 2 * rng.NormFloat64()}
			xc, x1c := append([]float64(nil), x...), append([]float64(nil), x1...)
			got := CondOTField(sm, tt, x, x1)
			want := fm.CondField(fm.CondOT{SigmaMin: sm}, tt, x, x1)
			require.Len(t, got, 2)
			for j := range got {
				assert.InDelta(t, want[j], got[j], 64*eps*(1+math.Abs(want[j])), "t=%v: got %v want %v", tt, got, want)
			}
			require.Equal(t, xc, x, "x was modified")
			require.Equal(t, x1c, x1, "x1 was modified")
		}
	})
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
