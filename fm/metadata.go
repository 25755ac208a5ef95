package fm

import (
	"fmt"

	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// Metadata keys under which PathMetadata records a probability path in a
// checkpoint (next to nn's architecture keys, nn.MetaSizes and the rest).
// MetaPath names the path; the others hold its parameters, each written
// only for the paths that have it.
const (
	MetaPath     = "fm.path"      // "condot", "ve", "vp", "polynomial", "cosine" or "linear_vp"
	MetaSigmaMin = "fm.sigma_min" // CondOT and VE: σ_min
	MetaSigmaMax = "fm.sigma_max" // VE: σ_max
	MetaBetaMin  = "fm.beta_min"  // VP: β_min
	MetaBetaMax  = "fm.beta_max"  // VP: β_max
	MetaExponent = "fm.exponent"  // Polynomial: n
)

// PathMetadata returns the metadata that records p: MetaPath and the path's
// parameters, written with safetensors.FormatFloat so that PathFromMetadata
// returns the same path to the bit. It records CondOT (Lipman et al. 2022,
// §4.1, eq. 20: σ_min), VE (eq. 16: σ_min, σ_max) and VP (eq. 18: β_min,
// β_max; the zero VP as its defaults 0.1 and 20), and the schedulers
// Polynomial (n), Cosine and LinearVP (Lipman et al. 2024, arXiv:2412.06264,
// §4.8; TestPathMetadata_Schedulers), and returns an error for
// parameters outside their range (the ranges of PathFromMetadata) and for
// any other Path, whose functions cannot be written down.
// TestPathMetadata_RoundTrip.
func PathMetadata(p Path) (map[string]string, error) {
	f := safetensors.FormatFloat
	var meta map[string]string
	switch p := p.(type) {
	case CondOT:
		meta = map[string]string{MetaPath: "condot", MetaSigmaMin: f(p.SigmaMin)}
	case VE:
		meta = map[string]string{MetaPath: "ve", MetaSigmaMin: f(p.SigmaMin), MetaSigmaMax: f(p.SigmaMax)}
	case VP:
		lo, hi := p.betas()
		meta = map[string]string{MetaPath: "vp", MetaBetaMin: f(lo), MetaBetaMax: f(hi)}
	case Polynomial:
		meta = map[string]string{MetaPath: "polynomial", MetaExponent: f(p.N)}
	case Cosine:
		meta = map[string]string{MetaPath: "cosine"}
	case LinearVP:
		meta = map[string]string{MetaPath: "linear_vp"}
	default:
		return nil, fmt.Errorf("fm.PathMetadata: a %T cannot be recorded (only CondOT, VE, VP, Polynomial, Cosine and LinearVP can)", p)
	}
	if _, err := PathFromMetadata(meta); err != nil {
		return nil, fmt.Errorf("fm.PathMetadata: %w", err)
	}
	return meta, nil
}

// PathFromMetadata rebuilds the path that PathMetadata recorded in meta.
// Keys other than the path's are ignored. A missing key, a value that is not
// a finite number, an unknown path name and a parameter outside its range
// (CondOT: 0 ≤ σ_min < 1; VE: 0 < σ_min < σ_max; VP: 0 ≤ β_min ≤ β_max,
// β_max > 0) are a *safetensors.MetadataError naming the key and the value.
// TestPathFromMetadata_BadValues.
func PathFromMetadata(meta map[string]string) (Path, error) {
	bad := func(key, reason string) error {
		return &safetensors.MetadataError{Key: key, Value: meta[key], Reason: reason}
	}
	name, ok := meta[MetaPath]
	if !ok {
		return nil, bad(MetaPath, "missing")
	}
	floats := func(keys ...string) ([]float64, error) {
		out := make([]float64, len(keys))
		for i, k := range keys {
			v, err := safetensors.ParseFloat(meta, k)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	switch name {
	case "condot":
		v, err := floats(MetaSigmaMin)
		if err != nil {
			return nil, err
		}
		if !(0 <= v[0] && v[0] < 1) {
			return nil, bad(MetaSigmaMin, "CondOT needs 0 ≤ σ_min < 1")
		}
		return CondOT{SigmaMin: v[0]}, nil
	case "ve":
		v, err := floats(MetaSigmaMin, MetaSigmaMax)
		if err != nil {
			return nil, err
		}
		if !(0 < v[0]) {
			return nil, bad(MetaSigmaMin, "VE needs σ_min > 0")
		}
		if !(v[0] < v[1]) {
			return nil, bad(MetaSigmaMax, fmt.Sprintf("VE needs σ_max > σ_min = %g", v[0]))
		}
		return VE{SigmaMin: v[0], SigmaMax: v[1]}, nil
	case "vp":
		v, err := floats(MetaBetaMin, MetaBetaMax)
		if err != nil {
			return nil, err
		}
		if !(0 <= v[0]) {
			return nil, bad(MetaBetaMin, "VP needs β_min ≥ 0")
		}
		if !(v[0] <= v[1] && v[1] > 0) {
			return nil, bad(MetaBetaMax, fmt.Sprintf("VP needs β_max > 0 and β_max ≥ β_min = %g", v[0]))
		}
		return VP{BetaMin: v[0], BetaMax: v[1]}, nil
	case "polynomial":
		v, err := floats(MetaExponent)
		if err != nil {
			return nil, err
		}
		if !(v[0] > 0) {
			return nil, bad(MetaExponent, "Polynomial needs n > 0")
		}
		return Polynomial{N: v[0]}, nil
	case "cosine":
		return Cosine{}, nil
	case "linear_vp":
		return LinearVP{}, nil
	}
	return nil, bad(MetaPath, "want condot, ve, vp, polynomial, cosine or linear_vp")
}
