//go:build purego || !amd64

package kernels

func adamKernel(param, grad, m, v []float64, p *AdamParams) { adamStepRef(param, grad, m, v, p) }
