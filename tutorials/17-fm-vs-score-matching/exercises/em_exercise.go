//go:build exercises

package exercises

// EulerMaruyamaStep returns X after one Euler–Maruyama step of size h of
// dX = [u_t(X) + (g²/2)·∇log p_t(X)] dt + g dW from x, given the velocity
// u = u_t(x), the score = ∇log p_t(x), the constant g and one standard
// normal draw z (tutorial 17 README, Math; Song et al. 2021,
// arXiv:2011.13456, §4.3).
//
// Hint: the drift is integrated over the step like Euler's method; the
// Brownian increment over a step of length h has standard deviation √h.
func EulerMaruyamaStep(x, u, score, z []float64, g, h float64) []float64 {
	panic("exercise: EulerMaruyamaStep is not written yet — see tutorial 17 README, Math (one Euler–Maruyama step)")
}
