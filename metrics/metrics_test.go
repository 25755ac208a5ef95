package metrics

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kSE is the number of standard errors a Monte-Carlo check allows (P(|Z| > 5) ≈ 6·10⁻⁷).
const kSE = 5.0

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// bruteForce returns min over all permutations of Σ_i C[i, σ(i)] (Heap's algorithm).
func bruteForce(n int, c []float64) float64 {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == 1 {
			var s float64
			for i, j := range perm {
				s += c[i*n+j]
			}
			best = math.Min(best, s)
			return
		}
		for i := range k {
			rec(k - 1)
			if k%2 == 0 {
				perm[i], perm[k-1] = perm[k-1], perm[i]
			} else {
				perm[0], perm[k-1] = perm[k-1], perm[0]
			}
		}
	}
	rec(n)
	return best
}

func greedy(n int, c []float64) float64 {
	used := make([]bool, n)
	var s float64
	for i := range n {
		bj := -1
		for j := range n {
			if !used[j] && (bj < 0 || c[i*n+j] < c[i*n+bj]) {
				bj = j
			}
		}
		used[bj] = true
		s += c[i*n+bj]
	}
	return s
}

func TestAssign_BruteForce(t *testing.T) {
	rng := newRNG(1)
	greedyWrong := 0
	for trial := range 300 {
		n := 1 + trial%7
		c := make([]float64, n*n)
		for k := range c {
			if trial%3 == 0 {
				c[k] = float64(rng.IntN(4)) // many ties
			} else {
				c[k] = rng.NormFloat64() * 10
			}
		}
		perm, total, err := Assign(n, c)
		require.NoError(t, err)
		seen := make([]bool, n)
		var s float64
		for i, j := range perm {
			require.False(t, seen[j], "not a permutation: %v", perm)
			seen[j] = true
			s += c[i*n+j]
		}
		assert.Equal(t, s, total)
		want := bruteForce(n, c)
		assert.InDelta(t, want, total, 1e-9*(1+math.Abs(want)), "n=%d: got %v want %v", n, total, want)
		if greedy(n, c) > want+1e-9 {
			greedyWrong++
		}
	}
	// Negative control: the same check rejects a greedy (non-optimal) assignment.
	assert.Greater(t, greedyWrong, 50)

	_, _, err := Assign(2, []float64{1, 2, 3})
	assert.Error(t, err)
	_, _, err = Assign(1, []float64{math.NaN()})
	assert.Error(t, err)
	perm, total, err := Assign(0, nil)
	require.NoError(t, err)
	assert.Empty(t, perm)
	assert.Zero(t, total)
}

func TestW2Squared_OneDimensionSorted(t *testing.T) {
	// In 1-D the sorted matching is optimal, so W₂² = (1/n) Σ (x_(i) − y_(i))².
	rng := newRNG(2)
	n := 400
	x, y := autograd.Normal(n, 1, 0, 1, rng), autograd.Normal(n, 1, 0.5, 2, rng)
	got, err := W2Squared(x, y)
	require.NoError(t, err)
	xs, ys := append([]float64(nil), x.Data...), append([]float64(nil), y.Data...)
	sort.Float64s(xs)
	sort.Float64s(ys)
	var want float64
	for i := range xs {
		want += (xs[i] - ys[i]) * (xs[i] - ys[i]) / float64(n)
	}
	assert.InDelta(t, want, got, 1e-10*want)
	// Negative control: the unsorted (identity) matching costs more.
	var ident float64
	for i := range n {
		ident += (x.Data[i] - y.Data[i]) * (x.Data[i] - y.Data[i]) / float64(n)
	}
	assert.Greater(t, ident, want*1.5)
}

func TestW2Squared_Identity(t *testing.T) {
	rng := newRNG(3)
	x := autograd.Normal(200, 2, 0, 1, rng)
	w, err := W2Squared(x, x)
	require.NoError(t, err)
	assert.Zero(t, w)
	// A permuted copy is the same measure.
	y := autograd.Zeros(200, 2)
	for i, j := range rng.Perm(200) {
		copy(y.Row(i), x.Row(j))
	}
	w, err = W2Squared(x, y)
	require.NoError(t, err)
	assert.Zero(t, w)
	_, err = W2Squared(x, autograd.Zeros(3, 2))
	assert.Error(t, err)
	_, err = W2Squared(x, autograd.Zeros(200, 3))
	assert.Error(t, err)
}

// TestW2Squared_Translation: for any clouds, Σ_i (x_i − y_σ(i)) = n(x̄ − ȳ) does not depend on
// σ, so W₂²(x, y + m) = W₂²(x, y) − 2⟨m, x̄ − ȳ⟩ + ‖m‖² exactly. For x, y ~ N(0, I) this is
// ‖m‖² plus the finite-sample bias W₂²(x, y) ≥ 0 and a term of mean 0.
func TestW2Squared_Translation(t *testing.T) {
	rng := newRNG(4)
	n := 300
	x, y := autograd.Normal(n, 2, 0, 1, rng), autograd.Normal(n, 2, 0, 1, rng)
	m := []float64{3, -1}
	ym := y.Clone()
	for i := range n {
		ym.Row(i)[0] += m[0]
		ym.Row(i)[1] += m[1]
	}
	w0, err := W2Squared(x, y)
	require.NoError(t, err)
	wm, err := W2Squared(x, ym)
	require.NoError(t, err)
	var dot float64
	for j := range 2 {
		var mx, my float64
		for i := range n {
			mx += x.At(i, j) / float64(n)
			my += y.At(i, j) / float64(n)
		}
		dot += m[j] * (mx - my)
	}
	assert.InDelta(t, w0-2*dot+10, wm, 1e-9*wm)
	assert.Greater(t, w0, 0.0)
	// Negative control: the formula without the cross term is off by 2⟨m, x̄ − ȳ⟩ ≠ 0.
	assert.Greater(t, math.Abs(w0+10-wm), 1e-6)
}

func TestSlicedW2Squared_Translation(t *testing.T) {
	// y = x + m: every projection is shifted by θ·m, so SW₂² = (1/K) Σ (θ_l·m)². In 2-D,
	// (θ·m)² = ‖m‖² cos² φ with φ uniform: mean ‖m‖²/2, variance ‖m‖⁴/8.
	rng := newRNG(5)
	x := autograd.Normal(100, 2, 0, 1, rng)
	y := x.Clone()
	for i := range 100 {
		y.Row(i)[0] += 3
		y.Row(i)[1] += 4
	}
	K := 400
	sw, err := SlicedW2Squared(x, y, K, newRNG(6))
	require.NoError(t, err)
	se := 25 * math.Sqrt(1.0/8/float64(K))
	assert.InDelta(t, 25.0/2, sw, kSE*se)
	// Negative control: forgetting the 1/d (expecting the full W₂² = 25) fails.
	assert.Greater(t, math.Abs(sw-25), kSE*se)
	// In 1-D the slice is the line itself: SW₂² = W₂².
	a, b := autograd.Normal(50, 1, 0, 1, rng), autograd.Normal(50, 1, 1, 1, rng)
	sw1, err := SlicedW2Squared(a, b, 3, rng)
	require.NoError(t, err)
	w1, err := W2Squared(a, b)
	require.NoError(t, err)
	assert.InDelta(t, w1, sw1, 1e-12*w1)
	_, err = SlicedW2Squared(a, b, 3, rng)
	require.NoError(t, err)
}

// TestMisuse_PanicsWithMisuseError: programming errors panic with a
// *autograd.MisuseError naming the function; data problems (empty or
// mismatched samples, non-finite values) return errors.
func TestMisuse_PanicsWithMisuseError(t *testing.T) {
	x := autograd.Zeros(4, 2)
	rng := newRNG(1)
	cases := map[string]func(){
		"metrics.W2Squared":               func() { _, _ = W2Squared(nil, x) },
		"metrics.MMD2":                    func() { _, _ = MMD2(x, nil, 1) },
		"metrics.MedianBandwidth":         func() { MedianBandwidth(nil, x) },
		"metrics.SlicedW2Squared/k=0":     func() { _, _ = SlicedW2Squared(x, x, 0, rng) },
		"metrics.SlicedW2Squared/nil rng": func() { _, _ = SlicedW2Squared(x, x, 3, nil) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				me, ok := recover().(*autograd.MisuseError)
				require.True(t, ok, "no *autograd.MisuseError")
				require.True(t, strings.HasPrefix(name, me.Op), "op %q", me.Op)
			}()
			f()
		})
	}
	_, err := W2Squared(autograd.Zeros(3, 2), autograd.Zeros(4, 2))
	require.Error(t, err, "different point counts are a data error")
	_, err = SlicedW2Squared(autograd.Zeros(0, 2), autograd.Zeros(0, 2), 3, rng)
	require.Error(t, err, "empty samples are a data error")
}

func TestMMD2_Formula(t *testing.T) {
	// Three and two points in 1-D with h = 1, written out term by term.
	x := autograd.FromSlice(3, 1, []float64{0, 1, 3})
	y := autograd.FromSlice(2, 1, []float64{0.5, 2})
	k := func(a, b float64) float64 { return math.Exp(-(a - b) * (a - b) / 2) }
	want := 2*(k(0, 1)+k(0, 3)+k(1, 3))/6 + 2*k(0.5, 2)/2 -
		2*(k(0, 0.5)+k(0, 2)+k(1, 0.5)+k(1, 2)+k(3, 0.5)+k(3, 2))/6
	got, err := MMD2(x, y, 1)
	require.NoError(t, err)
	assert.InDelta(t, want, got, 1e-15)
	// Median heuristic: the 10 pooled distances sorted are 0.5 0.5 1 1 1 | 1.5 2 2 2.5 3.
	assert.InDelta(t, 1.25, MedianBandwidth(x, y), 1e-15)
	_, err = MMD2(x, autograd.FromSlice(1, 1, []float64{0}), 1)
	assert.Error(t, err)
}

func TestMMD2_SameAndDifferent(t *testing.T) {
	// Same distribution: E[MMD²_u] = 0 exactly; the mean of R replicates is within k standard
	// errors (computed from the replicates) of 0.
	rng := newRNG(7)
	const R, n = 40, 100
	null, biased := make([]float64, R), make([]float64, R)
	for r := range R {
		x, y := autograd.Normal(n, 2, 0, 1, rng), autograd.Normal(n, 2, 0, 1, rng)
		v, err := MMD2(x, y, 0)
		require.NoError(t, err)
		null[r] = v
		// Negative control: the biased V-statistic adds the diagonal k(x_i, x_i) = 1 terms:
		// + (1/m + 1/n)(1 − mean within-kernel) > 0 in expectation.
		h := MedianBandwidth(x, y)
		var wx, wy float64
		for i := range n {
			for j := range n {
				if i != j {
					wx += math.Exp(-sqDist(x.Row(i), x.Row(j)) / (2 * h * h))
					wy += math.Exp(-sqDist(y.Row(i), y.Row(j)) / (2 * h * h))
				}
			}
		}
		wx, wy = wx/float64(n*(n-1)), wy/float64(n*(n-1))
		biased[r] = v + (1-wx)/n + (1-wy)/n
	}
	m, se := MeanStdErr(null)
	assert.InDelta(t, 0, m, kSE*se, "mean MMD² %.2g ± %.2g", m, se)
	mb, seb := MeanStdErr(biased)
	assert.Greater(t, mb, kSE*seb, "the biased estimate is detected: %.3g ± %.3g", mb, seb)

	// Different distributions: N(0, I) vs N((1, 0), I) is far outside the null spread.
	x, y := autograd.Normal(n, 2, 0, 1, rng), autograd.Normal(n, 2, 0, 1, rng)
	for i := range n {
		y.Row(i)[0]++
	}
	d, err := MMD2(x, y, 0)
	require.NoError(t, err)
	sd := se * math.Sqrt(R)
	assert.Greater(t, d, kSE*sd, "MMD² %.3g vs null sd %.3g", d, sd)
}

func TestMeanStdErr(t *testing.T) {
	m, se := MeanStdErr([]float64{1, 2, 3, 4})
	assert.Equal(t, 2.5, m)
	assert.InDelta(t, math.Sqrt(5.0/3/4), se, 1e-15)
	m, se = MeanStdErr([]float64{7})
	assert.Equal(t, 7.0, m)
	assert.True(t, math.IsNaN(se))
	m, _ = MeanStdErr(nil)
	assert.True(t, math.IsNaN(m))
}

func TestExcessNLL(t *testing.T) {
	kl, se := ExcessNLL([]float64{3, 3.2, 2.8, 3}, 2.829, 0.002)
	assert.InDelta(t, 3-2.829, kl, 1e-15)
	_, s := MeanStdErr([]float64{3, 3.2, 2.8, 3})
	assert.InDelta(t, math.Hypot(s, 0.002), se, 1e-15)
}

func line(n int, times []float64, pos func(t float64, i int) []float64) []*autograd.Tensor {
	traj := make([]*autograd.Tensor, len(times))
	for k, tk := range times {
		traj[k] = autograd.Zeros(n, 2)
		for i := range n {
			copy(traj[k].Row(i), pos(tk, i))
		}
	}
	return traj
}

func TestPathEnergy_Straight(t *testing.T) {
	times := []float64{0, 0.1, 0.15, 0.5, 0.9, 1}
	x0 := [][]float64{{0, 0}, {1, 2}, {-1, 3}}
	x1 := [][]float64{{2, 1}, {1, -2}, {0, 0}}
	traj := line(3, times, func(t float64, i int) []float64 {
		return []float64{x0[i][0] + t*(x1[i][0]-x0[i][0]), x0[i][1] + t*(x1[i][1]-x0[i][1])}
	})
	e, gap, err := PathEnergy(traj, times)
	require.NoError(t, err)
	want := (5.0 + 16 + 10) / 3 // mean ‖x₁ − x₀‖²
	assert.InDelta(t, want, e, 1e-12)
	assert.InDelta(t, 0, gap, 1e-12)
	// Negative control: the same straight line at non-constant speed, x = x₀ + t²(x₁ − x₀),
	// has gap ‖c‖² (Σ_k (t²_{k+1} − t²_k)²/Δt_k − 1) > 0.
	traj2 := line(3, times, func(t float64, i int) []float64 {
		return []float64{x0[i][0] + t*t*(x1[i][0]-x0[i][0]), x0[i][1] + t*t*(x1[i][1]-x0[i][1])}
	})
	var s float64
	for k := range len(times) - 1 {
		d := times[k+1]*times[k+1] - times[k]*times[k]
		s += d * d / (times[k+1] - times[k])
	}
	_, gap2, err := PathEnergy(traj2, times)
	require.NoError(t, err)
	assert.InDelta(t, want*(s-1), gap2, 1e-12)
	assert.Greater(t, gap2, 0.1)

	_, _, err = PathEnergy(traj[:1], nil)
	assert.Error(t, err)
	_, _, err = PathEnergy(traj, []float64{0, 1})
	assert.Error(t, err)
	_, _, err = PathEnergy(traj, []float64{0, 0.1, 0.1, 0.5, 0.9, 1})
	assert.Error(t, err)
}

// TestPathEnergy_CircularArc: x(t) = R(cos Θt, sin Θt) on T equal steps. Each step is a chord
// 2R sin(Θ/2T), so energy = T²·4R² sin²(Θ/2T) (→ R²Θ² as T → ∞) and
// gap = energy − 4R² sin²(Θ/2).
func TestPathEnergy_CircularArc(t *testing.T) {
	R, Th := 2.0, 2.0
	for _, T := range []int{1, 10, 1000} {
		traj := make([]*autograd.Tensor, T+1)
		for k := range traj {
			s, c := math.Sincos(Th * float64(k) / float64(T))
			traj[k] = autograd.FromSlice(1, 2, []float64{R * c, R * s})
		}
		e, gap, err := PathEnergy(traj, nil)
		require.NoError(t, err)
		sT := math.Sin(Th / (2 * float64(T)))
		wantE := float64(T*T) * 4 * R * R * sT * sT
		s2 := math.Sin(Th / 2)
		assert.InDelta(t, wantE, e, 1e-12*wantE, "T=%d", T)
		assert.InDelta(t, wantE-4*R*R*s2*s2, gap, 1e-11*wantE, "T=%d", T)
		if T == 1000 { // continuum limit, Taylor error (RΘ)²(Θ/2T)²/3
			lim := R*R*Th*Th - 4*R*R*s2*s2
			assert.InDelta(t, lim, gap, R*R*Th*Th*math.Pow(Th/2000, 2)/3*1.01)
		}
	}
}
