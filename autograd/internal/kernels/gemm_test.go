package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

// gemmRef is the reference loop of Gemm's doc comment.
func gemmRef(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*m+i]
				} else {
					av = a[i*k+p]
				}
				if transB {
					bv = b[j*k+p]
				} else {
					bv = b[p*n+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*n+j] = alpha * s
			} else {
				c[i*n+j] = alpha*s + beta*c[i*n+j]
			}
		}
	}
}

const (
	unitRoundoff = 0x1p-53
	guardLen     = 9 // sentinel elements on each side of an output slice
)

var sentinel = math.Float64frombits(0x7ff8_dead_beef_0001) // a NaN with a payload

// guarded returns a slice of length n inside a larger buffer whose other
// elements hold sentinel, and a function that reports whether they still do.
func guarded(n int) ([]float64, func() bool) {
	buf := make([]float64, n+2*guardLen)
	for i := range buf {
		buf[i] = sentinel
	}
	intact := func() bool {
		for _, v := range append(buf[:guardLen:guardLen], buf[guardLen+n:]...) {
			if math.Float64bits(v) != math.Float64bits(sentinel) {
				return false
			}
		}
		return true
	}
	return buf[guardLen : guardLen+n], intact
}

func randSlice(rnd *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rnd.NormFloat64()
	}
	return s
}

type gemmImpl struct {
	name string
	f    func(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64)
}

// gemmImpls lists Gemm and the blocked GEMM with each micro-kernel this
// machine can run, each with its plan for this CPU and with a small plan
// (mc = 2·mr, kc = 8, nc = 2·nr) whose blocks the small sizes below cross,
// so every kernel and every block edge is tested whichever one Gemm picks.
func gemmImpls() []gemmImpl {
	impls := []gemmImpl{{"Gemm", Gemm}}
	for _, kn := range availableKernels() {
		for _, p := range []*gemmPlan{planFor(kn, cpu.Detect()), smallPlan(kn)} {
			impls = append(impls, blockedImpl(p))
		}
	}
	return impls
}

// gemmImplsMachine is gemmImpls without the small plans, for the large
// sizes (the small plans' blocks are crossed by TestGemm_SmallSizes and
// TestGemm_EdgeSizes already).
func gemmImplsMachine() []gemmImpl {
	impls := []gemmImpl{{"Gemm", Gemm}}
	for _, kn := range availableKernels() {
		impls = append(impls, blockedImpl(planFor(kn, cpu.Detect())))
	}
	return impls
}

// smallPlan is kernel kn with blocks small enough for the test sizes to
// span several of each.
func smallPlan(kn *microKernel) *gemmPlan {
	return &gemmPlan{kn, 2 * kn.mr, 8, 2 * kn.nr, "small, for tests"}
}

// blockedImpl runs the blocked GEMM with plan p on one thread.
func blockedImpl(p *gemmPlan) gemmImpl {
	s := new(Scratch)
	return gemmImpl{
		name: fmt.Sprintf("blocked%dx%d/mc=%d,kc=%d,nc=%d", p.kn.mr, p.kn.nr, p.mc, p.kc, p.nc),
		f: func(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
			if m == 0 || n == 0 || k == 0 {
				gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
				return
			}
			gemmBlocked(p, s, transA, transB, m, n, k, alpha, a, b, beta, c)
		},
	}
}

// checkGemm compares impl with gemmRef on one shape. The tolerance is the
// first-order bound on the rounding error of either computation,
//
//	|c − ĉ| ≤ (k+2)·u·(|alpha|·Σ_p |op(A)_ip|·|op(B)_pj| + |beta·c_ij|),
//
// doubled because both results carry it.
func checkGemm(rnd *rand.Rand, impl gemmImpl, transA, transB bool, m, n, k int, alpha, beta float64) error {
	return checkGemms(rnd, []gemmImpl{impl}, transA, transB, m, n, k, alpha, beta)
}

// checkGemms is checkGemm for several implementations on the same operands,
// computing the reference once.
func checkGemms(rnd *rand.Rand, impls []gemmImpl, transA, transB bool, m, n, k int, alpha, beta float64) error {
	a := randSlice(rnd, m*k)
	b := randSlice(rnd, k*n)
	c0 := randSlice(rnd, m*n)
	if beta == 0 {
		for i := range c0 {
			c0[i] = math.NaN()
		}
	}
	want := append([]float64(nil), c0...)
	gemmRef(transA, transB, m, n, k, alpha, a, b, beta, want)
	// |op(A)|·|op(B)| with the reference loop on absolute values.
	absA, absB := make([]float64, len(a)), make([]float64, len(b))
	for i, v := range a {
		absA[i] = math.Abs(v)
	}
	for i, v := range b {
		absB[i] = math.Abs(v)
	}
	mag := make([]float64, m*n)
	gemmRef(transA, transB, m, n, k, math.Abs(alpha), absA, absB, 0, mag)

	for _, impl := range impls {
		got, intact := guarded(m * n)
		copy(got, c0)
		impl.f(transA, transB, m, n, k, alpha, a, b, beta, got)
		if !intact() {
			return fmt.Errorf("%s(%v,%v,m=%d,n=%d,k=%d): wrote outside C", impl.name, transA, transB, m, n, k)
		}
		for i := range got {
			bc := 0.0
			if beta != 0 {
				bc = math.Abs(beta * c0[i])
			}
			tol := 2 * float64(k+2) * unitRoundoff * (mag[i] + bc)
			if d := math.Abs(got[i] - want[i]); !(d <= tol) {
				return fmt.Errorf("%s(transA=%v,transB=%v,m=%d,n=%d,k=%d,alpha=%v,beta=%v): c[%d] got %v want %v (tol %v)",
					impl.name, transA, transB, m, n, k, alpha, beta, i, got[i], want[i], tol)
			}
		}
	}
	return nil
}

var gemmScalars = []struct{ alpha, beta float64 }{
	{1, 0}, {1, 1}, {-0.75, 0}, {0.5, -2},
}

func TestGemm_SmallSizes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	impls := gemmImpls()
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for m := 0; m <= 17; m++ {
				for n := 0; n <= 17; n++ {
					for k := 0; k <= 17; k++ {
						s := gemmScalars[(m+n+k)%len(gemmScalars)]
						if err := checkGemms(rnd, impls, tA, tB, m, n, k, s.alpha, s.beta); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
}

func TestGemm_AlphaBeta(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, impl := range gemmImpls() {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, s := range gemmScalars {
					for _, mnk := range [][3]int{{7, 9, 5}, {13, 17, 31}, {37, 41, 3}} {
						if err := checkGemm(rnd, impl, tA, tB, mnk[0], mnk[1], mnk[2], s.alpha, s.beta); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
}

func TestGemm_LargeSizes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{
		{63, 64, 65}, {64, 65, 63}, {65, 63, 64},
		{255, 256, 257}, {256, 257, 255}, {257, 255, 256},
		{121, 513, 300}, // more than one block in every dimension
		{256, 256, 3}, {256, 256, 2}, {256, 2, 256}, {3, 256, 256}, {2, 256, 256},
		{1, 300, 1}, {300, 1, 1}, {1, 1, 600},
	}
	if testing.Short() {
		shapes = shapes[:3]
	}
	impls := gemmImplsMachine()
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for i, mnk := range shapes {
				s := gemmScalars[i%len(gemmScalars)]
				if err := checkGemms(rnd, impls, tA, tB, mnk[0], mnk[1], mnk[2], s.alpha, s.beta); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestGemm_EdgeSizes runs every kernel at the sizes around its tile and
// its blocks: m, n ∈ {1, mr−1, mr, mr+1, nr−1, nr+1}, k ∈ {1, kc−1, kc, kc+1,
// 2kc+1} with the small plan (kc = 8) and k ∈ {kc−1, kc, kc+1} with this
// CPU's plan, in the four layouts, against the reference loop (checkGemm's
// derived bound).
func TestGemm_EdgeSizes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, kn := range availableKernels() {
		dims := []int{1, kn.mr - 1, kn.mr, kn.mr + 1, kn.nr - 1, kn.nr + 1, 2*kn.mr + 3}
		small, real := smallPlan(kn), planFor(kn, cpu.Detect())
		for _, c := range []struct {
			p      *gemmPlan
			mn, ks []int
		}{
			{small, dims, []int{1, 7, 8, 9, 17}},
			{real, []int{1, kn.mr + 1, kn.nr + 1}, []int{real.kc - 1, real.kc, real.kc + 1}},
		} {
			impl := blockedImpl(c.p)
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for i, m := range c.mn {
						for j, n := range c.mn {
							for l, k := range c.ks {
								if m < 1 || n < 1 {
									continue
								}
								s := gemmScalars[(i+j+l)%len(gemmScalars)]
								if err := checkGemm(rnd, impl, tA, tB, m, n, k, s.alpha, s.beta); err != nil {
									t.Fatal(err)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestGemm_CheckDetectsError is the negative control for checkGemm: an
// implementation that is wrong in one element of one product must fail it.
func TestGemm_CheckDetectsError(t *testing.T) {
	wrong := gemmImpl{"wrong", func(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
		Gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
		c[len(c)/2] *= 1 + 1e-9
	}}
	if checkGemm(rand.New(rand.NewPCG(7, 8)), wrong, false, true, 64, 64, 64, 1, 0) == nil {
		t.Fatal("checkGemm accepted a GEMM with a relative error of 1e-9 in one element")
	}
}

func TestGemm_NoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rnd := rand.New(rand.NewPCG(9, 10))
	for _, mnk := range [][3]int{{256, 256, 256}, {256, 256, 3}, {256, 2, 256}, {3, 3, 3}} {
		m, n, k := mnk[0], mnk[1], mnk[2]
		a, b, c := randSlice(rnd, m*k), randSlice(rnd, k*n), make([]float64, m*n)
		allocs := testing.AllocsPerRun(20, func() { Gemm(false, true, m, n, k, 1, a, b, 0, c) })
		if allocs != 0 {
			t.Errorf("Gemm m=%d n=%d k=%d: got %v allocations per call, want 0", m, n, k, allocs)
		}
	}
}
