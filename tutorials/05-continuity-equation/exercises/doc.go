// Package exercises is the coursework of tutorial 05: write Hutchinson's
// stochastic estimator of the divergence.
//
// hutchinson_solution.go (built by default) delegates to
// cnf.HutchinsonDivergence, so `go test ./...` passes; hutchinson_exercise.go
// (built with -tags exercises) holds a stub that panics until you fill it
// in. Grade your work with
//
//	go test -tags exercises ./tutorials/05-continuity-equation/exercises
package exercises
