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
package exercises
