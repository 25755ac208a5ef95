//go:build purego || !amd64

package kernels

func expKernel(dst, a []float64)                            { expLoop(dst, a) }
func sigmoidKernel(dst, a []float64)                        { sigmoidLoop(dst, a) }
func siluKernel(dst, a []float64)                           { siluLoop(dst, a) }
func tanhKernel(dst, a []float64)                           { tanhRef(dst, a) }
func siluGradKernel(dst, g, a []float64)                    { siluGradLoop(dst, g, a) }
func tanhGradKernel(dst, g, y []float64)                    { tanhGradRef(dst, g, y) }
func addRowSiLUKernel(pre, out, a, row []float64, cols int) { addRowSiLULoop(pre, out, a, row, cols) }

func activationKernels() string { return "Go loops" }

// Without the assembly, Exp, Sigmoid, SiLU, SiLUGrad and AddRowSiLU run the
// loops of activation_go.go and Tanh, TanhGrad their reference loops.
