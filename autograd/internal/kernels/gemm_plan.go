package kernels

import (
	"fmt"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

/*
Choosing the micro-kernel and the blocking for the machine.

A gemmPlan is a micro-kernel (mr×nr) and a cache blocking (mc, kc, nc).
At program start choosePlan takes the row of tunedPlans for the CPU's
vendor, family and model when there is one (measured by `flowmatch bench
-what gemm -tune` on such a CPU), and otherwise derives the blocking from
the cache sizes (internal/cpu; assumed sizes where unknown) with the
analytical model of Low, Igual, Smith & Quintana-Ortí 2016 ("Analytical
modeling is enough for high-performance BLIS", ACM TOMS 43(2)), which
counts cache ways rather than bytes. With an L1d of W ways of S bytes each
(S = L1d/W), 8-byte elements:

	kc: the B micro-panel [kc, nr] stays in L1 while the kernel streams the
	    A micro-panels [mr, kc] through it, both growing with kc, so of the
	    W − 1 ways left after one for C, B gets its share nr/(mr + nr):
	        W_B = ⌊(W − 1)·nr/(mr + nr)⌋ ≥ 1,  kc = W_B·S/(8·nr),
	    rounded down to a multiple of 8 and clamped to [32, 1024];
	mc: the packed A block [mc, kc] takes at most half of L2 (the rest
	    holds the B micro-panels and C as they stream through):
	        mc = ⌊L2/(2·8·kc)⌋, rounded down to a multiple of mr, in [mr, 1020];
	nc: the packed B block [kc, nc] takes at most a quarter of L3, counting
	    at most 64 MiB (a hypervisor may report the whole socket's L3):
	        nc = ⌊min(L3, 64 MiB)/(4·8·kc)⌋, rounded down to a multiple of
	        nr, in [16·nr, 4096].

On the 2-core Zen 5 guest this repository is measured on (L1d 48 KiB
12-way, L2 1 MiB, L3 reported as 508 MiB) the rule gives, for the 6×8 AVX2
kernel, W_B = 6, kc = 384, mc = 168, nc = 4096 (BLIS's own blocking for
its 6×8 Haswell kernel, 32 KiB 8-way L1d, kc = 256, is what the rule gives
there: W_B = 4), and for the 16×8 AVX-512 kernel W_B = 3, kc = 192,
mc = 336 (TestDeriveBlocking). That kc is too small there: the tuner found
kc = 512, mc = 128 faster by 20–37% in three runs, and tunedPlans holds it.

What changes the bits of a result. Every element of C is a left-to-right
sum of its k products within each k block of kc steps (one FMA chain in the
assembly kernels; a product then a sum, each rounded, in the portable one),
and the blocks are added to C one after the other, c = alpha·acc + c. So:

  - kc changes bits whenever k > min(kc, k′) for the two kc compared: the
    partial sums round at other places;
  - the portable kernel (separate products and sums) and the assembly
    kernels (fused multiply-adds) give different bits;
  - nothing else does: mc, nc, the micro-kernel's shape among the assembly
    kernels (AVX2 6×8 and AVX-512 16×8 are bit-identical at equal kc, and
    so is NEON 8×6 on arm64: TestFusedKernels_MatchReference), the
    thread count and where the row bands split leave every bit unchanged,
    because the edge tiles are merged into C with the same rounding as the
    kernels' own stores (fma(beta, c, alpha·acc) for the assembly kernels,
    alpha·acc + beta·c each rounded for the portable one), and
    TestGemm_BlockingBitIdentical checks it, with kc as its negative control;
  - the narrow products (n ≤ 4, op(A) = A; gemmDot) sum four interleaved
    partial sums, whatever the plan.

On one machine the plan is fixed at start, so results are deterministic.
*/

// A gemmPlan is a micro-kernel with its cache blocking: A blocks of at most
// mc rows (a multiple of mr), k blocks of kc, B blocks of at most nc
// columns (a multiple of nr).
type gemmPlan struct {
	kn         *microKernel
	mc, kc, nc int
	from       string // "tuned for …", "derived from the caches", "derived from assumed caches"
}

func (p *gemmPlan) String() string {
	return fmt.Sprintf("%s (mc %d, kc %d, nc %d; %s)", p.kn.name, p.mc, p.kc, p.nc, p.from)
}

// A cpuKey names a processor model, as CPUID reports it.
type cpuKey struct {
	Vendor        string
	Family, Model int
}

// A tunedRow is one measured choice: the kernel (by name) and blocking.
type tunedRow struct {
	Kernel     string
	MC, KC, NC int
}

// tunedPlans holds the kernel and blocking measured fastest on a processor
// model by `flowmatch bench -what gemm -tune` (which prints the row to add
// here; docs/PERFORMANCE.md says how to contribute one). A row whose kernel
// this machine cannot run is ignored.
var tunedPlans = map[cpuKey]tunedRow{
	// 2-core Zen 5 guest (Oxide Virtual Turin-like Processor), three runs of
	// -tune (load average 17–34): kc 512 with mc 64–128 won each time, by
	// 20–37% over the derived blocking (mc 336, kc 192), docs/PERFORMANCE.md.
	{"AuthenticAMD", 26, 2}: {"AVX-512 assembly 16x8", 128, 512, 4096}, // 256³ 69.4, 512³ 83.0 GFLOP per CPU-second
}

// deriveBlocking returns mc, kc, nc for an mr×nr kernel on caches l1, l2,
// l3 by the rule at the top of this file; ways 0 (unknown) counts as 8.
func deriveBlocking(mr, nr int, l1, l2, l3 cpu.Cache) (mc, kc, nc int) {
	w := l1.Ways
	if w <= 0 {
		w = 8
	}
	wb := max(1, (w-1)*nr/(mr+nr))
	kc = wb * (l1.Bytes / w) / (8 * nr)
	kc = min(1024, max(32, kc/8*8))
	mc = l2.Bytes / (2 * 8 * kc)
	mc = min(1020/mr*mr, max(mr, mc/mr*mr))
	nc = min(l3.Bytes, 64<<20) / (4 * 8 * kc)
	nc = min(4096/nr*nr, max(16*nr, nc/nr*nr))
	return mc, kc, nc
}

// tunedFor returns the tunedPlans row of processor c, if it has one. On
// arm64 the key is the core's MIDR_EL1 implementer and part (cpu.Info's
// Family and Model there, e.g. {"Arm", 0x41, 0xd0c} for a Neoverse N1;
// TestChoosePlan_ARMRow). A processor without a vendor (an arm64 core
// whose MIDR could not be read, other architectures without CPUID, and
// amd64 under -tags purego report none: internal/cpu) has no row, so that
// a row measured on one of them cannot apply to all of them.
func tunedFor(c cpu.Info) (tunedRow, bool) {
	if c.Vendor == "" {
		return tunedRow{}, false
	}
	r, ok := tunedPlans[cpuKey{c.Vendor, c.Family, c.Model}]
	return r, ok
}

// planFor returns the plan for kernel kn on processor c: its tuned row if
// there is one for kn, else the derived blocking.
func planFor(kn *microKernel, c cpu.Info) *gemmPlan {
	if r, ok := tunedFor(c); ok && r.Kernel == kn.name {
		return &gemmPlan{kn, r.MC, r.KC, r.NC, "tuned for " + c.ID()}
	}
	l1, l2, l3, known := c.Hierarchy()
	mc, kc, nc := deriveBlocking(kn.mr, kn.nr, l1, l2, l3)
	from := "derived from the caches"
	if !known {
		from = "derived from assumed caches"
	}
	return &gemmPlan{kn, mc, kc, nc, from}
}

// choosePlan returns the plan Gemm uses on processor c among the kernels
// it can run (the portable one first): the tuned row's kernel if there is
// one, else the preferred kernel (preferKernel) with derived blocking.
func choosePlan(kernels []*microKernel, c cpu.Info) *gemmPlan {
	if r, ok := tunedFor(c); ok {
		for _, kn := range kernels {
			if kn.name == r.Kernel {
				return planFor(kn, c)
			}
		}
	}
	return planFor(preferKernel(kernels, c), c)
}

// preferKernel picks the last kernel of the list (the widest the CPU runs),
// except that it passes over AVX-512 kernels on processors known to lower
// their clock for 512-bit work enough to lose to AVX2 on mixed code: Intel's
// Skylake-SP/X, Cascade Lake and Cooper Lake (family 6 model 85) and Xeon Phi
// (models 87, 133). Ice Lake and later Intel cores and AMD's Zen 4 (which
// executes 512-bit operations as two 256-bit halves, without a clock
// penalty) and Zen 5 run it.
func preferKernel(kernels []*microKernel, c cpu.Info) *microKernel {
	downclocks := c.Vendor == "GenuineIntel" && c.Family == 6 && (c.Model == 85 || c.Model == 87 || c.Model == 133)
	for i := len(kernels) - 1; i > 0; i-- {
		if !(kernels[i].avx512 && downclocks) {
			return kernels[i]
		}
	}
	return kernels[0]
}
