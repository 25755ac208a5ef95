package fm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSinkhornNewton_Direction: the Newton direction solves the grounded
// Laplacian system L d = ε r, checked row by row with the full Laplacian,
//
//	Σₗ wⱼₗ (dⱼ − dₗ) = ε rⱼ   for every column j (dₘ = 0),
//
// within the rounding of the elimination, K·u·Σₗ wⱼₗ(|dⱼ| + |dₗ|) with
// K = 4m (each eliminated column adds a few roundings to every weight),
// on softmax rows s with weights spanning 30 orders of magnitude.
// Negative control: d with one entry moved by 1e-6 of its size fails.
func TestSinkhornNewton_Direction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, m := 9, 7
	nt := sinkhornNewton{a: make([]float64, n), b: make([]float64, m), eps: 0.05}
	s := make([][]float64, n)
	for i := range s {
		nt.a[i] = 1 / float64(n)
		s[i] = make([]float64, m)
		z := 0.0
		for j := range s[i] {
			s[i][j] = math.Exp(-70 * rng.Float64())
			z += s[i][j]
		}
		for j := range s[i] {
			s[i][j] /= z
		}
	}
	r := make([]float64, m)
	for j := range r {
		r[j] = rng.NormFloat64() * 1e-3
	}
	r[m-1] = 0
	for j := 0; j < m-1; j++ {
		r[m-1] -= r[j]
	}
	d, ok := nt.direction(s, r)
	require.True(t, ok)
	require.Zero(t, d[m-1])
	w := func(j, l int) float64 {
		x := 0.0
		for i := range s {
			x += nt.a[i] * s[i][j] * s[i][l]
		}
		return x
	}
	check := func(d []float64) int {
		bad := 0
		for j := 0; j < m; j++ {
			lhs, mag := 0.0, 0.0
			for l := 0; l < m; l++ {
				if l != j {
					lhs += w(j, l) * (d[j] - d[l])
					mag += w(j, l) * (math.Abs(d[j]) + math.Abs(d[l]))
				}
			}
			tol := 4 * float64(m) * 0x1p-53 * mag
			if !(math.Abs(lhs-nt.eps*r[j]) <= tol) {
				bad++
			}
		}
		return bad
	}
	assert.Zero(t, check(d), "L d = ε r")
	d[2] *= 1 + 1e-6
	assert.Positive(t, check(d), "negative control")
}
