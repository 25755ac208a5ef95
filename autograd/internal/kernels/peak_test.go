package kernels

import (
	"fmt"
	"math"
	"testing"
	"time"
)

/*
The scalar peak: the ceiling of any GEMM written in portable Go.

Go's compiler does not vectorize, so the portable kernel (kern8x8) issues
one scalar multiply and one scalar add per multiply-add. How many of those
a core retires per cycle, when nothing else limits it, is measured here
with k independent chains s ← s·x + y (k = 4, 8, 12, 16; every chain
depends only on itself, so with enough of them the core's floating-point
pipes, not the latency of one chain, set the rate), two flops per link:

  - mulAdd: s = float64(s·x) + y, product rounded before the add, as the
    portable kernel computes (a separate multiply and add instruction);
  - fma: s = math.FMA(s, x, y), which the compiler turns into one
    VFMADD231SD on amd64 and FMADDD on arm64. On amd64 with the default
    GOAMD64=v1 each one sits behind a test of runtime.x86HasFMA with a call
    to the software math.FMA as the other branch, and the registers live
    across that call are spilled around it, so the chains run at a fraction
    of the rate they reach with GOAMD64=v3, where the instruction stands
    alone (GNU objdump shows it; go tool objdump misdecodes it as a MOVL).

BenchmarkScalarPeak reports GFLOP/s in wall-clock time and "cpu-GFLOP/s"
in the CPU time of the measuring thread (Linux; wall clock elsewhere), the
one to read on a shared machine. x = 0.999 and y = 0.001 keep every s in
(0, 1] with no subnormals.
*/

// BenchmarkScalarPeak measures the scalar multiply-add peak, see above.
func BenchmarkScalarPeak(b *testing.B) {
	const links = 1 << 16 // links per chain per call
	for _, c := range []struct {
		name string
		k    int
		f    func(n int, x, y float64) float64
	}{
		{"mulAdd", 4, mulAddChains4}, {"mulAdd", 8, mulAddChains8},
		{"mulAdd", 12, mulAddChains12}, {"mulAdd", 16, mulAddChains16},
		{"fma", 4, fmaChains4}, {"fma", 8, fmaChains8},
		{"fma", 12, fmaChains12}, {"fma", 16, fmaChains16},
	} {
		b.Run(fmt.Sprintf("%s/k=%d", c.name, c.k), func(b *testing.B) {
			now, done, _ := threadClock()
			defer done()
			var sink float64
			t0 := now()
			for b.Loop() {
				sink += c.f(links, 0.999, 0.001)
			}
			cpu := now() - t0
			if math.IsNaN(sink) {
				b.Fatal("NaN")
			}
			flops := 2 * float64(c.k) * links * float64(b.N)
			b.ReportMetric(flops/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
			if cpu > 0 {
				b.ReportMetric(flops/float64(cpu/time.Nanosecond), "cpu-GFLOP/s")
			}
		})
	}
}

func mulAddChains4(n int, x, y float64) float64 {
	s0, s1, s2, s3 := 1.0/5, 2.0/5, 3.0/5, 4.0/5
	for range n {
		s0 = float64(s0*x) + y
		s1 = float64(s1*x) + y
		s2 = float64(s2*x) + y
		s3 = float64(s3*x) + y
	}
	return s0 + s1 + s2 + s3
}

func mulAddChains8(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7 := 1.0/9, 2.0/9, 3.0/9, 4.0/9, 5.0/9, 6.0/9, 7.0/9, 8.0/9
	for range n {
		s0 = float64(s0*x) + y
		s1 = float64(s1*x) + y
		s2 = float64(s2*x) + y
		s3 = float64(s3*x) + y
		s4 = float64(s4*x) + y
		s5 = float64(s5*x) + y
		s6 = float64(s6*x) + y
		s7 = float64(s7*x) + y
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

func mulAddChains12(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 := 1.0/13, 2.0/13, 3.0/13, 4.0/13, 5.0/13, 6.0/13, 7.0/13, 8.0/13, 9.0/13, 10.0/13, 11.0/13, 12.0/13
	for range n {
		s0 = float64(s0*x) + y
		s1 = float64(s1*x) + y
		s2 = float64(s2*x) + y
		s3 = float64(s3*x) + y
		s4 = float64(s4*x) + y
		s5 = float64(s5*x) + y
		s6 = float64(s6*x) + y
		s7 = float64(s7*x) + y
		s8 = float64(s8*x) + y
		s9 = float64(s9*x) + y
		s10 = float64(s10*x) + y
		s11 = float64(s11*x) + y
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11
}

func mulAddChains16(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 := 1.0/17, 2.0/17, 3.0/17, 4.0/17, 5.0/17, 6.0/17, 7.0/17, 8.0/17, 9.0/17, 10.0/17, 11.0/17, 12.0/17, 13.0/17, 14.0/17, 15.0/17, 16.0/17
	for range n {
		s0 = float64(s0*x) + y
		s1 = float64(s1*x) + y
		s2 = float64(s2*x) + y
		s3 = float64(s3*x) + y
		s4 = float64(s4*x) + y
		s5 = float64(s5*x) + y
		s6 = float64(s6*x) + y
		s7 = float64(s7*x) + y
		s8 = float64(s8*x) + y
		s9 = float64(s9*x) + y
		s10 = float64(s10*x) + y
		s11 = float64(s11*x) + y
		s12 = float64(s12*x) + y
		s13 = float64(s13*x) + y
		s14 = float64(s14*x) + y
		s15 = float64(s15*x) + y
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15
}

func fmaChains4(n int, x, y float64) float64 {
	s0, s1, s2, s3 := 1.0/5, 2.0/5, 3.0/5, 4.0/5
	for range n {
		s0 = math.FMA(s0, x, y)
		s1 = math.FMA(s1, x, y)
		s2 = math.FMA(s2, x, y)
		s3 = math.FMA(s3, x, y)
	}
	return s0 + s1 + s2 + s3
}

func fmaChains8(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7 := 1.0/9, 2.0/9, 3.0/9, 4.0/9, 5.0/9, 6.0/9, 7.0/9, 8.0/9
	for range n {
		s0 = math.FMA(s0, x, y)
		s1 = math.FMA(s1, x, y)
		s2 = math.FMA(s2, x, y)
		s3 = math.FMA(s3, x, y)
		s4 = math.FMA(s4, x, y)
		s5 = math.FMA(s5, x, y)
		s6 = math.FMA(s6, x, y)
		s7 = math.FMA(s7, x, y)
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

func fmaChains12(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 := 1.0/13, 2.0/13, 3.0/13, 4.0/13, 5.0/13, 6.0/13, 7.0/13, 8.0/13, 9.0/13, 10.0/13, 11.0/13, 12.0/13
	for range n {
		s0 = math.FMA(s0, x, y)
		s1 = math.FMA(s1, x, y)
		s2 = math.FMA(s2, x, y)
		s3 = math.FMA(s3, x, y)
		s4 = math.FMA(s4, x, y)
		s5 = math.FMA(s5, x, y)
		s6 = math.FMA(s6, x, y)
		s7 = math.FMA(s7, x, y)
		s8 = math.FMA(s8, x, y)
		s9 = math.FMA(s9, x, y)
		s10 = math.FMA(s10, x, y)
		s11 = math.FMA(s11, x, y)
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11
}

func fmaChains16(n int, x, y float64) float64 {
	s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 := 1.0/17, 2.0/17, 3.0/17, 4.0/17, 5.0/17, 6.0/17, 7.0/17, 8.0/17, 9.0/17, 10.0/17, 11.0/17, 12.0/17, 13.0/17, 14.0/17, 15.0/17, 16.0/17
	for range n {
		s0 = math.FMA(s0, x, y)
		s1 = math.FMA(s1, x, y)
		s2 = math.FMA(s2, x, y)
		s3 = math.FMA(s3, x, y)
		s4 = math.FMA(s4, x, y)
		s5 = math.FMA(s5, x, y)
		s6 = math.FMA(s6, x, y)
		s7 = math.FMA(s7, x, y)
		s8 = math.FMA(s8, x, y)
		s9 = math.FMA(s9, x, y)
		s10 = math.FMA(s10, x, y)
		s11 = math.FMA(s11, x, y)
		s12 = math.FMA(s12, x, y)
		s13 = math.FMA(s13, x, y)
		s14 = math.FMA(s14, x, y)
		s15 = math.FMA(s15, x, y)
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15
}
