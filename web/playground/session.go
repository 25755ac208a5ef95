package playground

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
)

// MaxSteps is the most training steps one Session takes (fm.Train keeps
// every step's loss, so the run has a fixed length).
const MaxSteps = 20000

// Sizes are the model sizes the page offers: the hidden widths of the
// velocity MLP (SiLU).
var Sizes = map[string][]int{
	"small":  {64, 64},
	"medium": {128, 128, 128},
	"large":  {256, 256, 256},
}

// Config is what the page's controls choose.
type Config struct {
	Dataset  string  `json:"dataset"`  // a data.Names() entry
	Path     string  `json:"path"`     // condot, ve or vp
	Coupling string  `json:"coupling"` // independent or ot
	Size     string  `json:"size"`     // a key of Sizes
	Batch    int     `json:"batch"`    // 0 means 256
	LR       float64 `json:"lr"`       // 0 means 1e-3
	Seed     uint64  `json:"seed"`
	// Points are the centres of the "drawn" dataset (points placed with
	// the mouse or typed in): q = (1/n) Σᵢ N(pᵢ, DrawnStd² I).
	Points [][]float64 `json:"points,omitempty"`
}

// Drawn is the dataset name of Config.Points, and DrawnStd the std of each
// of its Gaussian bumps.
const (
	Drawn    = "drawn"
	DrawnStd = 0.2
)

// Session is one training run and what the page draws of it. It is not safe
// for concurrent use.
type Session struct {
	cfg   Config
	path  fm.Path
	data  data.Toy
	model *nn.VelocityMLP
	marg  marginal
	steps int

	// The trainer goroutine runs fm.Train and parks in its Callback after
	// every chunk: resume carries the next chunk's length (or stop), done
	// reports a parked trainer (nil) or a finished one (its error).
	resume  chan int
	done    chan error
	pending []float64
	left    int
	started bool
	over    error
}

// marginal is what the page needs of fm.MixtureMarginal and
// fm.EmpiricalMarginal.
type marginal interface {
	Field(t float64, x []float64) []float64
	LogProb(t float64, x []float64) float64
}

// errStop unwinds the trainer goroutine when the session is closed.
var errStop = errors.New("playground: session closed")

// ErrFinished is returned by Train after MaxSteps steps.
var ErrFinished = fmt.Errorf("playground: the run is over (%d steps); start a new one", MaxSteps)

// ParsePath returns the path the page names: CondOT with σ_min = 10⁻⁴
// (Lipman et al. 2022, §4.1, Example II), VE with σ from 0.01 to 5 and VP
// with β from 0.1 to 20 (Example I), as `flowmatch train -path` has them.
func ParsePath(name string) (fm.Path, error) {
	switch name {
	case "condot", "":
		return fm.CondOT{SigmaMin: 1e-4}, nil
	case "ve":
		return fm.VE{SigmaMin: 0.01, SigmaMax: 5}, nil
	case "vp":
		return fm.VP{}, nil
	}
	return nil, fmt.Errorf("path %q: want condot, ve or vp", name)
}

func parseCoupling(name string) (fm.Coupling, error) {
	switch name {
	case "independent", "":
		return fm.Independent{}, nil
	case "ot":
		return fm.ExactOT{}, nil
	}
	return nil, fmt.Errorf("coupling %q: want independent or ot", name)
}

// New returns a session for cfg with an untrained model, or an error naming
// the control whose value is wrong.
func New(cfg Config) (*Session, error) {
	if cfg.Batch == 0 {
		cfg.Batch = 256
	}
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	if cfg.Size == "" {
		cfg.Size = "small"
	}
	if cfg.Batch < 1 || cfg.Batch > 4096 {
		return nil, fmt.Errorf("batch %d: want 1 to 4096", cfg.Batch)
	}
	if !(cfg.LR > 0 && cfg.LR < 1) {
		return nil, fmt.Errorf("learning rate %g: want in (0, 1)", cfg.LR)
	}
	hidden, ok := Sizes[cfg.Size]
	if !ok {
		return nil, fmt.Errorf("model size %q: want small, medium or large", cfg.Size)
	}
	p, err := ParsePath(cfg.Path)
	if err != nil {
		return nil, err
	}
	if _, err := parseCoupling(cfg.Coupling); err != nil {
		return nil, err
	}
	var toy data.Toy
	var mix *fm.Mixture
	if cfg.Dataset == Drawn {
		if len(cfg.Points) < 1 || len(cfg.Points) > 1000 {
			return nil, fmt.Errorf("drawn dataset: %d points, want 1 to 1000", len(cfg.Points))
		}
		mix = &fm.Mixture{}
		for i, p := range cfg.Points {
			if len(p) != 2 || math.IsNaN(p[0]+p[1]) || math.IsInf(p[0]+p[1], 0) {
				return nil, fmt.Errorf("drawn point %d: %v, want two finite coordinates", i+1, p)
			}
			mix.Means = append(mix.Means, slices.Clone(p))
			mix.Stds = append(mix.Stds, DrawnStd)
		}
		toy = drawnToy{mix}
	} else {
		if toy, err = data.Lookup(cfg.Dataset); err != nil {
			return nil, err
		}
		mix = mixtureOf(cfg.Dataset)
	}
	if toy.Dim() != 2 {
		return nil, fmt.Errorf("dataset %q is %d-D; the playground draws 2-D sets", cfg.Dataset, toy.Dim())
	}
	s := &Session{cfg: cfg, path: p, data: toy,
		model: nn.NewVelocityMLP(2, hidden, autograd.ActSiLU, fm.NewRand(cfg.Seed^0x5eed)),
		marg:  exactMarginal(mix, p, toy, cfg.Seed)}
	return s, nil
}

// Steps is the number of training steps taken so far.
func (s *Session) Steps() int { return s.steps }

// Config returns the session's configuration with its defaults filled in.
func (s *Session) Config() Config { return s.cfg }

// Train takes k more steps of fm.Train (Adam, the fused step, the CFM loss
// of Lipman et al. 2022, §4, eq. 9, with the chosen coupling) and returns
// their losses. The optimizer's state carries over from chunk to chunk: n
// chunks of k steps are one fm.Train run of n·k steps
// (TestSession_ChunksAreOneRun). After MaxSteps steps it returns ErrFinished.
func (s *Session) Train(k int) ([]float64, error) {
	if k < 1 {
		panic(autograd.Misuse("playground.Session.Train", "k = %d steps, want ≥ 1", k))
	}
	if s.over != nil {
		return nil, s.over
	}
	if !s.started {
		s.start()
	}
	s.pending = s.pending[:0]
	s.resume <- k
	if err := <-s.done; err != nil {
		s.over = err
		if errors.Is(err, errStop) {
			return nil, err
		}
		if err == ErrFinished {
			return slices.Clone(s.pending), err
		}
		return slices.Clone(s.pending), err
	}
	return slices.Clone(s.pending), nil
}

func (s *Session) start() {
	s.started = true
	s.resume = make(chan int)
	s.done = make(chan error)
	coupling, _ := parseCoupling(s.cfg.Coupling)
	cfg := fm.TrainConfig{
		Path: s.path, Data: s.data.Sample, Coupling: coupling,
		BatchSize: s.cfg.Batch, Steps: MaxSteps, LR: s.cfg.LR, Seed: s.cfg.Seed,
		Fused: true,
		Callback: func(step int, loss float64) {
			s.steps = step
			s.pending = append(s.pending, loss)
			s.left--
			if s.left > 0 {
				return
			}
			s.done <- nil
			k := <-s.resume
			if k < 0 {
				panic(errStop)
			}
			s.left = k
		},
	}
	go func() {
		k := <-s.resume
		if k < 0 {
			s.done <- errStop
			return
		}
		s.left = k
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					if r != errStop {
						panic(r)
					}
					err = errStop
				}
			}()
			_, err = fm.Train(s.model, cfg)
			if err == nil {
				err = ErrFinished
			}
		}()
		s.done <- err
	}()
}

// Close ends the trainer goroutine; the session can still draw frames.
func (s *Session) Close() {
	if s.started && s.over == nil {
		s.resume <- -1
		s.over = <-s.done
	}
	if s.over == nil {
		s.over = errStop
	}
}

// exactMarginal returns the exact marginal of the data under p (Lipman et
// al. 2022, §3, eqs. 6 and 8): fm.MixtureMarginal where the set is a
// Gaussian mixture m with isotropic components (8gaussians, gaussian, the
// drawn points) and the path affine, else
// fm.EmpiricalMarginal over a fixed draw of 512 points (the exact marginal
// of that finite set).
func exactMarginal(m *fm.Mixture, p fm.Path, toy data.Toy, seed uint64) marginal {
	if ap, ok := p.(fm.AffinePath); ok && m != nil {
		return fm.MixtureMarginal{Path: ap, Data: m}
	}
	x := toy.Sample(512, fm.NewRand(seed^0xe4ac7))
	pts := make([][]float64, x.Rows)
	for i := range pts {
		pts[i] = slices.Clone(x.Data[2*i : 2*i+2])
	}
	return fm.EmpiricalMarginal{Path: p, Data: &fm.Empirical{Points: pts}}
}

// mixtureOf returns the built-in Gaussian sets as an fm.Mixture: 8gaussians
// (means 2√2·(cos kπ/4, sin kπ/4), std 0.5/√2, as data.EightGaussians) and
// gaussian (N(0, I)); nil for the others. TestMixtureOf_MatchesData checks
// the density against the data package's.
func mixtureOf(name string) *fm.Mixture {
	switch name {
	case "8gaussians":
		m := &fm.Mixture{}
		for k := range 8 {
			sn, cs := math.Sincos(math.Pi * float64(k) / 4)
			m.Means = append(m.Means, []float64{4 * cs / math.Sqrt2, 4 * sn / math.Sqrt2})
			m.Stds = append(m.Stds, 0.5/math.Sqrt2)
		}
		return m
	case "gaussian":
		return &fm.Mixture{Means: [][]float64{{0, 0}}, Stds: []float64{1}}
	}
	return nil
}

// drawnToy is the drawn dataset as a data.Toy.
type drawnToy struct{ m *fm.Mixture }

func (d drawnToy) Name() string { return Drawn }
func (d drawnToy) Dim() int     { return 2 }
func (d drawnToy) Sample(n int, rng *rand.Rand) *autograd.Tensor {
	return d.m.Sample(n, rng)
}
