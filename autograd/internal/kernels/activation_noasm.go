//go:build purego || !amd64

package kernels

func expKernel(dst, a []float64)                            { expRef(dst, a) }
func sigmoidKernel(dst, a []float64)                        { sigmoidRef(dst, a) }
func siluKernel(dst, a []float64)                           { siluRef(dst, a) }
func tanhKernel(dst, a []float64)                           { tanhRef(dst, a) }
func siluGradKernel(dst, g, a []float64)                    { siluGradRef(dst, g, a) }
func tanhGradKernel(dst, g, y []float64)                    { tanhGradRef(dst, g, y) }
func addRowSiLUKernel(pre, out, a, row []float64, cols int) { addRowSiLURef(pre, out, a, row, cols) }

// haveVecMath reports whether the activations run the assembly kernels.
const haveVecMath = false

const useAVX512 = false
