package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
)

// Gaussian is a mean μ [d] and a covariance Σ [d, d], the moments the Fréchet distance
// compares.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
}

// FitGaussian returns the sample mean and the unbiased sample covariance of the rows of
// x [n, d] (n ≥ 2):
//
//	μ = (1/n) Σᵢ xᵢ,   Σ = (1/(n − 1)) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ,
//
// as numpy.cov does for the Fréchet Inception Distance (Heusel et al. 2017, arXiv:1706.08500).
// Fewer than two rows or a non-finite element are errors. TestFrechet_SampleMomentsExact.
func FitGaussian(x *autograd.Tensor) (Gaussian, error) {
	if x == nil {
		panic(autograd.Misuse("metrics.FitGaussian", "nil tensor"))
	}
	n, d := x.Rows, x.Cols
	if n < 2 || d == 0 {
		return Gaussian{}, fmt.Errorf("metrics: FitGaussian: %d rows of dimension %d; want at least 2 rows of a positive dimension", n, d)
	}
	mu := make([]float64, d)
	for i := range n {
		for j, v := range x.Row(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Gaussian{}, fmt.Errorf("metrics: FitGaussian: element [%d, %d] = %v is not finite", i, j, v)
			}
			mu[j] += v
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	c := mat.NewDense(n, d, nil)
	for i := range n {
		row := x.Row(i)
		for j := range d {
			c.Set(i, j, row[j]-mu[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), c.T())
	return Gaussian{Mean: mu, Cov: cov}, nil
}

// FrechetDistance returns the Fréchet distance between the Gaussians fitted (FitGaussian) to
// the rows of x [n, d] and y [m, d]: FrechetGaussian(FitGaussian(x), FitGaussian(y)). On the
// penultimate features of an image classifier it is the Fréchet Inception Distance's analogue
// (Heusel et al. 2017, arXiv:1706.08500, §3; package metrics/classify provides the features).
// TestFrechet_SampleMomentsExact, TestFrechet_IdenticalAndSymmetric.
func FrechetDistance(x, y *autograd.Tensor) (float64, error) {
	if x == nil || y == nil {
		panic(autograd.Misuse("metrics.FrechetDistance", "nil tensor"))
	}
	if x.Cols != y.Cols {
		return 0, fmt.Errorf("metrics: FrechetDistance: feature dimensions %d and %d differ", x.Cols, y.Cols)
	}
	a, err := FitGaussian(x)
	if err != nil {
		return 0, err
	}
	b, err := FitGaussian(y)
	if err != nil {
		return 0, err
	}
	return FrechetGaussian(a, b)
}

// FrechetGaussian returns the Fréchet distance between N(μ_a, Σ_a) and N(μ_b, Σ_b), the
// squared 2-Wasserstein distance between the two Gaussians (Dowson & Landau 1982; Olkin &
// Pukelsheim 1982; Heusel et al. 2017, arXiv:1706.08500, eq. 6):
//
//	FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}).
//
// It is a squared distance (FID reports this value, not its root). The matrix square roots are
// taken by symmetric eigendecomposition (gonum mat.EigenSym): Σ_a^{1/2} = Q diag(√λ) Qᵀ with
// negative rounding-level eigenvalues set to 0, and tr M^{1/2} = Σ √λᵢ(M) for the symmetric
// positive semi-definite M = Σ_a^{1/2} Σ_b Σ_a^{1/2} (symmetrized before the decomposition).
// The value is symmetric in a and b although the formula is not written so. When Σ_a and Σ_b
// commute the cross term is tr(Σ_a^{1/2} Σ_b^{1/2}); in general it is not, which is why the
// product is rooted whole. TestFrechet_HandExample2x2, TestFrechet_SampleMomentsExact,
// TestFrechet_IdenticalAndSymmetric.
func FrechetGaussian(a, b Gaussian) (float64, error) {
	d := len(a.Mean)
	if d == 0 || len(b.Mean) != d || a.Cov == nil || b.Cov == nil || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: FrechetGaussian: dimensions differ or are 0 (means %d and %d)", len(a.Mean), len(b.Mean))
	}
	var dist float64
	for j := range d {
		dm := a.Mean[j] - b.Mean[j]
		dist += dm * dm
	}
	rootA, err := SqrtSym(a.Cov)
	if err != nil {
		return 0, fmt.Errorf("metrics: FrechetGaussian: Σ_a: %w", err)
	}
	var tmp, m mat.Dense
	tmp.Mul(rootA, b.Cov)
	m.Mul(&tmp, rootA)
	ms := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			ms.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	lam, err := eigenvalues(ms)
	if err != nil {
		return 0, fmt.Errorf("metrics: FrechetGaussian: Σ_a^{1/2} Σ_b Σ_a^{1/2}: %w", err)
	}
	var cross float64
	for _, l := range lam {
		cross += math.Sqrt(max(l, 0))
	}
	return dist + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*cross, nil
}

// SqrtSym returns the symmetric positive semi-definite square root of a symmetric matrix s,
// Q diag(√max(λᵢ, 0)) Qᵀ for s = Q diag(λ) Qᵀ (eigenvalues below 0, which rounding produces
// for a singular covariance, are taken as 0). A non-finite entry or a failed decomposition is
// an error. TestFrechet_HandExample2x2.
func SqrtSym(s mat.Symmetric) (*mat.SymDense, error) {
	var eig mat.EigenSym
	if !finiteSym(s) {
		return nil, fmt.Errorf("a matrix entry is not finite")
	}
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("symmetric eigendecomposition did not converge")
	}
	lam := eig.Values(nil)
	var q, qs mat.Dense
	eig.VectorsTo(&q)
	d := len(lam)
	qs.CloneFrom(&q)
	for k, l := range lam {
		r := math.Sqrt(max(l, 0))
		for i := range d {
			qs.Set(i, k, qs.At(i, k)*r)
		}
	}
	var prod mat.Dense
	prod.Mul(&qs, q.T()) // Q diag(√λ) Qᵀ
	root := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			root.SetSym(i, j, (prod.At(i, j)+prod.At(j, i))/2)
		}
	}
	return root, nil
}

func eigenvalues(s mat.Symmetric) ([]float64, error) {
	if !finiteSym(s) {
		return nil, fmt.Errorf("a matrix entry is not finite")
	}
	var eig mat.EigenSym
	if !eig.Factorize(s, false) {
		return nil, fmt.Errorf("symmetric eigendecomposition did not converge")
	}
	return eig.Values(nil), nil
}

func finiteSym(s mat.Symmetric) bool {
	d := s.SymmetricDim()
	for i := range d {
		for j := i; j < d; j++ {
			if v := s.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}
