// Package exercises is the coursework of tutorial 14: write the sphere's
// logarithm map Log_x(y), the velocity at x of the great circle that
// reaches y at time 1.
//
// log_solution.go (built by default) delegates to riemann.Sphere.Log, so
// `go test ./...` passes; log_exercise.go (built with -tags exercises)
// holds a stub that panics until you fill it in. Grade your work with
//
//	go test -tags exercises ./tutorials/14-manifolds/exercises
//
// The test compares your Log with the library's on pairs at small, medium
// and large angles, and checks that it is tangent (x·Log_x(y) = 0) and that
// Exp_x(Log_x(y)) = y.
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (the projection without its length, the
// chord, the arguments swapped, a unit vector, a flipped sign), a hint naming
// that mistake and where to read, not the formula. TestDiagnosis checks every
// hint.
package exercises
