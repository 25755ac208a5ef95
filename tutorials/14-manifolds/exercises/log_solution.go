//go:build !exercises

package exercises

import "github.com/flowmatch/flowmatch/fm/riemann"

// SphereLog returns Log_x(y) on S²: riemann.Sphere{D: 2}.Log.
func SphereLog(x, y []float64) []float64 { return riemann.Sphere{D: 2}.Log(x, y) }
