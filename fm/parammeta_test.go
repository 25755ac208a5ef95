package fm_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// TestParamFromMetadata: every Param round-trips through MetaParam; a
// missing key is ParamVelocity (checkpoints written before the key); a
// value that is not a parametrization is a *safetensors.MetadataError
// naming the key and the value.
func TestParamFromMetadata(t *testing.T) {
	for _, q := range []fm.Param{fm.ParamVelocity, fm.ParamData, fm.ParamNoise, fm.ParamScore} {
		got, err := fm.ParamFromMetadata(map[string]string{fm.MetaParam: q.String()})
		require.NoError(t, err)
		assert.Equal(t, q, got)
	}
	got, err := fm.ParamFromMetadata(map[string]string{fm.MetaPath: "condot"})
	require.NoError(t, err)
	assert.Equal(t, fm.ParamVelocity, got, "missing key")
	for _, v := range []string{"", "eps", "Velocity", "x1"} {
		_, err := fm.ParamFromMetadata(map[string]string{fm.MetaParam: v})
		var me *safetensors.MetadataError
		require.True(t, errors.As(err, &me), "%q: got %v", v, err)
		assert.Equal(t, fm.MetaParam, me.Key)
		assert.Equal(t, v, me.Value)
	}
}

// gains returns max(|c_x|, |c_y|) of the conversion from q to the velocity
// at t, or +Inf where it does not exist (ConvertCoeffs panics).
func gains(p fm.AffinePath, t float64, q fm.Param) (g float64) {
	defer func() {
		if recover() != nil {
			g = math.Inf(1)
		}
	}()
	cx, cy := fm.ConvertCoeffs(p, t, q, fm.ParamVelocity)
	g = math.Max(math.Abs(cx), math.Abs(cy))
	if math.IsNaN(g) {
		return math.Inf(1)
	}
	return g
}

// TestParamTimes: for every scheduler and parametrization, the conversion
// to the velocity exists (finite gains) at both ends of ParamTimes'
// interval, and an end moved inside is one where at 0 or 1 it does not
// exist or has a gain above 1/eps (the interval is the largest of its
// kind; at eps from a singular end the gain itself is of order 1/eps, e.g.
// (π/2)/sin(π eps/2) ≈ 1/eps for Cosine's noise). The velocity is never
// clamped. Cases named: CondOT with σ_min = 0 loses the noise and the score
// at t = 0 (α₀ = 0) and the data at t = 1 (σ₁ = 0); with σ_min = 10⁻⁴ the
// data at t = 1 exists but with gain Δ/σ₁ ≈ 10⁴, and is clamped (the
// negative control: an interval that ignores the gain, [0, 1], fails the
// bound).
func TestParamTimes(t *testing.T) {
	const eps = 1e-3
	ps := append(schedulers(), struct {
		name string
		p    fm.AffinePath
	}{"CondOT1e-4", fm.CondOT{SigmaMin: 1e-4}})
	for _, c := range ps {
		for _, q := range []fm.Param{fm.ParamVelocity, fm.ParamData, fm.ParamNoise, fm.ParamScore} {
			t.Run(fmt.Sprintf("%s/%v", c.name, q), func(t *testing.T) {
				lo, hi := fm.ParamTimes(c.p, q, eps)
				assert.False(t, math.IsInf(gains(c.p, lo, q), 0), "at lo = %v", lo)
				assert.False(t, math.IsInf(gains(c.p, hi, q), 0), "at hi = %v", hi)
				if lo > 0 {
					assert.Equal(t, eps, lo)
					assert.Greater(t, gains(c.p, 0, q), 1/eps, "lo moved although t = 0 is fine")
				}
				if hi < 1 {
					assert.Equal(t, 1-eps, hi)
					assert.Greater(t, gains(c.p, 1, q), 1/eps, "hi moved although t = 1 is fine")
				}
				if q == fm.ParamVelocity {
					assert.Equal(t, [2]float64{0, 1}, [2]float64{lo, hi})
				}
			})
		}
	}
	for _, c := range []struct {
		p      fm.AffinePath
		q      fm.Param
		lo, hi float64
	}{
		{fm.CondOT{}, fm.ParamData, 0, 1 - eps},
		{fm.CondOT{}, fm.ParamNoise, eps, 1},
		{fm.CondOT{}, fm.ParamScore, eps, 1},
		{fm.CondOT{SigmaMin: 1e-4}, fm.ParamData, 0, 1 - eps},
	} {
		lo, hi := fm.ParamTimes(c.p, c.q, eps)
		assert.Equal(t, [2]float64{c.lo, c.hi}, [2]float64{lo, hi}, "%v %v", c.p, c.q)
	}
	assert.Greater(t, gains(fm.CondOT{SigmaMin: 1e-4}, 1, fm.ParamData), 1/eps, "CondOT σ_min = 10⁻⁴, data, t = 1: gain above 1/eps")
	assert.True(t, math.IsInf(gains(fm.CondOT{}, 0, fm.ParamNoise), 1), "negative control: the noise does not convert at α₀ = 0")
}
