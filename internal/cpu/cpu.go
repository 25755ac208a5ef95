// Package cpu identifies the processor the program runs on, for reports
// (`flowmatch bench` prints it beside every measurement) and for choosing
// kernels: vendor, brand string, family and model, the vector extensions
// the kernels use (AVX2, FMA, AVX-512F, each only if the OS also saves the
// registers), and the data cache sizes.
//
// On amd64 (without -tags purego) everything is read with the CPUID
// instruction: leaf 0 (vendor), 1 (family, model, FMA, AVX, OSXSAVE), 7
// (AVX2, AVX-512F), 0x80000002–4 (brand string), and the cache parameters of
// leaf 4 (Intel) or 0x8000001D (AMD; 0x80000005–6 when a hypervisor hides
// it), with XGETBV for the OS-enabled
// register state. Elsewhere Info holds the architecture and, on Linux, the
// "model name" of /proc/cpuinfo and the caches of
// /sys/devices/system/cpu/cpu0/cache; on arm64 also the core's implementer,
// part, variant and revision from its MIDR_EL1 register, which Linux shows
// in sysfs and /proc/cpuinfo (midr.go, TestIdentifyARM), so that a tuned
// kernel plan can key on implementer and part. Info.Hierarchy gives the L1d, L2 and
// L3 that the GEMM's blocking is derived from, with assumed sizes where the
// machine does not say.
//
// # References
//
//   - Intel 64 and IA-32 Architectures Software Developer's Manual, Vol. 2A,
//     CPUID: leaf 1 EAX (family/model/stepping, display family and model),
//     leaf 4 (deterministic cache parameters), leaf 7 EBX bits 5 (AVX2) and
//     16 (AVX512F).
//   - AMD64 Architecture Programmer's Manual, Vol. 3, Appendix E: CPUID
//     Fn8000_001D (cache topology, the same layout as Intel's leaf 4),
//     Fn8000_0005/6 (L1, L2, L3 sizes, ways and lines).
//   - Arm Architecture Reference Manual for A-profile architecture,
//     MIDR_EL1 (Main ID Register: implementer, variant, architecture, part
//     number, revision).
package cpu

import (
	"fmt"
	"strings"
	"sync"
)

// Cache is one level of data (or unified) cache.
type Cache struct {
	Level     int // 1, 2, 3
	Bytes     int // size of one instance (per core for L1 and, usually, L2)
	Ways      int // associativity, 0 if unknown (or fully associative)
	LineBytes int // line size in bytes, 0 if unknown
}

// Info describes the processor. On arm64 the identity fields hold the
// core's MIDR_EL1 (midr.go): Vendor the implementer's name ("Arm",
// "Apple", …), Family the implementer code (0x41, 0x61, …), Model the part
// number (0xd0c for a Neoverse N1), Variant and Stepping the N and M of its
// rNpM revision.
type Info struct {
	Arch     string // runtime.GOARCH
	Vendor   string // "GenuineIntel", "AuthenticAMD", "Arm", "Apple", … ("" if unknown)
	Brand    string // brand string, e.g. "AMD EPYC 7B13 64-Core Processor", "Arm Neoverse N1"
	Family   int    // display family: base + extended when base is 0xF; arm64: implementer
	Model    int    // display model: base + extended·16 when family is 6 or ≥ 0xF; arm64: part
	Stepping int    // arm64: revision
	Variant  int    // arm64: variant (0 elsewhere)
	AVX2     bool   // AVX2, with YMM state saved by the OS
	FMA      bool   // FMA3, with YMM state saved by the OS
	AVX512F  bool   // AVX-512 Foundation, with ZMM and opmask state saved
	Caches   []Cache
}

// Detect returns the processor's Info, read once and then cached.
func Detect() Info { return detectOnce() }

var detectOnce = sync.OnceValue(detect)

// ISA lists the vector extensions found, "avx2 fma avx512f" style; on arm64
// it is "neon" (Advanced SIMD, which every arm64 CPU has).
func (c Info) ISA() string {
	var f []string
	if c.AVX2 {
		f = append(f, "avx2")
	}
	if c.FMA {
		f = append(f, "fma")
	}
	if c.AVX512F {
		f = append(f, "avx512f")
	}
	if c.Arch == "arm64" {
		f = append(f, "neon")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, " ")
}

// CacheBytes returns the size of the data cache of the given level, 0 if
// unknown.
func (c Info) CacheBytes(level int) int {
	for _, k := range c.Caches {
		if k.Level == level {
			return k.Bytes
		}
	}
	return 0
}

// ID names the processor model as the tuned kernel plans key it, e.g.
// "AuthenticAMD family 26 model 2" or, on arm64, "Arm implementer 0x41
// part 0xd0c"; "" when the vendor is unknown.
func (c Info) ID() string {
	switch {
	case c.Vendor == "":
		return ""
	case c.Arch == "arm64":
		return fmt.Sprintf("%s implementer 0x%02x part 0x%03x", c.Vendor, c.Family, c.Model)
	}
	return fmt.Sprintf("%s family %d model %d", c.Vendor, c.Family, c.Model)
}

// String is one line for reports, e.g.
//
//	AMD EPYC (AuthenticAMD family 26 model 2 stepping 1, amd64); isa: avx2 fma avx512f; cache: L1d 48 KiB, L2 1 MiB, L3 32 MiB
//	Arm Neoverse N1 (Arm implementer 0x41 part 0xd0c r3p1, arm64); isa: neon; cache: L1d 64 KiB, L2 1 MiB, L3 32 MiB
func (c Info) String() string {
	var b strings.Builder
	brand := c.Brand
	if brand == "" {
		brand = "unknown CPU"
	}
	b.WriteString(brand)
	switch {
	case c.Vendor != "" && c.Arch == "arm64":
		fmt.Fprintf(&b, " (%s r%dp%d, %s)", c.ID(), c.Variant, c.Stepping, c.Arch)
	case c.Vendor != "":
		fmt.Fprintf(&b, " (%s stepping %d, %s)", c.ID(), c.Stepping, c.Arch)
	default:
		fmt.Fprintf(&b, " (%s)", c.Arch)
	}
	fmt.Fprintf(&b, "; isa: %s", c.ISA())
	if len(c.Caches) > 0 {
		b.WriteString("; cache:")
		for i, k := range c.Caches {
			sep := ","
			if i == 0 {
				sep = ""
			}
			name := fmt.Sprintf("L%d", k.Level)
			if k.Level == 1 {
				name = "L1d"
			}
			fmt.Fprintf(&b, "%s %s %s", sep, name, sizeString(k.Bytes))
		}
	}
	return b.String()
}

// Assumed caches where the processor does not say (another architecture
// without sysfs, -tags purego without sysfs, a hypervisor hiding the
// leaves, or values that fail the plausibility check): 32 KiB 8-way L1d
// with 64-byte lines, 512 KiB L2, 8 MiB L3, which most x86-64 and arm64
// cores since 2015 meet or exceed.
var (
	assumedL1 = Cache{Level: 1, Bytes: 32 << 10, Ways: 8, LineBytes: 64}
	assumedL2 = Cache{Level: 2, Bytes: 512 << 10, Ways: 8, LineBytes: 64}
	assumedL3 = Cache{Level: 3, Bytes: 8 << 20, Ways: 16, LineBytes: 64}
)

// Hierarchy returns the L1 data, L2 and L3 caches for choosing blockings
// (the GEMM's mc, kc, nc), and whether they were read from the machine.
// When the levels found fail plausible (sizes within [8 KiB, 1 MiB] for
// L1d, [64 KiB, 64 MiB] for L2, at least L2 for L3, each level at least the
// one below it, at most 64 L1d ways, lines of 32–256 bytes) or some are missing, it
// returns the assumed ones above for all three, and known = false; a
// missing L3 alone is replaced by L2. Unknown ways or line size (0) are
// kept: the caller assumes its own (TestHierarchy_Fallback).
func (c Info) Hierarchy() (l1, l2, l3 Cache, known bool) {
	get := func(level int) Cache {
		for _, k := range c.Caches {
			if k.Level == level {
				return k
			}
		}
		return Cache{}
	}
	l1, l2, l3 = get(1), get(2), get(3)
	if l3.Bytes == 0 {
		l3 = l2
		l3.Level = 3
	}
	if plausible(l1, l2, l3) != nil {
		return assumedL1, assumedL2, assumedL3, false
	}
	return l1, l2, l3, true
}

// plausible reports why caches l1, l2, l3 cannot be a real hierarchy, nil
// if they can (the bounds are those of Hierarchy).
func plausible(l1, l2, l3 Cache) error {
	for i, r := range []struct {
		k      Cache
		lo, hi int
	}{{l1, 8 << 10, 1 << 20}, {l2, 64 << 10, 64 << 20}, {l3, 64 << 10, 1 << 40}} {
		if r.k.Bytes < r.lo || r.k.Bytes > r.hi {
			return fmt.Errorf("level %d cache of %d bytes: want %d to %d", i+1, r.k.Bytes, r.lo, r.hi)
		}
		if r.k.Ways < 0 || i == 0 && r.k.Ways > 64 {
			return fmt.Errorf("level %d cache with %d ways", i+1, r.k.Ways)
		}
		if r.k.LineBytes != 0 && (r.k.LineBytes < 32 || r.k.LineBytes > 256) {
			return fmt.Errorf("level %d cache with %d-byte lines", i+1, r.k.LineBytes)
		}
	}
	if l2.Bytes < l1.Bytes || l3.Bytes < l2.Bytes {
		return fmt.Errorf("sizes not increasing: L1d %d, L2 %d, L3 %d bytes", l1.Bytes, l2.Bytes, l3.Bytes)
	}
	return nil
}

func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// A cpuidFunc executes CPUID with EAX = leaf and ECX = sub.
type cpuidFunc func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// decode fills the x86 fields of c from cpuid and xcr0 (the XGETBV
// register of OS-enabled state; bits 1–2 XMM/YMM, 5–7 opmask and ZMM).
func decode(c *Info, cpuid cpuidFunc, xcr0 uint32) {
	maxID, b, cx, d := cpuid(0, 0)
	c.Vendor = string(regBytes(b, d, cx))
	if maxID < 1 {
		return
	}
	eax1, _, ecx1, _ := cpuid(1, 0)
	c.Family, c.Model, c.Stepping = familyModel(eax1)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	ymm := ecx1&(osxsave|avx) == osxsave|avx && xcr0&6 == 6
	c.FMA = ymm && ecx1&fma != 0
	if maxID >= 7 {
		_, ebx7, _, _ := cpuid(7, 0)
		c.AVX2 = ymm && ebx7&(1<<5) != 0
		c.AVX512F = ymm && xcr0&0xe6 == 0xe6 && ebx7&(1<<16) != 0
	}
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x80000004 {
		var brand []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, cx, d := cpuid(leaf, 0)
			brand = append(brand, regBytes(a, b, cx, d)...)
		}
		c.Brand = strings.TrimSpace(strings.TrimRight(string(brand), "\x00"))
	}
	leaf := uint32(4)
	if c.Vendor == "AuthenticAMD" || c.Vendor == "HygonGenuine" {
		leaf = 0
		if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x8000001D {
			leaf = 0x8000001D
		}
	} else if maxID < 4 {
		leaf = 0
	}
	if leaf != 0 {
		c.Caches = caches(cpuid, leaf)
	}
	if len(c.Caches) == 0 && leaf != 4 {
		if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x80000006 {
			c.Caches = amdLegacyCaches(cpuid)
		}
	}
}

// amdLegacyCaches reads AMD's older cache leaves, for hypervisors that hide
// 0x8000001D: Fn8000_0005 ECX is the L1 data cache ([31:24] KiB, [23:16]
// ways, 0xFF fully associative, [7:0] line bytes); Fn8000_0006 ECX the L2
// ([31:16] KiB, [15:12] encoded ways, [7:0] line bytes) and EDX the L3
// ([31:18] units of 512 KiB, a lower bound for all the cores that share it;
// ways and line as for L2).
func amdLegacyCaches(cpuid cpuidFunc) []Cache {
	var out []Cache
	_, _, c5, _ := cpuid(0x80000005, 0)
	_, _, c6, d6 := cpuid(0x80000006, 0)
	l1ways := int(c5 >> 16 & 0xff)
	if l1ways == 0xff {
		l1ways = 0
	}
	for _, k := range []Cache{
		{1, int(c5>>24) << 10, l1ways, int(c5 & 0xff)},
		{2, int(c6>>16) << 10, amdWays(c6 >> 12 & 0xf), int(c6 & 0xff)},
		{3, int(d6>>18) << 19, amdWays(d6 >> 12 & 0xf), int(d6 & 0xff)},
	} {
		if k.Bytes > 0 {
			out = append(out, k)
		}
	}
	return out
}

// amdWays decodes the associativity field of Fn8000_0006 (AMD64 APM Vol. 3,
// Appendix E): 0 for disabled, fully associative, or 9 ("see
// Fn8000_001D"), which carry no way count.
func amdWays(f uint32) int {
	return [16]int{0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0}[f]
}

// familyModel decodes CPUID leaf 1 EAX: stepping [3:0], model [7:4],
// family [11:8], extended model [19:16], extended family [27:20].
//
//	family = base + extended        if base = 0xF, else base
//	model  = base + extended·16     if base family is 6 or 0xF, else base
func familyModel(eax uint32) (family, model, stepping int) {
	stepping = int(eax & 0xf)
	model = int(eax >> 4 & 0xf)
	family = int(eax >> 8 & 0xf)
	if family == 0xf {
		family += int(eax >> 20 & 0xff)
	}
	if base := eax >> 8 & 0xf; base == 6 || base == 0xf {
		model += int(eax>>16&0xf) << 4
	}
	return family, model, stepping
}

// caches reads the data and unified caches from the deterministic cache
// parameters of leaf (4 or 0x8000001D), subleaf 0, 1, … until the type
// field EAX[4:0] is 0: type 1 data, 2 instruction, 3 unified; level
// EAX[7:5]; size = ways·partitions·line·sets with ways = EBX[31:22]+1,
// partitions = EBX[21:12]+1, line = EBX[11:0]+1, sets = ECX+1.
func caches(cpuid cpuidFunc, leaf uint32) []Cache {
	var out []Cache
	for sub := uint32(0); sub < 16; sub++ {
		a, b, c, _ := cpuid(leaf, sub)
		typ := a & 0x1f
		if typ == 0 {
			break
		}
		if typ == 2 { // instruction cache
			continue
		}
		ways := int(b>>22&0x3ff) + 1
		parts := int(b>>12&0x3ff) + 1
		line := int(b&0xfff) + 1
		sets := int(c) + 1
		k := Cache{Level: int(a >> 5 & 7), Bytes: ways * parts * line * sets, Ways: ways, LineBytes: line}
		if a&(1<<9) != 0 { // fully associative (EAX bit 9): no ways to count
			k.Ways = 0
		}
		out = append(out, k)
	}
	return out
}

// regBytes returns the little-endian bytes of the registers in order.
func regBytes(regs ...uint32) []byte {
	out := make([]byte, 0, 4*len(regs))
	for _, r := range regs {
		out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return out
}

// fromProcCPUInfo returns the first "model name" (x86) or "Processor" /
// "CPU part" line's value from the text of /proc/cpuinfo, "" if none.
func fromProcCPUInfo(text string) string {
	for _, key := range []string{"model name", "Processor", "Model", "CPU part"} {
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.TrimSpace(k) == key {
				if v = strings.TrimSpace(v); v != "" {
					if key == "CPU part" {
						return "CPU part " + v
					}
					return v
				}
			}
		}
	}
	return ""
}
