package cpu

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestFamilyModel decodes leaf-1 EAX values of known processors (family and
// model as Intel's and AMD's manuals and /proc/cpuinfo print them). The
// negative control is the base fields alone, which name Zen 3 family 15.
func TestFamilyModel(t *testing.T) {
	for _, c := range []struct {
		name                    string
		eax                     uint32
		family, model, stepping int
	}{
		{"Zen 3, EPYC 7003", 0x00A00F11, 25, 1, 1},
		{"Zen 4, EPYC 9004", 0x00A10F11, 25, 17, 1},
		{"Zen 5, EPYC 9005", 0x00B00F21, 26, 2, 1},
		{"Skylake-SP", 0x00050654, 6, 85, 4},
		{"Alder Lake", 0x00090672, 6, 151, 2},
	} {
		f, m, s := familyModel(c.eax)
		require.Equal(t, [3]int{c.family, c.model, c.stepping}, [3]int{f, m, s}, "%s: got family, model, stepping %d %d %d want %d %d %d", c.name, f, m, s, c.family, c.model, c.stepping)
	}
	baseOnly := int(0x00A00F11 >> 8 & 0xf)
	require.NotEqual(t, 25, baseOnly, "the base family field alone already gives Zen 3's family")
}

// fakeCPU answers CPUID from a table, zero for leaves it lacks.
type fakeCPU map[[2]uint32][4]uint32

func (f fakeCPU) cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	r := f[[2]uint32{leaf, sub}]
	return r[0], r[1], r[2], r[3]
}

// str4 packs 4·n bytes of s (NUL-padded) into n registers, little-endian.
func str4(s string, n int) []uint32 {
	b := make([]byte, 4*n)
	copy(b, s)
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// zen3 is a 2-core Zen 3 guest with AVX2 and FMA but no AVX-512: L1d
// 32 KiB (8 ways, 64 sets), L2 512 KiB (8 ways, 1024 sets), L3 32 MiB (16
// ways, 32768 sets), lines of 64 bytes, in leaf 0x8000001D.
func zen3() fakeCPU {
	v := str4("AuthenticAMD", 3)
	f := fakeCPU{
		{0, 0}:          {0x10, v[0], v[2], v[1]},
		{1, 0}:          {0x00A00F11, 0, 1<<12 | 1<<27 | 1<<28, 0},
		{7, 0}:          {0, 1 << 5, 0, 0},
		{0x80000000, 0}: {0x80000020, 0, 0, 0},
		// subleaf: type|level<<5, ways-1<<22 | line-1, sets-1
		{0x8000001D, 0}: {1 | 1<<5, 7<<22 | 63, 63, 0},
		{0x8000001D, 1}: {2 | 1<<5, 7<<22 | 63, 63, 0},
		{0x8000001D, 2}: {3 | 2<<5, 7<<22 | 63, 1023, 0},
		{0x8000001D, 3}: {3 | 3<<5, 15<<22 | 63, 32767, 0},
	}
	brand := str4("AMD EPYC 7B13 64-Core Processor", 12)
	for i := 0; i < 3; i++ {
		f[[2]uint32{0x80000002 + uint32(i), 0}] = [4]uint32{brand[4*i], brand[4*i+1], brand[4*i+2], brand[4*i+3]}
	}
	return f
}

func TestDecode(t *testing.T) {
	var c Info
	c.Arch = "amd64"
	decode(&c, zen3().cpuid, 0x7) // x87, XMM, YMM state enabled
	want := "AMD EPYC 7B13 64-Core Processor (AuthenticAMD family 25 model 1 stepping 1, amd64); isa: avx2 fma; cache: L1d 32 KiB, L2 512 KiB, L3 32 MiB"
	require.Equal(t, want, c.String())
	require.Equal(t, 512<<10, c.CacheBytes(2))

	// The OS not saving YMM registers (XCR0 bit 2 clear) turns AVX2 and FMA off,
	// and AVX-512F needs its own three state bits.
	var noYMM Info
	decode(&noYMM, zen3().cpuid, 0x3)
	require.False(t, noYMM.AVX2 || noYMM.FMA, "AVX2/FMA reported without YMM state")
	f := zen3()
	f[[2]uint32{7, 0}] = [4]uint32{0, 1<<5 | 1<<16, 0, 0}
	var z Info
	decode(&z, f.cpuid, 0x7)
	require.False(t, z.AVX512F, "AVX-512F reported without ZMM state")
	decode(&z, f.cpuid, 0xe7)
	require.True(t, z.AVX512F, "AVX-512F not reported with CPUID bit and ZMM state")
}

// TestCaches_IntelLeaf4 decodes Skylake's L1d parameters from leaf 4
// (8 ways, 1 partition, 64-byte lines, 64 sets: 32 KiB); an off-by-one
// in any field (the manual stores each minus 1) changes the size.
func TestCaches_IntelLeaf4(t *testing.T) {
	f := fakeCPU{{4, 0}: {0x1C004121, 0x01C0003F, 0x3F, 0}}
	got := caches(f.cpuid, 4)
	require.Equal(t, []Cache{{Level: 1, Bytes: 32 << 10, Ways: 8, LineBytes: 64}}, got)
}

// TestDetect_MatchesProcCPUInfo compares the features read with CPUID with
// the flags the Linux kernel lists in /proc/cpuinfo, an independent
// reading of the same registers.
func TestDetect_MatchesProcCPUInfo(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || runtime.GOARCH != "amd64" {
		t.Skip("needs Linux /proc/cpuinfo on amd64")
	}
	c := Detect()
	if c.Vendor == "" {
		t.Skip("built without CPUID (-tags purego)")
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = map[string]bool{}
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	require.NotNil(t, flags, "no flags line in /proc/cpuinfo")
	require.Equal(t, flags["avx2"], c.AVX2, "avx2: CPUID %v, /proc/cpuinfo %v", c.AVX2, flags["avx2"])
	require.Equal(t, flags["fma"], c.FMA, "fma: CPUID %v, /proc/cpuinfo %v", c.FMA, flags["fma"])
	require.Equal(t, flags["avx512f"], c.AVX512F, "avx512f: CPUID %v, /proc/cpuinfo %v", c.AVX512F, flags["avx512f"])
	require.NotZero(t, c.CacheBytes(1), "no L1 data cache found")
	t.Log(c)
}

// TestCaches_AMDLegacy decodes the registers this repository's test machine
// (a 2-core Zen 5 guest whose hypervisor zeroes leaf 0x8000001D) returns
// in Fn8000_0005/6: L1d 48 KiB 12-way, L2 1 MiB (/proc/cpuinfo's "cache
// size") 8-way, and an L3 of 1016·512 KiB shared by the whole socket whose
// ways field is 9, "see Fn8000_001D" (so unknown); lines of 64 bytes.
func TestCaches_AMDLegacy(t *testing.T) {
	v := str4("AuthenticAMD", 3)
	f := fakeCPU{
		{0, 0}:          {0xd, v[0], v[2], v[1]},
		{1, 0}:          {0x00B00F21, 0, 0, 0},
		{0x80000000, 0}: {0x80000021, 0, 0, 0},
		{0x80000005, 0}: {0xff60ff40, 0xff60ff40, 0x300c0140, 0x20080140},
		{0x80000006, 0}: {0x40802040, 0x60804040, 0x04006140, 0x0fe09140},
	}
	var c Info
	decode(&c, f.cpuid, 0)
	require.Equal(t, []Cache{{1, 48 << 10, 12, 64}, {2, 1 << 20, 8, 64}, {3, 1016 * 512 << 10, 0, 64}}, c.Caches)
	require.Equal(t, [2]int{26, 2}, [2]int{c.Family, c.Model})
}

// TestHierarchy_Fallback checks that Hierarchy keeps plausible caches and
// replaces implausible or missing ones by the assumed hierarchy; the
// negative controls are hierarchies that plausible must reject.
func TestHierarchy_Fallback(t *testing.T) {
	zen5 := Info{Caches: []Cache{{1, 48 << 10, 12, 64}, {2, 1 << 20, 8, 64}, {3, 1016 * 512 << 10, 0, 64}}}
	l1, l2, l3, known := zen5.Hierarchy()
	require.True(t, known)
	require.Equal(t, [3]Cache{zen5.Caches[0], zen5.Caches[1], zen5.Caches[2]}, [3]Cache{l1, l2, l3})

	noL3 := Info{Caches: zen5.Caches[:2]}
	_, _, l3, known = noL3.Hierarchy()
	require.True(t, known)
	require.Equal(t, Cache{3, 1 << 20, 8, 64}, l3, "a missing L3 is replaced by L2")

	for name, c := range map[string][]Cache{
		"none":            nil,
		"no L2":           {{1, 48 << 10, 12, 64}},
		"L1 of 0 bytes":   {{1, 0, 12, 64}, {2, 1 << 20, 8, 64}},
		"L2 below L1":     {{1, 512 << 10, 8, 64}, {2, 256 << 10, 8, 64}},
		"L1 of 1000 ways": {{1, 32 << 10, 1000, 64}, {2, 1 << 20, 8, 64}},
		"8-byte lines":    {{1, 32 << 10, 8, 8}, {2, 1 << 20, 8, 64}},
	} {
		l1, l2, l3, known := Info{Caches: c}.Hierarchy()
		require.False(t, known, "%s: accepted", name)
		require.Equal(t, [3]Cache{assumedL1, assumedL2, assumedL3}, [3]Cache{l1, l2, l3}, name)
	}
}

// TestDetect_CachesPlausible checks the caches this machine reports pass
// the plausibility check (on amd64 with CPUID they must be known; elsewhere
// they may be assumed).
func TestDetect_CachesPlausible(t *testing.T) {
	c := Detect()
	l1, l2, l3, known := c.Hierarchy()
	require.NoError(t, plausible(l1, l2, l3))
	if c.Vendor != "" {
		require.True(t, known, "CPUID gave implausible caches: %v", c.Caches)
	}
	t.Logf("L1d %v, L2 %v, L3 %v, read from the machine: %v", l1, l2, l3, known)
}

// TestSysfsCaches reads a Zen 5 core's caches as Linux lists them
// (instruction cache skipped) and nothing from an empty folder.
func TestSysfsCaches(t *testing.T) {
	dir := fstest.MapFS{}
	for i, f := range [][5]string{
		{"1", "Data", "48K", "12", "64"},
		{"1", "Instruction", "32K", "8", "64"},
		{"2", "Unified", "1024K", "16", "64"},
		{"3", "Unified", "32M", "16", "64"},
	} {
		for j, name := range []string{"level", "type", "size", "ways_of_associativity", "coherency_line_size"} {
			dir[fmt.Sprintf("index%d/%s", i, name)] = &fstest.MapFile{Data: []byte(f[j] + "\n")}
		}
	}
	want := []Cache{{1, 48 << 10, 12, 64}, {2, 1 << 20, 16, 64}, {3, 32 << 20, 16, 64}}
	require.Equal(t, want, sysfsCaches(dir))
	require.Nil(t, sysfsCaches(fstest.MapFS{}))
	require.Equal(t, -1, parseSize("12Q"))
}

func TestFromProcCPUInfo(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu\n"
	require.Equal(t, "AMD EPYC", fromProcCPUInfo(x86))
	arm := "processor\t: 0\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x61\nCPU part\t: 0x022\n"
	require.Equal(t, "CPU part 0x022", fromProcCPUInfo(arm))
	require.Equal(t, "", fromProcCPUInfo(""))
}

func ExampleInfo_String() {
	c := Info{Arch: "amd64", Vendor: "AuthenticAMD", Brand: "AMD EPYC", Family: 26, Model: 2, Stepping: 1,
		AVX2: true, FMA: true, AVX512F: true,
		Caches: []Cache{{Level: 1, Bytes: 48 << 10}, {Level: 2, Bytes: 1 << 20}, {Level: 3, Bytes: 32 << 20}}}
	fmt.Println(c)
	fmt.Println(Info{Arch: "arm64", Brand: "CPU part 0x022"})
	// Output:
	// AMD EPYC (AuthenticAMD family 26 model 2 stepping 1, amd64); isa: avx2 fma avx512f; cache: L1d 48 KiB, L2 1 MiB, L3 32 MiB
	// CPU part 0x022 (arm64); isa: neon
}
