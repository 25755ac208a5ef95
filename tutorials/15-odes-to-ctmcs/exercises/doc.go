// Package exercises is the coursework of tutorial 15: write the
// probability velocity (the CTMC rate) of the mixture path.
//
// velocity_solution.go (built by default) delegates to discrete.Rate, so
// `go test ./...` passes; velocity_exercise.go (built with -tags
// exercises) holds a stub that panics until you fill it in. Grade your
// work with
//
//	go test -tags exercises ./tutorials/15-odes-to-ctmcs/exercises
//
// A wrong answer fails with the first value that differs ("got … want …")
// and, when it matches a likely mistake (the jump coefficient without
// 1/(1 − κ_t), κ_t where κ̇_t belongs, a staying rate that does not make the
// row sum to 0, an unmasked token that moves), a hint naming that mistake,
// not the formula. TestDiagnosis checks every hint.
package exercises
