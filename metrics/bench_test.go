package metrics

import (
	"fmt"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
)

func BenchmarkW2Squared(b *testing.B) {
	for _, n := range []int{250, 1000, 2000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rng := newRNG(1)
			x, y := autograd.Normal(n, 2, 0, 1, rng), autograd.Normal(n, 2, 0, 1, rng)
			for b.Loop() {
				if _, err := W2Squared(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
