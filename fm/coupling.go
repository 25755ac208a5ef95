package fm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Coupling pairs a batch of noise x0 [n, d] with a batch of data x1 [n, d]
// (Tong et al. 2023, arXiv:2302.00482, §3–4): it returns a joint sample
// (x0′, x1′) of the same size, whose marginals are those of the inputs
// (exactly, or in expectation for sampled plans). CFM trained on any
// coupling π(x₀, x₁) with the right marginals still transports the noise
// to the data; a coupling closer to optimal transport gives straighter
// paths and a lower CFM loss. Pair returns an error when the pairing
// cannot be computed to its stated accuracy (SinkhornOT that does not
// converge); it panics with an *autograd.MisuseError when the batches'
// shapes do not fit or a sampling coupling gets a nil rng.
type Coupling interface {
	Pair(x0, x1 *autograd.Tensor, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor, error)
}

// Independent is the product coupling π = p₀ ⊗ q: the batches are
// returned as they are (Lipman et al. 2022; Tong et al. I-CFM).
type Independent struct{}

// Pair returns x0, x1 unchanged and a nil error.
func (Independent) Pair(x0, x1 *autograd.Tensor, _ *rand.Rand) (*autograd.Tensor, *autograd.Tensor, error) {
	return x0, x1, nil
}

// ExactOT is the exact minibatch optimal-transport coupling (Tong et al.
// OT-CFM, with squared Euclidean cost): the rows of x1 are permuted by the
// assignment σ that minimizes Σᵢ ‖x0ᵢ − x1_σ(i)‖² (Assignment, O(n³); a
// uniform-marginal OT plan between two n-point sets is a permutation, so
// no sampling is needed). Assignment is tested by
// TestAssignment_MatchesBruteForce, the coupling by
// TestExactOT_LowersPairCost and TestCoupling_OTLowersPathEnergy.
type ExactOT struct{}

// Pair returns x0 and the optimally permuted x1, and a nil error. x0 and x1
// must have the same shape.
func (ExactOT) Pair(x0, x1 *autograd.Tensor, _ *rand.Rand) (*autograd.Tensor, *autograd.Tensor, error) {
	mustSameShape("ExactOT.Pair", x0, x1)
	perm, _ := Assignment(SquaredDistances(x0, x1))
	return x0, gatherRows(x1, perm), nil
}

// SinkhornOT is the entropic minibatch OT coupling (Tong et al. 2023,
// arXiv:2302.00482, §3.2 and §4, SB-CFM; Cuturi 2013): the plan π of
// Sinkhorn on the squared distances Cᵢⱼ = ‖x₀ᵢ − x₁ⱼ‖² (divided by max C
// unless Absolute) with regularization Reg (uniform marginals 1/n), from
// which n pairs (i, j) are drawn independently with probability πᵢⱼ using
// rng. Reg → 0 approaches ExactOT, Reg → ∞ Independent. Tested by
// TestSinkhornOT_PairsFromPlan; the absolute ε by TestSBCFM_PlanLimits.
type SinkhornOT struct {
	Reg float64 // ε relative to the largest cost, e.g. 0.05; with Absolute, in the units of C
	// Absolute makes Reg the ε of the plan π_ε on C itself, as SB-CFM's
	// π_{2σ²} (Tong et al. 2023, arXiv:2307.03672, §3.3 and Alg. 3; SBCFM),
	// instead of on C/max C (which makes the plan scale-free).
	Absolute bool
	MaxIter  int // 0 means 1000
	// Tol is Sinkhorn's tolerance on the marginal error; 0 means 1e-6. The
	// plan's column sums are exact, so Σπ = 1 and a row marginal error δ
	// moves the distribution of each drawn pair by at most δ in total
	// variation: 1e-6 is far below the sampling noise of a batch.
	Tol float64
}

// Pair draws n pairs from the entropic plan. It returns Sinkhorn's error
// (wrapping ErrNotConverged) when the plan has not converged to Tol within
// MaxIter sweeps; raise Reg or MaxIter then.
func (s SinkhornOT) Pair(x0, x1 *autograd.Tensor, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor, error) {
	if rng == nil {
		panic(autograd.Misuse("fm.SinkhornOT.Pair", "rng is nil; SinkhornOT samples pairs and needs a *rand.Rand"))
	}
	n, m := x0.Rows, x1.Rows
	plan, err := s.Plan(x0, x1)
	if err != nil {
		return nil, nil, err
	}
	flat := make([]float64, 0, n*m)
	for _, row := range plan {
		flat = append(flat, row...)
	}
	cat := stats.NewCategorical(flat)
	rows, cols := make([]int, n), make([]int, n)
	for k := range rows {
		idx := cat.Draw(rng)
		rows[k], cols[k] = idx/m, idx%m
	}
	return gatherRows(x0, rows), gatherRows(x1, cols), nil
}

// Plan returns the entropic plan π [n][m] that Pair draws from: Sinkhorn
// on the squared distances (divided by their maximum unless Absolute) with
// ε = Reg and uniform marginals. TestSBCFM_PlanLimits.
func (s SinkhornOT) Plan(x0, x1 *autograd.Tensor) ([][]float64, error) {
	n, m := x0.Rows, x1.Rows
	cost := SquaredDistances(x0, x1)
	cmax := 0.0
	for _, row := range cost {
		for _, c := range row {
			cmax = max(cmax, c)
		}
	}
	if cmax > 0 && !s.Absolute {
		for _, row := range cost {
			for j := range row {
				row[j] /= cmax
			}
		}
	}
	iters, tol := s.MaxIter, s.Tol
	if iters == 0 {
		iters = 1000
	}
	if tol == 0 {
		tol = 1e-6
	}
	res, err := Sinkhorn(cost, uniform(n), uniform(m), s.Reg, tol, iters)
	if err != nil {
		return nil, fmt.Errorf("fm.SinkhornOT: %w", err)
	}
	return res.Plan, nil
}

func uniform(n int) []float64 {
	a := make([]float64, n)
	for i := range a {
		a[i] = 1 / float64(n)
	}
	return a
}

// gatherRows returns the leaf whose row k is row idx[k] of x.
func gatherRows(x *autograd.Tensor, idx []int) *autograd.Tensor {
	out := autograd.Zeros(len(idx), x.Cols)
	for k, i := range idx {
		copy(out.Row(k), x.Row(i))
	}
	return out
}

// SquaredDistances returns the cost matrix Cᵢⱼ = ‖x0ᵢ − x1ⱼ‖².
func SquaredDistances(x0, x1 *autograd.Tensor) [][]float64 {
	if x0.Cols != x1.Cols {
		panic(&autograd.MisuseError{Op: "fm.SquaredDistances", Shapes: [][2]int{x0.Shape(), x1.Shape()}, Reason: "dimensions differ"})
	}
	c := make([][]float64, x0.Rows)
	for i := range c {
		c[i] = make([]float64, x1.Rows)
		a := x0.Row(i)
		for j := range c[i] {
			b := x1.Row(j)
			s := 0.0
			for k := range a {
				d := a[k] - b[k]
				s += d * d
			}
			c[i][j] = s
		}
	}
	return c
}

// Assignment solves the linear assignment problem for a square cost matrix:
//
//	σ* = argmin over permutations σ of Σᵢ cost[i][σ(i)],
//
// by the Hungarian method with potentials and shortest augmenting paths
// (Kuhn 1955; Jonker & Volgenant 1987), O(n³): each of the n rows is added
// by a Dijkstra-like scan that keeps the reduced costs
// cost[i][j] − u[i] − v[j] ≥ 0, zero on matched pairs (LP duality certifies
// optimality). It returns perm with perm[i] = σ*(i) and the optimal total.
// Tested against brute force over all permutations for n ≤ 8 by
// TestAssignment_MatchesBruteForce.
func Assignment(cost [][]float64) (perm []int, total float64) {
	n := len(cost)
	for _, row := range cost {
		if len(row) != n {
			panic(autograd.Misuse("fm.Assignment", "cost must be square, got a row of %d for %d rows", len(row), n))
		}
	}
	// 1-based arrays; column 0 is a virtual start.
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	match := make([]int, n+1) // match[j] = row assigned to column j
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		match[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := match[j0], math.Inf(1), 0
			row, ui := cost[i0-1], u[i0]
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if cur := row[j-1] - ui - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[match[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if match[j0] == 0 {
				break
			}
		}
		for j0 != 0 { // augment along the path
			j1 := way[j0]
			match[j0] = match[j1]
			j0 = j1
		}
	}
	perm = make([]int, n)
	for j := 1; j <= n; j++ {
		perm[match[j]-1] = j - 1
	}
	for i, j := range perm {
		total += cost[i][j]
	}
	return perm, total
}

// ErrNotConverged is wrapped by the error of Sinkhorn (and SinkhornOT) when
// the plan has not reached the tolerance within the allowed sweeps.
var ErrNotConverged = errors.New("not converged")

// SinkhornResult is what Sinkhorn computed: the plan, the iterations taken
// and the marginal error of the plan,
//
//	MarginalErr = Σᵢ |Σⱼ πᵢⱼ − aᵢ| + Σⱼ |Σᵢ πᵢⱼ − bⱼ|.
type SinkhornResult struct {
	Plan        [][]float64 // π, n×m
	Sweeps      int         // Sinkhorn sweeps (an f and a g update each)
	NewtonSteps int         // Newton steps on the dual potentials g
	MarginalErr float64
}

// Sinkhorn returns the entropic optimal-transport plan (Cuturi 2013,
// arXiv:1306.0895, §4)
//
//	π = argmin_{π ∈ Π(a,b)} ⟨π, C⟩ − ε·H(π),  πᵢⱼ = exp((fᵢ + gⱼ − Cᵢⱼ)/ε),
//
// by Sinkhorn's alternating projections in the log domain (no overflow or
// underflow for small ε): fᵢ = ε log aᵢ − ε logsumexpⱼ((gⱼ − Cᵢⱼ)/ε), then
// gⱼ = ε log bⱼ − ε logsumexpᵢ((fᵢ − Cᵢⱼ)/ε). Sinkhorn's linear rate
// degrades as ε shrinks against the costs (ε = 0.05 against costs of order
// 10 leaves a marginal error near 1e-5 after 5,000 sweeps), so after 100
// sweeps without convergence it continues by Newton's method on g
// (sinkhornNewton), which converges quadratically once close, with sweeps
// again whenever a Newton step fails. A Newton step costs O(n·m² + m³), so
// plans with more than 1024 columns take sweeps only. It stops as soon as MarginalErr ≤ tol
// and returns an error wrapping ErrNotConverged (with the result so far)
// if that has not happened after maxIter iterations (sweeps plus Newton
// steps): raise ε, rescale C or raise maxIter then. Since H(π) ≤ 2 log n for
// n×n, the converged plan's cost exceeds the exact OT cost by at most
// ε·log n for uniform marginals. a and b must be positive, each sum to 1,
// and match cost's shape; eps, tol and maxIter must be positive (misuse
// panics). Tested by TestSinkhorn_Marginals, TestSinkhorn_ConvergesAtSmallEps,
// TestSinkhorn_NotConverged and TestSinkhorn_NearExactOT.
func Sinkhorn(cost [][]float64, a, b []float64, eps, tol float64, maxIter int) (SinkhornResult, error) {
	n, m := len(a), len(b)
	checkSinkhorn(cost, a, b, eps, tol, maxIter)
	f, g := make([]float64, n), make([]float64, m)
	buf := make([]float64, max(n, m))
	res := SinkhornResult{Plan: make([][]float64, n)}
	for i := range res.Plan {
		res.Plan[i] = make([]float64, m)
	}
	sweep := func() {
		res.Sweeps++
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				buf[j] = (g[j] - cost[i][j]) / eps
			}
			f[i] = eps*math.Log(a[i]) - eps*stats.LogSumExp(buf[:m])
		}
		for j := 0; j < m; j++ {
			for i := 0; i < n; i++ {
				buf[i] = (f[i] - cost[i][j]) / eps
			}
			g[j] = eps*math.Log(b[j]) - eps*stats.LogSumExp(buf[:n])
		}
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				res.Plan[i][j] = math.Exp((f[i] + g[j] - cost[i][j]) / eps)
			}
		}
		res.MarginalErr = marginalErr(res.Plan, a, b)
	}
	const sweepsFirst = 100    // sweeps before (and between) Newton steps
	const newtonMaxCols = 1024 // a Newton step costs O(n·m² + m³)
	newt := sinkhornNewton{cost: cost, a: a, b: b, eps: eps}
	for res.Sweeps+res.NewtonSteps < maxIter {
		if res.Sweeps < sweepsFirst || m < 2 || m > newtonMaxCols {
			sweep()
		} else {
			res.NewtonSteps++
			if !newt.step(g, res.Plan) {
				for k := 0; k < sweepsFirst && res.Sweeps+res.NewtonSteps < maxIter && res.MarginalErr > tol; k++ {
					sweep()
				}
			} else {
				res.MarginalErr = marginalErr(res.Plan, a, b)
			}
		}
		if res.MarginalErr <= tol {
			return res, nil
		}
	}
	return res, fmt.Errorf("fm.Sinkhorn: %w: marginal error %.3g > tol %.3g after %d sweeps and %d Newton steps at ε = %g; raise ε or maxIter, or scale the costs down",
		ErrNotConverged, res.MarginalErr, tol, res.Sweeps, res.NewtonSteps, eps)
}

// marginalErr returns Σᵢ |Σⱼ πᵢⱼ − aᵢ| + Σⱼ |Σᵢ πᵢⱼ − bⱼ|.
func marginalErr(plan [][]float64, a, b []float64) float64 {
	e := 0.0
	col := make([]float64, len(b))
	for i, row := range plan {
		s := 0.0
		for j, p := range row {
			s += p
			col[j] += p
		}
		e += math.Abs(s - a[i])
	}
	for j, c := range col {
		e += math.Abs(c - b[j])
	}
	return e
}

/*
sinkhornNewton: Newton's method on the semi-dual of entropic OT (Peyré &
Cuturi, Computational Optimal Transport, 2019, arXiv:1803.00567, §4, the
dual and semi-dual of the entropic problem). For potentials g, the
row-normalized plan

	πᵢⱼ(g) = aᵢ sᵢⱼ,  sᵢⱼ = softmaxⱼ((gⱼ − Cᵢⱼ)/ε),

has the row marginals a exactly; g is optimal when the column sums equal b,
i.e. when the gradient of the concave semi-dual

	F(g) = Σⱼ bⱼ gⱼ − ε Σᵢ aᵢ logsumexpⱼ((gⱼ − Cᵢⱼ)/ε)

vanishes: rⱼ = ∂F/∂gⱼ = bⱼ − Σᵢ πᵢⱼ. Its negative Hessian is (1/ε) times
the Laplacian of the graph on the columns with weights wⱼₗ = Σᵢ aᵢ sᵢⱼ sᵢₗ,
singular along the constant vector (g + c gives the same plan). The step
solves that Laplacian system with the last column grounded (dₘ = 0), by
Gaussian elimination that keeps every quantity a sum of positive weights
(its pivots never cancel, however small the weights), and is damped by
backtracking until F rises by the Armijo fraction of the predicted gain
(or, once the gain is below F's rounding, until Σ|r| falls).
*/
type sinkhornNewton struct {
	cost [][]float64
	a, b []float64
	eps  float64
}

// eval writes s and r at g and returns F(g) and Σ|r|.
func (nt sinkhornNewton) eval(g []float64, s [][]float64, r []float64) (F, errL1 float64) {
	buf := make([]float64, len(g))
	for j := range r {
		r[j] = nt.b[j]
		F += nt.b[j] * g[j]
	}
	for i, row := range nt.cost {
		for j := range buf {
			buf[j] = (g[j] - row[j]) / nt.eps
		}
		z := stats.LogSumExp(buf)
		F -= nt.a[i] * nt.eps * z
		for j := range buf {
			s[i][j] = math.Exp(buf[j] - z)
			r[j] -= nt.a[i] * s[i][j]
		}
	}
	for _, v := range r {
		errL1 += math.Abs(v)
	}
	return F, errL1
}

// direction returns the Newton direction d with L d = ε r, dₘ = 0, where L
// is the Laplacian with weights wⱼₗ = Σᵢ aᵢ sᵢⱼ sᵢₗ; false if L restricted
// to the first m − 1 columns is singular. TestSinkhornNewton_Direction.
func (nt sinkhornNewton) direction(s [][]float64, r []float64) ([]float64, bool) {
	n, m := len(nt.a), len(r)
	// W[j][l] = wⱼₗ for j ≠ l < k; ground[j] = weight to the grounded k.
	k := m - 1
	W := make([][]float64, k)
	for j := range W {
		W[j] = make([]float64, k)
	}
	ground := make([]float64, k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			w := nt.a[i] * s[i][j]
			if w == 0 {
				continue
			}
			for l := j + 1; l < k; l++ {
				x := w * s[i][l]
				W[j][l] += x
				W[l][j] += x
			}
			ground[j] += w * s[i][k]
		}
	}
	// Solve L d = ε r (L the grounded Laplacian): eliminate column p from
	// every later row; the Schur complement is again a grounded Laplacian.
	d := make([]float64, m)
	for j := 0; j < k; j++ {
		d[j] = nt.eps * r[j]
	}
	D := make([]float64, k)
	for p := 0; p < k; p++ {
		dp := ground[p]
		for c := p + 1; c < k; c++ {
			dp += W[p][c]
		}
		if !(dp > 0) || math.IsInf(dp, 0) {
			return nil, false
		}
		D[p] = dp
		for q := p + 1; q < k; q++ {
			if W[q][p] == 0 {
				continue
			}
			f := W[q][p] / dp
			for c := p + 1; c < k; c++ {
				if c != q {
					W[q][c] += f * W[p][c]
				}
			}
			ground[q] += f * ground[p]
			d[q] += f * d[p]
		}
	}
	for p := k - 1; p >= 0; p-- {
		x := d[p]
		for c := p + 1; c < k; c++ {
			x += W[p][c] * d[c]
		}
		d[p] = x / D[p]
	}
	return d, true
}

// step takes one damped Newton step from g (updated in place) and writes
// the plan aᵢsᵢⱼ at the new g. It reports false, leaving g and plan
// unchanged, when the Laplacian is singular (weights underflowed to 0) or
// no step length improves on g.
func (nt sinkhornNewton) step(g []float64, plan [][]float64) bool {
	n, m := len(nt.a), len(g)
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, m)
	}
	r := make([]float64, m)
	F0, e0 := nt.eval(g, s, r)
	d, ok := nt.direction(s, r)
	if !ok {
		return false
	}
	slope := 0.0 // predicted gain rᵀd ≥ 0 (L is positive semi-definite)
	for j := range d {
		slope += r[j] * d[j]
	}
	gt := make([]float64, m)
	for alpha := 1.0; alpha > 1e-12; alpha /= 2 {
		for j := range gt {
			gt[j] = g[j] + alpha*d[j]
		}
		F, e := nt.eval(gt, s, r)
		var better bool
		if alpha*slope > 1e-12*math.Abs(F0) {
			better = F >= F0+1e-4*alpha*slope
		} else {
			better = e < e0
		}
		if better {
			copy(g, gt)
			for i := range plan {
				for j := range plan[i] {
					plan[i][j] = nt.a[i] * s[i][j]
				}
			}
			return true
		}
	}
	return false
}

// checkSinkhorn panics with a *autograd.MisuseError on Sinkhorn's misuse.
func checkSinkhorn(cost [][]float64, a, b []float64, eps, tol float64, maxIter int) {
	bad := func(format string, args ...any) { panic(autograd.Misuse("fm.Sinkhorn", format, args...)) }
	if len(cost) != len(a) || len(a) == 0 || len(b) == 0 {
		bad("cost has %d rows for %d weights a and %d weights b; want as many rows as a, at least 1 of each", len(cost), len(a), len(b))
	}
	for i, row := range cost {
		if len(row) != len(b) {
			bad("cost row %d has %d entries for %d weights b", i, len(row), len(b))
		}
	}
	for _, w := range [][]float64{a, b} {
		s := 0.0
		for _, v := range w {
			if !(v > 0) {
				bad("marginal weight %v; want every weight > 0", v)
			}
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			bad("marginal weights sum to %v; want 1", s)
		}
	}
	if !(eps > 0) || !(tol > 0) || maxIter < 1 {
		bad("eps = %v, tol = %v, maxIter = %d; want all > 0", eps, tol, maxIter)
	}
}
