package discrete

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Metadata keys of a PosteriorMLP checkpoint (SavePosteriorMLP).
const (
	MetaModel     = "nn.model"           // "discrete.PosteriorMLP"
	MetaV         = "discrete.V"         // data vocabulary size
	MetaD         = "discrete.D"         // sequence length
	MetaSource    = "discrete.source"    // "uniform" or "mask"
	MetaScheduler = "discrete.scheduler" // "linear", "cosine" or "polynomial(n)"
	MetaEmbed     = "discrete.embed"     // embedding width
	MetaSizes     = "nn.sizes"           // the MLP's widths
	MetaAct       = "nn.activation"
)

const modelKind = "discrete.PosteriorMLP"

// SavePosteriorMLP writes m (its embedding tables "embed.i" and the MLP's
// "layers.k.weight/bias") and its path and architecture as metadata, plus
// extra, to path with safetensors.Write (atomic). TestCheckpoint_RoundTrip.
func SavePosteriorMLP(path string, m *PosteriorMLP, extra map[string]string) error {
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	sizes := make([]string, len(m.Net.Sizes()))
	for i, s := range m.Net.Sizes() {
		sizes[i] = strconv.Itoa(s)
	}
	meta[MetaModel], meta[MetaV], meta[MetaD] = modelKind, strconv.Itoa(m.Path.V), strconv.Itoa(m.Path.D)
	meta[MetaSource], meta[MetaScheduler] = m.Path.Source.String(), m.Path.Sched.String()
	meta[MetaEmbed], meta[MetaSizes], meta[MetaAct] = strconv.Itoa(m.Embed[0].Cols), strings.Join(sizes, ","), string(m.Net.Activation())
	var ts []safetensors.Named
	for i, e := range m.Embed {
		ts = append(ts, safetensors.Named{Name: fmt.Sprintf("embed.%d", i), T: e})
	}
	return safetensors.Write(path, append(ts, m.Net.NamedParams()...), meta)
}

// IsPosteriorMLP reports whether the metadata of a safetensors file are
// those of a PosteriorMLP checkpoint.
func IsPosteriorMLP(meta map[string]string) bool { return meta[MetaModel] == modelKind }

// ParseScheduler returns the scheduler named "linear", "cosine" or
// "polynomial(n)" (Scheduler.String's names).
func ParseScheduler(s string) (Scheduler, error) {
	switch s {
	case "linear":
		return Linear{}, nil
	case "cosine":
		return Cosine{}, nil
	}
	if v, ok := strings.CutPrefix(s, "polynomial("); ok {
		if n, err := strconv.ParseFloat(strings.TrimSuffix(v, ")"), 64); err == nil && n > 0 && strings.HasSuffix(v, ")") {
			return Polynomial{N: n}, nil
		}
	}
	return nil, fmt.Errorf("unknown scheduler %q (want linear, cosine or polynomial(n) with n > 0)", s)
}

// LoadPosteriorMLP reads a checkpoint written by SavePosteriorMLP: it
// rebuilds the path and the architecture from the metadata, checks every
// tensor's name and shape, and returns the model and the file's metadata.
// Every problem is an error naming the file. TestCheckpoint_RoundTrip.
func LoadPosteriorMLP(path string) (*PosteriorMLP, map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, err
	}
	meta := f.Metadata
	bad := func(key, why string) error {
		return &safetensors.Error{Path: path, Reason: fmt.Sprintf("metadata %s = %q: %s", key, meta[key], why)}
	}
	if !IsPosteriorMLP(meta) {
		return nil, nil, bad(MetaModel, "want "+strconv.Quote(modelKind))
	}
	atoi := func(key string, lo, hi int) (int, error) {
		v, err := strconv.Atoi(meta[key])
		if err != nil || v < lo || v > hi {
			return 0, bad(key, fmt.Sprintf("want an integer in [%d, %d]", lo, hi))
		}
		return v, nil
	}
	var p Path
	if p.V, err = atoi(MetaV, 1, 1<<16); err != nil {
		return nil, nil, err
	}
	if p.D, err = atoi(MetaD, 1, 1<<16); err != nil {
		return nil, nil, err
	}
	switch meta[MetaSource] {
	case "uniform":
		p.Source = Uniform
	case "mask":
		p.Source = Mask
	default:
		return nil, nil, bad(MetaSource, "want uniform or mask")
	}
	if p.Sched, err = ParseScheduler(meta[MetaScheduler]); err != nil {
		return nil, nil, bad(MetaScheduler, err.Error())
	}
	embed, err := atoi(MetaEmbed, 1, 1<<16)
	if err != nil {
		return nil, nil, err
	}
	act := autograd.Activation(meta[MetaAct])
	if !act.Valid() {
		return nil, nil, bad(MetaAct, "not a known activation")
	}
	var sizes []int
	for _, s := range strings.Split(meta[MetaSizes], ",") {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 1<<16 {
			return nil, nil, bad(MetaSizes, "want comma-separated positive widths")
		}
		sizes = append(sizes, v)
	}
	if len(sizes) < 2 || sizes[0] != p.D*embed+16 || sizes[len(sizes)-1] != p.D*p.V {
		return nil, nil, bad(MetaSizes, fmt.Sprintf("want %d inputs and %d outputs", p.D*embed+16, p.D*p.V))
	}
	var want []safetensors.Shape
	for i := range p.D {
		want = append(want, safetensors.Shape{Name: fmt.Sprintf("embed.%d", i), Rows: p.States(), Cols: embed})
	}
	for i := 0; i+1 < len(sizes); i++ {
		want = append(want,
			safetensors.Shape{Name: fmt.Sprintf("layers.%d.weight", i), Rows: sizes[i], Cols: sizes[i+1]},
			safetensors.Shape{Name: fmt.Sprintf("layers.%d.bias", i), Rows: 1, Cols: sizes[i+1]})
	}
	if err := f.Match(want); err != nil {
		return nil, nil, err
	}
	m := NewPosteriorMLP(p, embed, sizes[1:len(sizes)-1], act, rand.New(rand.NewPCG(0, 0)))
	for i, e := range m.Embed {
		copy(e.Data, f.Tensors[fmt.Sprintf("embed.%d", i)].Data)
	}
	for _, np := range m.Net.NamedParams() {
		copy(np.T.Data, f.Tensors[np.Name].Data)
	}
	return m, meta, nil
}
