package metrics

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/fm"
)

// Assign solves the linear assignment problem for the n×n cost matrix C
// (row-major, C[i·n+j]):
//
//	σ* = argmin over permutations σ of Σ_i C[i, σ(i)]
//
// and returns σ* (row i is assigned column perm[i]) and the minimal total.
// It checks the input and calls fm.Assignment, the O(n³) shortest-
// augmenting-path Hungarian method (Jonker & Volgenant 1987) that exact
// minibatch OT couplings use too. Non-finite costs and a wrong length are
// errors. Tested against brute force over all permutations for n ≤ 7 in
// TestAssign_BruteForce, and against the sorted matching of 1-D points in
// TestW2Squared_OneDimensionSorted.
func Assign(n int, cost []float64) (perm []int, total float64, err error) {
	if n < 0 || len(cost) != n*n {
		return nil, 0, fmt.Errorf("metrics: Assign: len(cost) = %d, want n² = %d", len(cost), n*n)
	}
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = cost[i*n : (i+1)*n]
		for j, c := range rows[i] {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return nil, 0, fmt.Errorf("metrics: Assign: cost[%d, %d] = %v is not finite", i, j, c)
			}
		}
	}
	perm, total = fm.Assignment(rows)
	return perm, total, nil
}
