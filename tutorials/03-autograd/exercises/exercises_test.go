package exercises

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/tutorials/internal/grade"

	"github.com/flowmatch/flowmatch/autograd"
)

const eps = 0x1p-52

func randomInputs(seed uint64) (g, a, b *autograd.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 3))
	return autograd.Normal(3, 4, 0, 1, rng), autograd.Normal(3, 4, 0, 2, rng), autograd.Normal(3, 4, 0, 2, rng)
}

// TestMulBackward compares MulBackward with g ⊙ b and g ⊙ a (one rounding
// per element, so the tolerance is ε relative) and checks an op built
// with it by autograd.GradCheck.
func TestMulBackward(t *testing.T) {
	grade.Try(t, func() {
		g, a, b := randomInputs(1)
		ga, gb := MulBackward(g, a, b)
		require.NotNil(t, ga, "∂L/∂a is nil")
		require.NotNil(t, gb, "∂L/∂b is nil")
		require.Equal(t, a.Shape(), ga.Shape(), "∂L/∂a has the wrong shape")
		require.Equal(t, b.Shape(), gb.Shape(), "∂L/∂b has the wrong shape")
		grade.Check(t, "MulBackward (∂L/∂a, then ∂L/∂b)", mulOutputs(MulBackward), mulOutputs(mulRight), eps, mulMistakes()...)
		mul := func(xs []*autograd.Tensor) *autograd.Tensor {
			a, b := xs[0], xs[1]
			out := autograd.Zeros(a.Rows, a.Cols)
			for i := range out.Data {
				out.Data[i] = a.Data[i] * b.Data[i]
			}
			return autograd.Custom("StudentMul", out, []*autograd.Tensor{a, b}, func(g *autograd.Tensor) []*autograd.Tensor {
				ga, gb := MulBackward(g, a, b)
				return []*autograd.Tensor{ga, gb}
			})
		}
		assert.NoError(t, autograd.GradCheck(mul, []*autograd.Tensor{a, b}, nil))
	})
}

// TestSiLUBackward compares SiLUBackward with the formula on random inputs
// and with the library's SiLU on a grid that includes large |a|, then runs
// GradCheck on an op built with it. The tolerance is 16ε relative: the
// formula takes ~6 roundings.
func TestSiLUBackward(t *testing.T) {
	grade.Try(t, func() {
		g, a, _ := randomInputs(2)
		got := SiLUBackward(g, a)
		require.NotNil(t, got)
		require.Equal(t, a.Shape(), got.Shape(), "wrong shape")
		grade.Check(t, "SiLUBackward", siluOutputs(SiLUBackward), siluOutputs(siluRight), siluTol, siluMistakes()...)
		grid := autograd.FromRows([][]float64{{-30, -5, -1, 0, 1e-8, 0.5, 2, 40}})
		ones := autograd.Full(1, 8, 1)
		lib := grid.Clone().SetRequiresGrad(true)
		want := autograd.Grad(autograd.SiLU(lib), ones, lib)[0]
		gotGrid := SiLUBackward(ones, grid)
		for i := range want.Data {
			assert.InDelta(t, want.Data[i], gotGrid.Data[i], 16*eps*(1+math.Abs(want.Data[i])), "SiLU′(%v)", grid.Data[i])
		}
		assert.NoError(t, autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return studentSiLU(xs[0], SiLUBackward) }, []*autograd.Tensor{a}, nil))
	})
}

// mulRight and siluRight are the hand formulas the graders compare with.
func mulRight(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
	return autograd.Mul(g, b), autograd.Mul(g, a)
}

func siluRight(g, a *autograd.Tensor) *autograd.Tensor {
	out := autograd.Zeros(a.Rows, a.Cols)
	for i, x := range a.Data {
		s := 1 / (1 + math.Exp(-x))
		out.Data[i] = g.Data[i] * s * (1 + x*(1-s))
	}
	return out
}

// mulOutputs is ∂L/∂a followed by ∂L/∂b on randomInputs(1).
func mulOutputs(f func(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor)) []float64 {
	g, a, b := randomInputs(1)
	ga, gb := f(g, a, b)
	return append(append([]float64(nil), ga.Data...), gb.Data...)
}

// siluOutputs is ∂L/∂a on randomInputs(2).
func siluOutputs(f func(g, a *autograd.Tensor) *autograd.Tensor) []float64 {
	g, a, _ := randomInputs(2)
	return f(g, a).Data
}

// siluTol: the formula takes ~6 roundings on terms of size ≤ |g|·(1 + |a|), so the error is
// below 16ε·(|want| + |g|); TestSiLUTol checks that 64ε·(1 + |want|) bounds that here.
const siluTol = 64 * eps

// Hints of the diagnosed mistakes (TestDiagnosis checks that each is recognized).
const (
	hintSwapped   = "each gradient uses its own input"
	hintNoG       = "the upstream gradient g is missing"
	hintSameB     = "∂L/∂b is wrong"
	hintOnlySigma = "only the first term of the product rule"
	hintOnlySecnd = "only the second term of the product rule"
	hintForward   = "you multiplied g by SiLU(a) itself"
	hintSigmaSign = "σ has the wrong sign in its exponent"
)

func elementwise(f func(g, a float64) float64) func(g, a *autograd.Tensor) *autograd.Tensor {
	return func(g, a *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(a.Rows, a.Cols)
		for i := range out.Data {
			out.Data[i] = f(g.Data[i], a.Data[i])
		}
		return out
	}
}

func sigma(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// mulMistakes and siluMistakes return what each likely mistake returns.
func mulMistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintSwapped + ": for out = a ⊙ b, the derivative with respect to a is the other factor.",
			Got: mulOutputs(func(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
				return autograd.Mul(g, a), autograd.Mul(g, b)
			})},
		{Hint: hintNoG + ": the chain rule multiplies the local derivative by ∂L/∂out.",
			Got: mulOutputs(func(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) { return b, a })},
		{Hint: hintSameB + " (∂L/∂a is right): check which input each gradient uses.",
			Got: mulOutputs(func(g, a, b *autograd.Tensor) (ga, gb *autograd.Tensor) {
				return autograd.Mul(g, b), autograd.Mul(g, b)
			})},
	}
}

func siluMistakes() []grade.Mistake {
	return []grade.Mistake{
		{Hint: hintOnlySigma + ": SiLU(a) = a·σ(a) is a product, and you differentiated only one factor. Derive d/da[a·σ(a)] again (README, Exercises).",
			Got: siluOutputs(elementwise(func(g, a float64) float64 { return g * sigma(a) }))},
		{Hint: hintOnlySecnd + ": you kept the a·σ′(a) term and lost the other one.",
			Got: siluOutputs(elementwise(func(g, a float64) float64 { return g * a * sigma(a) * (1 - sigma(a)) }))},
		{Hint: hintNoG + ": the chain rule multiplies SiLU′(a) by ∂L/∂out.",
			Got: siluOutputs(elementwise(func(_, a float64) float64 { return sigma(a) * (1 + a*(1-sigma(a))) }))},
		{Hint: hintForward + ", not by its derivative.",
			Got: siluOutputs(elementwise(func(g, a float64) float64 { return g * a * sigma(a) }))},
		{Hint: hintSigmaSign + ": σ(a) = 1/(1 + e^{−a}) is 1 for large a.",
			Got: siluOutputs(elementwise(func(g, a float64) float64 { return g * sigma(-a) * (1 + a*(1-sigma(-a))) }))},
	}
}

// TestSiLUTol checks the bound siluTol claims: 16ε·(|want| + |g|) ≤ 64ε·(1 + |want|) on the
// graded input.
func TestSiLUTol(t *testing.T) {
	g, _, _ := randomInputs(2)
	want := siluOutputs(siluRight)
	for i := range want {
		assert.LessOrEqual(t, 16*eps*(math.Abs(want[i])+math.Abs(g.Data[i])), siluTol*(1+math.Abs(want[i])), "element %d", i)
	}
}

// TestDiagnosis: each deliberately wrong backward, written as a student might, gets the hint
// of its mistake; the right ones pass.
func TestDiagnosis(t *testing.T) {
	mul := func(ga, gb func(g, a, b *autograd.Tensor) *autograd.Tensor) func(g, a, b *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) {
		return func(g, a, b *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor) { return ga(g, a, b), gb(g, a, b) }
	}
	gTimesB := func(g, a, b *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, b) }
	gTimesA := func(g, a, b *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, a) }
	for _, c := range []struct {
		name, hint string
		f          func(g, a, b *autograd.Tensor) (*autograd.Tensor, *autograd.Tensor)
	}{
		{"Mul right", "", mul(gTimesB, gTimesA)},
		{"Mul swapped", hintSwapped, mul(gTimesA, gTimesB)},
		{"Mul without g", hintNoG, mul(func(g, a, b *autograd.Tensor) *autograd.Tensor { return b.Clone() }, func(g, a, b *autograd.Tensor) *autograd.Tensor { return a.Clone() })},
		{"Mul ∂L/∂b from b", hintSameB, mul(gTimesB, gTimesB)},
		{"Mul sign", "opposite sign", mul(func(g, a, b *autograd.Tensor) *autograd.Tensor { return autograd.Neg(autograd.Mul(g, b)) }, func(g, a, b *autograd.Tensor) *autograd.Tensor { return autograd.Neg(autograd.Mul(g, a)) })},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("MulBackward", mulOutputs(c.f), mulOutputs(mulRight), eps, mulMistakes()...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
	// SiLU backwards written with tensor ops, as the README suggests.
	sig := autograd.Sigmoid
	oneMinus := func(x *autograd.Tensor) *autograd.Tensor { return autograd.AddScalar(autograd.Neg(x), 1) }
	for _, c := range []struct {
		name, hint string
		f          func(g, a *autograd.Tensor) *autograd.Tensor
	}{
		{"SiLU right", "", func(g, a *autograd.Tensor) *autograd.Tensor {
			return autograd.Mul(g, autograd.Mul(sig(a), autograd.AddScalar(autograd.Mul(a, oneMinus(sig(a))), 1)))
		}},
		{"SiLU σ only", hintOnlySigma, func(g, a *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, sig(a)) }},
		{"SiLU a·σ′ only", hintOnlySecnd, func(g, a *autograd.Tensor) *autograd.Tensor {
			return autograd.Mul(g, autograd.Mul(a, autograd.Mul(sig(a), oneMinus(sig(a)))))
		}},
		{"SiLU without g", hintNoG, func(g, a *autograd.Tensor) *autograd.Tensor {
			return autograd.Mul(sig(a), autograd.AddScalar(autograd.Mul(a, oneMinus(sig(a))), 1))
		}},
		{"SiLU forward", hintForward, func(g, a *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, autograd.SiLU(a)) }},
		{"SiLU σ(−a)", hintSigmaSign, func(g, a *autograd.Tensor) *autograd.Tensor {
			s := sig(autograd.Neg(a))
			return autograd.Mul(g, autograd.Mul(s, autograd.AddScalar(autograd.Mul(a, oneMinus(s)), 1)))
		}},
		{"SiLU factor 2", "times 2:", func(g, a *autograd.Tensor) *autograd.Tensor {
			return autograd.Scale(autograd.Mul(g, autograd.Mul(sig(a), autograd.AddScalar(autograd.Mul(a, oneMinus(sig(a))), 1))), 2)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := grade.Verdict("SiLUBackward", siluOutputs(c.f), siluOutputs(siluRight), siluTol, siluMistakes()...)
			if c.hint == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, "hint: ", "got message %q", msg)
			assert.Contains(t, msg, c.hint, "got message %q", msg)
		})
	}
}

// studentSiLU registers SiLU with the given backward.
func studentSiLU(a *autograd.Tensor, backward func(g, a *autograd.Tensor) *autograd.Tensor) *autograd.Tensor {
	out := autograd.Zeros(a.Rows, a.Cols)
	for i, x := range a.Data {
		out.Data[i] = x / (1 + math.Exp(-x))
	}
	return autograd.Custom("StudentSiLU", out, []*autograd.Tensor{a}, func(g *autograd.Tensor) []*autograd.Tensor {
		return []*autograd.Tensor{backward(g, a)}
	})
}

// TestGrader_CatchesWrongBackward is the negative control of the grader:
// a SiLU backward that forgets the a·σ′(a) term must fail GradCheck.
func TestGrader_CatchesWrongBackward(t *testing.T) {
	_, a, _ := randomInputs(3)
	wrong := func(g, a *autograd.Tensor) *autograd.Tensor { return autograd.Mul(g, autograd.Sigmoid(a)) }
	err := autograd.GradCheck(func(xs []*autograd.Tensor) *autograd.Tensor { return studentSiLU(xs[0], wrong) }, []*autograd.Tensor{a}, nil)
	var gce *autograd.GradCheckError
	assert.True(t, errors.As(err, &gce), fmt.Sprintf("a wrong backward passed the grader: %v", err))
}
