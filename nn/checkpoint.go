package nn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Model checkpoints are safetensors files (package nn/safetensors) holding a
// model's NamedParams and, in the metadata, its architecture under the keys
// below, so that LoadMLP and LoadVelocityMLP rebuild the model without being
// told its shape. Every other package that records something in a
// checkpoint owns its own keys (fm.MetaPath for the probability path).

// Metadata keys under which SaveMLP and SaveVelocityMLP record the
// architecture; extra metadata may not use them.
const (
	MetaModel      = "nn.model"      // "MLP" or "VelocityMLP"
	MetaSizes      = "nn.sizes"      // layer widths, e.g. "3,256,256,256,2"
	MetaActivation = "nn.activation" // e.g. "silu"
	// MetaContext records a conditional VelocityMLP's context:
	// "label:K" for a label-conditioned model of K classes
	// (NewLabelVelocityMLP; context width K+1, one-hot rows from
	// LabelContext) or "vector:k" for a real-vector context of width k
	// (NewCondVelocityMLP). An unconditional model has no such key, so
	// checkpoints written before contexts existed load with context 0.
	MetaContext = "nn.context"
)

// SaveMLP writes m's parameters (NamedParams) and its architecture
// (MetaModel "MLP", MetaSizes, MetaActivation) plus extraMeta to path with
// safetensors.Write, atomically. TestCheckpoint_ModelRoundTrip.
func SaveMLP(path string, m *MLP, extraMeta map[string]string) error {
	return saveModel(path, "MLP", m, extraMeta)
}

// SaveVelocityMLP is SaveMLP for v_θ, with MetaModel "VelocityMLP" and, for
// a conditional model, MetaContext ("label:K" or "vector:k").
// TestCheckpoint_CondRoundTrip.
func SaveVelocityMLP(path string, v *VelocityMLP, extraMeta map[string]string) error {
	var ctx map[string]string
	switch {
	case v.classes > 0:
		ctx = map[string]string{MetaContext: fmt.Sprintf("label:%d", v.classes)}
	case v.ctx > 0:
		ctx = map[string]string{MetaContext: fmt.Sprintf("vector:%d", v.ctx)}
	}
	return saveModel(path, "VelocityMLP", v.Net, extraMeta, ctx)
}

// reserved reports whether k is one of nn's metadata keys.
func reserved(k string) bool {
	return k == MetaModel || k == MetaSizes || k == MetaActivation || k == MetaContext
}

func saveModel(path, kind string, m *MLP, extra map[string]string, own ...map[string]string) error {
	meta := map[string]string{}
	for _, o := range own {
		for k, v := range o {
			meta[k] = v
		}
	}
	for k, v := range extra {
		if reserved(k) {
			return &safetensors.Error{Path: path, Reason: fmt.Sprintf("extra metadata key %q is reserved for the architecture", k)}
		}
		meta[k] = v
	}
	meta[MetaModel], meta[MetaSizes], meta[MetaActivation] = kind, formatSizes(m.Sizes()), string(m.Activation())
	return safetensors.Write(path, m.NamedParams(), meta)
}

// LoadMLP reads an MLP saved by SaveMLP: it rebuilds the architecture from
// the metadata, checks every tensor's name and shape against it and returns
// the model (parameters requiring gradients) and the extra metadata (without
// the architecture keys). Every problem is a *safetensors.Error naming the
// file; a metadata value that is missing or does not parse wraps a
// *safetensors.MetadataError naming the key and the value
// (TestCheckpoint_ModelRoundTrip, TestCheckpoint_BadMetadata).
func LoadMLP(path string) (*MLP, map[string]string, error) {
	m, meta, err := loadModel(path, "MLP")
	if err != nil {
		return nil, nil, err
	}
	return m, extraMeta(meta), nil
}

// LoadVelocityMLP reads a VelocityMLP saved by SaveVelocityMLP, as LoadMLP,
// with its context (MetaContext; none means an unconditional model). A
// MetaContext that does not parse, or a context width that contradicts
// MetaSizes, is an error naming the file, the key and the value
// (TestCheckpoint_BadMetadata).
func LoadVelocityMLP(path string) (*VelocityMLP, map[string]string, error) {
	m, meta, err := loadModel(path, "VelocityMLP")
	if err != nil {
		return nil, nil, err
	}
	ctx, classes := 0, 0
	if v, ok := meta[MetaContext]; ok {
		var why string
		if ctx, classes, why = parseContext(v); why != "" {
			return nil, nil, metaErr(path, meta, MetaContext, why)
		}
	}
	sizes := m.Sizes()
	dim := sizes[len(sizes)-1]
	if sizes[0] != dim+1+ctx {
		if ctx == 0 {
			return nil, nil, metaErr(path, meta, MetaSizes, fmt.Sprintf("a velocity field on ℝ^%d needs %d inputs", dim, dim+1))
		}
		return nil, nil, metaErr(path, meta, MetaContext, fmt.Sprintf("a velocity field on ℝ^%d with context width %d needs %d inputs, and %s = %q has %d",
			dim, ctx, dim+1+ctx, MetaSizes, meta[MetaSizes], sizes[0]))
	}
	return &VelocityMLP{Net: m, dim: dim, ctx: ctx, classes: classes}, extraMeta(meta), nil
}

// parseContext reads a MetaContext value: "label:K" (K ≥ 1 classes,
// context width K+1) or "vector:k" (k ≥ 1), the count in decimal without
// sign or leading zeros (as SaveVelocityMLP writes it) and at most 2²⁰.
func parseContext(v string) (ctx, classes int, why string) {
	kind, num, ok := strings.Cut(v, ":")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || n > 1<<20 || strconv.Itoa(n) != num {
		return 0, 0, `want "label:K" or "vector:k" with a positive count`
	}
	switch kind {
	case "label":
		return n + 1, n, ""
	case "vector":
		return n, 0, ""
	}
	return 0, 0, `want "label:K" or "vector:k" with a positive count`
}

func extraMeta(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if !reserved(k) {
			out[k] = v
		}
	}
	return out
}

// metaErr is the error for the value of key in the metadata of the file path.
func metaErr(path string, meta map[string]string, key, reason string) error {
	return &safetensors.Error{Path: path, Err: &safetensors.MetadataError{Key: key, Value: meta[key], Reason: reason}}
}

// formatSizes writes layer widths as MetaSizes holds them: "3,256,2".
func formatSizes(sizes []int) string {
	s := make([]string, len(sizes))
	for i, n := range sizes {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// parseSizes reads a MetaSizes value: at least two positive widths.
func parseSizes(v string) ([]int, string) {
	var sizes []int
	for s := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, "not a list of positive sizes"
		}
		sizes = append(sizes, n)
	}
	if len(sizes) < 2 {
		return nil, "needs at least two sizes"
	}
	return sizes, ""
}

// loadModel reads an MLP of the given kind and returns it with all of the
// file's metadata.
func loadModel(path, kind string) (*MLP, map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, err
	}
	meta := f.Metadata
	if meta[MetaModel] != kind {
		return nil, nil, metaErr(path, meta, MetaModel, fmt.Sprintf("want %q", kind))
	}
	act := autograd.Activation(meta[MetaActivation])
	if !act.Valid() {
		return nil, nil, metaErr(path, meta, MetaActivation, "not a known activation")
	}
	sizes, why := parseSizes(meta[MetaSizes])
	if why != "" {
		return nil, nil, metaErr(path, meta, MetaSizes, why)
	}
	// Check shapes before allocating anything, so that sizes in corrupt
	// metadata cannot demand more memory than the file holds.
	var want []safetensors.Shape
	for i := 0; i+1 < len(sizes); i++ {
		want = append(want,
			safetensors.Shape{Name: fmt.Sprintf("layers.%d.weight", i), Rows: sizes[i], Cols: sizes[i+1]},
			safetensors.Shape{Name: fmt.Sprintf("layers.%d.bias", i), Rows: 1, Cols: sizes[i+1]})
	}
	if err := f.Match(want); err != nil {
		return nil, nil, err
	}
	m := &MLP{act: act}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, &Linear{
			W: f.Tensors[want[2*i].Name].SetRequiresGrad(true),
			B: f.Tensors[want[2*i+1].Name].SetRequiresGrad(true),
		})
	}
	return m, meta, nil
}
