package metrics

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
)

const u = 0x1p-53 // unit roundoff of float64

// TestFrechet_HandExample2x2: two Gaussians with non-commuting covariances
// Σ_a = [2 1; 1 2], Σ_b = diag(1, 4) and means (1, 0), (0, 2). For 2×2 matrices
// tr M^{1/2} = √(tr M + 2√det M) (the roots of the eigenvalues add to that), and
// M = Σ_a^{1/2} Σ_b Σ_a^{1/2} has tr M = tr(Σ_a Σ_b) = 10 and det M = det Σ_a det Σ_b = 12, so
// FD = 5 + 4 + 5 − 2√(10 + 2√12) = 5.771220… by hand. SqrtSym squares back to Σ_a. Negative
// controls: the commuting formula's cross term tr(Σ_a^{1/2} Σ_b^{1/2}) and a missing cross term
// give values far outside the tolerance.
func TestFrechet_HandExample2x2(t *testing.T) {
	sa := mat.NewSymDense(2, []float64{2, 1, 1, 2})
	sb := mat.NewSymDense(2, []float64{1, 0, 0, 4})
	a := Gaussian{Mean: []float64{1, 0}, Cov: sa}
	b := Gaussian{Mean: []float64{0, 2}, Cov: sb}
	want := 5 + 4 + 5 - 2*math.Sqrt(10+2*math.Sqrt(12))
	require.InDelta(t, 5.771220, want, 1e-6)
	// Rounding: O(d) operations on numbers of size ≤ 14, square roots of eigenvalues ≥ 1.
	tol := 64 * u * 14
	got, err := FrechetGaussian(a, b)
	require.NoError(t, err)
	require.InDelta(t, want, got, tol, "got %v want %v (tol %v)", got, want, tol)
	back, err := FrechetGaussian(b, a)
	require.NoError(t, err)
	require.InDelta(t, want, back, tol, "symmetry")

	root, err := SqrtSym(sa)
	require.NoError(t, err)
	var sq mat.Dense
	sq.Mul(root, root)
	require.True(t, mat.EqualApprox(&sq, sa, 16*u*4), "root² = %v", mat.Formatted(&sq))
	// √[2 1; 1 2] = [(√3+1)/2 (√3−1)/2; (√3−1)/2 (√3+1)/2]
	require.InDelta(t, (math.Sqrt(3)+1)/2, root.At(0, 0), 16*u*4)
	require.InDelta(t, (math.Sqrt(3)-1)/2, root.At(0, 1), 16*u*4)

	rootB, err := SqrtSym(sb)
	require.NoError(t, err)
	var ab mat.Dense
	ab.Mul(root, rootB)
	commuting := 5 + 4 + 5 - 2*mat.Trace(&ab)
	require.Greater(t, math.Abs(commuting-want), 100*tol, "negative control: the commuting formula passes")
	noCross := 5.0 + 4 + 5
	require.Greater(t, math.Abs(noCross-want), 100*tol, "negative control: no cross term passes")
}

// traceSqrtProduct computes tr((Σ_a Σ_b)^{1/2}) = Σ √λᵢ(Σ_a Σ_b) by a general (non-symmetric)
// eigendecomposition of the product, a different route to the cross term: Σ_a Σ_b is similar to
// Σ_a^{1/2} Σ_b Σ_a^{1/2}, so its eigenvalues are the same, real and non-negative.
func traceSqrtProduct(t *testing.T, sa, sb mat.Symmetric) float64 {
	var p mat.Dense
	p.Mul(sa, sb)
	var e mat.Eigen
	require.True(t, e.Factorize(&p, mat.EigenNone))
	var s float64
	for _, l := range e.Values(nil) {
		s += real(cmplx.Sqrt(l))
	}
	return s
}

// exactMoments returns n rows whose sample mean is mu and whose unbiased sample covariance is
// cov up to rounding: normal draws, centred, whitened by their own covariance's Cholesky
// factor, then coloured by cov's.
func exactMoments(t *testing.T, n int, mu []float64, cov *mat.SymDense, seed uint64) *autograd.Tensor {
	d := len(mu)
	z := autograd.Normal(n, d, 0, 1, newRNG(seed))
	g, err := FitGaussian(z)
	require.NoError(t, err)
	var cz, cs mat.Cholesky
	require.True(t, cz.Factorize(g.Cov))
	require.True(t, cs.Factorize(cov))
	var lz, ls mat.TriDense
	cz.LTo(&lz)
	cs.LTo(&ls)
	zc := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			zc.Set(i, j, z.Row(i)[j]-g.Mean[j])
		}
	}
	// w = zc·L_z^{−T} (wᵀ solves L_z wᵀ = zcᵀ) has covariance I; x = w·L_sᵀ + μ has
	// covariance L_s L_sᵀ = Σ.
	var w, x mat.Dense
	require.NoError(t, w.Solve(&lz, zc.T()))
	x.Mul(w.T(), ls.T())
	out := autograd.Zeros(n, d)
	for i := range n {
		for j := range d {
			out.Row(i)[j] = x.At(i, j) + mu[j]
		}
	}
	return out
}

func spd(d int, seed uint64) *mat.SymDense {
	a := autograd.Normal(d, d, 0, 1, newRNG(seed))
	m := mat.NewDense(d, d, a.Data)
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1, m)
	for i := range d {
		s.SetSym(i, i, s.At(i, i)+0.5)
	}
	return s
}

// TestFrechet_SampleMomentsExact: FitGaussian on a hand example (the unbiased covariance);
// FrechetDistance of two point sets whose sample moments are
// exactly given (d = 4, non-commuting covariances, different means) equals the closed form
// ‖Δμ‖² + tr Σ_a + tr Σ_b − 2 tr((Σ_a Σ_b)^{1/2}), with the cross term computed by a general
// eigendecomposition of Σ_a Σ_b (another algorithm than FrechetGaussian's). The tolerance is
// rounding: the whitening's error, relative κ(Σ)·n·u, times the size of the terms. Diagonal
// (commuting) covariances give Σ (√a_j − √b_j)² + ‖Δμ‖². Negative control: without the cross
// term the value moves by far more than the tolerance.
func TestFrechet_SampleMomentsExact(t *testing.T) {
	// FitGaussian by hand: rows (0, 0), (1, 2), (2, 1) have mean (1, 1), deviations (−1, −1),
	// (0, 1), (1, 0), so Σ = [2 1; 1 2]/(3 − 1) (a 1/n covariance would give [2 1; 1 2]/3).
	h, err := FitGaussian(autograd.FromRows([][]float64{{0, 0}, {1, 2}, {2, 1}}))
	require.NoError(t, err)
	require.Equal(t, []float64{1, 1}, h.Mean)
	require.True(t, mat.Equal(h.Cov, mat.NewSymDense(2, []float64{1, 0.5, 0.5, 1})), "%v", mat.Formatted(h.Cov))

	const d, n = 4, 60
	sa, sb := spd(d, 1), spd(d, 2)
	var ab, ba mat.Dense
	ab.Mul(sa, sb)
	ba.Mul(sb, sa)
	require.False(t, mat.EqualApprox(&ab, &ba, 1e-3), "the covariances commute; the test would not see a wrong cross term")
	ma, mb := []float64{1, -2, 0.5, 0}, []float64{0, 1, 1, -1}
	x, y := exactMoments(t, n, ma, sa, 3), exactMoments(t, n+17, mb, sb, 4)
	ga, err := FitGaussian(x)
	require.NoError(t, err)
	require.InDeltaSlice(t, ma, ga.Mean, 1e-12)
	require.True(t, mat.EqualApprox(ga.Cov, sa, 1e-12), "sample covariance %v", mat.Formatted(ga.Cov))

	var dm float64
	for j := range d {
		dm += (ma[j] - mb[j]) * (ma[j] - mb[j])
	}
	cross := traceSqrtProduct(t, sa, sb)
	want := dm + mat.Trace(sa) + mat.Trace(sb) - 2*cross
	got, err := FrechetDistance(x, y)
	require.NoError(t, err)
	// κ of the covariances ≤ ~100 here (eigenvalues ≥ 0.5); n·u·κ relative error on terms of
	// size ≤ scale.
	scale := dm + mat.Trace(sa) + mat.Trace(sb)
	tol := 100 * float64(n) * u * scale
	require.InDelta(t, want, got, tol, "got %v want %v (tol %v)", got, want, tol)
	require.Greater(t, 2*cross, 100*tol, "negative control: dropping the cross term stays within tolerance")

	// Commuting (diagonal) covariances.
	da := mat.NewSymDense(d, []float64{1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0.25})
	db := mat.NewSymDense(d, []float64{4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0, 1})
	wantDiag := dm + (1-2)*(1-2) + (2-1)*(2-1) + 0 + (0.5-1)*(0.5-1)
	gotDiag, err := FrechetGaussian(Gaussian{ma, da}, Gaussian{mb, db})
	require.NoError(t, err)
	require.InDelta(t, wantDiag, gotDiag, 64*u*(dm+30))
}

// TestFrechet_IdenticalAndSymmetric: FD(x, x) = 0 and FD(x, x + s) = ‖s‖² for a full-rank set,
// FD(x, y) = FD(y, x); for a rank-deficient set (n = 5 rows in d = 12) FD(x, x) is still 0 up to
// the square root's amplification of rounding, d·√(d·u·‖Σ‖). Fewer than two rows, different
// dimensions and non-finite values are errors.
func TestFrechet_IdenticalAndSymmetric(t *testing.T) {
	rng := newRNG(7)
	x := autograd.Normal(300, 12, 0, 1, rng)
	y := autograd.Normal(200, 12, 0.3, 1.5, rng)
	self, err := FrechetDistance(x, x)
	require.NoError(t, err)
	g, err := FitGaussian(x)
	require.NoError(t, err)
	// Eigenvalues of Σ² are ≥ λ_min(Σ)² (≈ 0.4 here), so roots do not amplify: 64·d·u·tr Σ.
	tol := 64 * 12 * u * mat.Trace(g.Cov)
	require.InDelta(t, 0, self, tol)

	s := []float64{1, -1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	shifted := autograd.Zeros(x.Rows, x.Cols)
	for i := range x.Rows {
		for j, v := range x.Row(i) {
			shifted.Row(i)[j] = v + s[j]
		}
	}
	fs, err := FrechetDistance(x, shifted)
	require.NoError(t, err)
	require.InDelta(t, 1+1+0.25+4, fs, tol+64*u*6.25)

	xy, err := FrechetDistance(x, y)
	require.NoError(t, err)
	yx, err := FrechetDistance(y, x)
	require.NoError(t, err)
	require.InDelta(t, xy, yx, 64*12*u*(xy+mat.Trace(g.Cov)*4))
	require.Greater(t, xy, 1.0)

	few := autograd.Normal(5, 12, 0, 1, rng)
	fewSelf, err := FrechetDistance(few, few)
	require.NoError(t, err)
	gf, err := FitGaussian(few)
	require.NoError(t, err)
	nf := mat.Norm(gf.Cov, 2)
	require.InDelta(t, 0, fewSelf, 12*math.Sqrt(12*u*nf*nf)+64*12*u*mat.Trace(gf.Cov), "rank-deficient")

	_, err = FrechetDistance(autograd.Zeros(1, 3), autograd.Zeros(5, 3))
	require.Error(t, err)
	_, err = FrechetDistance(autograd.Zeros(4, 3), autograd.Zeros(5, 2))
	require.Error(t, err)
	bad := autograd.Zeros(4, 3)
	bad.Data[5] = math.Inf(1)
	_, err = FrechetDistance(bad, bad)
	require.ErrorContains(t, err, "[1, 2]")
}
