//go:build race

package autograd

// raceEnabled: the race detector is on, and sync.Pool drops a random share
// of what it is given (so the convolutions' pooled scratch is remade).
const raceEnabled = true
