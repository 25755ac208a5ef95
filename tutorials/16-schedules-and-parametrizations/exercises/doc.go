// Package exercises is the coursework of tutorial 16: turn a velocity
// prediction on an affine Gaussian path into a data (x̂₁) prediction, given
// α_t, σ_t and their derivatives.
//
// convert_solution.go (built by default) delegates to fm.Convert, so
// `go test ./...` passes; convert_exercise.go (built with -tags exercises)
// holds a stub that panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/16-schedules-and-parametrizations/exercises
//
// The test compares your DataFromVelocity with the library's on the CondOT,
// Cosine and VP schedules at several times, and checks it against the exact
// E[x₁ | x_t = x] of a Gaussian mixture (fm.MixtureMarginal.DataMean).
//
// A wrong answer fails with the first value that differs ("got … want …")
// and, when it matches a likely mistake (a flipped sign of the determinant,
// the x-term left out, α and σ exchanged, the velocity taken for x̂₁), a hint
// naming that mistake and where to read, not the formula. TestDiagnosis
// checks every hint.
package exercises
