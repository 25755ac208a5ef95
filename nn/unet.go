package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

/*
A small U-Net velocity field.

The network maps (t, x, c) to a velocity with x's shape, x an image batch
[n, C·H·W] (C-major, then H, then W). It has L ≥ 2 resolutions, residual
blocks, and a time (and context) embedding added to every block, after
Ronneberger, Fischer & Brox 2015 (arXiv:1505.04597, the U shape with skip
connections), He et al. 2016 (arXiv:1512.03385, residual blocks) and Ho,
Jain & Abbeel 2020 (arXiv:2006.11239, Appendix B: GroupNorm, the per-block
time embedding, one channel multiplier per resolution). Level l (l = 0 … L−1)
has H/2ˡ × W/2ˡ pixels and c_l = Mult[l]·Ch channels; the default Mult = (1, 2)
is two levels. With c₋₁ = c₀:

	e     = SiLU(Linear₂(SiLU(Linear₁(sin-cos(1000·t)))) + Linear_c(c))   [n, E]
	h     = Conv₃ₓ₃(x)                                       C → c₀, level 0
	d_l   = Down_l(h, e),  h = AvgPool2(d_l)                 c_{l−1} → c_l, l = 0 … L−2 (d_l kept for the skip)
	h     = Mid₁(Mid₀(h, e), e)                              c_{L−2} → c_{L−1} → c_{L−1}, level L−1
	h     = Up_l(Concat(Upsample2(h), d_l), e)               c_{l+1} + c_l → c_l, l = L−2 … 0
	v     = Conv₃ₓ₃(SiLU(GroupNorm(h)))                      c₀ → C

so that for L = 2 (Mult = (1, 2), Ch channels at H×W and 2Ch at H/2×W/2)

	h₁ = Res(Conv₃ₓ₃(x), e),  h₂ = Res(Res(AvgPool2(h₁), e), e),  h₃ = Res(Concat(Upsample2(h₂), h₁), e),

with the residual block

	Res(x, e) = Conv₂(SiLU(GN₂(Conv₁(SiLU(GN₁(x))) + Linear_e(e) per channel))) + Skip(x),

Skip a 1×1 convolution when the channel counts differ and the identity
otherwise. Concat of two image batches along columns is a concatenation of
channels, because channels are the major index of a row. The label
embedding Linear_c(c) of a one-hot label row c = LabelContext(y, K) is row y
of its weight (as for VelocityMLP, see cond.go): a learned embedding table
with a null row for classifier-free guidance.

Each level adds a pooling, so the receptive field of the convolutions
(GroupNorm's statistics aside, which span the image) grows with L: a 3×3
convolution at level l widens it by 2ˡ⁺¹ pixels, a pooling at level l by 2ˡ.
With two levels it is 30 pixels across, so at 28×28 a corner pixel sees
about half the image; with three (28 → 14 → 7) it is 64. Mult = (1, 2, 4)
with Ch 8 costs 7.2 M multiply-adds per 28×28 image in its convolutions,
against 18.1 M for the two-level network of Ch 16, most of whose work is at
full resolution. Dhariwal & Nichol 2021 (arXiv:2105.05233, §3) choose the
multipliers per resolution the same way.
*/

// UNetConfig is the shape of a UNet.
type UNetConfig struct {
	C, H, W int // image channels, height and width; H and W even
	Ch      int // channels at full resolution (times Mult[l] at level l)
	Groups  int // GroupNorm groups; must divide Ch
	// Mult holds the channel multiplier of each resolution level, c_l =
	// Mult[l]·Ch at H/2ˡ × W/2ˡ (Ho et al. 2020, arXiv:2006.11239,
	// Appendix B); nil is (1, 2), two levels. At least two levels, every
	// multiplier ≥ 1, and H and W multiples of 2^(L−1). TestUNet_Levels.
	Mult    []int
	Emb     int // width E of the time (and context) embedding; even
	Ctx     int // context width (0: unconditional; K+1 for K labels with LabelContext)
	Classes int // for a label context, K (then Ctx = K+1); else 0
}

// mult returns the channel multipliers, (1, 2) for a nil Mult.
func (cfg UNetConfig) mult() []int {
	if cfg.Mult == nil {
		return []int{1, 2}
	}
	return cfg.Mult
}

// chans returns c_l = Mult[l]·Ch for every level l.
func (cfg UNetConfig) chans() []int {
	m := cfg.mult()
	c := make([]int, len(m))
	for l, k := range m {
		c[l] = k * cfg.Ch
	}
	return c
}

// check panics with a *autograd.MisuseError naming op unless cfg is a UNet.
func (cfg UNetConfig) check(op string) {
	m := cfg.mult()
	if len(m) < 2 || len(m) > 16 || slices.Min(m) < 1 {
		panic(autograd.Misuse(op, "Mult %v: want at least two levels (and at most 16), each multiplier ≥ 1", cfg.Mult))
	}
	f := 1 << (len(m) - 1) // H and W are halved L−1 times
	switch {
	case cfg.C < 1 || cfg.H < f || cfg.W < f || cfg.H%f != 0 || cfg.W%f != 0:
		panic(autograd.Misuse(op, "image %d×%d×%d with %d levels: want C ≥ 1 and H, W positive multiples of %d", cfg.C, cfg.H, cfg.W, len(m), f))
	case cfg.Ch < 1 || cfg.Groups < 1 || cfg.Ch%cfg.Groups != 0:
		panic(autograd.Misuse(op, "Ch %d and Groups %d: want Groups ≥ 1 dividing Ch", cfg.Ch, cfg.Groups))
	case cfg.Emb < 2 || cfg.Emb%2 != 0:
		panic(autograd.Misuse(op, "Emb %d: want an even width ≥ 2", cfg.Emb))
	case cfg.Ctx < 0 || cfg.Classes < 0 || (cfg.Classes > 0 && cfg.Ctx != cfg.Classes+1):
		panic(autograd.Misuse(op, "Ctx %d, Classes %d: want Ctx ≥ 0, and Ctx = Classes+1 for labels", cfg.Ctx, cfg.Classes))
	}
}

// ResBlock is the U-Net's residual block on images of Cin channels of H×W
// pixels (see the comment at the top of unet.go):
//
//	Res(x, e) = Conv2(SiLU(GN₂(Conv1(SiLU(GN₁(x))) + Emb(e) per channel))) + Skip(x)
type ResBlock struct {
	Norm1, Norm2 [2]*autograd.Tensor // GroupNorm γ, β: [1, Cin] and [1, Cout]
	Conv1, Conv2 *Conv2D             // 3×3, padding 1: Cin → Cout, Cout → Cout
	Emb          *Linear             // E → Cout, the embedding added to every pixel of each channel
	Skip         *Conv2D             // 1×1 Cin → Cout, or nil when Cin = Cout
	groups       int
}

func newResBlock(cin, cout, h, w, emb, groups int, rng *rand.Rand) *ResBlock {
	g3 := func(c int) autograd.ConvGeom {
		return autograd.ConvGeom{C: c, H: h, W: w, KH: 3, KW: 3, Stride: 1, Pad: 1}
	}
	b := &ResBlock{
		Norm1:  [2]*autograd.Tensor{autograd.Full(1, cin, 1).SetRequiresGrad(true), autograd.Zeros(1, cin).SetRequiresGrad(true)},
		Norm2:  [2]*autograd.Tensor{autograd.Full(1, cout, 1).SetRequiresGrad(true), autograd.Zeros(1, cout).SetRequiresGrad(true)},
		Conv1:  NewConv2D(g3(cin), cout, rng),
		Emb:    NewLinear(emb, cout, rng),
		Conv2:  NewConv2D(g3(cout), cout, rng),
		groups: groups,
	}
	if cin != cout {
		b.Skip = NewConv2D(autograd.ConvGeom{C: cin, H: h, W: w, KH: 1, KW: 1, Stride: 1, Pad: 0}, cout, rng)
	}
	return b
}

// Forward returns Res(x, e) for x [n, Cin·H·W] and e [n, E]: [n, Cout·H·W].
func (b *ResBlock) Forward(x, e *autograd.Tensor) *autograd.Tensor {
	const eps = 1e-5
	cin, cout := b.Conv1.Geom.C, b.Conv1.Out()
	h := b.Conv1.Forward(autograd.GroupNormSiLU(x, b.Norm1[0], b.Norm1[1], b.groups, cin, eps))
	h = autograd.AddChannels(h, b.Emb.Forward(e), cout)
	h = b.Conv2.Forward(autograd.GroupNormSiLU(h, b.Norm2[0], b.Norm2[1], b.groups, cout, eps))
	skip := x
	if b.Skip != nil {
		skip = b.Skip.Forward(x)
	}
	return autograd.Add(h, skip)
}

// slot is a parameter's name and the field that holds it, so that a test
// can put fresh leaves in place of the parameters (GradCheck).
type slot struct {
	name string
	p    **autograd.Tensor
}

// slots returns the block's parameters under prefix.
func (b *ResBlock) slots(prefix string) []slot {
	ss := []slot{
		{prefix + "norm1.weight", &b.Norm1[0]}, {prefix + "norm1.bias", &b.Norm1[1]},
		{prefix + "conv1.weight", &b.Conv1.W}, {prefix + "conv1.bias", &b.Conv1.B},
		{prefix + "emb.weight", &b.Emb.W}, {prefix + "emb.bias", &b.Emb.B},
		{prefix + "norm2.weight", &b.Norm2[0]}, {prefix + "norm2.bias", &b.Norm2[1]},
		{prefix + "conv2.weight", &b.Conv2.W}, {prefix + "conv2.bias", &b.Conv2.B},
	}
	if b.Skip != nil {
		ss = append(ss, slot{prefix + "skip.weight", &b.Skip.W}, slot{prefix + "skip.bias", &b.Skip.B})
	}
	return ss
}

var _ NamedModule = (*UNet)(nil)

// UNet is a small convolutional velocity field v_θ(t, x) or v_θ(t, x, c) on
// image batches x [n, C·H·W], with L = len(Cfg.Mult) resolutions (two by
// default), residual blocks and a time (and context) embedding added to
// every block; the formula is at the top of unet.go. It is an fm.Model (Forward, ForwardCond, Params,
// NamedParams, Dim, Ctx), so fm.Train trains it through autograd (it has
// no fused step) and fm.CondVelocity(u.ForwardCond) is a conditional field.
// TestUNet_Shapes, TestUNet_Grad, TestUNet_Levels, TestUNet_LearnsOneBatch,
// and fm's TestTrain_UNet.
type UNet struct {
	Cfg     UNetConfig
	Time    [2]*Linear          // E → E, E → E, on the sinusoidal embedding of 1000·t
	Context *Linear             // Ctx → E (nil when Ctx = 0)
	In      *Conv2D             // 3×3, C → Ch
	Down    []*ResBlock         // Down[l]: c_{l−1} → c_l at level l, l = 0 … L−2 (Ch → Ch at H×W by default)
	Mid     [2]*ResBlock        // c_{L−2} → c_{L−1}, c_{L−1} → c_{L−1} at level L−1 (Ch → 2Ch, 2Ch → 2Ch at H/2×W/2)
	Up      []*ResBlock         // Up[l]: c_{l+1} + c_l → c_l at level l (3Ch → Ch at H×W)
	NormOut [2]*autograd.Tensor // GroupNorm γ, β [1, c₀] before the last convolution
	Out     *Conv2D             // 3×3, c₀ → C
}

// NewUNet returns a U-Net of shape cfg initialized as its layers (NewConv2D,
// NewLinear; GroupNorm γ = 1, β = 0), drawing from rng in the order time,
// In, Down[0 … L−2], Mid, Up[L−2 … 0], Out, context (so a two-level network
// draws what it drew before Mult existed). cfg.Mult is copied. A cfg that
// is not one panics with a *autograd.MisuseError naming nn.NewUNet.
func NewUNet(cfg UNetConfig, rng *rand.Rand) *UNet {
	cfg.check("nn.NewUNet")
	cfg.Mult = slices.Clone(cfg.Mult)
	c, h, w, e, g := cfg.C, cfg.H, cfg.W, cfg.Emb, cfg.Groups
	cs := cfg.chans()
	top := len(cs) - 1 // the innermost level
	g3 := func(cin, h, w int) autograd.ConvGeom {
		return autograd.ConvGeom{C: cin, H: h, W: w, KH: 3, KW: 3, Stride: 1, Pad: 1}
	}
	u := &UNet{
		Cfg:  cfg,
		Time: [2]*Linear{NewLinear(e, e, rng), NewLinear(e, e, rng)},
		In:   NewConv2D(g3(c, h, w), cs[0], rng),
		Down: make([]*ResBlock, top),
		Up:   make([]*ResBlock, top),
	}
	for l := range top {
		u.Down[l] = newResBlock(cs[max(l-1, 0)], cs[l], h>>l, w>>l, e, g, rng)
	}
	u.Mid = [2]*ResBlock{newResBlock(cs[top-1], cs[top], h>>top, w>>top, e, g, rng), newResBlock(cs[top], cs[top], h>>top, w>>top, e, g, rng)}
	for l := top - 1; l >= 0; l-- {
		u.Up[l] = newResBlock(cs[l+1]+cs[l], cs[l], h>>l, w>>l, e, g, rng)
	}
	u.NormOut = [2]*autograd.Tensor{autograd.Full(1, cs[0], 1).SetRequiresGrad(true), autograd.Zeros(1, cs[0]).SetRequiresGrad(true)}
	u.Out = NewConv2D(g3(cs[0], h, w), c, rng)
	if cfg.Ctx > 0 {
		u.Context = NewLinear(cfg.Ctx, e, rng)
	}
	return u
}

// Dim returns C·H·W, the width of x and of v.
func (u *UNet) Dim() int { return u.Cfg.C * u.Cfg.H * u.Cfg.W }

// Ctx returns the context width (0 for an unconditional model).
func (u *UNet) Ctx() int { return u.Cfg.Ctx }

// Classes returns K for a label-conditioned model, else 0.
func (u *UNet) Classes() int { return u.Cfg.Classes }

// Forward returns v_θ(t, x) for t [n, 1] (or [1, 1] for every row) and x
// [n, C·H·W]: shape [n, C·H·W]. A conditional model panics with a
// *autograd.MisuseError: call ForwardCond.
func (u *UNet) Forward(t, x *autograd.Tensor) *autograd.Tensor {
	if u.Cfg.Ctx > 0 {
		panic(&autograd.MisuseError{Op: "nn.UNet.Forward", Shapes: [][2]int{t.Shape(), x.Shape()},
			Reason: fmt.Sprintf("the model is conditional (context width %d): call ForwardCond(t, x, c)", u.Cfg.Ctx)})
	}
	return u.forward("nn.UNet.Forward", t, x, nil)
}

// ForwardCond returns v_θ(t, x, c) for t [n, 1] (or [1, 1]), x [n, C·H·W]
// and c [n, Ctx] (or [1, Ctx] for every row): shape [n, C·H·W]. An
// unconditional model panics with a *autograd.MisuseError: call Forward.
func (u *UNet) ForwardCond(t, x, c *autograd.Tensor) *autograd.Tensor {
	const op = "nn.UNet.ForwardCond"
	if u.Cfg.Ctx == 0 {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape(), c.Shape()}, Reason: "the model is unconditional (context width 0): call Forward(t, x)"})
	}
	if c.Cols != u.Cfg.Ctx || (c.Rows != x.Rows && c.Rows != 1) {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape(), c.Shape()}, Reason: fmt.Sprintf("want c [n,%d] or [1,%d]", u.Cfg.Ctx, u.Cfg.Ctx)})
	}
	if c.Rows != x.Rows {
		c = autograd.Expand(c, x.Rows, u.Cfg.Ctx)
	}
	return u.forward(op, t, x, c)
}

func (u *UNet) forward(op string, t, x, c *autograd.Tensor) *autograd.Tensor {
	cfg := u.Cfg
	if x.Cols != u.Dim() {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: fmt.Sprintf("want x [n, C·H·W] = [n, %d·%d·%d]", cfg.C, cfg.H, cfg.W)})
	}
	if t.Rows == 1 && t.Cols == 1 && x.Rows != 1 {
		t = autograd.Expand(t, x.Rows, 1)
	}
	if t.Cols != 1 || t.Rows != x.Rows {
		panic(&autograd.MisuseError{Op: op, Shapes: [][2]int{t.Shape(), x.Shape()}, Reason: "want t [n,1] or [1,1]"})
	}
	e := u.Time[1].Forward(autograd.SiLU(u.Time[0].Forward(SinusoidalEmbedding(autograd.Scale(t, 1000), cfg.Emb, 10000))))
	if c != nil {
		e = autograd.Add(e, u.Context.Forward(c))
	}
	e = autograd.SiLU(e)
	cs, h, w := cfg.chans(), cfg.H, cfg.W
	top := len(cs) - 1
	skips := make([]*autograd.Tensor, top)
	z := u.In.Forward(x)
	for l := range top {
		skips[l] = u.Down[l].Forward(z, e)
		z = autograd.AvgPool2(skips[l], cs[l], h>>l, w>>l)
	}
	z = u.Mid[1].Forward(u.Mid[0].Forward(z, e), e)
	for l := top - 1; l >= 0; l-- {
		z = u.Up[l].Forward(autograd.Concat(autograd.Upsample2(z, cs[l+1], h>>(l+1), w>>(l+1)), skips[l]), e)
	}
	return u.Out.Forward(autograd.GroupNormSiLU(z, u.NormOut[0], u.NormOut[1], cfg.Groups, cs[0], 1e-5))
}

// slots returns every parameter's name and field, in a fixed order.
func (u *UNet) slots() []slot {
	ss := []slot{
		{"time.0.weight", &u.Time[0].W}, {"time.0.bias", &u.Time[0].B},
		{"time.1.weight", &u.Time[1].W}, {"time.1.bias", &u.Time[1].B},
	}
	if u.Context != nil {
		ss = append(ss, slot{"context.weight", &u.Context.W}, slot{"context.bias", &u.Context.B})
	}
	ss = append(ss, slot{"in.weight", &u.In.W}, slot{"in.bias", &u.In.B})
	for l, b := range u.Down {
		ss = append(ss, b.slots(levelPrefix("down.", l))...)
	}
	ss = append(ss, u.Mid[0].slots("mid.0.")...)
	ss = append(ss, u.Mid[1].slots("mid.1.")...)
	for l, b := range u.Up {
		ss = append(ss, b.slots(levelPrefix("up.", l))...)
	}
	return append(ss, slot{"norm_out.weight", &u.NormOut[0]}, slot{"norm_out.bias", &u.NormOut[1]},
		slot{"out.weight", &u.Out.W}, slot{"out.bias", &u.Out.B})
}

// levelPrefix names the blocks of level l: "down." at full resolution (the
// names of the two-level network), "down.1.", "down.2.", … below it.
func levelPrefix(kind string, l int) string {
	if l == 0 {
		return kind
	}
	return fmt.Sprintf("%s%d.", kind, l)
}

// NamedParams returns every parameter with a stable name ("in.weight",
// "down.conv1.weight", "down.1.skip.bias", "mid.0.emb.bias", …), the keys of a checkpoint
// (safetensors.Write(path, u.NamedParams(), meta); TestUNet_Checkpoint).
func (u *UNet) NamedParams() []Named {
	ss := u.slots()
	ps := make([]Named, len(ss))
	for i, s := range ss {
		ps[i] = Named{Name: s.name, T: *s.p}
	}
	return ps
}

// Params returns the parameters in NamedParams' order.
func (u *UNet) Params() []*autograd.Tensor {
	ss := u.slots()
	ps := make([]*autograd.Tensor, len(ss))
	for i, s := range ss {
		ps[i] = *s.p
	}
	return ps
}

// MetaUNet is the checkpoint metadata key under which SaveUNet records a
// U-Net's shape, "C,H,W,Ch,Groups,Emb" (e.g. "1,14,14,32,8,64"); MetaModel
// is "UNet" and MetaContext records the context as for a VelocityMLP.
const MetaUNet = "nn.unet"

// MetaUNetMult is the checkpoint metadata key under which SaveUNet records
// a U-Net's channel multipliers UNetConfig.Mult, e.g. "1,2,4", when Mult is
// not nil; a file without it (every file written before Mult existed) is
// the two-level network. TestUNet_Levels.
const MetaUNetMult = "nn.unet.mult"

// paramCount returns the number of parameters of a U-Net of shape cfg,
// counted from the architecture (TestUNet_Checkpoint compares it with the
// model's), so that LoadUNet can refuse metadata that the file's tensors
// cannot fill before allocating anything.
func (cfg UNetConfig) paramCount() int {
	c, e := cfg.C, cfg.Emb
	cs := cfg.chans()
	top := len(cs) - 1
	res := func(cin, cout int) int {
		n := 2*cin + cout*cin*9 + cout + e*cout + cout + 2*cout + cout*cout*9 + cout
		if cin != cout {
			n += cout*cin + cout
		}
		return n
	}
	n := 2*(e*e+e) + cs[0]*c*9 + cs[0] + 2*cs[0] + c*cs[0]*9 + c // time, In, NormOut, Out
	for l := range top {
		n += res(cs[max(l-1, 0)], cs[l]) + res(cs[l+1]+cs[l], cs[l]) // Down[l], Up[l]
	}
	n += res(cs[top-1], cs[top]) + res(cs[top], cs[top]) // Mid
	if cfg.Ctx > 0 {
		n += cfg.Ctx*e + e
	}
	return n
}

// SaveUNet writes u's parameters (NamedParams) and its shape (MetaModel
// "UNet", MetaUNet, MetaUNetMult unless Mult is nil, and MetaContext for a
// conditional model) plus extraMeta
// to path with safetensors.Write, atomically. An extra key that nn reserves
// is an error. TestUNet_Checkpoint.
func SaveUNet(path string, u *UNet, extraMeta map[string]string) error {
	cfg := u.Cfg
	meta := map[string]string{
		MetaModel: "UNet",
		MetaUNet:  formatSizes([]int{cfg.C, cfg.H, cfg.W, cfg.Ch, cfg.Groups, cfg.Emb}),
	}
	if cfg.Mult != nil {
		meta[MetaUNetMult] = formatSizes(cfg.Mult)
	}
	switch {
	case cfg.Classes > 0:
		meta[MetaContext] = fmt.Sprintf("label:%d", cfg.Classes)
	case cfg.Ctx > 0:
		meta[MetaContext] = fmt.Sprintf("vector:%d", cfg.Ctx)
	}
	for k, v := range extraMeta {
		if reserved(k) || k == MetaUNet || k == MetaUNetMult {
			return &safetensors.Error{Path: path, Reason: fmt.Sprintf("extra metadata key %q is reserved for the architecture", k)}
		}
		meta[k] = v
	}
	return safetensors.Write(path, u.NamedParams(), meta)
}

// LoadUNet reads a U-Net saved by SaveUNet: it rebuilds the shape from the
// metadata, checks that the file's tensors fill exactly that architecture
// (names and shapes, as safetensors' strict LoadInto) and returns the model
// (parameters requiring gradients) and the extra metadata. A missing or
// malformed MetaUNet or MetaContext, a malformed MetaUNetMult (absent: the
// two-level network), or a MetaModel other than "UNet", is a
// *safetensors.Error naming the file, the key and the value.
// TestUNet_Checkpoint.
func LoadUNet(path string) (*UNet, map[string]string, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, err
	}
	meta := f.Metadata
	if meta[MetaModel] != "UNet" {
		return nil, nil, metaErr(path, meta, MetaModel, `want "UNet"`)
	}
	s, why := parseSizes(meta[MetaUNet])
	if why == "" && len(s) != 6 {
		why = "want six sizes C,H,W,Ch,Groups,Emb"
	}
	if why != "" {
		return nil, nil, metaErr(path, meta, MetaUNet, why)
	}
	cfg := UNetConfig{C: s[0], H: s[1], W: s[2], Ch: s[3], Groups: s[4], Emb: s[5]}
	if v, ok := meta[MetaUNetMult]; ok {
		if cfg.Mult, why = parseSizes(v); why == "" && len(cfg.Mult) > 16 {
			why = "more than 16 levels"
		}
		for _, k := range cfg.Mult {
			if k > 1<<10 {
				why = "a multiplier above 1024"
			}
		}
		if why != "" {
			return nil, nil, metaErr(path, meta, MetaUNetMult, why)
		}
	}
	if v, ok := meta[MetaContext]; ok {
		if cfg.Ctx, cfg.Classes, why = parseContext(v); why != "" {
			return nil, nil, metaErr(path, meta, MetaContext, why)
		}
	}
	total := 0
	for _, t := range f.Tensors {
		total += len(t.Data)
	}
	for _, v := range s {
		if v > 1<<16 {
			return nil, nil, metaErr(path, meta, MetaUNet, "a size above 65536")
		}
	}
	if bad := checkUNet(cfg); bad != "" {
		key := MetaUNet
		if cfg.Mult != nil && strings.HasPrefix(bad, "Mult") {
			key = MetaUNetMult
		}
		return nil, nil, metaErr(path, meta, key, bad)
	}
	if n := cfg.paramCount(); n != total {
		return nil, nil, metaErr(path, meta, MetaUNet, fmt.Sprintf("this shape has %d parameters, the file holds %d values", n, total))
	}
	u := NewUNet(cfg, rand.New(rand.NewPCG(0, 0)))
	if err := f.LoadInto(u.NamedParams()); err != nil {
		return nil, nil, err
	}
	extra := extraMeta(meta)
	delete(extra, MetaUNet)
	delete(extra, MetaUNetMult)
	return u, extra, nil
}

// checkUNet returns why cfg is not a U-Net shape, or "".
func checkUNet(cfg UNetConfig) (why string) {
	defer func() {
		if r := recover(); r != nil {
			if me, ok := r.(*autograd.MisuseError); ok {
				why = me.Reason
				return
			}
			panic(r)
		}
	}()
	cfg.check("nn.LoadUNet")
	return ""
}
