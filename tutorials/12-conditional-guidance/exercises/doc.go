// Package exercises is the coursework of tutorial 12: the two pieces of
// classifier-free guidance that a conditional flow adds to flow matching.
//
//   - GuidedField: the guided field ṽ = (1 − w)·v(t, x, ∅) + w·v(t, x, c),
//     with w = 1 the conditional field and w = 0 the unconditional one (Ho &
//     Salimans 2022, arXiv:2207.12598, eq. 6, written for velocities; their
//     weight is our w − 1).
//   - DropLabels: the label-dropout batch of training, each label replaced
//     by the null label with probability p (Ho & Salimans 2022, Algorithm 1).
//
// guidance_solution.go (built by default) delegates to the library
// (fm.Guided, fm.DropContext), so `go test ./...` passes;
// guidance_exercise.go (built with -tags exercises) holds stubs that panic
// until you fill them in. Grade your work with
//
//	go test -tags exercises ./tutorials/12-conditional-guidance/exercises
//
// TestGuidedField compares your field with fm.Guided's on exact mixture
// fields at several w; TestDropLabels compares your batch with
// fm.DropContext's for the same random numbers, and checks that the input
// is left alone and that the dropped fraction is p within 4 standard
// errors over 20,000 labels. A wrong answer fails with the first value that
// differs ("got … want …") and, when it matches a likely mistake (the
// weights swapped, Ho & Salimans' weight taken for ours, dropping with
// probability 1 − p, the wrong null label, one draw for the whole batch), a
// hint naming it. TestDiagnosis checks every hint.
package exercises
