package kernels

import (
	"fmt"
	"testing"
)

func BenchmarkDbgCross(b *testing.B) {
	for _, n := range []int{128, 160, 192, 256} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, threads), func(b *testing.B) {
				withThreads(threads, func() { benchGemm(b, Gemm, false, false, n, n, n) })
			})
		}
	}
}
