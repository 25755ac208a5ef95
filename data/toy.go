package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/internal/stats"
)

// Toy is a distribution one can draw from: a 2-D toy set or a user-defined mixture.
type Toy interface {
	// Name is the name the set is registered under (or a description).
	Name() string
	// Dim is the dimension d of a point.
	Dim() int
	// Sample returns n independent draws as an [n, Dim()] tensor; all randomness comes from rng.
	Sample(n int, rng *rand.Rand) *autograd.Tensor
}

// Density is a Toy whose log-density log p(x) can be evaluated (exactly, or by 1-D quadrature
// to the accuracy stated by the implementation).
type Density interface {
	Toy
	// LogDensity returns log p(x) in nats for a point x of length Dim(); −Inf off the support.
	LogDensity(x []float64) float64
}

// Entropic is a Toy whose differential entropy H = −∫ p log p is known, either in closed form
// (se = 0) or as a Monte-Carlo estimate −(1/N) Σ log p(x_i) over N samples drawn from rng, with
// its standard error se = sd(−log p)/√N.
type Entropic interface {
	Toy
	// Entropy returns H in nats and its standard error; n is the Monte-Carlo sample size
	// (ignored when H is known in closed form).
	Entropy(n int, rng *rand.Rand) (h, se float64)
}

// registry maps a name to its set. Each constructor's doc comment states the formula.
var registry = map[string]func() Toy{
	"8gaussians":    func() Toy { return EightGaussians() },
	"gaussian":      func() Toy { return StandardGaussian(2) },
	"checkerboard":  func() Toy { return Checkerboard{} },
	"moons":         func() Toy { return MoonsFFJORD() },
	"moons-sklearn": func() Toy { return &Moons{Noise: 0.1, Scale: 1, Label: "moons-sklearn"} },
	"moons-peer":    func() Toy { return MoonsPeer() },
	"circles":       func() Toy { return Circles() },
	"rings":         func() Toy { return Rings() },
	"2spirals":      func() Toy { return TwoSpirals() },
	"swissroll":     func() Toy { return SwissRoll() },
	"pinwheel":      func() Toy { return Pinwheel{} },
}

// mustDraw panics with a *autograd.MisuseError naming op when n < 0 or rng is
// nil: every Toy's Sample checks its arguments with it.
func mustDraw(op string, n int, rng *rand.Rand) {
	switch {
	case n < 0:
		panic(autograd.Misuse(op, "negative sample count n = %d", n))
	case rng == nil:
		panic(autograd.Misuse(op, "nil *rand.Rand; pass rand.New(rand.NewPCG(seed, stream))"))
	}
}

// Names returns the names of the built-in sets, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for k := range registry {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the built-in set called name, or an error listing the valid names.
func Lookup(name string) (Toy, error) {
	mk, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("data: unknown dataset %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return mk(), nil
}

// Sample returns n points of the built-in set called name, drawn with rng.
func Sample(name string, n int, rng *rand.Rand) (*autograd.Tensor, error) {
	t, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("data: Sample(%q): negative n = %d", name, n)
	}
	return t.Sample(n, rng), nil
}

// Entropy returns the differential entropy H (nats) of the built-in set called name and its
// standard error: exact (se = 0) where a closed form exists, otherwise the Monte-Carlo estimate
// E[−log p(x)] over DefaultEntropySamples(name) samples from a fixed seed, with log p exact
// (mixtures, pinwheel) or by 1-D quadrature (curve sets, whose quadrature error is far below
// se; see TestEntropy_QuadratureConverged). The values are checked in TestEntropy_KnownValues
// (pinwheel also in TestPinwheel_Normalised).
func Entropy(name string) (h, se float64, err error) {
	t, err := Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	e, ok := t.(Entropic)
	if !ok {
		return 0, 0, fmt.Errorf("data: no entropy known for %q", name)
	}
	h, se = e.Entropy(DefaultEntropySamples(name), rand.New(rand.NewPCG(20181001, 1)))
	return h, se, nil
}

// DefaultEntropySamples is the Monte-Carlo sample size Entropy uses for name: 200,000 for
// Gaussian mixtures and pinwheel (cheap exact log p), 20,000 for curve sets (log p by
// quadrature).
func DefaultEntropySamples(name string) int {
	if t, err := Lookup(name); err == nil {
		switch t.(type) {
		case *GaussianMixture, Pinwheel:
			return 200000
		}
	}
	return 20000
}

// mcEntropy returns the mean and standard error of −log p over n samples of t.
// n < 2 (no standard error) and a nil rng panic with a *autograd.MisuseError.
func mcEntropy(t Density, n int, rng *rand.Rand) (h, se float64) {
	if n < 2 {
		panic(autograd.Misuse("data."+t.Name()+".Entropy", "needs n ≥ 2 samples for a standard error, got %d", n))
	}
	mustDraw("data."+t.Name()+".Entropy", 0, rng)
	x := t.Sample(n, rng)
	nlp := make([]float64, n)
	for i := range n {
		nlp[i] = -t.LogDensity(x.Row(i))
	}
	return stats.MeanStdErr(nlp)
}

// Checkerboard is FFJORD's checkerboard (Grathwohl et al. 2018, lib/toy_data.py):
//
//	x₁ ~ U[−2, 2),  x₂' = U[0, 1) − 2·B,  B ~ Bernoulli(½),  x₂ = x₂' + (⌊x₁⌋ mod 2),  x = 2·(x₁, x₂)
//
// i.e. uniform on the 8 black squares of side 2 of a 4×4 board on [−4, 4)²: density exactly
// 1/32 on the support, so H = ln 32 ≈ 3.4657 nats. Tested in TestCheckerboard_Definition.
type Checkerboard struct{}

func (Checkerboard) Name() string { return "checkerboard" }
func (Checkerboard) Dim() int     { return 2 }

func (Checkerboard) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	mustDraw("data.Checkerboard.Sample", n, rng)
	t := autograd.Zeros(n, 2)
	for i := range n {
		x1 := rng.Float64()*4 - 2
		x2 := rng.Float64() - 2*float64(rng.IntN(2))
		x2 += math.Mod(math.Floor(x1)+4, 2) // Python's % is non-negative
		t.Data[2*i], t.Data[2*i+1] = 2*x1, 2*x2
	}
	return t
}

// LogDensity returns −ln 32 on the support (⌊x₁/2⌋ + ⌊x₂/2⌋ even, |x_i| < 4) and −Inf elsewhere.
func (Checkerboard) LogDensity(x []float64) float64 {
	if x[0] < -4 || x[0] >= 4 || x[1] < -4 || x[1] >= 4 {
		return math.Inf(-1)
	}
	if int(math.Floor(x[0]/2)+math.Floor(x[1]/2)+8)%2 != 0 {
		return math.Inf(-1)
	}
	return -math.Log(32)
}

// Entropy returns ln 32 exactly.
func (Checkerboard) Entropy(int, *rand.Rand) (h, se float64) { return math.Log(32), 0 }
