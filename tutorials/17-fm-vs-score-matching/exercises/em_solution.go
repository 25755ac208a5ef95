//go:build !exercises

package exercises

import "math"

// EulerMaruyamaStep returns x + h·(u + (g²/2)·score) + g·√h·z, the step of
// fm.SampleSDE.
func EulerMaruyamaStep(x, u, score, z []float64, g, h float64) []float64 {
	out := make([]float64, len(x))
	for j := range x {
		out[j] = x[j] + h*(u[j]+g*g/2*score[j]) + g*math.Sqrt(h)*z[j]
	}
	return out
}
