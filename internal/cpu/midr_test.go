package cpu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Fixtures: /proc/cpuinfo blocks and sysfs midr_el1 values as Linux prints
// them on the machines named.
const (
	// AWS Graviton2 (Neoverse N1 r3p1), first core of two.
	cpuinfoGraviton2 = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n" +
		"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n" +
		"processor\t: 1\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n"
	// A big.LITTLE phone: core 0 is a Cortex-A55 r2p0, core 4 a Cortex-A76.
	cpuinfoBigLittle = "processor\t: 0\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x2\nCPU part\t: 0xd05\nCPU revision\t: 0\n\n" +
		"processor\t: 4\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n"
	// Apple M1 under Asahi Linux, a Firestorm core.
	cpuinfoM1 = "processor\t: 0\nCPU implementer\t: 0x61\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0x023\nCPU revision\t: 1\n"
	// An implementer this package does not name.
	cpuinfoUnknown = "processor\t: 0\nCPU implementer\t: 0x99\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0x123\nCPU revision\t: 2\n"
	// Graviton3 (Neoverse V1 r1p1) as sysfs shows the register.
	sysfsGraviton3 = "0x00000000411fd401\n"
)

// TestIdentifyARM reads MIDR_EL1 from fixture files: sysfs first, else
// /proc/cpuinfo (the first core's block), and checks implementer, part,
// variant, revision, the names and the one-line report. The controls are a
// missing file (""), malformed files (not hexadecimal, a field that is not
// a number, a missing line, implementer 0), which must leave the vendor
// unknown, or fall back to the other file when it is good.
func TestIdentifyARM(t *testing.T) {
	type want struct {
		from, vendor, brand string
		impl, part, v, r    int
	}
	for _, c := range []struct {
		name, sysfs, cpuinfo string
		want                 want
	}{
		{"Graviton2 cpuinfo", "", cpuinfoGraviton2, want{"cpuinfo", "Arm", "Arm Neoverse N1", 0x41, 0xd0c, 3, 1}},
		{"Graviton3 sysfs", sysfsGraviton3, cpuinfoGraviton2, want{"sysfs", "Arm", "Arm Neoverse V1", 0x41, 0xd40, 1, 1}},
		{"big.LITTLE core 0", "", cpuinfoBigLittle, want{"cpuinfo", "Arm", "Arm Cortex-A55", 0x41, 0xd05, 2, 0}},
		{"Apple M1", "", cpuinfoM1, want{"cpuinfo", "Apple", "Apple M1 Firestorm", 0x61, 0x023, 1, 1}},
		{"unnamed implementer", "", cpuinfoUnknown, want{"cpuinfo", "implementer 0x99", "CPU part 0x123", 0x99, 0x123, 0, 2}},
		{"malformed sysfs falls back", "0xzz\n", cpuinfoM1, want{"cpuinfo", "Apple", "Apple M1 Firestorm", 0x61, 0x023, 1, 1}},
		{"sysfs without 0x falls back", "413fd0c1\n", cpuinfoM1, want{"cpuinfo", "Apple", "Apple M1 Firestorm", 0x61, 0x023, 1, 1}},
		{"sysfs implementer 0 falls back", "0x0000000000000000\n", cpuinfoM1, want{"cpuinfo", "Apple", "Apple M1 Firestorm", 0x61, 0x023, 1, 1}},
		{"both missing", "", "", want{}},
		{"cpuinfo part not a number", "", "CPU implementer\t: 0x41\nCPU variant\t: 0x3\nCPU part\t: 0xd0g\nCPU revision\t: 1\n", want{}},
		{"cpuinfo without revision", "", "CPU implementer\t: 0x41\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n", want{}},
		{"cpuinfo part too wide", "", "CPU implementer\t: 0x41\nCPU variant\t: 0x3\nCPU part\t: 0x1d0c\nCPU revision\t: 1\n", want{}},
		{"x86 cpuinfo", "", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n", want{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			info := Info{Arch: "arm64", Brand: fromProcCPUInfo(c.cpuinfo)}
			from := identifyARM(&info, c.sysfs, c.cpuinfo)
			got := want{from, info.Vendor, info.Brand, info.Family, info.Model, info.Variant, info.Stepping}
			if c.want.from == "" { // nothing identified: the brand is cpuinfo's, if any
				c.want.brand = fromProcCPUInfo(c.cpuinfo)
			}
			require.Equal(t, c.want, got)
			if from == "" {
				require.Equal(t, "", info.ID())
			}
		})
	}
}

// TestDecodeMIDR splits Neoverse N1 r3p1's register 0x413fd0c1 and checks
// each field moves alone: the control, the same value with the part's low
// nibble changed, must change the part only.
func TestDecodeMIDR(t *testing.T) {
	require.Equal(t, midr{implementer: 0x41, variant: 3, part: 0xd0c, revision: 1}, decodeMIDR(0x413fd0c1))
	require.Equal(t, midr{implementer: 0x41, variant: 3, part: 0xd0d, revision: 1}, decodeMIDR(0x413fd0d1))
	require.Equal(t, midr{implementer: 0x61, variant: 0, part: 0x022, revision: 0}, decodeMIDR(0x610f0220))
}

func ExampleInfo_ID() {
	var c Info
	c.Arch = "arm64"
	identifyARM(&c, "0x00000000413fd0c1\n", "")
	fmt.Println(c.ID())
	fmt.Println(c)
	// Output:
	// Arm implementer 0x41 part 0xd0c
	// Arm Neoverse N1 (Arm implementer 0x41 part 0xd0c r3p1, arm64); isa: neon
}
