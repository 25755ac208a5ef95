package fm

import "github.com/flowmatch/flowmatch/autograd"

// SetTrainArena makes Train's autograd step use the arenas that newArena
// returns (nil: none, the heap), for the tests of package fm_test; the
// function returned restores the default.
func SetTrainArena(newArena func() *autograd.Arena) (restore func()) {
	old := newTrainArena
	newTrainArena = newArena
	return func() { newTrainArena = old }
}
