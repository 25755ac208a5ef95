package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/stretchr/testify/require"
)

// TestDeriveBlocking checks the blocking rule of gemm_plan.go on three
// cache hierarchies, worked by hand: this repository's Zen 5 guest (L1d 48
// KiB 12-way, L2 1 MiB, L3 508 MiB counted as 64 MiB) for the 6×8 and 16×8
// kernels, a Haswell core (L1d 32 KiB 8-way, L2 256 KiB, L3 8 MiB), where
// the rule gives BLIS's kc = 256 for its 6×8 kernel, and the assumed caches
// for the portable 8×8 kernel.
func TestDeriveBlocking(t *testing.T) {
	zen5 := [3]cpu.Cache{{Level: 1, Bytes: 48 << 10, Ways: 12}, {Level: 2, Bytes: 1 << 20}, {Level: 3, Bytes: 508 << 20}}
	haswell := [3]cpu.Cache{{Level: 1, Bytes: 32 << 10, Ways: 8}, {Level: 2, Bytes: 256 << 10}, {Level: 3, Bytes: 8 << 20}}
	var assumed [3]cpu.Cache
	assumed[0], assumed[1], assumed[2], _ = cpu.Info{}.Hierarchy()
	for _, c := range []struct {
		name       string
		mr, nr     int
		caches     [3]cpu.Cache
		mc, kc, nc int
	}{
		// W_B = ⌊11·8/14⌋ = 6, kc = 6·4096/64 = 384, mc = ⌊2¹⁹/3072⌋ = 170 → 168, nc = ⌊2²⁶/12288⌋ → 4096.
		{"Zen 5, 6x8", 6, 8, zen5, 168, 384, 4096},
		// W_B = ⌊11·8/24⌋ = 3, kc = 3·4096/64 = 192, mc = ⌊2¹⁹/1536⌋ = 341 → 336.
		{"Zen 5, 16x8", 16, 8, zen5, 336, 192, 4096},
		// W_B = ⌊7·8/14⌋ = 4, kc = 4·4096/64 = 256, mc = ⌊2¹⁷/2048⌋ = 64 → 60, nc = ⌊2²³/8192⌋ = 1024.
		{"Haswell, 6x8", 6, 8, haswell, 60, 256, 1024},
		// W_B = ⌊7·8/16⌋ = 3, kc = 192, mc = 170 → 168, nc = ⌊2²³/6144⌋ = 1365 → 1360.
		{"assumed, 8x8", 8, 8, assumed, 168, 192, 1360},
	} {
		mc, kc, nc := deriveBlocking(c.mr, c.nr, c.caches[0], c.caches[1], c.caches[2])
		require.Equal(t, [3]int{c.mc, c.kc, c.nc}, [3]int{mc, kc, nc}, "%s: got mc, kc, nc %d %d %d want %d %d %d", c.name, mc, kc, nc, c.mc, c.kc, c.nc)
	}
}

// TestPreferKernel checks the AVX-512 kernel is passed over on the Intel
// models that downclock for 512-bit work, and chosen elsewhere.
func TestPreferKernel(t *testing.T) {
	avx2 := &microKernel{name: "avx2", mr: 6, nr: 8, fused: true}
	avx512 := &microKernel{name: "avx512", mr: 16, nr: 8, fused: true, avx512: true}
	list := []*microKernel{&goKernel, avx2, avx512}
	for _, c := range []struct {
		vendor        string
		family, model int
		want          *microKernel
	}{
		{"GenuineIntel", 6, 85, avx2},      // Skylake-SP, Cascade Lake
		{"GenuineIntel", 6, 106, avx512},   // Ice Lake-SP
		{"GenuineIntel", 6, 143, avx512},   // Sapphire Rapids
		{"AuthenticAMD", 25, 17, avx512},   // Zen 4
		{"AuthenticAMD", 26, 2, avx512},    // Zen 5
		{"AuthenticAMD", 25, 1, &goKernel}, // list without assembly: see below
	} {
		l := list
		if c.want == &goKernel {
			l = list[:1]
		}
		got := preferKernel(l, cpu.Info{Vendor: c.vendor, Family: c.family, Model: c.model})
		require.Same(t, c.want, got, "%s family %d model %d: got %s want %s", c.vendor, c.family, c.model, got.name, c.want.name)
	}
}

// TestChoosePlan_TunedRow checks that a tunedPlans row for the CPU picks
// its kernel and blocking, and that a row naming a kernel this machine
// lacks, or keyed by no vendor (tunedFor), is ignored.
func TestChoosePlan_TunedRow(t *testing.T) {
	c := cpu.Info{Vendor: "TestVendor", Family: 1, Model: 2}
	key := cpuKey{c.Vendor, c.Family, c.Model}
	defer delete(tunedPlans, key)
	tunedPlans[key] = tunedRow{Kernel: goKernel.name, MC: 40, KC: 72, NC: 96}
	p := choosePlan([]*microKernel{&goKernel}, c)
	require.Equal(t, [4]any{&goKernel, 40, 72, 96}, [4]any{p.kn, p.mc, p.kc, p.nc})
	require.Contains(t, p.String(), "tuned for TestVendor family 1 model 2")
	tunedPlans[key] = tunedRow{Kernel: "no such kernel", MC: 40, KC: 72, NC: 96}
	p = choosePlan([]*microKernel{&goKernel}, c)
	require.Equal(t, "derived from assumed caches", p.from)
	// A row keyed by no vendor (what -tune prints on arm64) is ignored.
	nokey := cpuKey{}
	defer delete(tunedPlans, nokey)
	tunedPlans[nokey] = tunedRow{Kernel: goKernel.name, MC: 40, KC: 72, NC: 96}
	p = choosePlan([]*microKernel{&goKernel}, cpu.Info{})
	require.Equal(t, "derived from assumed caches", p.from, "a row without a vendor was used: %s", p)
}

// TestGemm_BlockingBitIdentical checks what gemm_plan.go says changes the
// bits of a result and what does not. At equal kc, every fused (assembly)
// kernel with any mc and nc, and every thread split, gives the same bits;
// the portable kernel likewise among its own plans. The negative control is
// kc: a plan with kc + 8 must change some bits when k > kc.
func TestGemm_BlockingBitIdentical(t *testing.T) {
	rnd := rand.New(rand.NewPCG(41, 42))
	const kc = 24
	shapes := [][3]int{{37, 29, 61}, {64, 40, 50}, {17, 130, 97}, {100, 9, 49}}
	var groups [][]*gemmPlan // plans that must agree
	var fused []*gemmPlan
	for _, kn := range availableKernels() {
		ps := []*gemmPlan{
			{kn, kn.mr, kc, kn.nr, "t"},
			{kn, 3 * kn.mr, kc, 5 * kn.nr, "t"},
			{kn, 1020 / kn.mr * kn.mr, kc, 4096 / kn.nr * kn.nr, "t"},
		}
		if kn.fused {
			fused = append(fused, ps...)
		} else {
			groups = append(groups, ps)
		}
	}
	if len(fused) > 0 {
		groups = append(groups, fused)
	}
	for _, g := range groups {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for i, mnk := range shapes {
					m, n, k := mnk[0], mnk[1], mnk[2]
					sc := gemmScalars[(i+1)%len(gemmScalars)]
					a, b, c0 := randSlice(rnd, m*k), randSlice(rnd, k*n), randSlice(rnd, m*n)
					run := func(p *gemmPlan, bands ...int) []float64 {
						c := append([]float64(nil), c0...)
						bands = append(append([]int{0}, bands...), m)
						for j := 0; j+1 < len(bands); j++ {
							gemmBlockedRows(p, new(Scratch), tA, tB, m, n, k, sc.alpha, a, b, sc.beta, c, bands[j], bands[j+1])
						}
						return c
					}
					want := run(g[0])
					where := fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d", tA, tB, m, n, k)
					for _, p := range g[1:] {
						require.NoError(t, sameBits(run(p), want), "%s vs %s: %s", p, g[0], where)
					}
					require.NoError(t, sameBits(run(g[1], 4, 13), want), "%s in bands at 4, 13: %s", g[1], where)
					other := *g[0]
					other.kc = kc + 8
					require.Error(t, sameBits(run(&other), want), "kc %d and %d gave the same bits: %s", kc, kc+8, where)
				}
			}
		}
	}
}

// TestTuneGemm runs the tuner on tiny products for one round and checks it
// measures every candidate, marks the default plan, picks the best score,
// and prints a row that parses back as a tunedPlans entry naming a kernel
// this machine runs.
func TestTuneGemm(t *testing.T) {
	sizes := []int{24, 40}
	trials, best := TuneGemm(sizes, time.Microsecond, 1)
	require.Len(t, trials, len(gemmCandidates(cpu.Detect())))
	defaults := 0
	for _, tr := range trials {
		require.Len(t, tr.GFLOPS, 2)
		require.Greater(t, tr.Score, 0.0, "%+v", tr)
		require.LessOrEqual(t, tr.Score, trials[best].Score)
		if tr.Default {
			defaults++
		}
	}
	require.Equal(t, 1, defaults, "the default plan is among the candidates once")
	row := TunedRow(trials[best], sizes)
	var vendor, kernel string
	var family, model, mc, kc, nc int
	_, err := fmt.Sscanf(row, "{%q, %d, %d}: {%q, %d, %d, %d},", &vendor, &family, &model, &kernel, &mc, &kc, &nc)
	require.NoError(t, err, row)
	require.Equal(t, [4]any{trials[best].Kernel, trials[best].MC, trials[best].KC, trials[best].NC}, [4]any{kernel, mc, kc, nc}, row)
	require.True(t, slices.ContainsFunc(availableKernels(), func(k *microKernel) bool { return k.name == kernel }), row)
}

// TestTimeGemm checks TimeGemm returns a positive, finite speed for one and
// two threads (a timing is never asserted against a figure).
func TestTimeGemm(t *testing.T) {
	g, _ := TimeGemm(16, time.Microsecond)
	require.True(t, g > 0 && !math.IsInf(g, 0), "got %v GFLOP/s", g)
	withThreads(2, func() {
		g, cpuTime := TimeGemm(16, time.Microsecond)
		require.True(t, g > 0 && !math.IsInf(g, 0), "got %v GFLOP/s", g)
		require.False(t, cpuTime, "two threads cannot be timed on one thread's clock")
	})
}
