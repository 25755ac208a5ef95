package fm

import (
	"math"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// MetaParam is the metadata key under which a checkpoint records what its
// model predicts on its affine path: "velocity", "data", "noise" or
// "score" (Param.String). A checkpoint without it predicts the velocity
// (every checkpoint written before the key existed). Read by
// ParamFromMetadata; TestParamFromMetadata.
const MetaParam = "fm.param"

// ParamFromMetadata returns the parametrization recorded under MetaParam:
// ParamVelocity when the key is missing, and a *safetensors.MetadataError
// naming the key and the value when it is not velocity, data, noise or
// score. TestParamFromMetadata.
func ParamFromMetadata(meta map[string]string) (Param, error) {
	v, ok := meta[MetaParam]
	if !ok {
		return ParamVelocity, nil
	}
	q, err := ParseParam(v)
	if err != nil {
		return 0, &safetensors.MetadataError{Key: MetaParam, Value: v, Reason: "want velocity, data, noise or score"}
	}
	return q, nil
}

// ParamTimes returns the time interval [lo, hi] ⊆ [0, 1] on which a model
// that predicts param on the affine path p is turned into a velocity
// (ConvertCoeffs), trained and integrated. An end of [0, 1] is moved
// inside by eps where the conversion to the velocity does not exist there
// (D = 0 in ConvertCoeffs: noise and score where α_t = 0, data where
// σ_t = 0) or multiplies the model's output or x by more than 1/eps (data
// on CondOT with σ_min = 10⁻⁴ at t = 1: Δ/σ₁ ≈ 10⁴, which turns a small
// error of x̂₁ into a large one of the velocity), as samplers of
// data-prediction models stop at 1 − eps; elsewhere it stays 0 or 1. The
// velocity is never clamped: ParamTimes(p, ParamVelocity, eps) = (0, 1).
// Integrating from lo instead of 0 starts from N(0, s²I), whose law differs
// from p_lo by O(α_lo); stopping at hi instead of 1 leaves noise of std
// σ_hi. At lo and hi the conversion exists, its gains of order 1/eps at
// most where an end was moved. eps must lie in (0, 1/2). TestParamTimes.
func ParamTimes(p AffinePath, param Param, eps float64) (lo, hi float64) {
	if p == nil || !(eps > 0 && eps < 0.5) {
		panic(autograd.Misuse("fm.ParamTimes", "want an AffinePath and 0 < eps < 1/2; got p = %v, eps = %v", p, eps))
	}
	param.row("fm.ParamTimes", 1, 0, 1, 0)
	if param == ParamVelocity {
		return 0, 1
	}
	bad := func(t float64) bool {
		cx, cy, ok := convertCoeffs(p, t, param, ParamVelocity)
		return !ok || !(math.Abs(cx) <= 1/eps) || !(math.Abs(cy) <= 1/eps)
	}
	lo, hi = 0, 1
	if bad(0) {
		lo = eps
	}
	if bad(1) {
		hi = 1 - eps
	}
	return lo, hi
}
