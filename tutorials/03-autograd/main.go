// Tutorial 03: the autograd engine, op by op.
//
// Every later tutorial trains something by gradient descent or needs a
// divergence ∇·v; both come from package autograd. This tutorial opens it up:
// a tiny expression differentiated by hand and by the engine, why gradients
// must be added (not stored) when a value is used twice, how GradCheck
// catches a wrong backward formula, and how a gradient of a gradient
// (GradGraph) gives second derivatives.
//
//	go run ./tutorials/03-autograd [-out DIR]
package main

import (
	"flag"
	"fmt"
	"github.com/flowmatch/flowmatch/plot"
	"log"
	"math"
	"os"
	"path/filepath"

	ag "github.com/flowmatch/flowmatch/autograd"
)

// Config: only the output directory; everything here is tiny.
type Config struct {
	Out string // directory for the pictures ("" writes none)
}

// Result holds every number main prints.
type Result struct {
	// Part 1: L = (a·b + a)² at a = 2, b = −3.
	U, V, L              float64 // u = a·b, v = u + a, L = v²
	HandA, HandB         float64 // ∂L/∂a, ∂L/∂b by the chain rule, by hand
	EngineA, EngineB     float64 // the same from Backward
	PathA1, PathA2       float64 // a's two contributions (through u, and directly)
	DiamondGot           float64 // d/dx [sin x · x²] at x = 1.3 from Backward
	DiamondWant          float64 // cos x·x² + 2x·sin x
	DiamondOnePath       float64 // what an engine that overwrites would report (the last path only)
	GradOnce, GradTwice  float64 // a.Grad after one and two calls to Backward
	GradAfterZero        float64 // after ZeroGrad and one more Backward
	CheckRight           error   // GradCheck of a Custom SiLU with the right backward
	CheckWrong           error   // … and with a wrong one (forgets a term)
	CheckLibrary         error   // GradCheck of autograd.SiLU itself
	SecondMaxErr         float64 // max |d²/dx² tanh by GradGraph − closed form| on a grid
	CheckSecond          error   // GradCheck of x ↦ ∂/∂x Σ SiLU(x) (a gradient built by GradGraph)
	DivergenceTrainedErr float64 // ∂/∂w of the divergence of v(x) = tanh(w·x): engine vs closed form
}

func main() {
	cfg := Config{Out: filepath.Join(os.TempDir(), "flowmatch-tutorials", "03-autograd")}
	flag.StringVar(&cfg.Out, "out", cfg.Out, "directory for the pictures")
	flag.Parse()
	r, err := run(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("1. L = (a·b + a)² at a = 2, b = −3, forward then backward")
	fmt.Printf("   forward:  u = a·b = %g, v = u + a = %g, L = v² = %g\n", r.U, r.V, r.L)
	fmt.Printf("   by hand:  ∂L/∂v = 2v = %g; ∂L/∂a = 2v·b + 2v·1 = %g + %g = %g; ∂L/∂b = 2v·a = %g\n", 2*r.V, r.PathA1, r.PathA2, r.HandA, r.HandB)
	fmt.Printf("   Backward: ∂L/∂a = %g, ∂L/∂b = %g\n", r.EngineA, r.EngineB)
	fmt.Println("2. Why backward adds: a is used twice, so its gradient is the sum over both uses")
	fmt.Printf("   diamond x → (sin x, x²) → product at x = 1.3: Backward %.12f, cos x·x² + 2x·sin x = %.12f\n", r.DiamondGot, r.DiamondWant)
	fmt.Printf("   an engine that stored instead of adding would report %.6f (one path only)\n", r.DiamondOnePath)
	fmt.Printf("   leaves accumulate across calls too: a.Grad = %g after one Backward, %g after two, %g after ZeroGrad + one\n", r.GradOnce, r.GradTwice, r.GradAfterZero)
	fmt.Println("3. GradCheck: central differences with a derived tolerance")
	fmt.Printf("   Custom SiLU with backward g⊙σ(a)⊙(1 + a⊙(1 − σ(a))): %v\n", okOr(r.CheckRight))
	fmt.Printf("   Custom SiLU with backward g⊙σ(a) (wrong): %v\n", okOr(r.CheckWrong))
	fmt.Printf("   autograd.SiLU: %v\n", okOr(r.CheckLibrary))
	fmt.Println("4. A gradient of a gradient (GradGraph records the backward pass)")
	fmt.Printf("   d²/dx² tanh x = −2·tanh x·(1 − tanh² x): max error %.1e on [−3, 3]\n", r.SecondMaxErr)
	fmt.Printf("   GradCheck of x ↦ ∂/∂x Σ SiLU(x) (second derivatives): %v\n", okOr(r.CheckSecond))
	fmt.Printf("   ∂/∂w of div v for v(x) = tanh(w·x), the pattern of CNF training: error %.1e\n", r.DivergenceTrainedErr)
	if cfg.Out != "" {
		fmt.Println("pictures in", cfg.Out)
	}
}

func okOr(err error) string {
	if err == nil {
		return "passes"
	}
	return "FAILS: " + err.Error()
}

// leaf is a scalar that requires a gradient.
func leaf(v float64) *ag.Tensor { return ag.Scalar(v).SetRequiresGrad(true) }

// sigmoid is σ(a) as a plain number.
func sigmoid(a float64) float64 { return 1 / (1 + math.Exp(-a)) }

// customSiLU is SiLU registered with a backward of our choice: right or wrong.
func customSiLU(a *ag.Tensor, right bool) *ag.Tensor {
	out := ag.Zeros(a.Rows, a.Cols)
	for i, x := range a.Data {
		out.Data[i] = x * sigmoid(x)
	}
	return ag.Custom("MySiLU", out, []*ag.Tensor{a}, func(g *ag.Tensor) []*ag.Tensor {
		s := ag.Sigmoid(a)
		if !right {
			return []*ag.Tensor{ag.Mul(g, s)} // forgets a·σ′(a): the classic slip
		}
		oneMinusS := ag.AddScalar(ag.Neg(s), 1)
		return []*ag.Tensor{ag.Mul(g, ag.Mul(s, ag.AddScalar(ag.Mul(a, oneMinusS), 1)))}
	})
}

func run(cfg Config) (Result, error) {
	var r Result

	// Part 1. Every op records its inputs and a closure that maps
	// g = ∂L/∂out to ∂L/∂input; Backward runs them from L down.
	a, b := leaf(2), leaf(-3)
	u := ag.Mul(a, b)
	v := ag.Add(u, a)
	L := ag.Square(v)
	r.U, r.V, r.L = u.Item(), v.Item(), L.Item()
	gv := 2 * r.V                                     // Square: ∂L/∂v = 2v
	r.PathA1, r.PathA2 = gv*b.Item(), gv*1            // Mul gives g·b to a; Add gives g to a
	r.HandA, r.HandB = r.PathA1+r.PathA2, gv*a.Item() // Mul gives g·a to b
	L.Backward()
	r.EngineA, r.EngineB = a.Grad[0], b.Grad[0]

	// Part 2. A diamond: x feeds two branches that meet again.
	x := leaf(1.3)
	s, q := ag.Sin(x), ag.Square(x)
	ag.Mul(s, q).Backward()
	xv := 1.3
	r.DiamondGot = x.Grad[0]
	r.DiamondWant = math.Cos(xv)*xv*xv + 2*xv*math.Sin(xv)
	r.DiamondOnePath = 2 * xv * math.Sin(xv) // the branch through x² alone
	// Leaves accumulate across Backward calls, so training loops call ZeroGrad.
	a2 := leaf(2)
	y := ag.Square(a2) // dy/da = 2a = 4
	y.Backward()
	r.GradOnce = a2.Grad[0]
	y.Backward()
	r.GradTwice = a2.Grad[0]
	a2.ZeroGrad()
	y.Backward()
	r.GradAfterZero = a2.Grad[0]

	// Part 3. GradCheck compares a backward pass with central differences.
	pts := ag.FromRows([][]float64{{-2.5, -0.7, 0.1}, {0.9, 1.7, 3.2}})
	r.CheckRight = ag.GradCheck(func(xs []*ag.Tensor) *ag.Tensor { return customSiLU(xs[0], true) }, []*ag.Tensor{pts}, nil)
	r.CheckWrong = ag.GradCheck(func(xs []*ag.Tensor) *ag.Tensor { return customSiLU(xs[0], false) }, []*ag.Tensor{pts}, nil)
	r.CheckLibrary = ag.GradCheck(func(xs []*ag.Tensor) *ag.Tensor { return ag.SiLU(xs[0]) }, []*ag.Tensor{pts}, nil)

	// Part 4. GradGraph returns the gradient as a graph, which Grad can
	// differentiate again: the second derivative, element by element.
	n := 61
	grid := ag.Zeros(n, 1)
	for i := range grid.Data {
		grid.Data[i] = -3 + 6*float64(i)/float64(n-1)
	}
	xs := grid.Clone().SetRequiresGrad(true)
	d1 := ag.GradGraph(ag.Sum(ag.Tanh(xs)), nil, xs)[0] // 1 − tanh², as a graph
	d2 := ag.Grad(ag.Sum(d1), nil, xs)[0]               // rows are independent: the diagonal
	for i, xv := range grid.Data {
		th := math.Tanh(xv)
		r.SecondMaxErr = max(r.SecondMaxErr, math.Abs(d2.Data[i]-(-2*th*(1-th*th))))
	}
	r.CheckSecond = ag.GradCheck(func(xs []*ag.Tensor) *ag.Tensor {
		return ag.GradGraph(ag.Sum(ag.SiLU(xs[0])), nil, xs[0])[0]
	}, []*ag.Tensor{pts}, nil)
	// The divergence of v(x) = tanh(w·x) in 1-D is w·(1 − tanh²(wx)); training
	// a CNF needs its derivative in w: (1 − T²) − 2wx·T·(1 − T²), T = tanh(wx).
	w, x0 := leaf(0.8), ag.Scalar(1.1).SetRequiresGrad(true)
	div := ag.GradGraph(ag.Tanh(ag.Mul(w, x0)), nil, x0)[0]
	dw := ag.Grad(div, nil, w)[0].Item()
	T := math.Tanh(0.8 * 1.1)
	r.DivergenceTrainedErr = math.Abs(dw - ((1 - T*T) - 2*0.8*1.1*T*(1-T*T)))

	if cfg.Out == "" {
		return r, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return r, err
	}
	// SiLU and its first two derivatives, all three from the engine.
	m := 121
	gx := make([]float64, m)
	for i := range gx {
		gx[i] = -5 + 10*float64(i)/float64(m-1)
	}
	xl := ag.FromSlice(m, 1, append([]float64(nil), gx...)).SetRequiresGrad(true)
	f0 := ag.SiLU(xl)
	f1 := ag.GradGraph(ag.Sum(f0), nil, xl)[0]
	f2 := ag.Grad(ag.Sum(f1), nil, xl)[0]
	return r, plot.Lines(filepath.Join(cfg.Out, "silu-derivatives.png"), "SiLU and its derivatives, all from autograd", plot.Axes{X: "x"},
		[]plot.Curve{
			{Name: "SiLU(x) = x·σ(x)", X: gx, Y: append([]float64(nil), f0.Data...)},
			{Name: "SiLU′ (Grad)", X: gx, Y: append([]float64(nil), f1.Data...)},
			{Name: "SiLU″ (Grad of GradGraph)", X: gx, Y: f2.Data, Dashed: true},
		})
}
