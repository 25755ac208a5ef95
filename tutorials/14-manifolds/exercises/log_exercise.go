//go:build exercises

package exercises

// SphereLog returns Log_x(y) on the unit sphere S² ⊂ ℝ³ for unit vectors x
// and y with y ≠ −x (tutorial 14 README, Math; Chen & Lipman 2023,
// arXiv:2302.03660, §3.3): the tangent vector v at x (x·v = 0) such that
// the geodesic leaving x with velocity v reaches y at time 1, so its length
// is the angle between x and y and Exp_x(v) = cos‖v‖·x + sin‖v‖·v/‖v‖ = y.
//
// Hint: remove from y its component along x to get the direction; then give
// the vector the right length. math.Atan2 of a sine and a cosine gives an
// angle that is accurate near 0 and π.
func SphereLog(x, y []float64) []float64 {
	panic("exercise: SphereLog is not written yet — see tutorial 14 README, Math (the logarithm map)")
}
