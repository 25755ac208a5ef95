package data

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/fm/discrete"
)

// Discrete 2-D toys for discrete flow matching (package fm/discrete): a
// point x ∈ [−4, 4)² becomes the pair of tokens (⌊(x₁ + 4)·B/8⌋,
// ⌊(x₂ + 4)·B/8⌋) on a B × B grid, and the discrete set's law is the exact
// probability of each cell (a sequence of D = 2 tokens over V = B values).
// Its entropy −Σ q log q is exact, computed from the cell masses.

// DiscreteNames lists the discrete toys DiscreteToy knows.
func DiscreteNames() []string { return []string{"checkerboard-discrete", "8gaussians-discrete"} }

// DiscreteToy returns the discrete toy name on a bins × bins grid over
// [−4, 4)² (bins a multiple of 4, at most 256), as a finite law:
//
//	checkerboard-discrete  uniform on the (bins/4)²·8 cells of the black squares of Checkerboard:
//	                       H = ln(bins²/2) exactly (ln 2048 ≈ 7.6246 at 64 bins)
//	8gaussians-discrete    cell masses of EightGaussians, (1/8) Σ_k Πⱼ [Φ((bⱼ − μ_kⱼ)/s) − Φ((aⱼ − μ_kⱼ)/s)]
//	                       over the cell [a, b), conditioned on the grid
//
// TestDiscreteToy_Entropy.
func DiscreteToy(name string, bins int) (discrete.Dist, error) {
	if bins < 4 || bins%4 != 0 || bins > 256 {
		return discrete.Dist{}, fmt.Errorf("data.DiscreteToy: %d bins: want a multiple of 4 in [4, 256]", bins)
	}
	w := 8 / float64(bins)
	var q discrete.Dist
	switch name {
	case "checkerboard-discrete":
		for a := range bins {
			for b := range bins {
				// the cell's centre decides its square (cells never straddle one)
				x, y := -4+(float64(a)+0.5)*w, -4+(float64(b)+0.5)*w
				if (Checkerboard{}).LogDensity([]float64{x, y}) > math.Inf(-1) {
					q.X = append(q.X, []int{a, b})
				}
			}
		}
		for range q.X {
			q.W = append(q.W, 1/float64(len(q.X)))
		}
	case "8gaussians-discrete":
		// the means and std of EightGaussians
		s := 0.5 / math.Sqrt2
		mass := make([]float64, bins*bins)
		tot := 0.0
		for k := range 8 {
			sn, cs := math.Sincos(math.Pi * float64(k) / 4)
			mu := [2]float64{4 * cs / math.Sqrt2, 4 * sn / math.Sqrt2}
			var m [2][]float64
			for j := range 2 {
				m[j] = make([]float64, bins)
				for a := range bins {
					lo, hi := (-4+float64(a)*w-mu[j])/s, (-4+float64(a+1)*w-mu[j])/s
					m[j][a] = 0.5 * (math.Erfc(-hi/math.Sqrt2) - math.Erfc(-lo/math.Sqrt2))
				}
			}
			for a := range bins {
				for b := range bins {
					v := m[0][a] * m[1][b] / 8
					mass[a*bins+b] += v
					tot += v
				}
			}
		}
		for c, v := range mass {
			if v > 0 {
				q.X = append(q.X, []int{c / bins, c % bins})
				q.W = append(q.W, v/tot)
			}
		}
	default:
		return discrete.Dist{}, fmt.Errorf("data.DiscreteToy: unknown dataset %q (known: %v)", name, DiscreteNames())
	}
	return q, nil
}

// DiscreteEntropy returns −Σ q log q in nats.
func DiscreteEntropy(q discrete.Dist) float64 {
	h := 0.0
	for _, w := range q.W {
		if w > 0 {
			h -= w * math.Log(w)
		}
	}
	return h
}
