// Package exercises is the coursework of tutorial 06: compute the posterior
// weights of the marginal field in log space.
//
// posterior_solution.go (built by default) delegates to
// fm.EmpiricalMarginal.Posterior, so `go test ./...` passes;
// posterior_exercise.go (built with -tags exercises) holds a stub that
// panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/06-marginal-paths/exercises
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (a factor such as n or 1/d, a flipped sign,
// t and 1 − t swapped, a missing term), a hint naming that mistake and where
// to read, not the formula. TestDiagnosis checks every hint.
package exercises
