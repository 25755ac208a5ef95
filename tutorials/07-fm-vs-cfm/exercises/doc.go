// Package exercises is the coursework of tutorial 07: write the Conditional
// Flow Matching loss on one batch.
//
// cfmloss_solution.go (built by default) delegates to fm.CFMLoss, so
// `go test ./...` passes; cfmloss_exercise.go (built with -tags exercises)
// holds a stub that panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/07-fm-vs-cfm/exercises
package exercises
