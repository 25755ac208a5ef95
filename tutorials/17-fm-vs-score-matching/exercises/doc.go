// Package exercises is the coursework of tutorial 17: one Euler–Maruyama
// step of the SDE dX = [u_t(X) + (g²/2)·∇log p_t(X)] dt + g dW, whose
// marginals are those of the flow for every g.
//
// em_solution.go (built by default) is the library's step (the formula of
// fm.SampleSDE), so `go test ./...` passes; em_exercise.go (built with
// -tags exercises) holds a stub that panics until you fill it in. Grade
// your work with
//
//	go test -tags exercises ./tutorials/17-fm-vs-score-matching/exercises
//
// The test compares your EulerMaruyamaStep with the reference on several
// points, step sizes and g, and checks that with g = 0 it is Euler's step
// and that, step by step on the exact field of a Gaussian, it reproduces
// fm.SampleSDE.
//
// A wrong answer fails with the first value that differs ("got … want …")
// and, when it matches a likely mistake (g for g², no ½, h for √h, the
// score's sign flipped, the noise left out), a hint naming that mistake and
// where to read, not the formula. TestDiagnosis checks every hint.
package exercises
