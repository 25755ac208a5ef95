// Package exercises is the coursework of tutorial 05: write Hutchinson's
// stochastic estimator of the divergence.
//
// hutchinson_solution.go (built by default) delegates to
// cnf.HutchinsonDivergence, so `go test ./...` passes; hutchinson_exercise.go
// (built with -tags exercises) holds a stub that panics until you fill it
// in. Grade your work with
//
//	go test -tags exercises ./tutorials/05-continuity-equation/exercises
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (a factor such as n or 1/d, a flipped sign,
// t and 1 − t swapped, a missing term), a hint naming that mistake and where
// to read, not the formula. TestDiagnosis checks every hint.
package exercises
