//go:build !purego

package kernels

// adamAVX2 and adamAVX512 (adam_amd64.s) run AdamStep's loop on the first
// n elements, n a multiple of 4 or 8.
//
//go:noescape
func adamAVX2(param, grad, m, v *float64, n int, p *AdamParams)

//go:noescape
func adamAVX512(param, grad, m, v *float64, n int, p *AdamParams)

func adamKernel(param, grad, m, v []float64, p *AdamParams) {
	n := len(param)
	grad, m, v = grad[:n], m[:n], v[:n]
	var done int
	switch {
	case useAVX512:
		done = n &^ 7
		if done > 0 {
			adamAVX512(&param[0], &grad[0], &m[0], &v[0], done, p)
		}
	case haveVecMath:
		done = n &^ 3
		if done > 0 {
			adamAVX2(&param[0], &grad[0], &m[0], &v[0], done, p)
		}
	}
	adamStepRef(param[done:], grad[done:], m[done:], v[done:], p)
}
