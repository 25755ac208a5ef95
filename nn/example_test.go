package nn_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Any NamedModule can be counted, optimized and checkpointed the same way.
func ExampleModule() {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []nn.NamedModule{
		nn.NewLinear(3, 4, rng),
		nn.NewMLP([]int{3, 4, 1}, autograd.ActReLU, rng),
		nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng),
	} {
		n := 0
		for _, p := range m.Params() {
			n += len(p.Data)
		}
		fmt.Println(len(m.NamedParams()), n)
	}
	// Output:
	// 2 16
	// 4 21
	// 8 133122
}

func ExampleNewLinear() {
	rng := rand.New(rand.NewPCG(1, 2))
	l := nn.NewLinear(4, 3, rng) // W [4,3], b [1,3], U(±1/√4)
	x := autograd.Zeros(2, 4)
	y := l.Forward(x) // x·W + b = b in every row
	fmt.Println(y.Shape(), y.Row(0)[0] == l.B.Data[0], len(l.Params()))
	// Output: [2 3] true 2
}

func ExampleActivation_Apply() {
	x := autograd.FromSlice(1, 3, []float64{-1, 0, 2})
	for _, a := range []autograd.Activation{autograd.ActSiLU, autograd.ActTanh, autograd.ActReLU, autograd.ActELU, autograd.ActSoftplus} {
		fmt.Printf("%-8s %.4f\n", a, a.Apply(x).Data)
	}
	// Output:
	// silu     [-0.2689 0.0000 1.7616]
	// tanh     [-0.7616 0.0000 0.9640]
	// relu     [0.0000 0.0000 2.0000]
	// elu      [-0.6321 0.0000 2.0000]
	// softplus [0.3133 0.6931 2.1269]
}

func ExampleNewMLP() {
	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewMLP([]int{3, 16, 16, 1}, autograd.ActTanh, rng)
	y := m.Forward(autograd.Normal(5, 3, 0, 1, rng))
	fmt.Println(y.Shape(), m.Sizes(), m.Activation())
	for _, p := range m.NamedParams()[:2] {
		fmt.Println(p.Name, p.T.Shape())
	}
	// Output:
	// [5 1] [3 16 16 1] tanh
	// layers.0.weight [3 16]
	// layers.0.bias [1 16]
}

// Frozen gives input-gradients without weight gradients: here the exact
// divergence ∇ₓ·v of a 2-D field at one point, one VJP per output.
func ExampleMLP_Frozen() {
	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewMLP([]int{2, 8, 2}, autograd.ActSiLU, rng)
	f := m.Frozen()
	x := autograd.FromSlice(1, 2, []float64{0.5, -0.3}).SetRequiresGrad(true)
	v := f.Forward(x)
	div := 0.0
	for d := range 2 {
		seed := autograd.Zeros(1, 2)
		seed.Data[d] = 1
		div += autograd.Grad(v, seed, x)[0].Data[d] // ∂v_d/∂x_d
	}
	fmt.Println(f.Params()[0].RequiresGrad(), m.Params()[0].RequiresGrad())
	fmt.Printf("div v = %.4f\n", div)
	// Output:
	// false true
	// div v = 0.2709
}

func ExampleSinusoidalEmbedding() {
	t := autograd.FromSlice(2, 1, []float64{0, 1})
	e := nn.SinusoidalEmbedding(t, 4, 100) // ω = (1, 0.1): (sin t, sin t/10, cos t, cos t/10)
	fmt.Printf("%.4f\n%.4f\n", e.Row(0), e.Row(1))
	// Output:
	// [0.0000 0.0000 1.0000 1.0000]
	// [0.8415 0.0998 0.5403 0.9950]
}

func ExampleNewVelocityMLP() {
	rng := rand.New(rand.NewPCG(1, 2))
	v := nn.NewVelocityMLP(2, []int{256, 256, 256}, autograd.ActSiLU, rng) // 3 → 256 → 256 → 256 → 2
	x := autograd.Normal(4, 2, 0, 1, rng)
	t := autograd.Full(4, 1, 0.5)
	fmt.Println(v.Forward(t, x).Shape(), v.Dim(), v.Net.Sizes())
	// Output: [4 2] 2 [3 256 256 256 2]
}

// minimize runs steps steps of opt on L = (θ − 3)² from θ = 0.
func minimize(steps int, newOpt func([]*autograd.Tensor) nn.Optimizer) float64 {
	theta := autograd.Zeros(1, 1).SetRequiresGrad(true)
	opt := newOpt([]*autograd.Tensor{theta})
	for range steps {
		opt.ZeroGrad()
		autograd.Sum(autograd.Square(autograd.AddScalar(theta, -3))).Backward()
		opt.Step()
	}
	return theta.Data[0]
}

func ExampleNewSGD() {
	fmt.Printf("%.4f\n", minimize(500, func(ps []*autograd.Tensor) nn.Optimizer { return nn.NewSGD(ps, 0.05, 0.9) }))
	// Output: 3.0000
}

func ExampleNewAdam() {
	fmt.Printf("%.4f\n", minimize(500, func(ps []*autograd.Tensor) nn.Optimizer { return nn.NewAdam(ps, 0.1) }))
	// Output: 3.0000
}

// With decoupled weight decay λ, AdamW settles where its normalized step
// m̂/√v̂ = sign(g) = −1 (θ < 3) balances the decay λ·θ, at θ = 1/λ = 2,
// short of the loss minimum 3; Adam's L2 penalty instead minimizes
// (θ − 3)² + λθ²/2, at θ = 3/(1 + λ/2) = 2.4.
func ExampleNewAdamW() {
	w := minimize(20000, func(ps []*autograd.Tensor) nn.Optimizer { return nn.NewAdamW(ps, 0.01, 0.5) })
	l2 := minimize(20000, func(ps []*autograd.Tensor) nn.Optimizer {
		a := nn.NewAdam(ps, 0.01)
		a.WeightDecay = 0.5
		return a
	})
	fmt.Printf("AdamW %.2f, Adam+L2 %.2f\n", w, l2)
	// Output: AdamW 2.00, Adam+L2 2.40
}

func ExampleClipGradNorm() {
	p := autograd.Zeros(1, 2).SetRequiresGrad(true)
	copy(p.Grad, []float64{3, 4})
	n := nn.ClipGradNorm([]*autograd.Tensor{p}, 1)
	fmt.Printf("norm before %.1f, after %.4f\n", n, p.Grad)
	// Output: norm before 5.0, after [0.6000 0.8000]
}

func ExampleNewEMA() {
	p := autograd.Zeros(1, 1).SetRequiresGrad(true)
	ema := nn.NewEMA([]*autograd.Tensor{p}, 0.5)
	for _, v := range []float64{1, 1, 1} {
		p.Data[0] = v
		ema.Update() // shadow = ½·shadow + ½·θ: 0.5, 0.75, 0.875
	}
	dst := autograd.Zeros(1, 1)
	ema.CopyTo([]*autograd.Tensor{dst})
	fmt.Println(ema.Params()[0].Data, dst.Data)
	// Output: [0.875] [0.875]
}

func ExampleSaveVelocityMLP() {
	dir, _ := os.MkdirTemp("", "nn-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "v.safetensors")
	rng := rand.New(rand.NewPCG(1, 2))
	v := nn.NewVelocityMLP(2, []int{32, 32}, autograd.ActSiLU, rng)
	fmt.Println(nn.SaveVelocityMLP(path, v, map[string]string{"dataset": "8gaussians"}))

	w, meta, err := nn.LoadVelocityMLP(path)
	x, t := autograd.Normal(3, 2, 0, 1, rng), autograd.Full(3, 1, 0.5)
	fmt.Println(err, w.Net.Sizes(), w.Net.Activation(), meta)
	fmt.Println(fmt.Sprint(v.Forward(t, x).Data) == fmt.Sprint(w.Forward(t, x).Data))
	// Output:
	// <nil>
	// <nil> [3 32 32 2] silu map[dataset:8gaussians]
	// true
}

func ExampleSaveMLP() {
	dir, _ := os.MkdirTemp("", "nn-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "m.safetensors")
	m := nn.NewMLP([]int{1, 8, 1}, autograd.ActTanh, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(nn.SaveMLP(path, m, nil))
	back, meta, err := nn.LoadMLP(path)
	fmt.Println(err, back.Sizes(), back.Activation(), len(meta))
	f, _ := safetensors.Read(path)
	fmt.Println(f.Metadata[nn.MetaModel], f.Metadata[nn.MetaSizes], f.Metadata[nn.MetaActivation])
	// Output:
	// <nil>
	// <nil> [1 8 1] tanh 0
	// MLP 1,8,1 tanh
}
