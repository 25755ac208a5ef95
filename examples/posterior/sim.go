package main

/*
The simulators, their exact posteriors and the measurement of a
conditional flow against them.

Linear-Gaussian: θ ~ N(0, I_d), x = Aθ + ε, ε ~ N(0, s² I_m). The posterior
is Gaussian (Bishop 2006, §2.3.3):

	p(θ|x) = N(μ(x), Σ),  Σ = (I + AᵀA/s²)⁻¹,  μ(x) = Σ Aᵀ x / s²,
	H(p(θ|x)) = ½ ln det(2πe Σ) (the same for every x).

Its exact flow-matching field on CondOT with σ_min = 0 (x_t = t θ + (1 − t) z,
z ~ N(0, I)) is the marginal field of the Gaussian N(μ, Σ): with
V_t = t²Σ + (1 − t)²I the covariance of x_t and tΣ − (1 − t)I its covariance
with θ − z,

	u_t(θ|x) = μ + (tΣ − (1 − t)I) V_t⁻¹ (θ − tμ) = μ + Q diag(mᵢ) Qᵀ (θ − tμ),
	mᵢ = (tλᵢ − (1 − t)) / (t²λᵢ + (1 − t)²),

for Σ = Q diag(λ) Qᵀ. A model equal to it is the exact posterior, so the
measured KL is 0; with μ + δ for μ and cΣ for Σ it is the flow of
N(μ + δ, cΣ), whose KL from the posterior is, in closed form,

	KL(N(μ, Σ) ‖ N(μ + δ, cΣ)) = ½ (d/c + δᵀΣ⁻¹δ/c − d + d ln c).

Banana: θ ~ N(0, I₂), x = (θ₁ + θ₂², θ₂) + (s₁ε₁, s₂ε₂). Its posterior
p(θ|x) = N(θ; 0, I) p(x|θ)/Z(x) is curved; Z(x) is a sum over a grid of
cells (the midpoint rule, which for a smooth density decaying fast inside the
grid errs far below the Monte-Carlo error), so log p(θ|x) is exact up to
that sum at any θ.

Measuring a conditional flow q(θ|x) (Dax et al. 2023, arXiv:2305.17161):
for pairs (θᵢ, xᵢ) from the simulator, −log q(θᵢ|xᵢ) by the instantaneous
change of variables (cnf.LogLikelihood, θ from t = 1 to 0, base N(0, I),
exact divergence in θ), and

	KL = E_{θ,x}[−log q(θ|x)] − E_x[H(p(θ|x))] = E_x[KL(p(·|x) ‖ q(·|x))],

estimated two ways: the mean NLL minus the exact entropy (standard error
from the NLLs), and the paired mean of log p(θᵢ|xᵢ) − log q(θᵢ|xᵢ), the same
expectation with far smaller variance because the exact log-posterior is
known at every pair.
*/

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// linearGaussian is the simulator x = Aθ + ε with its exact posterior.
type linearGaussian struct {
	a      *mat.Dense // A [m, d]
	s      float64    // noise standard deviation
	gain   *mat.Dense // Σ Aᵀ / s² [d, m]: μ(x) = gain·x
	lambda []float64  // eigenvalues of Σ
	q      *mat.Dense // eigenvectors of Σ, columns
	sigInv *mat.Dense // Σ⁻¹ = I + AᵀA/s²
	logDet float64    // ln det Σ
}

func newLinearGaussian(a [][]float64, s float64) (*linearGaussian, error) {
	m, d := len(a), len(a[0])
	A := mat.NewDense(m, d, nil)
	for i := range a {
		A.SetRow(i, a[i])
	}
	var prec mat.Dense
	prec.Mul(A.T(), A)
	prec.Scale(1/(s*s), &prec)
	for i := range d {
		prec.Set(i, i, prec.At(i, i)+1)
	}
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, prec.At(i, j))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, fmt.Errorf("posterior: eigendecomposition of I + AᵀA/s² failed")
	}
	g := &linearGaussian{a: A, s: s, sigInv: &prec, q: mat.NewDense(d, d, nil)}
	eig.VectorsTo(g.q)
	for _, v := range eig.Values(nil) {
		g.lambda = append(g.lambda, 1/v)
		g.logDet -= math.Log(v)
	}
	var sigma mat.Dense
	sigma.Mul(g.q, mat.NewDiagDense(d, g.lambda))
	sigma.Mul(&sigma, g.q.T())
	g.gain = mat.NewDense(d, m, nil)
	g.gain.Mul(&sigma, A.T())
	g.gain.Scale(1/(s*s), g.gain)
	return g, nil
}

func (g *linearGaussian) dims() (d, m int) { m, d = g.a.Dims(); return d, m }

// simulate draws n pairs: θ [n, d] from the prior and x [n, m] given θ.
func (g *linearGaussian) simulate(n int, rng *rand.Rand) (theta, x *autograd.Tensor) {
	d, m := g.dims()
	theta, x = autograd.Zeros(n, d), autograd.Zeros(n, m)
	for i := range n {
		th, xi := theta.Row(i), x.Row(i)
		for j := range th {
			th[j] = rng.NormFloat64()
		}
		for r := range m {
			xi[r] = g.s * rng.NormFloat64()
			for j := range th {
				xi[r] += g.a.At(r, j) * th[j]
			}
		}
	}
	return theta, x
}

// mean returns μ(x) for each row of x, [n, d].
func (g *linearGaussian) mean(x *autograd.Tensor) *autograd.Tensor {
	d, m := g.dims()
	mu := autograd.Zeros(x.Rows, d)
	for i := range x.Rows {
		xi, row := x.Row(i), mu.Row(i)
		for j := range d {
			for r := range m {
				row[j] += g.gain.At(j, r) * xi[r]
			}
		}
	}
	return mu
}

// entropy returns H(p(θ|x)) = ½ ln det(2πe Σ).
func (g *linearGaussian) entropy() float64 {
	d, _ := g.dims()
	return 0.5 * (float64(d)*math.Log(2*math.Pi*math.E) + g.logDet)
}

// logPost returns log N(θ; μ, Σ) for rows θ and μ.
func (g *linearGaussian) logPost(theta, mu []float64) float64 {
	d := len(theta)
	q := 0.0
	for i := range d {
		for j := range d {
			q += (theta[i] - mu[i]) * g.sigInv.At(i, j) * (theta[j] - mu[j])
		}
	}
	return -0.5 * (float64(d)*math.Log(2*math.Pi) + g.logDet + q)
}

// wrongKL returns KL(N(μ, Σ) ‖ N(μ + δ, cΣ)) = ½(d/c + δᵀΣ⁻¹δ/c − d + d ln c).
func (g *linearGaussian) wrongKL(delta []float64, c float64) float64 {
	d := float64(len(delta))
	q := 0.0
	for i := range delta {
		for j := range delta {
			q += delta[i] * g.sigInv.At(i, j) * delta[j]
		}
	}
	return 0.5 * (d/c + q/c - d + d*math.Log(c))
}

// gaussianField returns the exact CondOT (σ_min = 0) field of the Gaussians
// N(μᵢ + δ, cΣ), one per row of mu: u_t(θ) = μ′ + Q diag(mᵢ) Qᵀ (θ − tμ′)
// with μ′ = μ + δ and mᵢ = (t cλᵢ − (1 − t))/(t² cλᵢ + (1 − t)²). It is
// built from autograd ops, so cnf.ExactDivergence differentiates it in θ.
// δ = 0 and c = 1 give the exact posterior's field.
func (g *linearGaussian) gaussianField(mu *autograd.Tensor, delta []float64, c float64) cnf.Field {
	d, _ := g.dims()
	shifted := autograd.Zeros(mu.Rows, d)
	for i := range mu.Rows {
		for j, v := range mu.Row(i) {
			shifted.Row(i)[j] = v + delta[j]
		}
	}
	return func(t float64, theta *autograd.Tensor) *autograd.Tensor {
		m := make([]float64, d)
		for i, l := range g.lambda {
			m[i] = (t*c*l - (1 - t)) / (t*t*c*l + (1-t)*(1-t))
		}
		var mt mat.Dense
		mt.Mul(g.q, mat.NewDiagDense(d, m))
		mt.Mul(&mt, g.q.T())
		M := autograd.Zeros(d, d)
		for i := range d {
			for j := range d {
				M.Row(i)[j] = mt.At(i, j)
			}
		}
		return autograd.Add(shifted, autograd.MatMul(autograd.Sub(theta, autograd.Scale(shifted, t)), M))
	}
}

// banana is the simulator x = (θ₁ + θ₂², θ₂) + (s₁ε₁, s₂ε₂), θ ~ N(0, I₂),
// with its posterior normalized on a grid.
type banana struct {
	s1, s2 float64
	grid
}

func (b banana) simulate(n int, rng *rand.Rand) (theta, x *autograd.Tensor) {
	theta, x = autograd.Zeros(n, 2), autograd.Zeros(n, 2)
	for i := range n {
		th, xi := theta.Row(i), x.Row(i)
		th[0], th[1] = rng.NormFloat64(), rng.NormFloat64()
		xi[0] = th[0] + th[1]*th[1] + b.s1*rng.NormFloat64()
		xi[1] = th[1] + b.s2*rng.NormFloat64()
	}
	return theta, x
}

// logJoint returns log N(θ; 0, I) + log p(x|θ).
func (b banana) logJoint(th, x []float64) float64 {
	r1 := (x[0] - th[0] - th[1]*th[1]) / b.s1
	r2 := (x[1] - th[1]) / b.s2
	return -0.5*(th[0]*th[0]+th[1]*th[1]+r1*r1+r2*r2) - 2*math.Log(2*math.Pi) - math.Log(b.s1*b.s2)
}

// posterior returns the grid's log-joint of x and log Z(x), so that
// log p(θ|x) = logJoint(θ, x) − log Z(x).
func (b banana) posterior(x []float64) (lj []float64, logZ float64) {
	return b.eval(func(th []float64) float64 { return b.logJoint(th, x) })
}

// grid is a square grid of g×g cells over [−l, l]², on which a 2-D
// posterior is normalized by the midpoint rule.
type grid struct {
	l float64
	g int
}

// cell returns the width h of a cell and the centre of cell (i, j).
func (gr grid) cell(i, j int) (h float64, th [2]float64) {
	h = 2 * gr.l / float64(gr.g)
	return h, [2]float64{-gr.l + (float64(i)+0.5)*h, -gr.l + (float64(j)+0.5)*h}
}

// eval returns the log-joint at every cell centre (row-major, i along θ₁)
// and log Z = log Σ_cells h²·exp(log-joint).
func (gr grid) eval(logJoint func(th []float64) float64) (lj []float64, logZ float64) {
	lj = make([]float64, gr.g*gr.g)
	var h float64
	for i := range gr.g {
		for j := range gr.g {
			var th [2]float64
			h, th = gr.cell(i, j)
			lj[i*gr.g+j] = logJoint(th[:])
		}
	}
	return lj, stats.LogSumExp(lj) + 2*math.Log(h)
}

// entropy returns H = −Σ_cells h²·p log p of the normalized grid density.
func (gr grid) entropy(lj []float64, logZ float64) float64 {
	h, _ := gr.cell(0, 0)
	e := 0.0
	for _, l := range lj {
		lp := l - logZ
		e -= h * h * math.Exp(lp) * lp
	}
	return e
}

// sample draws n points of the grid density: a cell with probability
// ∝ exp(log-joint), then uniformly inside it.
func (gr grid) sample(lj []float64, n int, rng *rand.Rand) *autograd.Tensor {
	cat := stats.NewCategoricalLog(lj)
	out := autograd.Zeros(n, 2)
	for r := range n {
		k := cat.Draw(rng)
		h, th := gr.cell(k/gr.g, k%gr.g)
		out.Row(r)[0] = th[0] + (rng.Float64()-0.5)*h
		out.Row(r)[1] = th[1] + (rng.Float64()-0.5)*h
	}
	return out
}

// nll returns −log q(θᵢ|xᵢ) for every row of theta by cnf.LogLikelihood of
// the field f (whose contexts are bound to the rows) from t = 1 to 0 with
// base N(0, I); div nil means the exact divergence by autograd.
func nll(f cnf.Field, div cnf.DivergenceFunc, theta *autograd.Tensor, steps int) ([]float64, error) {
	lik, _, err := cnf.LogLikelihood(f, theta.NoGraph(), 1, 0, cnf.StandardNormalLogProb, div, cnf.SolveOptions{Method: cnf.RK4, Steps: steps})
	if err != nil {
		return nil, err
	}
	out := make([]float64, theta.Rows)
	for i := range out {
		out[i] = -lik.LogP1.Data[i]
	}
	return out, nil
}

// klEstimate is a KL measurement: mean NLL − entropy with the NLLs'
// standard error, and the paired estimate mean(log p − log q) ± se.
type klEstimate struct {
	NLL, NLLSE, Entropy     float64
	KLByEntropy, KLEntropSE float64
	KL, KLSE                float64
}

// measure returns the estimates from −log q (nllQ), log p (logP) and the
// entropy of each pair's posterior.
func measure(nllQ, logP, entropy []float64) klEstimate {
	var e klEstimate
	e.NLL, e.NLLSE = stats.MeanStdErr(nllQ)
	e.Entropy, _ = stats.MeanStdErr(entropy)
	diff := make([]float64, len(nllQ))
	byH := make([]float64, len(nllQ))
	for i := range diff {
		diff[i] = logP[i] + nllQ[i]
		byH[i] = nllQ[i] - entropy[i]
	}
	e.KLByEntropy, e.KLEntropSE = stats.MeanStdErr(byH)
	e.KL, e.KLSE = stats.MeanStdErr(diff)
	return e
}
