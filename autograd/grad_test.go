package autograd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// awayFromZero returns a [r, c] tensor with entries in ±[lo, hi], so that
// kinks (ReLU, ELU at 0) and poles (Div, Log) are out of the finite
// difference's reach.
func awayFromZero(r, c int, lo, hi float64, rng *rand.Rand) *Tensor {
	t := Uniform(r, c, lo, hi, rng)
	for i := range t.Data {
		if rng.IntN(2) == 0 {
			t.Data[i] = -t.Data[i]
		}
	}
	return t
}

// TestGrad checks every op's backward against central differences.
func TestGrad(t *testing.T) {
	rng := newRNG(1)
	a := Normal(4, 3, 0, 1, rng)
	b := Normal(4, 3, 0, 1, rng)
	pos := Uniform(4, 3, 0.5, 2, rng)
	nz := awayFromZero(4, 3, 0.2, 2, rng)
	row := Normal(1, 3, 0, 1, rng)
	col := Normal(4, 1, 0, 1, rng)
	m34 := Normal(3, 5, 0, 1, rng)
	m54 := Normal(5, 3, 0, 1, rng)
	m45 := Normal(4, 5, 0, 1, rng)
	s := Normal(1, 1, 0, 1, rng)
	big := Normal(4, 3, 0, 30, rng)                              // Softplus and LogSumExp far from 0
	zero := FromSlice(1, 3, []float64{0, 0x1p-1070, -0x1p-1070}) // Pow's derivatives at 0 (and subnormal ±a, where a⁻¹ = ±Inf)

	unary := func(f func(*Tensor) *Tensor) func([]*Tensor) *Tensor {
		return func(x []*Tensor) *Tensor { return f(x[0]) }
	}
	binary := func(f func(a, b *Tensor) *Tensor) func([]*Tensor) *Tensor {
		return func(x []*Tensor) *Tensor { return f(x[0], x[1]) }
	}
	cases := []struct {
		name string
		f    func([]*Tensor) *Tensor
		in   []*Tensor
	}{
		{"Add", binary(Add), []*Tensor{a, b}},
		{"Sub", binary(Sub), []*Tensor{a, b}},
		{"Mul", binary(Mul), []*Tensor{a, b}},
		{"Div", binary(Div), []*Tensor{a, nz}},
		{"Neg", unary(Neg), []*Tensor{a}},
		{"Scale", unary(func(x *Tensor) *Tensor { return Scale(x, -2.5) }), []*Tensor{a}},
		{"AddScalar", unary(func(x *Tensor) *Tensor { return AddScalar(x, 3) }), []*Tensor{a}},
		{"MatMul", binary(MatMul), []*Tensor{a, m34}},
		{"MatMulNT", binary(MatMulNT), []*Tensor{a, m54}},
		{"MatMulTN", binary(MatMulTN), []*Tensor{a, m45}},
		{"Transpose", unary(Transpose), []*Tensor{a}},
		{"Expand/scalar", unary(func(x *Tensor) *Tensor { return Expand(x, 3, 2) }), []*Tensor{s}},
		{"Expand/row", unary(func(x *Tensor) *Tensor { return Expand(x, 5, 3) }), []*Tensor{row}},
		{"Expand/col", unary(func(x *Tensor) *Tensor { return Expand(x, 4, 6) }), []*Tensor{col}},
		{"AddRow", binary(AddRow), []*Tensor{a, row}},
		{"MulCol", binary(MulCol), []*Tensor{a, col}},
		{"Square", unary(Square), []*Tensor{a}},
		{"Pow", unary(func(x *Tensor) *Tensor { return Pow(x, 1.7) }), []*Tensor{pos}},
		{"Pow/integer", unary(func(x *Tensor) *Tensor { return Pow(x, 3) }), []*Tensor{a}},
		{"Pow/zero", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 3, 0) }), []*Tensor{zero}},
		{"Pow/zero/p=0", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 0, 0) }), []*Tensor{zero}},
		{"Pow/zero/second", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 3, 1) }), []*Tensor{zero}},
		{"Pow/zero/second/p=1", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 1, 1) }), []*Tensor{zero}},
		{"Pow/zero/third", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 3, 2) }), []*Tensor{zero}},
		{"Pow/zero/third/p=2", unary(func(x *Tensor) *Tensor { return powDerivatives(x, 2, 2) }), []*Tensor{zero}},
		{"Sqrt", unary(Sqrt), []*Tensor{pos}},
		{"Exp", unary(Exp), []*Tensor{a}},
		{"Log", unary(Log), []*Tensor{pos}},
		{"Tanh", unary(Tanh), []*Tensor{a}},
		{"Sigmoid", unary(Sigmoid), []*Tensor{a}},
		{"ReLU", unary(ReLU), []*Tensor{nz}},
		{"SiLU", unary(SiLU), []*Tensor{a}},
		{"ELU", unary(ELU), []*Tensor{nz}},
		{"Softplus", unary(Softplus), []*Tensor{a}},
		{"Softplus/large", unary(Softplus), []*Tensor{big}},
		{"Sin", unary(Sin), []*Tensor{a}},
		{"Cos", unary(Cos), []*Tensor{a}},
		{"Sum", unary(Sum), []*Tensor{a}},
		{"Mean", unary(Mean), []*Tensor{a}},
		{"SumRows", unary(SumRows), []*Tensor{a}},
		{"SumCols", unary(SumCols), []*Tensor{a}},
		{"LogSumExp", unary(LogSumExp), []*Tensor{a}},
		{"LogSumExp/large", unary(LogSumExp), []*Tensor{big}},
		{"Concat", func(x []*Tensor) *Tensor { return Concat(x[0], x[1], x[2]) }, []*Tensor{a, col, m45}},
		{"Slice", unary(func(x *Tensor) *Tensor { return Slice(x, 1, 4) }), []*Tensor{m45}},
		{"LogSoftmax", unary(LogSoftmax), []*Tensor{a}},
		{"LogSoftmax/large", unary(LogSoftmax), []*Tensor{big}},
		{"LogSoftmax/second", unary(func(x *Tensor) *Tensor { return GradGraph(Sum(Square(LogSoftmax(x))), nil, x)[0] }), []*Tensor{a}},
		{"CrossEntropy", unary(func(x *Tensor) *Tensor { return CrossEntropy(x, []int{2, 0, 1, 2}) }), []*Tensor{a}},
		{"CrossEntropy/second", unary(func(x *Tensor) *Tensor { return GradGraph(Sum(Square(CrossEntropy(x, []int{2, 0, 1, 2}))), nil, x)[0] }), []*Tensor{a}},
		{"Embedding", unary(func(x *Tensor) *Tensor { return Embedding(x, []int{3, 0, 3, 1, 3}) }), []*Tensor{a}},
		{"Embedding/scatter", unary(func(x *Tensor) *Tensor { return scatterRows(x, []int{1, 0, 1, 4}, 6) }), []*Tensor{a}},
	}
	cases = append(cases, convGradCases()...) // the image ops (conv_test.go)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, GradCheck(c.f, c.in, nil))
		})
	}
}

// TestGradCheck_WrongBackwardFails is the checker's negative control: a
// square whose backward forgets the factor 2 must be caught.
func TestGradCheck_WrongBackwardFails(t *testing.T) {
	wrongSquare := func(x []*Tensor) *Tensor {
		a := x[0]
		out := Zeros(a.Rows, a.Cols)
		for i, v := range a.Data {
			out.Data[i] = v * v
		}
		return Custom("WrongSquare", out, []*Tensor{a}, func(g *Tensor) []*Tensor {
			return []*Tensor{Mul(g, a)} // should be 2·g ⊙ a
		})
	}
	x := Normal(3, 2, 0, 1, newRNG(2))
	err := GradCheck(wrongSquare, []*Tensor{x}, nil)
	require.Error(t, err)
	var ge *GradCheckError
	require.ErrorAs(t, err, &ge)
	require.InDelta(t, 2*ge.Got, ge.Want, 1e-6, "the central difference is twice the wrong gradient")
}

// TestGradGraph_SecondOrder differentiates a gradient: the weight-gradient
// of the divergence-like quantity Σ ∂v/∂x of a two-layer network, checked
// by GradCheck (whose central differences are then of a first derivative).
func TestGradGraph_SecondOrder(t *testing.T) {
	rng := newRNG(3)
	x := Normal(5, 2, 0, 1, rng)
	w1 := Normal(2, 4, 0, 1, rng)
	b1 := Normal(1, 4, 0, 1, rng)
	w2 := Normal(4, 2, 0, 1, rng)
	for _, act := range []struct {
		name string
		f    func(*Tensor) *Tensor
	}{{"Tanh", Tanh}, {"SiLU", SiLU}, {"Softplus", Softplus}, {"Sigmoid", Sigmoid}, {"ELU", ELU}, {"Exp", Exp}, {"Sin", Sin}} {
		t.Run(act.name, func(t *testing.T) {
			f := func(p []*Tensor) *Tensor {
				xin := x.Clone().SetRequiresGrad(true)
				v := MatMul(act.f(AddRow(MatMul(xin, p[0]), p[1])), p[2])
				// Σ_i ∂v_i/∂x_i via one VJP per output dimension.
				div := Zeros(1, 1)
				for i := 0; i < v.Cols; i++ {
					seed := Zeros(v.Rows, v.Cols)
					for r := 0; r < v.Rows; r++ {
						seed.Data[r*v.Cols+i] = 1
					}
					gx := GradGraph(v, seed, xin)[0]
					div = Add(div, Sum(Slice(gx, i, i+1)))
				}
				return div
			}
			require.NoError(t, GradCheck(f, []*Tensor{w1, b1, w2}, nil))
		})
	}
}

// TestGradGraph_ThirdOrder: d³/dx³ of x⁴ is 24x, by nesting GradGraph.
func TestGradGraph_ThirdOrder(t *testing.T) {
	x := FromSlice(1, 3, []float64{0.5, -1, 2}).SetRequiresGrad(true)
	y := Pow(x, 4)
	ones := Full(1, 3, 1)
	d1 := GradGraph(y, ones, x)[0]
	d2 := GradGraph(d1, ones, x)[0]
	d3 := Grad(d2, ones, x)[0]
	for i, v := range x.Data {
		require.InDelta(t, 24*v, d3.Data[i], 1e-12)
	}
}

func TestBackward_SharedInput(t *testing.T) {
	// L = Σ x⊙x⊙x built as Mul(Mul(x, x), x): x is used three times.
	x := FromSlice(1, 3, []float64{1, -2, 3}).SetRequiresGrad(true)
	Sum(Mul(Mul(x, x), x)).Backward()
	for i, v := range x.Data {
		require.Equal(t, 3*v*v, x.Grad[i])
	}
}

func TestBackward_Diamond(t *testing.T) {
	// a → (b = 2a, c = a²) → d = b⊙c = 2a³; ∂d/∂a = 6a².
	a := FromSlice(1, 2, []float64{1.5, -0.5}).SetRequiresGrad(true)
	b := Scale(a, 2)
	c := Square(a)
	Sum(Mul(b, c)).Backward()
	for i, v := range a.Data {
		require.InDelta(t, 6*v*v, a.Grad[i], 1e-15)
	}
}

func TestBackward_AccumulatesAndZeroGrad(t *testing.T) {
	x := FromSlice(1, 2, []float64{1, 2}).SetRequiresGrad(true)
	loss := Sum(Scale(x, 3))
	loss.Backward()
	loss.Backward() // the graph is reusable; gradients add
	require.Equal(t, []float64{6, 6}, x.Grad)
	x.ZeroGrad()
	require.Equal(t, []float64{0, 0}, x.Grad)
}

func TestGrad_DoesNotTouchParamGrads(t *testing.T) {
	rng := newRNG(4)
	w := Normal(2, 2, 0, 1, rng).SetRequiresGrad(true)
	x := Normal(3, 2, 0, 1, rng).SetRequiresGrad(true)
	y := Tanh(MatMul(x, w))
	gx := Grad(y, Full(3, 2, 1), x)[0]
	require.Equal(t, []float64{0, 0, 0, 0}, w.Grad)
	for _, v := range x.Grad {
		require.Zero(t, v)
	}
	require.Equal(t, []int{3, 2}, []int{gx.Rows, gx.Cols})
	require.False(t, gx.RequiresGrad())
	// An unrelated tensor gets zeros.
	z := Zeros(2, 2).SetRequiresGrad(true)
	require.Equal(t, []float64{0, 0, 0, 0}, Grad(y, Full(3, 2, 1), z)[0].Data)
}

func TestNoGraph_RecordsNothing(t *testing.T) {
	rng := newRNG(5)
	w := Normal(2, 4, 0, 1, rng).SetRequiresGrad(true)
	x := Normal(3, 2, 0, 1, rng).NoGraph()
	y := Sum(SiLU(MatMul(x, w)))
	require.True(t, y.IsNoGraph())
	require.False(t, y.RequiresGrad())
	require.Nil(t, y.backward)
	require.Nil(t, y.inputs)
	require.Panics(t, func() { y.Backward() })
}

func TestMisuse_PanicsWithMisuseError(t *testing.T) {
	a, b := Zeros(2, 3), Zeros(3, 2)
	cases := map[string]func(){
		"Add":       func() { Add(a, b) },
		"MatMul":    func() { MatMul(a, a) },
		"MatMulNT":  func() { MatMulNT(a, b) },
		"MatMulTN":  func() { MatMulTN(a, b) },
		"AddRow":    func() { AddRow(a, Zeros(1, 2)) },
		"MulCol":    func() { MulCol(a, Zeros(3, 1)) },
		"Slice":     func() { Slice(a, 2, 5) },
		"Concat":    func() { Concat(a, b) },
		"Expand":    func() { Expand(a, 4, 3) },
		"Backward":  func() { Add(a.Clone().SetRequiresGrad(true), a).Backward() },
		"FromSlice": func() { FromSlice(2, 2, []float64{1}) },
		"Item":      func() { a.Item() },
		"Zeros":     func() { Zeros(-1, 2) },
		"Mean":      func() { Mean(Zeros(0, 3)) },
		"Normal":    func() { Normal(2, 2, 0, 1, nil) },
		"Uniform":   func() { Uniform(2, 2, 0, 1, nil) },
	}
	for op, f := range cases {
		t.Run(op, func(t *testing.T) {
			defer func() {
				r := recover()
				se, ok := r.(*MisuseError)
				require.True(t, ok, "panic value %#v is not a *MisuseError", r)
				require.Equal(t, op, se.Op)
				require.Contains(t, se.Error(), op)
			}()
			f()
		})
	}
	// The message names the shapes.
	defer func() {
		require.Equal(t, "autograd.MatMul [2,3] [2,3]: inner dimensions differ", recover().(*MisuseError).Error())
	}()
	MatMul(a, a)
}

func TestDetectAnomaly(t *testing.T) {
	x := FromSlice(1, 3, []float64{1, 0, 2})
	err := DetectAnomaly(func() {
		y := Exp(x)
		z := Log(Sub(y, Full(1, 3, 1))) // log 0 = −Inf at element 1
		_ = Sum(z)
	})
	var nf *NonFiniteError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "Log", nf.Op)
	require.Equal(t, 1, nf.Index)
	require.True(t, math.IsInf(nf.Value, -1))
	// Outside DetectAnomaly the same computation runs silently.
	require.NotPanics(t, func() { Log(Zeros(1, 1)) })
	require.NoError(t, DetectAnomaly(func() { Exp(x) }))
}

func TestSoftplusAndLogSumExp_Stable(t *testing.T) {
	x := FromSlice(1, 4, []float64{-800, -30, 30, 800})
	sp := Softplus(x)
	require.InDelta(t, math.Exp(-800), sp.Data[0], 1e-300)
	require.InDelta(t, math.Log1p(math.Exp(-30)), sp.Data[1], 1e-25)
	require.Equal(t, 800.0, sp.Data[3])
	l := LogSumExp(FromSlice(2, 2, []float64{-1000, -1000, 1000, 1000}))
	require.InDelta(t, -1000+math.Ln2, l.Data[0], 1e-12)
	require.InDelta(t, 1000+math.Ln2, l.Data[1], 1e-12)
	require.True(t, math.IsInf(LogSumExp(FromSlice(1, 2, []float64{math.Inf(-1), math.Inf(-1)})).Data[0], -1))
}

func TestTrain_LinearRegression(t *testing.T) {
	// y = x·w* + noise; gradient descent on the mean squared error reaches
	// the least-squares solution, whose residual is close to the noise level.
	rng := newRNG(6)
	n, sigma := 512, 0.1
	x := Normal(n, 3, 0, 1, rng)
	wStar := FromSlice(3, 1, []float64{1, -2, 0.5})
	y := Add(MatMul(x, wStar), Normal(n, 1, 0, sigma, rng))
	w := Zeros(3, 1).SetRequiresGrad(true)
	var loss float64
	for range 200 {
		w.ZeroGrad()
		l := Mean(Square(Sub(MatMul(x, w), y)))
		l.Backward()
		for i := range w.Data {
			w.Data[i] -= 0.1 * w.Grad[i]
		}
		loss = l.Item()
	}
	// E[residual²] = σ²(1 − p/n) for least squares; allow 4 standard errors
	// of a mean of n squared Gaussians (sd of σ²χ²₁/n is σ²√(2/n)).
	require.InDelta(t, sigma*sigma, loss, 4*sigma*sigma*math.Sqrt(2.0/float64(n))+sigma*sigma*3/float64(n))
}

// TestGrad_FusedDerivatives checks the one-pass backward helpers of SiLU and
// Tanh, whose own backward serves higher-order gradients.
func TestGrad_FusedDerivatives(t *testing.T) {
	rng := newRNG(7)
	g := Normal(3, 4, 0, 1, rng)
	a := Normal(3, 4, 0, 2, rng)
	require.NoError(t, GradCheck(func(x []*Tensor) *Tensor { return siluGrad(x[0], x[1]) }, []*Tensor{g, a}, nil))
	y := Uniform(3, 4, -0.9, 0.9, rng)
	require.NoError(t, GradCheck(func(x []*Tensor) *Tensor { return tanhGrad(x[0], x[1]) }, []*Tensor{g, y}, nil))
	// Third order through SiLU: GradCheck of a second derivative.
	require.NoError(t, GradCheck(func(x []*Tensor) *Tensor {
		ones := Full(x[0].Rows, x[0].Cols, 1)
		d1 := GradGraph(SiLU(x[0]), ones, x[0])[0]
		return GradGraph(d1, ones, x[0])[0]
	}, []*Tensor{a}, nil))
}

// TestGrad_IntermediateTargets: gradients with respect to tensors inside the
// graph are total derivatives, with one target or several.
func TestGrad_IntermediateTargets(t *testing.T) {
	w := FromSlice(1, 2, []float64{0.5, -1.5}).SetRequiresGrad(true)
	x := Square(w)      // x = w²
	y := Sum(Mul(x, w)) // y = Σ w³ = Σ x ⊙ w
	gx := Grad(y, nil, x)[0]
	require.Equal(t, w.Data, gx.Data) // ∂y/∂x = w
	g := Grad(y, nil, x, w)
	require.Equal(t, w.Data, g[0].Data)
	for i, v := range w.Data {
		require.InDelta(t, 3*v*v, g[1].Data[i], 1e-15) // total: through x too
	}
}

// powDerivatives returns the k-th derivative of x^p (k = 0: x^p itself),
// built by k nested GradGraph calls, so that GradCheck on it checks the
// (k+1)-th.
func powDerivatives(x *Tensor, p float64, k int) *Tensor {
	y := Pow(x, p)
	for range k {
		y = GradGraph(y, Full(x.Rows, x.Cols, 1), x)[0]
	}
	return y
}

// TestPow_IntegerDerivativesAtZero: for integer p ≥ 0 the k-th derivative
// of a^p at a = 0 is p!/(p−k)!·0^(p−k), i.e. p! for k = p and 0 otherwise;
// every order must be exactly that and finite. The negative control is the
// backward without the p = 0 case (p·g ⊙ a^(p−1) always), which ends the
// chain with 0·a⁻¹ = 0·∞ = NaN.
func TestPow_IntegerDerivativesAtZero(t *testing.T) {
	want := func(p, k int) float64 {
		if k != p {
			return 0 // k < p: a factor 0^(p−k) = 0; k > p: the derivative of a constant
		}
		f := 1.0
		for i := 2; i <= p; i++ {
			f *= float64(i)
		}
		return f
	}
	for p := 0; p <= 4; p++ {
		for k := 1; k <= 4; k++ {
			x := FromSlice(1, 3, []float64{0, 0x1p-1070, -0x1p-1070}).SetRequiresGrad(true)
			d := powDerivatives(x, float64(p), k)
			for i, v := range d.Data {
				require.Falsef(t, math.IsNaN(v) || math.IsInf(v, 0), "p=%d k=%d a=%g: derivative %v", p, k, x.Data[i], v)
				require.InDeltaf(t, want(p, k), v, 1e-300, "p=%d k=%d a=%g", p, k, x.Data[i])
			}
		}
	}

	// Negative control: Pow's backward without its p = 0 case.
	var oldPow func(a *Tensor, p float64) *Tensor
	oldPow = func(a *Tensor, p float64) *Tensor {
		out := Zeros(a.Rows, a.Cols)
		for i, v := range a.Data {
			out.Data[i] = math.Pow(v, p)
		}
		return Custom("OldPow", out, []*Tensor{a}, func(g *Tensor) []*Tensor {
			return []*Tensor{Scale(Mul(g, oldPow(a, p-1)), p)}
		})
	}
	x := FromSlice(1, 1, []float64{0}).SetRequiresGrad(true)
	d := GradGraph(oldPow(x, 1), Full(1, 1, 1), x)[0]
	d2 := GradGraph(d, Full(1, 1, 1), x)[0]
	require.True(t, math.IsNaN(d2.Item()), "the old backward gives d²a/da² = 0·0⁻¹ = NaN at 0, got %v", d2.Item())
}
