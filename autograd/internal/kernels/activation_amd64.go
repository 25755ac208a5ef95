//go:build !purego

package kernels

import "github.com/flowmatch/flowmatch/internal/cpu"

// Assembly kernels in activation_amd64.s. Each processes n elements, the
// last n%4 (n%8 for the AVX-512 ones) with masked loads and stores, so it
// touches no memory outside its slices.

//go:noescape
func expAVX2(dst, a *float64, n int)

//go:noescape
func sigmoidAVX2(dst, a *float64, n int)

//go:noescape
func siluAVX2(dst, a *float64, n int)

//go:noescape
func tanhAVX2(dst, a *float64, n int)

//go:noescape
func siluGradAVX2(dst, gr, a *float64, n int)

//go:noescape
func tanhGradAVX2(dst, gr, y *float64, n int)

//go:noescape
func addRowSiLUAVX2(pre, out, a, row *float64, n int)

// haveVecMath reports whether the activations run the assembly kernels,
// and useAVX512 whether Exp, Sigmoid, SiLU, SiLUGrad and AddRowSiLU run
// their 8-lane versions: on Zen 4 these take 0.4× the time of the 4-lane
// ones (BenchmarkActivationWidth), with bit-identical results
// (TestActivations_AVX512MatchesAVX2).
var (
	haveVecMath = hasAVX2FMA()
	useAVX512   = hasAVX512F()
)

// activationKernels names the activation kernels in use, for Describe.
func activationKernels() string {
	switch {
	case useAVX512:
		return "AVX-512 assembly, 8 lanes"
	case haveVecMath:
		return "AVX2+FMA assembly, 4 lanes"
	}
	return "Go loops"
}

func expKernel(dst, a []float64) {
	if len(dst) == 0 || !haveVecMath {
		expLoop(dst, a)
		return
	}
	a = a[:len(dst)]
	if useAVX512 {
		expAVX512(&dst[0], &a[0], len(dst))
		return
	}
	expAVX2(&dst[0], &a[0], len(dst))
}

func sigmoidKernel(dst, a []float64) {
	if len(dst) == 0 || !haveVecMath {
		sigmoidLoop(dst, a)
		return
	}
	a = a[:len(dst)]
	if useAVX512 {
		sigmoidAVX512(&dst[0], &a[0], len(dst))
		return
	}
	sigmoidAVX2(&dst[0], &a[0], len(dst))
}

func siluKernel(dst, a []float64) {
	if len(dst) == 0 || !haveVecMath {
		siluLoop(dst, a)
		return
	}
	a = a[:len(dst)]
	if useAVX512 {
		siluAVX512(&dst[0], &a[0], len(dst))
		return
	}
	siluAVX2(&dst[0], &a[0], len(dst))
}

func tanhKernel(dst, a []float64) {
	if len(dst) == 0 || !haveVecMath {
		tanhRef(dst, a)
		return
	}
	a = a[:len(dst)]
	tanhAVX2(&dst[0], &a[0], len(dst))
}

func siluGradKernel(dst, g, a []float64) {
	if len(dst) == 0 {
		return
	}
	g, a = g[:len(dst)], a[:len(dst)]
	if !haveVecMath {
		siluGradLoop(dst, g, a)
		return
	}
	if useAVX512 {
		siluGradAVX512(&dst[0], &g[0], &a[0], len(dst))
		return
	}
	siluGradAVX2(&dst[0], &g[0], &a[0], len(dst))
}

func tanhGradKernel(dst, g, y []float64) {
	if len(dst) == 0 {
		return
	}
	g, y = g[:len(dst)], y[:len(dst)]
	if !haveVecMath {
		tanhGradRef(dst, g, y)
		return
	}
	tanhGradAVX2(&dst[0], &g[0], &y[0], len(dst))
}

func addRowSiLUKernel(pre, out, a, row []float64, cols int) {
	if len(pre) == 0 {
		return
	}
	if !haveVecMath {
		addRowSiLULoop(pre, out, a, row, cols)
		return
	}
	row = row[:cols]
	out, a = out[:len(pre)], a[:len(pre)]
	for i := 0; i < len(pre); i += cols {
		n := min(cols, len(pre)-i)
		_, _, _ = pre[i+n-1], out[i+n-1], a[i+n-1]
		if useAVX512 {
			addRowSiLUAVX512(&pre[i], &out[i], &a[i], &row[0], n)
		} else {
			addRowSiLUAVX2(&pre[i], &out[i], &a[i], &row[0], n)
		}
	}
}

//go:noescape
func expAVX512(dst, a *float64, n int)

//go:noescape
func sigmoidAVX512(dst, a *float64, n int)

//go:noescape
func siluAVX512(dst, a *float64, n int)

//go:noescape
func siluGradAVX512(dst, gr, a *float64, n int)

//go:noescape
func addRowSiLUAVX512(pre, out, a, row *float64, n int)

// hasAVX512F reports whether the CPU has AVX-512F and the OS saves the
// opmask and ZMM registers (read once by internal/cpu).
func hasAVX512F() bool { return hasAVX2FMA() && cpu.Detect().AVX512F }
