// Package exercises is the coursework of tutorial 06: compute the posterior
// weights of the marginal field in log space.
//
// posterior_solution.go (built by default) delegates to
// fm.EmpiricalMarginal.Posterior, so `go test ./...` passes;
// posterior_exercise.go (built with -tags exercises) holds a stub that
// panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/06-marginal-paths/exercises
package exercises
