package nn

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustMisuse runs f and requires a panic with a *autograd.MisuseError whose
// Op is op.
func mustMisuse(t *testing.T, op string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		me, ok := r.(*autograd.MisuseError)
		require.True(t, ok, "panic value %#v is not a *autograd.MisuseError", r)
		require.Equal(t, op, me.Op)
	}()
	f()
}

// oneHot returns one-hot rows [len(idx), width]: label contexts, the last
// column being the null label.
func oneHot(idx []int, width int) *autograd.Tensor {
	c := autograd.Zeros(len(idx), width)
	for i, k := range idx {
		c.Data[i*width+k] = 1
	}
	return c
}

// TestConv2DLayer_Init checks NewConv2D against torch.nn.Conv2d's
// U(±1/√fan_in), fan_in = C·KH·KW, as TestLinear_Init does for Linear: every
// element within the bound, and the mean square bound²/3 within 4 standard
// errors (Var(w²) = 4a⁴/45). Negative control: the bound of fan_in = C alone
// (forgetting the kernel's area) gives a mean square outside the band.
func TestConv2DLayer_Init(t *testing.T) {
	g := autograd.ConvGeom{C: 8, H: 6, W: 6, KH: 3, KW: 3, Stride: 1, Pad: 1}
	l := NewConv2D(g, 64, newRNG(21))
	a := 1 / math.Sqrt(float64(g.C*g.KH*g.KW))
	ms := 0.0
	for _, w := range l.W.Data {
		require.LessOrEqual(t, math.Abs(w), a)
		ms += w * w
	}
	for _, b := range l.B.Data {
		require.LessOrEqual(t, math.Abs(b), a)
	}
	n := float64(len(l.W.Data))
	ms /= n
	tol := 4 * math.Sqrt(4*a*a*a*a/45/n)
	assert.InDelta(t, a*a/3, ms, tol, "mean square: got %g want %g (tol %g)", ms, a*a/3, tol)
	assert.Greater(t, math.Abs(1/float64(3*g.C)-ms), tol, "negative control: fan_in = C must be outside the band")
	assert.Equal(t, [2]int{64, 72}, l.W.Shape())
	assert.True(t, l.W.RequiresGrad() && l.B.RequiresGrad())
}

// TestConv2DLayer_MatchesOp: the layer is autograd.Conv2D with its
// parameters, bit for bit, and the output geometry is the op's.
func TestConv2DLayer_MatchesOp(t *testing.T) {
	rng := newRNG(22)
	g := autograd.ConvGeom{C: 3, H: 7, W: 5, KH: 3, KW: 3, Stride: 2, Pad: 1}
	l := NewConv2D(g, 4, rng)
	x := autograd.Normal(2, g.In(), 0, 1, rng)
	require.Equal(t, autograd.Conv2D(x, l.W, l.B, g).Data, l.Forward(x).Data)
	c, h, w := l.OutGeom()
	require.Equal(t, []int{4, 4, 3}, []int{c, h, w})
	mustMisuse(t, "nn.Conv2D.Forward", func() { l.Forward(autograd.Zeros(2, 7)) })
	mustMisuse(t, "nn.NewConv2D", func() { NewConv2D(g, 0, rng) })
}

// tinyUNet is a U-Net small enough for GradCheck: 1 channel of 4×4 pixels,
// 2 channels at full resolution, a label context of 2 classes.
func tinyUNet(seed uint64) *UNet {
	return NewUNet(UNetConfig{C: 1, H: 4, W: 4, Ch: 2, Groups: 2, Emb: 4, Ctx: 3, Classes: 2}, newRNG(seed))
}

// TestUNet_Shapes: the output has x's shape for a per-row and a scalar t;
// a conditional model refuses Forward and an unconditional one ForwardCond;
// every parameter has a distinct name and requires a gradient.
func TestUNet_Shapes(t *testing.T) {
	rng := newRNG(23)
	u := NewUNet(UNetConfig{C: 2, H: 6, W: 8, Ch: 4, Groups: 2, Emb: 8, Ctx: 4, Classes: 3}, rng)
	x := autograd.Normal(3, u.Dim(), 0, 1, rng)
	c := oneHot([]int{0, 2, 3}, 4)
	require.Equal(t, [2]int{3, 96}, u.ForwardCond(autograd.Uniform(3, 1, 0, 1, rng), x, c).Shape())
	require.Equal(t, [2]int{3, 96}, u.ForwardCond(autograd.Scalar(0.5), x, autograd.FromSlice(1, 4, c.Row(0))).Shape())
	mustMisuse(t, "nn.UNet.Forward", func() { u.Forward(autograd.Scalar(0.5), x) })
	mustMisuse(t, "nn.UNet.ForwardCond", func() { u.ForwardCond(autograd.Scalar(0.5), x, autograd.Zeros(3, 2)) })
	plain := NewUNet(UNetConfig{C: 1, H: 4, W: 4, Ch: 2, Groups: 1, Emb: 4}, rng)
	require.Equal(t, [2]int{2, 16}, plain.Forward(autograd.Scalar(0.1), autograd.Zeros(2, 16)).Shape())
	mustMisuse(t, "nn.UNet.ForwardCond", func() { plain.ForwardCond(autograd.Scalar(0.1), autograd.Zeros(2, 16), autograd.Zeros(2, 1)) })
	mustMisuse(t, "nn.NewUNet", func() { NewUNet(UNetConfig{C: 1, H: 5, W: 4, Ch: 2, Groups: 1, Emb: 4}, rng) })
	seen := map[string]bool{}
	for _, p := range u.NamedParams() {
		require.False(t, seen[p.Name], "duplicate name %s", p.Name)
		seen[p.Name] = true
		require.True(t, p.T.RequiresGrad(), p.Name)
	}
	require.Len(t, u.Params(), len(seen))
}

// TestUNet_Grad checks the U-Net's backward pass with autograd.GradCheck
// with respect to x, t, the context and one parameter of every kind of layer
// (time MLP, context embedding, convolutions with and without a 1×1 skip,
// a block's embedding projection, GroupNorm's γ and β): the U-Net's
// parameters are swapped for GradCheck's leaves through their slots.
func TestUNet_Grad(t *testing.T) {
	u := tinyUNet(24)
	rng := newRNG(25)
	x := autograd.Normal(2, u.Dim(), 0, 1, rng)
	tt := autograd.FromSlice(2, 1, []float64{0.3, 0.8})
	c := autograd.FromSlice(2, 3, []float64{0.2, 0.7, 0.1, 1, 0, 0.5})
	names := []string{"time.0.weight", "context.weight", "in.weight", "down.conv2.bias", "mid.0.skip.weight",
		"mid.1.emb.weight", "up.conv1.weight", "up.norm1.weight", "norm_out.bias", "out.weight"}
	gradCheckUNet(t, u, x, tt, c, names)
}

// TestUNet_Checkpoint: SaveUNet then LoadUNet gives the same field bit for
// bit, the shape and context from the metadata and the extra metadata back;
// the architecture's parameter count (paramCount) is the model's; a file
// whose MetaUNet is malformed or names another shape, or a VelocityMLP file,
// is an error naming the key; a reserved extra key is refused.
func TestUNet_Checkpoint(t *testing.T) {
	u := tinyUNet(26)
	n := 0
	for _, p := range u.Params() {
		n += len(p.Data)
	}
	require.Equal(t, n, u.Cfg.paramCount())
	dir := t.TempDir()
	path := filepath.Join(dir, "unet.safetensors")
	require.NoError(t, SaveUNet(path, u, map[string]string{"fm.path": "condot"}))
	v, extra, err := LoadUNet(path)
	require.NoError(t, err)
	require.Equal(t, u.Cfg, v.Cfg)
	require.Equal(t, map[string]string{"fm.path": "condot"}, extra)
	rng := newRNG(28)
	x := autograd.Normal(3, u.Dim(), 0, 1, rng)
	tt := autograd.Uniform(3, 1, 0, 1, rng)
	c := oneHot([]int{1, 0, 2}, 3)
	require.Equal(t, u.ForwardCond(tt, x, c).Data, v.ForwardCond(tt, x, c).Data)
	require.True(t, v.Params()[0].RequiresGrad())

	require.Error(t, SaveUNet(filepath.Join(dir, "x.safetensors"), u, map[string]string{MetaUNet: "1"}))
	var me *safetensors.MetadataError
	for _, bad := range []string{"1,4,4,2,2", "1,4,4,4,2,4", "1,5,4,2,2,4", "1,4,4,2,2,1000000"} {
		p := filepath.Join(dir, "bad.safetensors")
		require.NoError(t, safetensors.Write(p, u.NamedParams(), map[string]string{MetaModel: "UNet", MetaUNet: bad, MetaContext: "label:2"}))
		_, _, err := LoadUNet(p)
		require.ErrorAs(t, err, &me, bad)
		require.Equal(t, MetaUNet, me.Key)
	}
	mlp := filepath.Join(dir, "mlp.safetensors")
	require.NoError(t, SaveVelocityMLP(mlp, NewVelocityMLP(2, []int{4}, autograd.ActSiLU, rng), nil))
	_, _, err = LoadUNet(mlp)
	require.ErrorAs(t, err, &me)
	require.Equal(t, MetaModel, me.Key)
}

// deepUNet is a three-level U-Net small enough for GradCheck: 1 channel of
// 8×4 pixels (not square, so H and W cannot be swapped unnoticed), levels
// 8×4, 4×2 and 2×1 with 2, 4 and 6 channels (Mult 1, 2, 3), a label
// context of 2 classes.
func deepUNet(seed uint64) *UNet {
	return NewUNet(UNetConfig{C: 1, H: 8, W: 4, Ch: 2, Groups: 2, Emb: 4, Ctx: 3, Classes: 2, Mult: []int{1, 2, 3}}, newRNG(seed))
}

// TestUNet_Levels checks UNetConfig.Mult:
//   - a nil Mult and Mult (1, 2) build the same network from the same seed,
//     with the same names and the same output bit for bit, and that output is
//     the one of the code before Mult existed, so the two-level default is
//     unchanged;
//   - a three-level network has the blocks and channel counts of the formula
//     at the top of unet.go (Down[l]: c_{l−1} → c_l, Up[l]: c_{l+1} + c_l → c_l
//     at H/2ˡ × W/2ˡ, the middle at c₂), the output has x's shape, its
//     parameter count is paramCount's, and the blocks of level 1 are named
//     "down.1." and "up.1.";
//   - the third level changes the field (a negative control for the loop over
//     levels: a network that ignored Mult beyond two levels would have fewer
//     parameters and another output);
//   - SaveUNet records MetaUNetMult and LoadUNet rebuilds the same field bit for
//     bit; a malformed MetaUNetMult is an error naming that key; a file
//     without it is the two-level network (TestUNet_Checkpoint);
//   - a Mult of one level, a zero multiplier, or an image not divisible by
//     2^(L−1) panics with a *autograd.MisuseError naming nn.NewUNet.
func TestUNet_Levels(t *testing.T) {
	base := UNetConfig{C: 1, H: 8, W: 4, Ch: 2, Groups: 2, Emb: 4, Ctx: 3, Classes: 2}
	two := base
	two.Mult = []int{1, 2}
	a, b := NewUNet(base, newRNG(40)), NewUNet(two, newRNG(40))
	rng := newRNG(41)
	x := autograd.Normal(3, a.Dim(), 0, 1, rng)
	tt := autograd.Uniform(3, 1, 0, 1, rng)
	c := oneHot([]int{1, 0, 2}, 3)
	va := a.ForwardCond(tt, x, c)
	require.Equal(t, va.Data, b.ForwardCond(tt, x, c).Data)
	// The values the two-level network gave before Mult existed (commit
	// 03abcbf, amd64): equal bit for bit here; 1e-12 leaves room for the
	// rounding of other GEMM kernels (purego, arm64), far below the O(0.1)
	// change of any other wiring, such as a swapped Concat.
	sum := 0.0
	for _, z := range va.Data {
		sum += z
	}
	assert.InDelta(t, 11.06496026552014, sum, 1e-12, "sum of the field")
	assert.InDelta(t, 0.066878140012721438, va.Data[0], 1e-12, "first value")
	assert.InDelta(t, 0.086661083390411286, va.Data[len(va.Data)-1], 1e-12, "last value")
	for i, p := range a.NamedParams() {
		require.Equal(t, p.Name, b.NamedParams()[i].Name)
		require.Equal(t, p.T.Data, b.NamedParams()[i].T.Data, p.Name)
	}

	u := deepUNet(40)
	require.Len(t, u.Down, 2)
	require.Len(t, u.Up, 2)
	for _, bc := range []struct {
		b               *ResBlock
		cin, cout, h, w int
		name            string
	}{{u.Down[0], 2, 2, 8, 4, "down[0]"}, {u.Down[1], 2, 4, 4, 2, "down[1]"}, {u.Mid[0], 4, 6, 2, 1, "mid[0]"},
		{u.Mid[1], 6, 6, 2, 1, "mid[1]"}, {u.Up[1], 10, 4, 4, 2, "up[1]"}, {u.Up[0], 6, 2, 8, 4, "up[0]"}} {
		g := bc.b.Conv1.Geom
		require.Equal(t, []int{bc.cin, bc.cout, bc.h, bc.w}, []int{g.C, bc.b.Conv1.Out(), g.H, g.W}, bc.name)
	}
	n := 0
	names := map[string]bool{}
	for _, p := range u.NamedParams() {
		n += len(p.T.Data)
		names[p.Name] = true
	}
	require.Equal(t, u.Cfg.paramCount(), n)
	require.Greater(t, n, a.Cfg.paramCount(), "negative control: the third level adds parameters")
	for _, name := range []string{"down.conv1.weight", "down.1.skip.weight", "up.1.conv2.bias", "up.norm1.weight", "mid.1.emb.weight"} {
		require.True(t, names[name], name)
	}
	v := u.ForwardCond(tt, x, c)
	require.Equal(t, x.Shape(), v.Shape())
	require.NotEqual(t, a.ForwardCond(tt, x, c).Data, v.Data, "negative control: the third level changes the field")

	dir := t.TempDir()
	path := filepath.Join(dir, "deep.safetensors")
	require.NoError(t, SaveUNet(path, u, map[string]string{"note": "three levels"}))
	f, err := safetensors.Read(path)
	require.NoError(t, err)
	require.Equal(t, "1,2,3", f.Metadata[MetaUNetMult])
	w, extra, err := LoadUNet(path)
	require.NoError(t, err)
	require.Equal(t, u.Cfg, w.Cfg)
	require.Equal(t, map[string]string{"note": "three levels"}, extra)
	require.Equal(t, v.Data, w.ForwardCond(tt, x, c).Data)
	require.Error(t, SaveUNet(filepath.Join(dir, "x.safetensors"), u, map[string]string{MetaUNetMult: "1,2"}))
	var me *safetensors.MetadataError
	for _, bad := range []string{"1", "1,x,3", "1,0,3", "1,2,3,4"} {
		p := filepath.Join(dir, "bad.safetensors")
		require.NoError(t, safetensors.Write(p, u.NamedParams(), map[string]string{MetaModel: "UNet", MetaUNet: "1,8,4,2,2,4", MetaUNetMult: bad, MetaContext: "label:2"}))
		_, _, err := LoadUNet(p)
		require.ErrorAs(t, err, &me, bad)
		want := MetaUNetMult
		if bad == "1,2,3,4" { // a valid list whose fourth level needs H, W multiples of 8
			want = MetaUNet
		}
		require.Equal(t, want, me.Key, bad)
	}

	for _, m := range [][]int{{1}, {}, {1, 0}} {
		bad := base
		bad.Mult = m
		mustMisuse(t, "nn.NewUNet", func() { NewUNet(bad, rng) })
	}
	bad := base
	bad.W, bad.Mult = 6, []int{1, 1, 1} // 6 is not a multiple of 4
	mustMisuse(t, "nn.NewUNet", func() { NewUNet(bad, rng) })
}

// gradCheckUNet runs autograd.GradCheck on u.ForwardCond(tt, x, c) with
// respect to x, tt, c and the parameters named, which it swaps for
// GradCheck's leaves through their slots.
func gradCheckUNet(t *testing.T, u *UNet, x, tt, c *autograd.Tensor, names []string) {
	t.Helper()
	slots := map[string]**autograd.Tensor{}
	for _, s := range u.slots() {
		slots[s.name] = s.p
	}
	xs := []*autograd.Tensor{x, tt, c}
	for _, n := range names {
		p, ok := slots[n]
		require.True(t, ok, n)
		xs = append(xs, (*p).Detach())
	}
	f := func(v []*autograd.Tensor) *autograd.Tensor {
		for i, n := range names {
			*slots[n] = v[3+i]
		}
		return u.ForwardCond(v[1], v[0], v[2])
	}
	require.NoError(t, autograd.GradCheck(f, xs, nil))
}

// TestUNet_GradLevels checks the backward pass of the three-level U-Net
// (deepUNet) with autograd.GradCheck with respect to x, t, the context and
// one parameter of each block of the levels below the top (Down[1], Up[1],
// the middle blocks at 2×1 pixels) and of the level-0 blocks that now sit
// around them.
func TestUNet_GradLevels(t *testing.T) {
	u := deepUNet(42)
	rng := newRNG(43)
	x := autograd.Normal(2, u.Dim(), 0, 1, rng)
	tt := autograd.FromSlice(2, 1, []float64{0.2, 0.9})
	c := autograd.FromSlice(2, 3, []float64{0.4, 0.1, 0.5, 0, 1, 0.3})
	names := []string{"down.conv1.weight", "down.1.skip.weight", "down.1.norm2.bias", "mid.0.conv2.weight",
		"mid.1.emb.weight", "up.1.conv1.weight", "up.1.skip.bias", "up.norm1.weight", "out.bias"}
	gradCheckUNet(t, u, x, tt, c, names)
}

// TestUNet_LearnsOneBatch: Adam on the squared error of one fixed batch
// (4×4 images, two labels) drives the loss below a tenth of its start in
// 80 steps: the gradients reach every layer with the right sign. Negative
// control: 10 steps with the gradient's sign flipped raise the loss.
func TestUNet_LearnsOneBatch(t *testing.T) {
	run := func(sign float64, steps int) (first, last float64) {
		rng := newRNG(29)
		u := NewUNet(UNetConfig{C: 1, H: 4, W: 4, Ch: 4, Groups: 2, Emb: 8, Ctx: 3, Classes: 2}, rng)
		x := autograd.Normal(4, u.Dim(), 0, 1, rng)
		tt := autograd.Uniform(4, 1, 0, 1, rng)
		c := oneHot([]int{0, 1, 0, 2}, 3)
		target := autograd.Normal(4, u.Dim(), 0, 0.5, rng)
		opt := NewAdam(u.Params(), 3e-3)
		for step := range steps {
			opt.ZeroGrad()
			loss := autograd.Mean(autograd.Square(autograd.Sub(u.ForwardCond(tt, x, c), target)))
			loss.Backward()
			for _, p := range u.Params() {
				for i := range p.Grad {
					p.Grad[i] *= sign
				}
			}
			opt.Step()
			if step == 0 {
				first = loss.Item()
			}
			last = loss.Item()
		}
		return first, last
	}
	first, last := run(1, 80)
	require.Less(t, last, first/10, "loss %g → %g", first, last)
	_, bad := run(-1, 10)
	require.Greater(t, bad, first, "negative control: ascent must raise the loss (got %g → %g)", first, bad)
}

// BenchmarkUNetStep times one training step of a label-conditioned U-Net on
// MNIST-like batches: batch 128 of 1×14×14 (mnist14) and 1×28×28 images,
// Ch = 32 (64 at half resolution), 8 groups (and, on mnist14, Ch 8 at batch
// 64 and Ch 16 at batch 32, 4 groups), E = 64, 10 labels plus the null
// one: the CFM regression loss ‖v_θ(t, x_t, c) − u‖² on a fixed batch,
// its backward pass and an Adam step. It reports CPU-ms per step besides
// wall time, for a shared machine. The "-arena" variants run the step as
// fm.Train does: the batch enters an autograd.Arena, which is Reset after
// the optimizer step, so B/op is what is left once tensor storage is reused.
func BenchmarkUNetStep(b *testing.B) {
	for _, bc := range []struct {
		hw, n, ch, groups int
		arena             bool
	}{{14, 128, 32, 8, false}, {14, 128, 32, 8, true}, {28, 128, 32, 8, false}, {28, 128, 32, 8, true}, {14, 64, 8, 4, false}, {14, 64, 8, 4, true}, {14, 32, 16, 4, false}, {14, 32, 16, 4, true}} {
		name := fmt.Sprintf("mnist%d", bc.hw)
		if bc.ch != 32 {
			name += fmt.Sprintf("-ch%d-batch%d", bc.ch, bc.n)
		}
		if bc.arena {
			name += "-arena"
		}
		b.Run(name, func(b *testing.B) {
			hw, n := bc.hw, bc.n
			rng := newRNG(30)
			u := NewUNet(UNetConfig{C: 1, H: hw, W: hw, Ch: bc.ch, Groups: bc.groups, Emb: 64, Ctx: 11, Classes: 10}, rng)
			xt := autograd.Normal(n, u.Dim(), 0, 1, rng)
			target := autograd.Normal(n, u.Dim(), 0, 1, rng)
			tt := autograd.Uniform(n, 1, 0, 1, rng)
			labels := make([]int, n)
			for i := range labels {
				labels[i] = rng.IntN(11)
			}
			c := oneHot(labels, 11)
			opt := NewAdam(u.Params(), 1e-3)
			var arena *autograd.Arena // nil: the heap
			if bc.arena {
				arena = autograd.NewArena()
			}
			step := func() {
				opt.ZeroGrad()
				autograd.Mean(autograd.Square(autograd.Sub(u.ForwardCond(tt.In(arena), xt.In(arena), c.In(arena)), target))).Backward()
				opt.Step()
				arena.Reset()
			}
			step() // warm-up, untimed: the arena's buffers and the pooled scratch exist from here on
			b.ReportAllocs()
			cpu := cpuSeconds()
			for b.Loop() {
				step()
			}
			if d := cpuSeconds() - cpu; d > 0 {
				b.ReportMetric(d/float64(b.N)*1e3, "CPU-ms/step")
			}
		})
	}
}
