package data

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogDensity_Concurrent: a fresh set's log-density, whose quadrature
// nodes are built on first use, is safe to evaluate from several goroutines
// (run with -race) and gives the same values as a serial evaluation.
func TestLogDensity_Concurrent(t *testing.T) {
	for _, mk := range []func() Density{
		func() Density { return MoonsFFJORD() },
		func() Density { return &Moons{Noise: 0.1, Scale: 1} },
		Circles, TwoSpirals,
	} {
		serial := mk()
		x := serial.Sample(64, newRNG(3))
		want := make([]float64, x.Rows)
		for i := range want {
			want[i] = serial.LogDensity(x.Row(i))
		}
		d := mk()
		got := make([]float64, x.Rows)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < x.Rows; i += 4 {
					got[i] = d.LogDensity(x.Row(i))
				}
			}()
		}
		wg.Wait()
		require.Equal(t, want, got, d.Name())
	}
}
