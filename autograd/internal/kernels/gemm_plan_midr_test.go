package kernels

import (
	"testing"

	"github.com/flowmatch/flowmatch/internal/cpu"
	"github.com/stretchr/testify/require"
)

// TestChoosePlan_ARMRow checks that a tunedPlans row keyed by an arm64
// core's MIDR implementer and part (cpu.Info's Family and Model there)
// applies to that core only: a Neoverse N1 (implementer 0x41, part 0xd0c)
// gets the row and a report naming it; a Neoverse V1 (part 0xd40) and a
// core whose MIDR could not be read (no vendor) get the derived blocking.
func TestChoosePlan_ARMRow(t *testing.T) {
	n1 := cpu.Info{Arch: "arm64", Vendor: "Arm", Brand: "Arm Neoverse N1", Family: 0x41, Model: 0xd0c, Variant: 3, Stepping: 1}
	key := cpuKey{"Arm", 0x41, 0xd0c}
	tunedPlans[key] = tunedRow{Kernel: goKernel.name, MC: 40, KC: 72, NC: 96}
	defer delete(tunedPlans, key)
	p := choosePlan([]*microKernel{&goKernel}, n1)
	require.Equal(t, [4]any{&goKernel, 40, 72, 96}, [4]any{p.kn, p.mc, p.kc, p.nc})
	require.Contains(t, p.String(), "tuned for Arm implementer 0x41 part 0xd0c")

	v1 := n1
	v1.Model = 0xd40
	for _, c := range []cpu.Info{v1, {Arch: "arm64", Brand: "CPU part 0xd0c"}} {
		p = choosePlan([]*microKernel{&goKernel}, c)
		require.NotEqual(t, 72, p.kc, "%v took the N1 row", c)
		require.Contains(t, p.String(), "derived from")
	}
}
