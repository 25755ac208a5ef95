// Package grade holds what the tutorials' exercise graders share: Try turns an unfinished
// stub's panic into a test failure, and Verdict compares an answer with the reference and,
// when it is wrong, says which likely mistake it matches ("off by a factor of exactly d",
// "sign flipped", "t and 1 − t swapped", …) without giving the formula.
//
// A grader computes, on its own inputs, what each likely mistake would return (a Mistake)
// and passes them to Verdict with the student's answer. Every grader has a table test that
// feeds a deliberately wrong implementation of each diagnosed kind and checks that it gets
// its hint (TestDiagnosis in each exercises package).
package grade

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Try runs f and turns a panic — the "exercise: …" of an unfinished stub —
// into a test failure that quotes it, so a student sees which function is
// still to be written instead of a crashed test binary.
func Try(t testing.TB, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Fatalf("%v", r)
		}
	}()
	f()
}

// Mistake is a likely wrong answer: Got is what an implementation with this mistake returns
// on the grader's input, and Hint says what went wrong and where to look, not the formula.
type Mistake struct {
	Hint string
	Got  []float64
}

// MistakeTol is the relative tolerance within which an answer is taken to match a Mistake:
// |gotᵢ − mᵢ| ≤ MistakeTol·(1 + |mᵢ|) for every i. A mistaken implementation rounds
// differently from the grader's copy of the mistake (a few ulps), while distinct mistakes
// differ by O(1) on the graders' inputs, so any value between ~1e-12 and ~1e-3 separates them.
const MistakeTol = 1e-8

// Close reports whether |gotᵢ − wantᵢ| ≤ tol·(1 + |wantᵢ|) for every i, with equal lengths
// and no NaN in got.
func Close(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol*(1+math.Abs(want[i]))) {
			return false
		}
	}
	return true
}

// Factor returns the least-squares c = Σ gotᵢwantᵢ / Σ wantᵢ² and whether got = c·want
// within MistakeTol (Close(got, c·want)): an answer that is right up to one constant factor.
func Factor(got, want []float64) (float64, bool) {
	if len(got) != len(want) || len(got) == 0 {
		return 0, false
	}
	var gw, ww float64
	for i := range got {
		gw += got[i] * want[i]
		ww += want[i] * want[i]
	}
	if ww == 0 {
		return 0, false
	}
	c := gw / ww
	return c, Close(got, Scale(want, c), MistakeTol)
}

// Scale returns c·x (a new slice): what an answer off by the factor c returns.
func Scale(x []float64, c float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = c * v
	}
	return out
}

// Diagnose returns the hint of the first mistake that got matches (within MistakeTol), or,
// when got is a constant multiple c ≠ 1 of want, a hint naming c; "" when it recognizes
// nothing.
func Diagnose(got, want []float64, mistakes ...Mistake) string {
	for _, m := range mistakes {
		if Close(got, m.Got, MistakeTol) {
			return m.Hint
		}
	}
	if c, ok := Factor(got, want); ok && math.Abs(c-1) > MistakeTol {
		if math.Abs(c+1) <= MistakeTol {
			return "every value has the opposite sign: a sign is flipped somewhere."
		}
		return fmt.Sprintf("your answer is the right one times %.6g: a constant factor is wrong, missing or extra.", c)
	}
	return ""
}

// Verdict returns "" when got agrees with want (Close(got, want, tol)), else a failure
// message for what (the function under test): the first element that differs, as
// "got … want … (tol …)", and the Diagnose hint when there is one.
func Verdict(what string, got, want []float64, tol float64, mistakes ...Mistake) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%s: got %d values, want %d", what, len(got), len(want))
	}
	if Close(got, want, tol) {
		return ""
	}
	var b strings.Builder
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= tol*(1+math.Abs(want[i]))) {
			fmt.Fprintf(&b, "%s: value %d: got %v want %v (tol %.3g relative)", what, i, got[i], want[i], tol)
			break
		}
	}
	if h := Diagnose(got, want, mistakes...); h != "" {
		b.WriteString("\nhint: " + h)
	}
	return b.String()
}

// Check fails t with Verdict's message when it is not empty, and reports whether got passed.
func Check(t testing.TB, what string, got, want []float64, tol float64, mistakes ...Mistake) bool {
	t.Helper()
	if msg := Verdict(what, got, want, tol, mistakes...); msg != "" {
		t.Error(msg)
		return false
	}
	return true
}
