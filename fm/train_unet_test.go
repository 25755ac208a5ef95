package fm_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
)

// TestTrain_UNet trains a tiny conditional U-Net (1×4×4 images, two
// classes whose images are the constants −0.5 and +0.5) through fm.Train's
// autograd path: the mean loss of the last 20 steps is below that of the
// first 20 by more than 4 standard errors of their difference. Asking for
// the fused step is an error naming the model type. It shows fm.Model
// admits models other than the MLP.
func TestTrain_UNet(t *testing.T) {
	cfgU := nn.UNetConfig{C: 1, H: 4, W: 4, Ch: 4, Groups: 2, Emb: 8, Ctx: 3, Classes: 2}
	cond := func(n int, rng *rand.Rand) (x1, c *autograd.Tensor) {
		x1 = autograd.Zeros(n, 16)
		labels := make([]int, n)
		for i := range n {
			labels[i] = rng.IntN(2)
			for j := range 16 {
				x1.Data[i*16+j] = float64(labels[i]) - 0.5
			}
		}
		return x1, nn.LabelContext(labels, 2)
	}
	cfg := fm.TrainConfig{Path: fm.CondOT{}, Cond: cond, BatchSize: 32, Steps: 120, LR: 3e-3, Seed: 5,
		CondDrop: 0.1, Null: nn.LabelContext([]int{nn.NullLabel}, 2)}
	u := nn.NewUNet(cfgU, rand.New(rand.NewPCG(1, 2)))
	losses, err := fm.Train(u, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, last := losses[:20], losses[len(losses)-20:]
	m0, s0 := stats.MeanStdErr(first)
	m1, s1 := stats.MeanStdErr(last)
	if d := m0 - m1; d < 4*(s0+s1) {
		t.Errorf("U-Net loss fell from %.4f ± %.4f to %.4f ± %.4f: less than 4 s.e.", m0, s0, m1, s1)
	}
	t.Logf("U-Net loss %.4f ± %.4f → %.4f ± %.4f", m0, s0, m1, s1)

	cfg.Fused = true
	if _, err := fm.Train(nn.NewUNet(cfgU, rand.New(rand.NewPCG(1, 2))), cfg); err == nil || !strings.Contains(err.Error(), "*nn.UNet") {
		t.Errorf("Fused with a U-Net: err = %v, want one naming *nn.UNet", err)
	}
}
