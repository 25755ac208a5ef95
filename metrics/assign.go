package metrics

import (
	"fmt"
	"math"
)

// Assign solves the linear assignment problem for the n×n cost matrix C (row-major, C[i·n+j]):
//
//	σ* = argmin over permutations σ of Σ_i C[i, σ(i)]
//
// and returns σ* (row i is assigned column perm[i]) and the minimal total. It is the
// shortest-augmenting-path Hungarian method with dual potentials u, v (Jonker & Volgenant
// 1987; the O(n³) form of Peyré & Cuturi 2019, §3.1): row i is added by a Dijkstra search over
// reduced costs C[i, j] − u_i − v_j ≥ 0, then the potentials are updated so that they stay
// feasible and tight on the matching. Costs must be finite. Tested against brute force over
// all permutations for n ≤ 7 in TestAssign_BruteForce, and against the sorted matching of 1-D
// points in TestW2Squared_OneDimensionSorted.
func Assign(n int, cost []float64) (perm []int, total float64, err error) {
	if n < 0 || len(cost) != n*n {
		return nil, 0, fmt.Errorf("metrics: Assign: len(cost) = %d, want n² = %d", len(cost), n*n)
	}
	for k, c := range cost {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return nil, 0, fmt.Errorf("metrics: Assign: cost[%d, %d] = %v is not finite", k/n, k%n, c)
		}
	}
	// 1-based columns; column 0 is a virtual column holding the row being inserted.
	u := make([]float64, n+1)    // row potentials (row i at index i+1)
	v := make([]float64, n+1)    // column potentials
	p := make([]int, n+1)        // p[j]: row (1-based) matched to column j; 0 = free
	way := make([]int, n+1)      // previous column on the shortest path
	minv := make([]float64, n+1) // shortest reduced distance to column j
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			row := cost[(i0-1)*n : i0*n]
			ui := u[i0]
			delta, j1 := math.Inf(1), 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if cur := row[j-1] - ui - v[j]; cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 { // augment along the path
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	perm = make([]int, n)
	for j := 1; j <= n; j++ {
		perm[p[j]-1] = j - 1
	}
	for i, j := range perm {
		total += cost[i*n+j]
	}
	return perm, total, nil
}
