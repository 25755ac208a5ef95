// Package stats holds the small numerical helpers that several flowmatch
// packages need, each written once: the sample mean with its standard
// error, a stable log-sum-exp, drawing an index from unnormalized
// weights, and Pearson's χ² test of counts against a law. Packages above it re-export what users call
// (metrics.MeanStdErr).
package stats

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// MeanStdErr returns the sample mean of xs and its standard error s/√n,
// where s² = Σ(xᵢ − mean)²/(n − 1) is the unbiased sample variance,
// computed in two passes (a one-pass Σx² − n·mean² loses every digit when
// the spread is small against the mean). n = 1 gives se = NaN; n = 0 gives
// mean = se = NaN. TestMeanStdErr.
func MeanStdErr(xs []float64) (mean, se float64) {
	n := float64(len(xs))
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range xs {
		mean += v
	}
	mean /= n
	var ss float64
	for _, v := range xs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// LogSumExp returns log Σᵢ exp(aᵢ), computed stably as m + log Σᵢ exp(aᵢ − m)
// with m = maxᵢ aᵢ. It is −Inf for an empty a or one whose entries are all
// −Inf, and +Inf if any entry is +Inf. TestLogSumExp.
func LogSumExp(a []float64) float64 {
	m := math.Inf(-1)
	for _, v := range a {
		m = max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range a {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// Categorical draws indices i with probability wᵢ/Σw from nonnegative,
// unnormalized weights, by inverting the cumulative sum with a binary
// search (O(log n) a draw after O(n) set-up). TestCategorical_Frequencies.
type Categorical struct {
	cum []float64 // cum[i] = w₀ + … + wᵢ
}

// NewCategorical returns the distribution with weights w (copied). The
// weights must be finite and nonnegative with a positive sum; that is the
// caller's to ensure (a zero sum makes every draw return the last index).
func NewCategorical(w []float64) Categorical {
	cum := make([]float64, len(w))
	c := 0.0
	for i, v := range w {
		c += v
		cum[i] = c
	}
	return Categorical{cum: cum}
}

// NewCategoricalLog returns the distribution with weights exp(lwᵢ), scaled by
// exp(−max lw) first so that large or very negative log-weights neither
// overflow nor underflow.
func NewCategoricalLog(lw []float64) Categorical {
	m := math.Inf(-1)
	for _, v := range lw {
		m = max(m, v)
	}
	w := make([]float64, len(lw))
	for i, v := range lw {
		w[i] = math.Exp(v - m)
	}
	return NewCategorical(w)
}

// Len returns the number of categories.
func (c Categorical) Len() int { return len(c.cum) }

// Draw returns one index. It consumes one rng.Float64.
func (c Categorical) Draw(rng *rand.Rand) int {
	n := len(c.cum)
	u := rng.Float64() * c.cum[n-1]
	// The first i with cum[i] > u: zero-weight categories are never drawn.
	return min(sort.Search(n, func(i int) bool { return c.cum[i] > u }), n-1)
}

// ChiSquare is Pearson's goodness-of-fit test of counts against the law
// probs (Pearson 1900): with n = Σ counts and eᵢ = n·probsᵢ,
//
//	stat = Σᵢ (countsᵢ − eᵢ)² / eᵢ,  p = P(χ²ₖ ≥ stat),  k = len(probs) − 1,
//
// the upper tail of the χ² law with k degrees of freedom. probs must sum
// to 1, have no zero entry and the length of counts. TestChiSquare.
func ChiSquare(counts []int, probs []float64) (stat, p float64) {
	n := 0
	for _, c := range counts {
		n += c
	}
	for i, c := range counts {
		e := float64(n) * probs[i]
		stat += (float64(c) - e) * (float64(c) - e) / e
	}
	return stat, distuv.ChiSquared{K: float64(len(probs) - 1)}.Survival(stat)
}
