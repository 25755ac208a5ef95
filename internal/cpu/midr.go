package cpu

import (
	"fmt"
	"strconv"
	"strings"
)

/*
Identifying an Arm core.

An arm64 core names itself in its Main ID Register, MIDR_EL1 (Arm
Architecture Reference Manual for A-profile architecture, register
MIDR_EL1):

	bits [31:24] implementer   0x41 Arm, 0x61 Apple, 0xC0 Ampere, …
	     [23:20] variant       the N of an rNpM revision
	     [19:16] architecture  0xF: see the ID registers
	     [15:4]  part number   0xD0C Neoverse N1, 0xD4F Neoverse V2, …
	     [3:0]   revision      the M of rNpM

Linux shows it to user programs twice: as the hexadecimal register in
/sys/devices/system/cpu/cpu0/regs/identification/midr_el1, and as the
"CPU implementer", "CPU variant", "CPU part" and "CPU revision" lines of
/proc/cpuinfo (one block per core). detect reads the first, then the
second (TestIdentifyARM). Info keeps the implementer as Family and the part
as Model, with the implementer's name as Vendor, so a tunedPlans row keys
on implementer and part as it keys on family and model on x86: an AWS
Graviton2 or an Ampere Altra (both Neoverse N1 cores) is {"Arm", 0x41,
0xd0c}. A core whose register cannot be read has no Vendor, and no row
applies to it. The names below are those of the cores' technical
reference manuals and of Linux's arch/arm64/include/asm/cputype.h.
*/

// A midr is the decoded MIDR_EL1 of one core.
type midr struct {
	implementer, variant, part, revision int
}

// decodeMIDR splits MIDR_EL1 into its fields (the table above).
func decodeMIDR(v uint64) midr {
	return midr{
		implementer: int(v >> 24 & 0xff),
		variant:     int(v >> 20 & 0xf),
		part:        int(v >> 4 & 0xfff),
		revision:    int(v & 0xf),
	}
}

// midrFromSysfs parses the text of sysfs's midr_el1, e.g.
// "0x00000000413fd0c1\n".
func midrFromSysfs(text string) (midr, error) {
	s := strings.TrimSpace(text)
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil || !strings.HasPrefix(s, "0x") {
		return midr{}, fmt.Errorf("midr_el1 %q: want a hexadecimal register value such as 0x00000000413fd0c1", s)
	}
	if v>>24&0xff == 0 {
		return midr{}, fmt.Errorf("midr_el1 %q: implementer 0 (reserved)", s)
	}
	return decodeMIDR(v), nil
}

// midrFromCPUInfo parses the first core's "CPU implementer", "CPU
// variant", "CPU part" and "CPU revision" lines of /proc/cpuinfo (the
// first block, up to the first blank line after them). All four must be
// present and numeric (hexadecimal with 0x, or decimal).
func midrFromCPUInfo(text string) (midr, error) {
	fields := map[string]int{}
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" && len(fields) > 0 {
			break // end of the first core's block
		}
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !strings.HasPrefix(k, "CPU ") {
			continue
		}
		switch k {
		case "CPU implementer", "CPU variant", "CPU part", "CPU revision":
			n, err := strconv.ParseInt(v, 0, 64)
			if err != nil || n < 0 {
				return midr{}, fmt.Errorf("/proc/cpuinfo %q: %q is not a number", k, v)
			}
			fields[k] = int(n)
		}
	}
	for _, k := range []string{"CPU implementer", "CPU variant", "CPU part", "CPU revision"} {
		if _, ok := fields[k]; !ok {
			return midr{}, fmt.Errorf("/proc/cpuinfo has no %q line", k)
		}
	}
	m := midr{fields["CPU implementer"], fields["CPU variant"], fields["CPU part"], fields["CPU revision"]}
	if m.implementer <= 0 || m.implementer > 0xff || m.variant > 0xf || m.part > 0xfff || m.revision > 0xf {
		return midr{}, fmt.Errorf("/proc/cpuinfo: %+v out of MIDR_EL1's field ranges", m)
	}
	return m, nil
}

// armImplementers names the MIDR_EL1 implementer codes.
var armImplementers = map[int]string{
	0x41: "Arm", 0x42: "Broadcom", 0x43: "Cavium", 0x46: "Fujitsu", 0x48: "HiSilicon",
	0x4e: "NVIDIA", 0x50: "Applied Micro", 0x51: "Qualcomm", 0x61: "Apple", 0x6d: "Microsoft",
	0xc0: "Ampere",
}

// armParts names common parts by implementer and part number. Cloud
// processors built on Arm's cores report Arm's codes: AWS Graviton2 is a
// Neoverse N1, Graviton3 a V1, Graviton4 a V2; Ampere Altra an N1; NVIDIA
// Grace a V2; Google Axion a V2.
var armParts = map[[2]int]string{
	{0x41, 0xd03}: "Cortex-A53", {0x41, 0xd04}: "Cortex-A35", {0x41, 0xd05}: "Cortex-A55",
	{0x41, 0xd07}: "Cortex-A57", {0x41, 0xd08}: "Cortex-A72", {0x41, 0xd09}: "Cortex-A73",
	{0x41, 0xd0a}: "Cortex-A75", {0x41, 0xd0b}: "Cortex-A76", {0x41, 0xd0c}: "Neoverse N1",
	{0x41, 0xd0d}: "Cortex-A77", {0x41, 0xd40}: "Neoverse V1", {0x41, 0xd41}: "Cortex-A78",
	{0x41, 0xd44}: "Cortex-X1", {0x41, 0xd46}: "Cortex-A510", {0x41, 0xd47}: "Cortex-A710",
	{0x41, 0xd48}: "Cortex-X2", {0x41, 0xd49}: "Neoverse N2", {0x41, 0xd4a}: "Neoverse E1",
	{0x41, 0xd4b}: "Cortex-A78C", {0x41, 0xd4d}: "Cortex-A715", {0x41, 0xd4e}: "Cortex-X3",
	{0x41, 0xd4f}: "Neoverse V2", {0x41, 0xd80}: "Cortex-A520", {0x41, 0xd81}: "Cortex-A720",
	{0x41, 0xd82}: "Cortex-X4", {0x41, 0xd84}: "Neoverse V3", {0x41, 0xd85}: "Cortex-X925",
	{0x41, 0xd87}: "Cortex-A725", {0x41, 0xd8e}: "Neoverse N3",
	{0x43, 0x0af}: "ThunderX2", {0x46, 0x001}: "A64FX", {0x48, 0xd01}: "TaiShan v110 (Kunpeng 920)",
	{0x4e, 0x004}: "Carmel", {0x51, 0x001}: "Oryon",
	{0x61, 0x022}: "M1 Icestorm", {0x61, 0x023}: "M1 Firestorm",
	{0x61, 0x024}: "M1 Pro Icestorm", {0x61, 0x025}: "M1 Pro Firestorm",
	{0x61, 0x028}: "M1 Max Icestorm", {0x61, 0x029}: "M1 Max Firestorm",
	{0x61, 0x032}: "M2 Blizzard", {0x61, 0x033}: "M2 Avalanche",
	{0xc0, 0xac3}: "AmpereOne",
}

// setARM fills c's identity from MIDR_EL1 m: Vendor the implementer's name
// ("implementer 0x…" if unnamed), Family the implementer code, Model the
// part number, Stepping the revision, Variant the variant, and Brand the
// vendor and part name when the part is named and c has no model name.
func setARM(c *Info, m midr) {
	c.Vendor = armImplementers[m.implementer]
	if c.Vendor == "" {
		c.Vendor = fmt.Sprintf("implementer 0x%02x", m.implementer)
	}
	c.Family, c.Model, c.Stepping, c.Variant = m.implementer, m.part, m.revision, m.variant
	if name := armParts[[2]int{m.implementer, m.part}]; name != "" && (c.Brand == "" || strings.HasPrefix(c.Brand, "CPU part ")) {
		c.Brand = c.Vendor + " " + name
	}
}

// identifyARM sets c's identity from the text of sysfs's midr_el1 or,
// if that is missing or malformed, of /proc/cpuinfo ("" for a file that
// could not be read), and returns which one it used ("" for neither, when
// c keeps no Vendor).
func identifyARM(c *Info, sysfsMIDR, procCPUInfo string) string {
	if m, err := midrFromSysfs(sysfsMIDR); err == nil {
		setARM(c, m)
		return "sysfs"
	}
	if m, err := midrFromCPUInfo(procCPUInfo); err == nil {
		setARM(c, m)
		return "cpuinfo"
	}
	return ""
}
