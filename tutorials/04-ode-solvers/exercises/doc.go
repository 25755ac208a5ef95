// Package exercises is the coursework of tutorial 04: write one step of
// Euler's method and one step of the classical Runge–Kutta method.
//
// solver_solution.go (built by default) delegates to cnf.Integrate with a
// single step, so `go test ./...` passes; solver_exercise.go (built with
// -tags exercises) holds stubs that panic until you fill them in. Grade your
// work with
//
//	go test -tags exercises ./tutorials/04-ode-solvers/exercises
//
// The tests compare one step with the closed form for dx/dt = λx, with the
// library on a nonlinear, time-dependent field, and measure the order of
// your step repeated N times.
//
// A wrong answer fails with the first value that differs ("got … want …") and,
// when it matches a likely mistake (a factor such as n or 1/d, a flipped sign,
// t and 1 − t swapped, a missing term), a hint naming that mistake and where
// to read, not the formula. TestDiagnosis checks every hint.
package exercises
