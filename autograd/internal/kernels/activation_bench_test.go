package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchSizes are the activations of one hidden layer at batch 256 and 1024.
var benchSizes = []int{65536, 262144}

// benchActivation times f over n inputs drawn from N(0, 4), the range of
// pre-activations in training, and reports ns/element.
func benchActivation(b *testing.B, n int, f func(dst, g, a []float64)) {
	rnd := rand.New(rand.NewPCG(1, 1))
	a, g, dst := randSlice(rnd, n), randSlice(rnd, n), make([]float64, n)
	for i := range a {
		a[i] *= 2
	}
	b.ReportAllocs()
	for b.Loop() {
		f(dst, g, a)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
}

func runActivationBench(b *testing.B, f func(dst, g, a []float64)) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchActivation(b, n, f) })
	}
}

func unaryBench(f func(dst, a []float64)) func(dst, g, a []float64) {
	return func(dst, _, a []float64) { f(dst, a) }
}

func BenchmarkExp(b *testing.B)         { runActivationBench(b, unaryBench(Exp)) }
func BenchmarkExpRef(b *testing.B)      { runActivationBench(b, unaryBench(expRef)) }
func BenchmarkSigmoid(b *testing.B)     { runActivationBench(b, unaryBench(Sigmoid)) }
func BenchmarkSigmoidRef(b *testing.B)  { runActivationBench(b, unaryBench(sigmoidRef)) }
func BenchmarkSiLU(b *testing.B)        { runActivationBench(b, unaryBench(SiLU)) }
func BenchmarkSiLURef(b *testing.B)     { runActivationBench(b, unaryBench(siluRef)) }
func BenchmarkTanh(b *testing.B)        { runActivationBench(b, unaryBench(Tanh)) }
func BenchmarkTanhRef(b *testing.B)     { runActivationBench(b, unaryBench(tanhRef)) }
func BenchmarkSiLUGrad(b *testing.B)    { runActivationBench(b, SiLUGrad) }
func BenchmarkSiLUGradRef(b *testing.B) { runActivationBench(b, siluGradRef) }
func BenchmarkTanhGrad(b *testing.B)    { runActivationBench(b, TanhGrad) }
func BenchmarkTanhGradRef(b *testing.B) { runActivationBench(b, tanhGradRef) }

// BenchmarkAddRowSiLU compares the fused bias + SiLU with AddRow then SiLU.
func BenchmarkAddRowSiLU(b *testing.B) {
	const cols = 256
	fused := func(dst, g, a []float64) { AddRowSiLU(g, dst, a, a[:cols], cols) }
	separate := func(dst, g, a []float64) {
		AddRow(g, a, a[:cols], cols)
		SiLU(dst, g)
	}
	b.Run("fused", func(b *testing.B) { runActivationBench(b, fused) })
	b.Run("AddRow+SiLU", func(b *testing.B) { runActivationBench(b, separate) })
}
