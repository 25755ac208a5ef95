// Package exercises is the coursework of tutorial 13: write the input
// gradient of a convolution, ∂L/∂x given g = ∂L/∂out, with loops.
//
// conv_solution.go (built by default) delegates to autograd (the gradient
// of autograd.Conv2D), so `go test ./...` passes; conv_exercise.go (built
// with -tags exercises) holds a stub that panics until you fill it in.
// Grade your work with
//
//	go test -tags exercises ./tutorials/13-convolution/exercises
//
// The test compares your InputGrad with autograd's on three geometries
// (stride 1 with padding, stride 2 with padding, a non-square kernel
// without padding).
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (the kernel rotated once too often, the
// stride or the padding left out, the sums overwritten instead of added), a
// hint naming that mistake and where to read, not the formula. TestDiagnosis
// checks every hint.
package exercises
