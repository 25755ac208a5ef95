// Package exercises is the coursework of tutorial 07: write the Conditional
// Flow Matching loss on one batch.
//
// cfmloss_solution.go (built by default) delegates to fm.CFMLoss, so
// `go test ./...` passes; cfmloss_exercise.go (built with -tags exercises)
// holds a stub that panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/07-fm-vs-cfm/exercises
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (a factor such as n or 1/d, a flipped sign,
// t and 1 − t swapped, a missing term), a hint naming that mistake and where
// to read, not the formula. TestDiagnosis checks every hint.
package exercises
