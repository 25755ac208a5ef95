// Package exercises is the coursework of tutorial 03: write the backward
// formulas of two ops by hand.
//
// The functions live in two files. backward_solution.go (built by default)
// delegates to the library, so `go test ./...` passes; backward_exercise.go
// (built with -tags exercises) holds stubs that panic until you fill them in.
// Grade your work with
//
//	go test -tags exercises ./tutorials/03-autograd/exercises
//
// The tests compare your gradients with the hand formulas on random inputs
// and run autograd.GradCheck on an op registered with your backward
// (autograd.Custom), exactly as tutorial 03 does with SiLU.
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (a factor such as n or 1/d, a flipped sign,
// t and 1 − t swapped, a missing term), a hint naming that mistake and where
// to read, not the formula. TestDiagnosis checks every hint.
package exercises
