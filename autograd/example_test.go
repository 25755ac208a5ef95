package autograd_test

import (
	"fmt"
	"math/rand/v2"

	ag "github.com/flowmatch/flowmatch/autograd"
)

func show(t *ag.Tensor) { fmt.Printf("%v %.4g\n", t.Shape(), t.Data) }

func ExampleZeros() {
	show(ag.Zeros(2, 3))
	// Output: [2 3] [0 0 0 0 0 0]
}

func ExampleFull() {
	show(ag.Full(1, 2, 7))
	// Output: [1 2] [7 7]
}

func ExampleScalar() {
	fmt.Println(ag.Scalar(3).Item())
	// Output: 3
}

func ExampleFromSlice() {
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	fmt.Println(x.At(1, 0), x.Row(1))
	// Output: 3 [3 4]
}

func ExampleFromRows() {
	show(ag.FromRows([][]float64{{1, 2}, {3, 4}}))
	// Output: [2 2] [1 2 3 4]
}

func ExampleNormal() {
	rng := rand.New(rand.NewPCG(1, 2))
	fmt.Println(ag.Normal(1000, 2, 0, 1, rng).Shape())
	// Output: [1000 2]
}

func ExampleUniform() {
	x := ag.Uniform(1, 1000, 2, 3, rand.New(rand.NewPCG(1, 2)))
	lo, hi := 3.0, 2.0
	for _, v := range x.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	fmt.Println(lo >= 2, hi < 3)
	// Output: true true
}

func ExampleTensor_Backward() {
	// L = Σ x², so ∂L/∂x = 2x.
	x := ag.FromSlice(1, 3, []float64{1, -2, 3}).SetRequiresGrad(true)
	ag.Sum(ag.Square(x)).Backward()
	fmt.Println(x.Grad)
	// Output: [2 -4 6]
}

func ExampleTensor_ZeroGrad() {
	x := ag.Scalar(2).SetRequiresGrad(true)
	ag.Scale(x, 3).Backward()
	ag.Scale(x, 3).Backward()
	fmt.Print(x.Grad, " ")
	x.ZeroGrad()
	fmt.Println(x.Grad)
	// Output: [6] [0]
}

func ExampleTensor_NoGraph() {
	w := ag.FromSlice(1, 1, []float64{2}).SetRequiresGrad(true)
	x := ag.Scalar(3).NoGraph() // inference: nothing computed from x is recorded
	y := ag.MatMul(x, w)
	fmt.Println(y.Item(), y.RequiresGrad(), y.IsNoGraph())
	// Output: 6 false true
}

func ExampleTensor_Detach() {
	x := ag.Scalar(2).SetRequiresGrad(true)
	y := ag.Square(x).Detach()
	fmt.Println(y.Item(), y.RequiresGrad(), y.Op())
	// Output: 4 false
}

func ExampleTensor_Clone() {
	x := ag.FromSlice(1, 2, []float64{1, 2})
	c := x.Clone()
	c.Data[0] = 9
	fmt.Println(x.Data, c.Data)
	// Output: [1 2] [9 2]
}

func ExampleTensor_Op() {
	fmt.Println(ag.Exp(ag.Scalar(0)).Op())
	// Output: Exp
}

func ExampleTensor_String() {
	fmt.Println(ag.FromSlice(1, 2, []float64{1, 2}), ag.Zeros(10, 10))
	// Output: Tensor[1,2][1 2] Tensor[10,10]
}

func ExampleGrad() {
	// A vector-Jacobian product: for y = x ⊙ x, seedᵀ·∂y/∂x = 2·seed ⊙ x.
	x := ag.FromSlice(1, 2, []float64{3, 4}).SetRequiresGrad(true)
	y := ag.Square(x)
	g := ag.Grad(y, ag.FromSlice(1, 2, []float64{1, 10}), x)[0]
	fmt.Println(g.Data, x.Grad) // x.Grad is untouched
	// Output: [6 80] [0 0]
}

func ExampleGradGraph() {
	// d²/dx² x³ = 6x, by differentiating a recorded gradient.
	x := ag.Scalar(2).SetRequiresGrad(true)
	dy := ag.GradGraph(ag.Pow(x, 3), nil, x)[0] // 3x², with a graph
	d2 := ag.Grad(dy, nil, x)[0]
	fmt.Println(dy.Item(), d2.Item())
	// Output: 12 12
}

func ExampleGradCheck() {
	f := func(x []*ag.Tensor) *ag.Tensor { return ag.Tanh(ag.MatMul(x[0], x[1])) }
	rng := rand.New(rand.NewPCG(1, 2))
	err := ag.GradCheck(f, []*ag.Tensor{ag.Normal(3, 2, 0, 1, rng), ag.Normal(2, 4, 0, 1, rng)}, nil)
	fmt.Println(err)
	// Output: <nil>
}

func ExampleCustom() {
	// A cube op with a hand-written backward: ∂L/∂a = 3a²·g.
	cube := func(a *ag.Tensor) *ag.Tensor {
		out := ag.Zeros(a.Rows, a.Cols)
		for i, v := range a.Data {
			out.Data[i] = v * v * v
		}
		return ag.Custom("Cube", out, []*ag.Tensor{a}, func(g *ag.Tensor) []*ag.Tensor {
			return []*ag.Tensor{ag.Mul(g, ag.Scale(ag.Square(a), 3))}
		})
	}
	x := ag.Scalar(2).SetRequiresGrad(true)
	cube(x).Backward()
	fmt.Println(x.Grad)
	// Output: [12]
}

func ExampleDetectAnomaly() {
	err := ag.DetectAnomaly(func() { ag.Log(ag.FromSlice(1, 2, []float64{1, 0})) })
	fmt.Println(err)
	// Output: autograd: Log produced -Inf at element [0,1] of its [1,2] output
}

func ExampleMisuseError() {
	defer func() { fmt.Println(recover()) }()
	ag.Add(ag.Zeros(2, 3), ag.Zeros(3, 2))
	// Output: autograd.Add [2,3] [3,2]: shapes differ
}

func ExampleAdd() {
	show(ag.Add(ag.FromSlice(1, 2, []float64{1, 2}), ag.FromSlice(1, 2, []float64{10, 20})))
	// Output: [1 2] [11 22]
}

func ExampleSub() {
	show(ag.Sub(ag.FromSlice(1, 2, []float64{1, 2}), ag.FromSlice(1, 2, []float64{10, 20})))
	// Output: [1 2] [-9 -18]
}

func ExampleMul() {
	show(ag.Mul(ag.FromSlice(1, 2, []float64{1, 2}), ag.FromSlice(1, 2, []float64{10, 20})))
	// Output: [1 2] [10 40]
}

func ExampleDiv() {
	show(ag.Div(ag.FromSlice(1, 2, []float64{1, 2}), ag.FromSlice(1, 2, []float64{10, 20})))
	// Output: [1 2] [0.1 0.1]
}

func ExampleNeg() {
	show(ag.Neg(ag.FromSlice(1, 2, []float64{1, -2})))
	// Output: [1 2] [-1 2]
}

func ExampleScale() {
	show(ag.Scale(ag.FromSlice(1, 2, []float64{1, -2}), 3)) /* Output: [1 2] [3 -6] */
}

func ExampleAddScalar() {
	show(ag.AddScalar(ag.FromSlice(1, 2, []float64{1, -2}), 1))
	// Output: [1 2] [2 -1]
}

func ExampleSquare() {
	show(ag.Square(ag.FromSlice(1, 2, []float64{3, -2})))
	// Output: [1 2] [9 4]
}

func ExamplePow() {
	show(ag.Pow(ag.FromSlice(1, 2, []float64{4, 9}), 0.5))
	// Output: [1 2] [2 3]
}

func ExampleSqrt() {
	show(ag.Sqrt(ag.FromSlice(1, 2, []float64{4, 9})))
	// Output: [1 2] [2 3]
}

func ExampleExp() {
	show(ag.Exp(ag.FromSlice(1, 2, []float64{0, 1})))
	// Output: [1 2] [1 2.718]
}

func ExampleLog() {
	show(ag.Log(ag.FromSlice(1, 2, []float64{1, 10})))
	// Output: [1 2] [0 2.303]
}

func ExampleSin() {
	show(ag.Sin(ag.FromSlice(1, 2, []float64{0, 1})))
	// Output: [1 2] [0 0.8415]
}

func ExampleCos() {
	show(ag.Cos(ag.FromSlice(1, 2, []float64{0, 1})))
	// Output: [1 2] [1 0.5403]
}

func ExampleTanh() {
	show(ag.Tanh(ag.FromSlice(1, 2, []float64{0, 1})))
	// Output: [1 2] [0 0.7616]
}

func ExampleSigmoid() {
	show(ag.Sigmoid(ag.FromSlice(1, 3, []float64{0, 1, -1000})))
	// Output: [1 3] [0.5 0.7311 0]
}

func ExampleReLU() {
	show(ag.ReLU(ag.FromSlice(1, 2, []float64{-1, 2})))
	// Output: [1 2] [0 2]
}

func ExampleSiLU() {
	show(ag.SiLU(ag.FromSlice(1, 2, []float64{0, 1})))
	// Output: [1 2] [0 0.7311]
}

func ExampleELU() {
	show(ag.ELU(ag.FromSlice(1, 2, []float64{-1, 2})))
	// Output: [1 2] [-0.6321 2]
}

func ExampleSoftplus() {
	show(ag.Softplus(ag.FromSlice(1, 3, []float64{0, 1000, -1000})))
	// Output: [1 3] [0.6931 1000 0]
}

func ExampleMatMul() {
	a := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	b := ag.FromSlice(2, 1, []float64{1, 1})
	show(ag.MatMul(a, b))
	// Output: [2 1] [3 7]
}

func ExampleMatMulNT() {
	a := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	show(ag.MatMulNT(a, a)) // a·aᵀ
	// Output: [2 2] [5 11 11 25]
}

func ExampleMatMulTN() {
	a := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	show(ag.MatMulTN(a, a)) // aᵀ·a
	// Output: [2 2] [10 14 14 20]
}

func ExampleTranspose() {
	show(ag.Transpose(ag.FromSlice(2, 3, []float64{1, 2, 3, 4, 5, 6})))
	// Output: [3 2] [1 4 2 5 3 6]
}

func ExampleExpand() {
	show(ag.Expand(ag.FromSlice(2, 1, []float64{1, 2}), 2, 3))
	// Output: [2 3] [1 1 1 2 2 2]
}

func ExampleAddRow() {
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	show(ag.AddRow(x, ag.FromSlice(1, 2, []float64{10, 20})))
	// Output: [2 2] [11 22 13 24]
}

func ExampleMulCol() {
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	show(ag.MulCol(x, ag.FromSlice(2, 1, []float64{10, -1})))
	// Output: [2 2] [10 20 -3 -4]
}

func ExampleSum() {
	fmt.Println(ag.Sum(ag.FromSlice(2, 2, []float64{1, 2, 3, 4})).Item()) /* Output: 10 */
}

func ExampleMean() {
	fmt.Println(ag.Mean(ag.FromSlice(2, 2, []float64{1, 2, 3, 4})).Item()) /* Output: 2.5 */
}

func ExampleSumRows() {
	show(ag.SumRows(ag.FromSlice(2, 2, []float64{1, 2, 3, 4})))
	// Output: [1 2] [4 6]
}

func ExampleSumCols() {
	show(ag.SumCols(ag.FromSlice(2, 2, []float64{1, 2, 3, 4})))
	// Output: [2 1] [3 7]
}

func ExampleLogSumExp() {
	show(ag.LogSumExp(ag.FromSlice(2, 2, []float64{0, 0, 1000, 1000})))
	// Output: [2 1] [0.6931 1001]
}

func ExampleConcat() {
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	t := ag.FromSlice(2, 1, []float64{0.5, 0.7})
	show(ag.Concat(x, t))
	// Output: [2 3] [1 2 0.5 3 4 0.7]
}

func ExampleSlice() {
	show(ag.Slice(ag.FromSlice(2, 3, []float64{1, 2, 3, 4, 5, 6}), 1, 3))
	// Output: [2 2] [2 3 5 6]
}

func ExampleTensor_Shape() {
	fmt.Println(ag.Zeros(256, 2).Shape())
	// Output: [256 2]
}

func ExampleTensor_At() {
	fmt.Println(ag.FromSlice(2, 2, []float64{1, 2, 3, 4}).At(0, 1))
	// Output: 2
}

func ExampleTensor_Item() {
	fmt.Println(ag.Mean(ag.FromSlice(1, 4, []float64{1, 2, 3, 4})).Item())
	// Output: 2.5
}

func ExampleTensor_Row() {
	x := ag.FromSlice(2, 2, []float64{1, 2, 3, 4})
	x.Row(0)[1] = 20 // a view into Data
	fmt.Println(x.Data)
	// Output: [1 20 3 4]
}

func ExampleTensor_SetRequiresGrad() {
	w := ag.Scalar(3).SetRequiresGrad(true)
	y := ag.Square(w)
	fmt.Println(w.RequiresGrad(), y.RequiresGrad(), y.Op())
	// Output: true true Square
}

func ExampleTensor_RequiresGrad() {
	fmt.Println(ag.Scalar(1).RequiresGrad(), ag.Scalar(1).SetRequiresGrad(true).RequiresGrad())
	// Output: false true
}

func ExampleTensor_IsNoGraph() {
	x := ag.Scalar(1)
	fmt.Println(x.IsNoGraph(), x.NoGraph().IsNoGraph(), ag.Exp(x.NoGraph()).IsNoGraph())
	// Output: false true true
}

func ExampleNonFiniteError() {
	err := ag.DetectAnomaly(func() { ag.Div(ag.Scalar(1), ag.Scalar(0)) })
	nf := err.(*ag.NonFiniteError)
	fmt.Println(nf.Op, nf.Value)
	// Output: Div +Inf
}

func ExampleGradCheckError() {
	// A wrong backward (the factor 2 of d(x²)/dx forgotten) is caught.
	wrong := func(x []*ag.Tensor) *ag.Tensor {
		out := ag.Square(x[0].Detach())
		return ag.Custom("WrongSquare", out, x, func(g *ag.Tensor) []*ag.Tensor { return []*ag.Tensor{ag.Mul(g, x[0])} })
	}
	err := ag.GradCheck(wrong, []*ag.Tensor{ag.Scalar(1.5)}, nil)
	ge := err.(*ag.GradCheckError)
	fmt.Printf("want/got = %.4f\n", ge.Want/ge.Got)
	// Output: want/got = 2.0000
}

func ExampleParseActivation() {
	a, err := ag.ParseActivation("SiLU")
	fmt.Println(a, err)
	_, err = ag.ParseActivation("gelu")
	fmt.Println(err)
	// Output:
	// silu <nil>
	// unknown activation "gelu" (want one of silu, tanh, relu, elu, softplus)
}
