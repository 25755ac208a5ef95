package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
)

func checkPair(op string, x, y *autograd.Tensor) error {
	if x == nil || y == nil {
		panic(autograd.Misuse("metrics."+op, "nil tensor"))
	}
	if x.Cols != y.Cols || x.Cols == 0 {
		return fmt.Errorf("metrics: %s: point dimensions %d and %d differ or are 0", op, x.Cols, y.Cols)
	}
	for _, t := range []*autograd.Tensor{x, y} {
		for k, v := range t.Data[:t.Rows*t.Cols] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("metrics: %s: element [%d, %d] = %v is not finite", op, k/t.Cols, k%t.Cols, v)
			}
		}
	}
	return nil
}

func sqDist(a, b []float64) float64 {
	var s float64
	for k := range a {
		d := a[k] - b[k]
		s += d * d
	}
	return s
}

// W2Squared returns the squared 2-Wasserstein distance between the empirical measures of two
// point clouds x and y of equal size n (uniform weights 1/n), with the squared Euclidean cost:
//
//	W₂²(x, y) = min over permutations σ of (1/n) Σ_i ‖x_i − y_σ(i)‖²
//
// (for equal uniform weights an optimal plan is a permutation: Birkhoff; Peyré & Cuturi 2019,
// Prop. 2.1). Solved exactly by Assign in O(n³): about a second for n = 2,000. Tested in
// TestW2Squared_* (brute force, 1-D sorted matching, the exact translation identity).
func W2Squared(x, y *autograd.Tensor) (float64, error) {
	if err := checkPair("W2Squared", x, y); err != nil {
		return 0, err
	}
	if x.Rows != y.Rows || x.Rows == 0 {
		return 0, fmt.Errorf("metrics: W2Squared: point counts %d and %d differ or are 0", x.Rows, y.Rows)
	}
	n := x.Rows
	cost := make([]float64, n*n)
	for i := range n {
		xi := x.Row(i)
		for j := range n {
			cost[i*n+j] = sqDist(xi, y.Row(j))
		}
	}
	_, total, err := Assign(n, cost)
	if err != nil {
		return 0, err
	}
	return total / float64(n), nil
}

// SlicedW2Squared returns the Monte-Carlo sliced squared 2-Wasserstein distance with k random
// directions θ_1..θ_k, uniform on the unit sphere (normalised Gaussian draws from rng):
//
//	SW₂²(x, y) ≈ (1/k) Σ_l W₂²(θ_lᵀx, θ_lᵀy),   W₂² in 1-D = (1/n) Σ_i (x_(i) − y_(i))²
//
// where x_(i) are the sorted projections (the sorted matching is optimal in 1-D). x and y have
// the same number of points. Its expectation over the directions is (1/d) W₂² for a pure
// translation (E[θθᵀ] = I/d). Bonneel et al. 2015; Peyré & Cuturi 2019, §2.6. Tested in
// TestSlicedW2Squared_Translation.
func SlicedW2Squared(x, y *autograd.Tensor, k int, rng *rand.Rand) (float64, error) {
	if err := checkPair("SlicedW2Squared", x, y); err != nil {
		return 0, err
	}
	switch {
	case k < 1:
		panic(autograd.Misuse("metrics.SlicedW2Squared", "needs k ≥ 1 directions, got %d", k))
	case rng == nil:
		panic(autograd.Misuse("metrics.SlicedW2Squared", "nil *rand.Rand"))
	}
	if x.Rows != y.Rows || x.Rows == 0 {
		return 0, fmt.Errorf("metrics: SlicedW2Squared: point counts %d and %d differ or are 0", x.Rows, y.Rows)
	}
	n, d := x.Rows, x.Cols
	th := make([]float64, d)
	px, py := make([]float64, n), make([]float64, n)
	var sum float64
	for range k {
		var norm float64
		for norm == 0 {
			norm = 0
			for j := range th {
				th[j] = rng.NormFloat64()
				norm += th[j] * th[j]
			}
		}
		norm = math.Sqrt(norm)
		for i := range n {
			px[i], py[i] = 0, 0
			for j := range d {
				px[i] += x.At(i, j) * th[j] / norm
				py[i] += y.At(i, j) * th[j] / norm
			}
		}
		sort.Float64s(px)
		sort.Float64s(py)
		var s float64
		for i := range n {
			s += (px[i] - py[i]) * (px[i] - py[i])
		}
		sum += s / float64(n)
	}
	return sum / float64(k), nil
}

// MedianBandwidth returns the median heuristic bandwidth: the median Euclidean distance
// between distinct points of the pooled sample x ∪ y (Gretton et al. 2012, §8). At most 1,000
// pooled points enter (an evenly strided subset) to keep it O(10⁶).
func MedianBandwidth(x, y *autograd.Tensor) float64 {
	if x == nil || y == nil {
		panic(autograd.Misuse("metrics.MedianBandwidth", "nil tensor"))
	}
	pts := make([][]float64, 0, x.Rows+y.Rows)
	for i := range x.Rows {
		pts = append(pts, x.Row(i))
	}
	for i := range y.Rows {
		pts = append(pts, y.Row(i))
	}
	if len(pts) > 1000 {
		sub := make([][]float64, 1000)
		for i := range sub {
			sub[i] = pts[i*len(pts)/1000]
		}
		pts = sub
	}
	var ds []float64
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			ds = append(ds, math.Sqrt(sqDist(pts[i], pts[j])))
		}
	}
	if len(ds) == 0 {
		return 1
	}
	slices.Sort(ds)
	m := len(ds) / 2
	if len(ds)%2 == 0 {
		return 0.5 * (ds[m-1] + ds[m])
	}
	return ds[m]
}

// MMD2 returns the unbiased estimate (U-statistic) of the squared maximum mean discrepancy
// with the Gaussian (RBF) kernel k(a, b) = exp(−‖a − b‖²/(2h²)) (Gretton et al. 2012, Lemma 6):
//
//	MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)
//
// Its expectation is exactly 0 when x and y come from the same distribution (it can be
// negative). h ≤ 0 selects MedianBandwidth(x, y). x and y need at least 2 points each.
// Tested in TestMMD2_*.
func MMD2(x, y *autograd.Tensor, h float64) (float64, error) {
	if err := checkPair("MMD2", x, y); err != nil {
		return 0, err
	}
	if x.Rows < 2 || y.Rows < 2 {
		return 0, fmt.Errorf("metrics: MMD2: need at least 2 points in each set, have %d and %d", x.Rows, y.Rows)
	}
	if !(h > 0) || math.IsInf(h, 1) {
		h = MedianBandwidth(x, y)
	}
	g := 1 / (2 * h * h)
	within := func(a *autograd.Tensor) float64 {
		var s float64
		for i := range a.Rows {
			for j := i + 1; j < a.Rows; j++ {
				s += 2 * math.Exp(-g*sqDist(a.Row(i), a.Row(j)))
			}
		}
		return s / float64(a.Rows*(a.Rows-1))
	}
	var cross float64
	for i := range x.Rows {
		for j := range y.Rows {
			cross += math.Exp(-g * sqDist(x.Row(i), y.Row(j)))
		}
	}
	return within(x) + within(y) - 2*cross/float64(x.Rows*y.Rows), nil
}

// MeanStdErr returns the sample mean of xs and its standard error s/√n, where
// s² = Σ(xᵢ − mean)²/(n − 1) is the unbiased sample variance, computed in two
// passes. Use it for per-sample negative log-likelihoods: NLL = mean ± se.
// n = 1 gives se = NaN, n = 0 gives mean = se = NaN. It is the public name of
// the module's one implementation (internal/stats); tested in TestMeanStdErr.
func MeanStdErr(xs []float64) (mean, se float64) { return stats.MeanStdErr(xs) }

// ExcessNLL returns the KL divergence estimate KL(p_data ‖ p_model) = E[NLL] − H from
// per-sample NLLs (nats) on held-out data and the data entropy h with its standard error hSE
// (data.Entropy): kl = mean(nll) − h, se = √(se_nll² + hSE²). Tested in TestExcessNLL.
func ExcessNLL(nll []float64, h, hSE float64) (kl, se float64) {
	m, s := MeanStdErr(nll)
	return m - h, math.Hypot(s, hSE)
}

// PathEnergy measures how straight trajectories are: it returns the Energy
// and the Straightness of fm.TrajectoryStats, the one implementation. traj[k]
// is the [n, d] state at time times[k], k = 0..T (times nil means t_k = k/T
// on [0, 1]). With Δt_k = t_{k+1} − t_k > 0 and span τ = t_T − t_0:
//
//	energy = (1/n) Σ_i Σ_k ‖x_{k+1,i} − x_{k,i}‖² / Δt_k          (≈ ∫ ‖ẋ‖² dt)
//	gap    = energy − (1/n) Σ_i ‖x_{T,i} − x_{0,i}‖² / τ          ≥ 0 (Cauchy–Schwarz)
//
// gap is 0 exactly for straight paths traversed at constant speed and is the straightness
// S = ∫ E‖(x_1 − x_0) − ẋ_t‖² dt of Liu et al. 2022 (Rectified Flow, eq. 4) when τ = 1.
// Tested in TestPathEnergy_Straight and TestPathEnergy_CircularArc (straight lines give 0;
// a circular arc gives its exact value).
func PathEnergy(traj []*autograd.Tensor, times []float64) (energy, gap float64, err error) {
	st, err := fm.TrajectoryStats(traj, times)
	if err != nil {
		return 0, 0, fmt.Errorf("metrics: PathEnergy: %w", err)
	}
	return st.Energy, st.Straightness, nil
}
