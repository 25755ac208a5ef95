package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
	"gonum.org/v1/gonum/mat"
)

// GaussianMixture is the d-dimensional mixture
//
//	p(x) = Σ_k w_k · N(x; μ_k, Σ_k),  log N(x; μ, Σ) = −½ (x−μ)ᵀ Σ⁻¹ (x−μ) − ½ log det(2πΣ)
//
// evaluated exactly (log-sum-exp over components). Build it with NewGaussianMixture or
// IsotropicMixture. Tested in TestGaussianMixture_LogDensity (against a direct formula and
// 2-D quadrature of ∫p = 1) and TestEntropy_KnownValues.
type GaussianMixture struct {
	Label   string
	weights []float64
	means   [][]float64
	chol    []*mat.Cholesky // Σ_k = L Lᵀ
	lower   []*mat.TriDense // L_k, for sampling x = μ + L ε
	logNorm []float64       // log w_k − ½ log det(2πΣ_k)
}

// NewGaussianMixture returns the mixture Σ_k w_k N(μ_k, Σ_k). The weights must be
// non-negative with a positive sum (they are normalised), the means all of one length d ≥ 1 and
// each covariance a symmetric positive-definite d×d matrix.
func NewGaussianMixture(label string, weights []float64, means [][]float64, covs []*mat.SymDense) (*GaussianMixture, error) {
	k := len(weights)
	if k == 0 || len(means) != k || len(covs) != k {
		return nil, fmt.Errorf("data: mixture %q: need equal, positive numbers of weights (%d), means (%d) and covariances (%d)", label, k, len(means), len(covs))
	}
	d := len(means[0])
	if d == 0 {
		return nil, fmt.Errorf("data: mixture %q: zero-dimensional mean", label)
	}
	var sum float64
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("data: mixture %q: weight %d = %v is not a finite non-negative number", label, i, w)
		}
		sum += w
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("data: mixture %q: weights sum to %v", label, sum)
	}
	g := &GaussianMixture{Label: label}
	for i := range k {
		if len(means[i]) != d {
			return nil, fmt.Errorf("data: mixture %q: mean %d has length %d, want %d", label, i, len(means[i]), d)
		}
		for _, v := range means[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("data: mixture %q: mean %d is not finite", label, i)
			}
		}
		if covs[i] == nil || covs[i].SymmetricDim() != d {
			return nil, fmt.Errorf("data: mixture %q: covariance %d is not %d×%d", label, i, d, d)
		}
		var ch mat.Cholesky
		if ok := ch.Factorize(covs[i]); !ok {
			return nil, fmt.Errorf("data: mixture %q: covariance %d is not positive definite", label, i)
		}
		var l mat.TriDense
		ch.LTo(&l)
		g.weights = append(g.weights, weights[i]/sum)
		g.means = append(g.means, append([]float64(nil), means[i]...))
		g.chol = append(g.chol, &ch)
		g.lower = append(g.lower, &l)
		g.logNorm = append(g.logNorm, math.Log(weights[i]/sum)-0.5*(float64(d)*math.Log(2*math.Pi)+ch.LogDet()))
	}
	return g, nil
}

// IsotropicMixture returns Σ_k w_k N(μ_k, s_k² I). It panics with a *autograd.MisuseError on
// invalid arguments (it is meant for literals; use NewGaussianMixture for user input, which
// returns the same complaint as an error).
func IsotropicMixture(label string, weights []float64, means [][]float64, stds []float64) *GaussianMixture {
	covs := make([]*mat.SymDense, len(stds))
	for i, s := range stds {
		if !(s > 0) || math.IsInf(s, 1) {
			panic(autograd.Misuse("data.IsotropicMixture", "mixture %q: standard deviation %d = %v must be positive and finite", label, i, s))
		}
		d := 0
		if i < len(means) {
			d = len(means[i])
		}
		covs[i] = mat.NewSymDense(max(d, 1), nil)
		for j := range max(d, 1) {
			covs[i].SetSym(j, j, s*s)
		}
	}
	g, err := NewGaussianMixture(label, weights, means, covs)
	if err != nil {
		panic(autograd.Misuse("data.IsotropicMixture", "%v", err))
	}
	return g
}

// EightGaussians is FFJORD's "8gaussians" (Grathwohl et al. 2018, arXiv:1810.01367,
// lib/toy_data.py), the default data of the repository's PyTorch peer benchmark
// (bench/peers/torch_fm.py): k ~ U{0..7}, c_k = 4·(cos πk/4, sin πk/4), ε ~ N(0, I),
//
//	x = (c_k + 0.5·ε)/√2,  i.e. p = (1/8) Σ_k N(c_k/√2, (0.5/√2)² I)
//
// (FFJORD divides by 1.414 rather than √2; the entropies differ by 2·10⁻⁵ nats.) Radius
// 2√2 ≈ 2.83, component std ≈ 0.354, H ≈ 2.829 nats (Monte Carlo; TestEntropy_KnownValues).
// TorchCFM's wider variant (radius 5) is a different set.
func EightGaussians() *GaussianMixture {
	w := make([]float64, 8)
	m := make([][]float64, 8)
	s := make([]float64, 8)
	for k := range 8 {
		sn, cs := math.Sincos(math.Pi * float64(k) / 4)
		w[k], m[k], s[k] = 1, []float64{4 * cs / math.Sqrt2, 4 * sn / math.Sqrt2}, 0.5/math.Sqrt2
	}
	return IsotropicMixture("8gaussians", w, m, s)
}

// StandardGaussian is N(0, I_d); H = (d/2)·ln(2πe) exactly (d = 2: 2.8379 nats). d < 1 panics
// with a *autograd.MisuseError.
func StandardGaussian(d int) *GaussianMixture {
	if d < 1 {
		panic(autograd.Misuse("data.StandardGaussian", "dimension d = %d, want ≥ 1", d))
	}
	return IsotropicMixture("gaussian", []float64{1}, [][]float64{make([]float64, d)}, []float64{1})
}

func (g *GaussianMixture) Name() string { return g.Label }
func (g *GaussianMixture) Dim() int     { return len(g.means[0]) }

// Sample draws k ~ Categorical(w), then x = μ_k + L_k ε with Σ_k = L_k L_kᵀ, ε ~ N(0, I).
func (g *GaussianMixture) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	mustDraw("data.GaussianMixture.Sample", n, rng)
	d := g.Dim()
	t := autograd.Zeros(n, d)
	eps := make([]float64, d)
	pick := stats.NewCategorical(g.weights)
	for i := range n {
		k := pick.Draw(rng)
		for j := range eps {
			eps[j] = rng.NormFloat64()
		}
		row := t.Row(i)
		for r := range d {
			v := g.means[k][r]
			for c := 0; c <= r; c++ {
				v += g.lower[k].At(r, c) * eps[c]
			}
			row[r] = v
		}
	}
	return t
}

// LogDensity returns log Σ_k w_k N(x; μ_k, Σ_k), exactly.
func (g *GaussianMixture) LogDensity(x []float64) float64 {
	d := g.Dim()
	diff := mat.NewVecDense(d, nil)
	var sol mat.VecDense
	terms := make([]float64, 0, len(g.weights))
	for k := range g.weights {
		if math.IsInf(g.logNorm[k], -1) {
			continue
		}
		for j := range d {
			diff.SetVec(j, x[j]-g.means[k][j])
		}
		if err := g.chol[k].SolveVecTo(&sol, diff); err != nil {
			panic(err) // Factorize succeeded, so Σ_k is well conditioned enough to solve
		}
		terms = append(terms, g.logNorm[k]-0.5*mat.Dot(diff, &sol))
	}
	return stats.LogSumExp(terms)
}

// Entropy returns the Monte-Carlo estimate of H = E[−log p(x)] over n samples, exact log p;
// a single standard Gaussian component gives the closed form (d/2)·ln(2πe), se = 0.
func (g *GaussianMixture) Entropy(n int, rng *rand.Rand) (h, se float64) {
	if len(g.weights) == 1 {
		return 0.5 * (float64(g.Dim())*(1+math.Log(2*math.Pi)) + g.chol[0].LogDet()), 0
	}
	return mcEntropy(g, n, rng)
}
