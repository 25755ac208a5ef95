package discrete

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// A Denoiser is a factorized posterior p_θ(x₁ⁱ = y | x_t = x, t) (Gat et
// al. 2024, arXiv:2407.15595, §2.3; Lipman et al. 2024, arXiv:2412.06264,
// §7.5): Forward returns logits [n, D·V] for the states x (n rows of D
// tokens) at times t [n, 1]; columns i·V … i·V+V−1 are position i's logits,
// and p_θ(x₁ⁱ = ·|x) is their softmax. Logits may be −Inf (a probability 0).
type Denoiser interface {
	Forward(t *autograd.Tensor, x [][]int) *autograd.Tensor
}

// Probs returns the posterior probabilities softmax per position of
// m.Forward(t, x), computed without a graph: dst[k][i·V + y] =
// p_θ(x₁ⁱ = y | x_k, t_k).
func Probs(m Denoiser, p Path, t []float64, x [][]int) [][]float64 {
	return probs(m, p, t, x, nil)
}

// probs is Probs with the model's evaluation in the arena a (nil: the
// heap): the times enter a, the result is copied out, and a is Reset, so a
// sampler's steps reuse one another's memory (TestEuler_ArenaBitIdentical).
func probs(m Denoiser, p Path, t []float64, x [][]int, a *autograd.Arena) [][]float64 {
	defer a.Reset()
	tt := a.Zeros(len(t), 1)
	copy(tt.Data, t)
	logits := m.Forward(tt.NoGraph(), x)
	out := make([][]float64, len(x))
	for k := range x {
		row := logits.Row(k)
		out[k] = make([]float64, p.D*p.V)
		for i := 0; i < p.D; i++ {
			softmaxInto(out[k][i*p.V:(i+1)*p.V], row[i*p.V:(i+1)*p.V])
		}
	}
	return out
}

func softmaxInto(dst, logits []float64) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, v)
	}
	s := 0.0
	for j, v := range logits {
		dst[j] = math.Exp(v - m)
		s += dst[j]
	}
	for j := range dst {
		dst[j] /= s
	}
}

// logitsOf turns per-position probabilities [n][D·V] into logits log P.
func logitsOf(probs [][]float64) *autograd.Tensor {
	n := len(probs)
	if n == 0 {
		return autograd.Zeros(0, 0)
	}
	out := autograd.Zeros(n, len(probs[0]))
	for k, row := range probs {
		for j, v := range row {
			out.Data[k*out.Cols+j] = math.Log(v)
		}
	}
	return out
}

// PosteriorMLP is the factorized posterior model: each position's token is
// embedded by its own table Eⁱ [S, E] (autograd.Embedding), the D
// embeddings and a sinusoidal embedding of t are concatenated and fed to an
// MLP with D·V outputs, read as D rows of logits:
//
//	logits(t, x) = MLP(E¹[x¹], …, Eᴰ[xᴰ], sin/cos(t·ω))
//
// TestPosteriorMLP_Shapes checks the shapes and that a position's logits
// depend on the other positions' tokens.
type PosteriorMLP struct {
	Embed []*autograd.Tensor
	Net   *nn.MLP
	Path  Path
	TDim  int
}

// NewPosteriorMLP returns a PosteriorMLP for the path with token embeddings
// of width embed, a time embedding of width 16 and the given hidden widths.
func NewPosteriorMLP(p Path, embed int, hidden []int, act autograd.Activation, rng *rand.Rand) *PosteriorMLP {
	p.check("discrete.NewPosteriorMLP", rng)
	if embed < 1 {
		panic(autograd.Misuse("discrete.NewPosteriorMLP", "embedding width %d must be positive", embed))
	}
	const tdim = 16
	m := &PosteriorMLP{Path: p, TDim: tdim}
	for range p.D {
		m.Embed = append(m.Embed, autograd.Normal(p.States(), embed, 0, 1, rng).SetRequiresGrad(true))
	}
	sizes := append(append([]int{p.D*embed + tdim}, hidden...), p.D*p.V)
	m.Net = nn.NewMLP(sizes, act, rng)
	return m
}

// Forward returns the logits [n, D·V] at times t [n, 1] (or [1, 1]).
func (m *PosteriorMLP) Forward(t *autograd.Tensor, x [][]int) *autograd.Tensor {
	n := len(x)
	if t.Rows == 1 && t.Cols == 1 && n != 1 {
		t = autograd.Expand(t, n, 1)
	}
	if t.Rows != n || t.Cols != 1 {
		panic(&autograd.MisuseError{Op: "discrete.PosteriorMLP.Forward", Shapes: [][2]int{t.Shape()}, Reason: "want t [n,1] or [1,1] for n states"})
	}
	parts := make([]*autograd.Tensor, 0, m.Path.D+1)
	col := make([]int, n)
	for i, e := range m.Embed {
		for k, row := range x {
			if len(row) != m.Path.D {
				panic(autograd.Misuse("discrete.PosteriorMLP.Forward", "state %d has %d tokens, want %d", k, len(row), m.Path.D))
			}
			col[k] = row[i]
		}
		parts = append(parts, autograd.Embedding(e, col))
	}
	parts = append(parts, nn.SinusoidalEmbedding(t, m.TDim, 100))
	return m.Net.Forward(autograd.Concat(parts...))
}

// Params returns the embedding tables and the MLP's parameters.
func (m *PosteriorMLP) Params() []*autograd.Tensor {
	return append(append([]*autograd.Tensor(nil), m.Embed...), m.Net.Params()...)
}

// Table is a tabular posterior: one free row of logits [D·V] per state of
// an enumerable space, looked up with autograd.Embedding. It is the model
// of the exact tests (any posterior is a Table), e.g. TestTheorem2_Discrete.
type Table struct {
	Space  Space
	Logits *autograd.Tensor // [S^D, D·V]
}

// Forward returns the rows of Logits for the states x (t is ignored: a
// Table is one time's posterior).
func (tb *Table) Forward(_ *autograd.Tensor, x [][]int) *autograd.Tensor {
	idx := make([]int, len(x))
	for k, s := range x {
		idx[k] = tb.Space.Index(s)
	}
	return autograd.Embedding(tb.Logits, idx)
}
