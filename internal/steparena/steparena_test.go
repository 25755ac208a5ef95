package steparena

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
)

// TestBitDiff: equal slices pass; one ulp, a different length and a NaN
// against a number are each reported with the index.
func TestBitDiff(t *testing.T) {
	a := []float64{1, -2, 0.5}
	require.NoError(t, BitDiff("x", a, []float64{1, -2, 0.5}))
	require.ErrorContains(t, BitDiff("x", a, []float64{1, math.Nextafter(-2, 0), 0.5}), "x[1]")
	require.ErrorContains(t, BitDiff("x", a, a[:2]), "3 values")
	require.ErrorContains(t, BitDiff("x", a, []float64{1, -2, math.NaN()}), "x[2]")
	// 0 and −0 are equal numbers but not the same bits.
	require.Error(t, BitDiff("x", []float64{0}, []float64{math.Copysign(0, -1)}))
}

var sink [][]byte

// TestPerStep: a loop whose set-up allocates 1 MB once and whose steps
// allocate 3 objects of 4096 bytes each is measured at 3 objects and
// 12,288 bytes a step: the set-up cancels (dividing run(2k)'s allocations
// alone by 2k reads 8 KB/step more for k = 64: red, tried once).
func TestPerStep(t *testing.T) {
	run := func(steps int) {
		sink = append(sink[:0], make([]byte, 1<<20))
		for range steps {
			for range 3 {
				sink = append(sink, make([]byte, 4096))
			}
		}
		sink = sink[:0]
	}
	bytes, objects := PerStep(run, 64)
	// The sink's own growth adds at most a few slice headers a step.
	require.InDelta(t, 12288, bytes, 512, "bytes per step")
	require.InDelta(t, 3, objects, 0.5, "objects per step")
}

// TestIn: a nil arena gives the tensor itself (the heap path is unchanged),
// an arena a leaf of it sharing the data, and nil stays nil.
func TestIn(t *testing.T) {
	x := autograd.FromSlice(1, 2, []float64{1, 2})
	require.Same(t, x, In(nil, x))
	a := autograd.NewArena()
	y := In(a, x)
	require.Same(t, a, y.Arena())
	require.Equal(t, &x.Data[0], &y.Data[0], "In must not copy")
	require.Nil(t, In(a, nil))
}

// TestSet: New follows the installed constructor until restore.
func TestSet(t *testing.T) {
	require.NotNil(t, New())
	restore := Set(Heap)
	require.Nil(t, New())
	restore()
	require.NotNil(t, New())
	defer Set(Poisoned)()
	require.True(t, New().Poison)
}
