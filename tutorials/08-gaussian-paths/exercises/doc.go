// Package exercises is the coursework of tutorial 08: write the conditional
// vector field of the optimal-transport (CondOT) path.
//
// condot_solution.go (built by default) delegates to fm.CondOT.Field, so
// `go test ./...` passes; condot_exercise.go (built with -tags exercises)
// holds a stub that panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/08-gaussian-paths/exercises
package exercises
