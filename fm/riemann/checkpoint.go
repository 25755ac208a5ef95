package riemann

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Metadata keys of a manifold checkpoint (SaveCheckpoint), beside nn's
// architecture keys. A safetensors file without MetaManifold is a
// Euclidean model (every checkpoint written before manifolds had
// checkpoints): IsCheckpoint is false for it.
const (
	MetaManifold = "riemann.manifold" // ManifoldSpec: "sphere:2", "torus:2"
	MetaBase     = "riemann.base"     // Base.String: "uniform", "wrapped-normal:0.5"
)

// ManifoldSpec returns "sphere:D" or "torus:D", the value of MetaManifold.
func ManifoldSpec(m Manifold) string { return m.Name() + ":" + strconv.Itoa(m.Dim()) }

// ParseManifold reads a ManifoldSpec: "sphere:D" (S^D, 1 ≤ D ≤ 4096) or
// "torus:D" (T^D, 1 ≤ D ≤ 4096).
func ParseManifold(spec string) (Manifold, error) {
	name, d, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(d)
	if !ok || err != nil || n < 1 || n > 4096 {
		return nil, fmt.Errorf("want sphere:D or torus:D with D in [1, 4096], e.g. sphere:2")
	}
	switch name {
	case "sphere":
		return Sphere{D: n}, nil
	case "torus":
		return Torus{D: n}, nil
	}
	return nil, fmt.Errorf("unknown manifold %q: want sphere:D or torus:D, e.g. sphere:2", name)
}

// Checkpoint is a trained flow on a manifold: the manifold, the base law
// of x₀ and the model, an *nn.VelocityMLP on the sphere's ambient
// coordinates or a *TorusMLP on the torus.
type Checkpoint struct {
	M     Manifold
	Base  Base
	Model Model
}

// Field returns the model's frozen field (no gradients to its
// parameters), for Integrate and LogLikelihoodFrom.
func (c Checkpoint) Field() cnf.Field {
	switch v := c.Model.(type) {
	case *nn.VelocityMLP:
		return cnf.FieldOf(v.Frozen())
	case *TorusMLP:
		return cnf.FieldOf(v.Frozen())
	}
	panic(autograd.Misuse("riemann.Checkpoint.Field", "model %T: want *nn.VelocityMLP or *TorusMLP", c.Model))
}

// IsCheckpoint reports whether the metadata of a safetensors file are a
// manifold checkpoint's (they hold MetaManifold).
func IsCheckpoint(meta map[string]string) bool {
	_, ok := meta[MetaManifold]
	return ok
}

// SaveCheckpoint writes c to path through nn's checkpoints (so
// nn/safetensors, atomically): an *nn.VelocityMLP on S^D with
// nn.SaveVelocityMLP, a *TorusMLP's network with nn.SaveMLP, with
// MetaManifold, MetaBase and extra in the metadata. A model that does not
// fit the manifold (a VelocityMLP on the torus is not periodic) panics
// with an *autograd.MisuseError. TestCheckpoint_RoundTrip.
func SaveCheckpoint(path string, c Checkpoint, extra map[string]string) error {
	if c.M == nil || c.Base == nil || c.Model == nil {
		panic(autograd.Misuse("riemann.SaveCheckpoint", "nil manifold, base or model"))
	}
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta[MetaManifold], meta[MetaBase] = ManifoldSpec(c.M), c.Base.String()
	switch v := c.Model.(type) {
	case *nn.VelocityMLP:
		if _, ok := c.M.(Sphere); ok && v.Dim() == c.M.Ambient() {
			return nn.SaveVelocityMLP(path, v, meta)
		}
	case *TorusMLP:
		if _, ok := c.M.(Torus); ok && v.D == c.M.Dim() {
			return nn.SaveMLP(path, v.Net, meta)
		}
	}
	panic(autograd.Misuse("riemann.SaveCheckpoint", "model %T does not fit %s: want an *nn.VelocityMLP on ℝ^{D+1} for sphere:D, a *TorusMLP with D angles for torus:D", c.Model, ManifoldSpec(c.M)))
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint and returns
// it with the extra metadata (without nn's architecture keys). Every
// problem is a *safetensors.Error naming the file; a metadata value that
// is missing, does not parse or does not fit the model wraps a
// *safetensors.MetadataError naming the key and the value (a Euclidean
// checkpoint has no MetaManifold: "missing"). TestCheckpoint_RoundTrip,
// TestCheckpoint_BadMetadata.
func LoadCheckpoint(path string) (Checkpoint, map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	bad := func(meta map[string]string, key, reason string) error {
		return &safetensors.Error{Path: path, Err: &safetensors.MetadataError{Key: key, Value: meta[key], Reason: reason}}
	}
	spec, ok := f.Metadata[MetaManifold]
	if !ok {
		return Checkpoint{}, nil, bad(f.Metadata, MetaManifold, "missing: not a manifold checkpoint (a model on ℝ^d); train -data sphere-vmf (or another manifold data set) writes one")
	}
	m, err := ParseManifold(spec)
	if err != nil {
		return Checkpoint{}, nil, bad(f.Metadata, MetaManifold, err.Error())
	}
	var c Checkpoint
	var meta map[string]string
	switch m.(type) {
	case Sphere:
		v, extra, err := nn.LoadVelocityMLP(path)
		if err != nil {
			return Checkpoint{}, nil, err
		}
		if v.Dim() != m.Ambient() {
			return Checkpoint{}, nil, bad(extra, MetaManifold, fmt.Sprintf("the model has %d outputs; %s needs %d", v.Dim(), spec, m.Ambient()))
		}
		c, meta = Checkpoint{M: m, Model: v}, extra
	case Torus:
		net, extra, err := nn.LoadMLP(path)
		if err != nil {
			return Checkpoint{}, nil, err
		}
		sizes := net.Sizes()
		if sizes[0] != 2*m.Dim()+1 || sizes[len(sizes)-1] != m.Dim() {
			return Checkpoint{}, nil, bad(extra, MetaManifold, fmt.Sprintf("the network maps %d inputs to %d outputs; a TorusMLP on %s maps %d to %d", sizes[0], sizes[len(sizes)-1], spec, 2*m.Dim()+1, m.Dim()))
		}
		c, meta = Checkpoint{M: m, Model: &TorusMLP{Net: net, D: m.Dim()}}, extra
	}
	if _, ok := meta[MetaBase]; !ok {
		return Checkpoint{}, nil, bad(meta, MetaBase, "missing (want uniform or wrapped-normal:σ)")
	}
	if meta[MetaBase] == "" {
		return Checkpoint{}, nil, bad(meta, MetaBase, "empty (want uniform or wrapped-normal:σ)")
	}
	if c.Base, err = ParseBase(m, meta[MetaBase]); err != nil {
		return Checkpoint{}, nil, bad(meta, MetaBase, err.Error())
	}
	return c, meta, nil
}
