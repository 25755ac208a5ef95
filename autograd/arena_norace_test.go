//go:build !race

package autograd

// raceEnabled: the race detector is off.
const raceEnabled = false
