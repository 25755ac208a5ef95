package classify

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
)

const u = 0x1p-53 // unit roundoff of float64

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// The fast classifier of these tests: trained on the first 5,000 images of mnist14's test
// split (only the small test file is read), evaluated on images 5,000–6,999 of it.
var (
	fastOnce  sync.Once
	fastC     *Classifier
	fastTrain *mnist.Set
	fastEval  *mnist.Set
	fastErr   error
)

func fast(t *testing.T) (*Classifier, *mnist.Set, *mnist.Set) {
	t.Helper()
	fastOnce.Do(func() {
		var s *mnist.Set
		if s, fastErr = mnist.Load("mnist14", mnist.Test); fastErr != nil {
			return
		}
		idx := make([]int, 7000)
		for i := range idx {
			idx[i] = i
		}
		fastTrain, fastEval = s.Subset(idx[:5000]), s.Subset(idx[5000:])
		fastC, fastErr = Train(fastTrain.X, fastTrain.Labels, Config{Seed: 1, Steps: 400, Batch: 64})
	})
	require.NoError(t, fastErr)
	return fastC, fastTrain, fastEval
}

// nearestCentroid returns the accuracy on (x, y) of the nearest-class-mean rule fitted to
// (xt, yt): a linear baseline that needs no training.
func nearestCentroid(xt *autograd.Tensor, yt []int, x *autograd.Tensor, y []int) float64 {
	d := xt.Cols
	cent := make([]float64, 10*d)
	cnt := make([]float64, 10)
	for i, l := range yt {
		cnt[l]++
		for j, v := range xt.Row(i) {
			cent[l*d+j] += v
		}
	}
	for l := range 10 {
		for j := range d {
			cent[l*d+j] /= cnt[l]
		}
	}
	hit := 0
	for i, l := range y {
		best, bd := 0, math.Inf(1)
		for k := range 10 {
			var s float64
			for j, v := range x.Row(i) {
				e := v - cent[k*d+j]
				s += e * e
			}
			if s < bd {
				best, bd = k, s
			}
		}
		if best == l {
			hit++
		}
	}
	return float64(hit) / float64(len(y))
}

// TestTrain_Subset: 400 Adam steps of batch 64 on 5,000 images of mnist14 give a classifier
// that beats the nearest-centroid rule fitted to the same images, on 2,000 held-out images, by
// more than 3 standard errors of the difference (measured: 0.9330 ± 0.0056 against 0.8345,
// bound 0.8645). Negative controls: the untrained network and the accuracy against labels shifted by
// one (each image scored against the wrong digit) fail the same bound. Misuse panics, bad data
// is an error.
func TestTrain_Subset(t *testing.T) {
	c, tr, ev := fast(t)
	acc, se, err := c.Accuracy(ev.X, ev.Labels)
	require.NoError(t, err)
	base := nearestCentroid(tr.X, tr.Labels, ev.X, ev.Labels)
	seDiff := math.Sqrt(se*se + base*(1-base)/float64(ev.Len()))
	bound := base + 3*seDiff
	t.Logf("accuracy %.4f ± %.4f, nearest centroid %.4f, bound %.4f", acc, se, base, bound)
	require.Greater(t, acc, bound, "got %.4f want > %.4f (nearest centroid + 3 s.e.)", acc, bound)

	untrained, err := Train(tr.X, tr.Labels, Config{Seed: 1, Steps: 1, LR: 1e-12})
	require.NoError(t, err)
	a0, _, err := untrained.Accuracy(ev.X, ev.Labels)
	require.NoError(t, err)
	require.Less(t, a0, bound, "negative control: an untrained network passes")
	shifted := make([]int, ev.Len())
	for i, l := range ev.Labels {
		shifted[i] = (l + 1) % 10
	}
	a1, _, err := c.Accuracy(ev.X, shifted)
	require.NoError(t, err)
	require.Less(t, a1, bound, "negative control: wrong labels pass")

	for name, f := range map[string]func(){
		"batch":   func() { _, _ = Train(tr.X, tr.Labels, Config{Batch: -1}) },
		"classes": func() { _, _ = Train(tr.X, tr.Labels, Config{Classes: 1}) },
		"act":     func() { _, _ = Train(tr.X, tr.Labels, Config{Act: "swish"}) },
		"width":   func() { c.Logits(autograd.Zeros(2, 5)) },
		"floor":   func() { _, _ = c.Floor(ev.X, tr.X, nil) },
	} {
		func() {
			defer func() {
				me, ok := recover().(*autograd.MisuseError)
				require.True(t, ok, name)
				require.True(t, strings.HasPrefix(me.Op, "classify."), me.Op)
			}()
			f()
		}()
	}
	_, err = Train(tr.X, tr.Labels[:10], Config{})
	require.ErrorContains(t, err, "10 labels for 5000 rows")
	_, err = Train(autograd.Zeros(2, 3), []int{0, 10}, Config{})
	require.ErrorContains(t, err, "label 10 of row 1")
	bad := autograd.Zeros(2, 196)
	bad.Data[200] = math.NaN()
	_, _, err = c.Accuracy(bad, []int{0, 1})
	require.ErrorContains(t, err, "[1, 4]")
	_, err = Train(tr.X, tr.Labels, Config{Steps: 5, LR: 1e300})
	require.ErrorContains(t, err, "lower Config.LR")
}

// TestFeatures_ArePenultimate: Features is the last hidden layer after its activation, so
// Features(x)·W_L + b_L reproduces Logits(x) (the same products and sums, in chunks of the
// same rows: equal to rounding, 4·m·u·Σ|terms| with m the feature width), and Predict is the
// argmax of the logits. Negative control: the pre-activation hidden layer does not reproduce
// the logits.
func TestFeatures_ArePenultimate(t *testing.T) {
	c, _, ev := fast(t)
	x := ev.Head(50).X
	f := c.Features(x)
	require.Equal(t, [2]int{50, 256}, f.Shape())
	require.Equal(t, 256, c.FeatureDim())
	last := c.Net.Layers[len(c.Net.Layers)-1]
	lg := c.Logits(x)
	pred := c.Predict(x)
	var pre *autograd.Tensor
	{
		h := autograd.Zeros(x.Rows, x.Cols).NoGraph()
		for k, v := range x.Data {
			h.Data[k] = (v - c.Shift) / c.Scale
		}
		fr := c.Net.Frozen()
		for i, l := range fr.Layers[:len(fr.Layers)-1] {
			h = l.Forward(h)
			if i+2 < len(fr.Layers) {
				h = fr.Activation().Apply(h)
			}
		}
		pre = h
	}
	worstPre := 0.0
	for i := range 50 {
		best := 0
		for k := range 10 {
			want, abs, wantPre := last.B.Data[k], math.Abs(last.B.Data[k]), last.B.Data[k]
			for j := range 256 {
				w := last.W.Data[j*10+k]
				want += f.Row(i)[j] * w
				abs += math.Abs(f.Row(i)[j] * w)
				wantPre += pre.Row(i)[j] * w
			}
			tol := 4 * 256 * u * abs
			require.InDelta(t, want, lg.Row(i)[k], tol, "row %d logit %d", i, k)
			worstPre = max(worstPre, math.Abs(wantPre-lg.Row(i)[k])/tol)
			if lg.Row(i)[k] > lg.Row(i)[best] {
				best = k
			}
		}
		require.Equal(t, best, pred[i])
	}
	require.Greater(t, worstPre, 1.0, "negative control: pre-activation features reproduce the logits")
}

// TestDiversity_PairwiseIdentity: ClassDiversity equals the brute-force mean of
// ‖φᵢ − φⱼ‖² over ordered pairs i ≠ j of each class (to rounding, 8·m·u·the mean), NaN for a
// class with one row; the biased covariance (1/n_k) would miss by a factor (n_k − 1)/n_k, far
// outside the tolerance (negative control).
func TestDiversity_PairwiseIdentity(t *testing.T) {
	rng := newRNG(2)
	const n, m, k = 40, 7, 4
	f := autograd.Normal(n, m, 0, 1, rng)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(k - 1) // class k−1 is empty
	}
	labels[0] = k - 1 // … except for one row
	got := ClassDiversity(f, labels, k)
	for cl := range k - 1 {
		var s float64
		var pairs int
		for i := range n {
			for j := range n {
				if i == j || labels[i] != cl || labels[j] != cl {
					continue
				}
				for q := range m {
					d := f.Row(i)[q] - f.Row(j)[q]
					s += d * d
				}
				pairs++
			}
		}
		want := s / float64(pairs)
		nk := 0
		for _, l := range labels {
			if l == cl {
				nk++
			}
		}
		tol := 8 * float64(m*n) * u * want
		require.InDelta(t, want, got[cl], tol, "class %d", cl)
		biased := got[cl] * float64(nk-1) / float64(nk)
		require.Greater(t, math.Abs(biased-want), 100*tol, "negative control: 1/n_k passes")
	}
	require.True(t, math.IsNaN(got[k-1]))

	c, _, ev := fast(t)
	d, err := c.Diversity(ev.X, ev.Labels)
	require.NoError(t, err)
	require.Len(t, d, 10)
	// One image repeated has no diversity.
	same := ev.Subset([]int{0, 0, 0})
	d0, err := c.Diversity(same.X, same.Labels)
	require.NoError(t, err)
	// The class mean of three equal rows is off by ≤ 2u relatively, so D ≤ 2·3·(2u)²‖φ‖²/2.
	phi := c.Features(same.Head(1).X)
	var norm2 float64
	for _, v := range phi.Data {
		norm2 += v * v
	}
	require.LessOrEqual(t, d0[same.Labels[0]], 12*u*u*norm2+1e-300)
	require.Less(t, d0[same.Labels[0]], d[same.Labels[0]])
}

// TestFrechetDistance_Floor: on the fast classifier's features, two disjoint sets of real
// images are closer (the floor, 1,000 vs 1,000) than real images and the same images with
// their pixels permuted, or real images and images of other digits; FD(x, x) is 0 to rounding.
func TestFrechetDistance_Floor(t *testing.T) {
	c, tr, ev := fast(t)
	x := ev.Head(1000).X
	floor, err := c.Floor(x, tr.X, newRNG(3))
	require.NoError(t, err)
	self, err := c.FrechetDistance(x, x)
	require.NoError(t, err)
	// ReLU features have a singular covariance (dead units), whose rounding-level eigenvalues
	// the square root amplifies: tolerance m·√(m·u)·‖Σ‖₂ (as in metrics' rank-deficient test).
	g, err := metrics.FitGaussian(c.Features(x))
	require.NoError(t, err)
	m := float64(c.FeatureDim())
	tol := m * math.Sqrt(m*u) * mat.Norm(g.Cov, 2)
	require.InDelta(t, 0, self, tol, "FD(x, x) = %g (tol %g)", self, tol)

	perm := newRNG(4).Perm(196)
	scrambled := autograd.Zeros(1000, 196)
	for i := range 1000 {
		for j, p := range perm {
			scrambled.Row(i)[j] = x.Row(i)[p]
		}
	}
	fs, err := c.FrechetDistance(x, scrambled)
	require.NoError(t, err)
	var low, high []int
	for i, l := range ev.Labels {
		if l < 5 {
			low = append(low, i)
		} else {
			high = append(high, i)
		}
	}
	half := min(len(low), len(high))
	fl, err := c.FrechetDistance(ev.Subset(low[:half]).X, ev.Subset(high[:half]).X)
	require.NoError(t, err)
	t.Logf("floor %.3f, scrambled pixels %.3f, digits 0–4 vs 5–9 %.3f", floor, fs, fl)
	require.Greater(t, fs, 3*floor)
	require.Greater(t, fl, 3*floor)
	_, err = c.Floor(tr.X, x, newRNG(1))
	require.ErrorContains(t, err, "training rows")
}

// TestSaveLoad_RoundTrip: a saved classifier loads with the same logits bit for bit and its
// extra metadata; an MLP checkpoint not written by Save is refused with an error naming it.
func TestSaveLoad_RoundTrip(t *testing.T) {
	c, _, ev := fast(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "classifier.safetensors")
	require.NoError(t, c.Save(path, map[string]string{"data": "mnist14"}))
	got, meta, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, "mnist14", meta["data"])
	x := ev.Head(20).X
	require.Equal(t, c.Logits(x).Data, got.Logits(x).Data)
	other := filepath.Join(dir, "mlp.safetensors")
	require.NoError(t, nn.SaveMLP(other, c.Net, nil))
	_, _, err = Load(other)
	require.ErrorContains(t, err, other)
	_, _, err = Load(filepath.Join(dir, "missing.safetensors"))
	require.Error(t, err)
}

// TestTrain_MNIST trains the default classifier (hidden 256, 256, ReLU, 3 epochs of batch 128,
// Adam 1e-3, seed 1) on the full training split of mnist and mnist14 and checks the test
// accuracy: ≥ 0.97 on 28×28 (the target) and ≥ 0.95 on 14×14. Measured: 0.9762 ± 0.0015
// (mnist) and 0.9755 ± 0.0015 (mnist14), 29 s of CPU in all (309 s wall on a shared 2-core AMD
// EPYC, Zen 5, at load average ~30). It takes minutes, so it runs only with
// FLOWMATCH_CLASSIFY_FULL=1 (and never with -short).
func TestTrain_MNIST(t *testing.T) {
	if testing.Short() || os.Getenv("FLOWMATCH_CLASSIFY_FULL") != "1" {
		t.Skip("long: set FLOWMATCH_CLASSIFY_FULL=1 to train on all 60,000 images")
	}
	for _, c := range []struct {
		name string
		min  float64
	}{{"mnist14", 0.95}, {"mnist", 0.97}} {
		tr, err := mnist.Load(c.name, mnist.Train)
		require.NoError(t, err)
		te, err := mnist.Load(c.name, mnist.Test)
		require.NoError(t, err)
		cl, err := Train(tr.X, tr.Labels, Config{Seed: 1})
		require.NoError(t, err)
		acc, se, err := cl.Accuracy(te.X, te.Labels)
		require.NoError(t, err)
		floor, err := cl.Floor(te.X, tr.X, newRNG(1))
		require.NoError(t, err)
		t.Logf("%s: test accuracy %.4f ± %.4f, FD floor (10,000 vs 10,000) %.4f", c.name, acc, se, floor)
		require.GreaterOrEqual(t, acc, c.min, c.name)
	}
}

// TestLoadOrTrain: the first call trains and saves, the second loads the same classifier
// (identical logits) without training; an unreadable file is an error naming it; a missing
// folder is an error before any training.
func TestLoadOrTrain(t *testing.T) {
	_, tr, ev := fast(t)
	path := filepath.Join(t.TempDir(), "c.safetensors")
	small := tr.Head(500)
	a, trained, err := LoadOrTrain(path, small.X, small.Labels, Config{Seed: 2, Steps: 5, Hidden: []int{16}}, map[string]string{"data": "test"})
	require.NoError(t, err)
	require.True(t, trained)
	b, trained, err := LoadOrTrain(path, small.X, small.Labels, Config{Seed: 3, Steps: 5, Hidden: []int{16}}, nil)
	require.NoError(t, err)
	require.False(t, trained)
	x := ev.Head(10).X
	require.Equal(t, a.Logits(x).Data, b.Logits(x).Data)
	require.NoError(t, os.WriteFile(path, []byte("not a checkpoint"), 0o644))
	_, _, err = LoadOrTrain(path, small.X, small.Labels, Config{}, nil)
	require.ErrorContains(t, err, path)
	// A folder that does not exist is found before training: with no
	// data at all, training would fail otherwise (or panic).
	missing := filepath.Join(t.TempDir(), "no", "c.safetensors")
	_, trained, err = LoadOrTrain(missing, nil, nil, Config{}, nil)
	require.ErrorContains(t, err, "nothing trained")
	require.False(t, trained)
}

// TestEvaluate: real images measured as samples of their own labels give the classifier's
// accuracy, the FD between two real halves and diversities equal to Diversity's; asking for the
// wrong classes lowers the accuracy only.
func TestEvaluate(t *testing.T) {
	c, _, ev := fast(t)
	a, b := ev.Head(1000), ev.Subset(seq(1000, 2000))
	r, err := c.Evaluate(a.X, a.Labels, b.X, b.Labels)
	require.NoError(t, err)
	acc, se, err := c.Accuracy(a.X, a.Labels)
	require.NoError(t, err)
	require.Equal(t, [2]float64{acc, se}, [2]float64{r.Accuracy, r.AccuracySE})
	fd, err := c.FrechetDistance(a.X, b.X)
	require.NoError(t, err)
	require.Equal(t, fd, r.FD)
	da, err := c.Diversity(a.X, a.Labels)
	require.NoError(t, err)
	require.Equal(t, da, r.Diversity)
	db, err := c.Diversity(b.X, b.Labels)
	require.NoError(t, err)
	require.Equal(t, db, r.RealDiversity)
	wrong := make([]int, a.Len())
	for i, l := range a.Labels {
		wrong[i] = (l + 3) % 10
	}
	rw, err := c.Evaluate(a.X, wrong, b.X, b.Labels)
	require.NoError(t, err)
	require.Less(t, rw.Accuracy, 0.2)
	require.Equal(t, r.FD, rw.FD)
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestTrain_Standardizes: Shift and Scale are the mean and standard deviation of all training
// pixels, and training sees the standardized pixels too, so a classifier trained (5 steps, same
// seed) on a·x + b scores a·x + b as the first scores x: the logits agree to rounding
// (relative 1e-9; the standardized inputs differ by a few ulps). Training on raw pixels would
// give two different networks and fail. Negative control: c2's network read with c1's Shift
// and Scale fails the same check.
func TestTrain_Standardizes(t *testing.T) {
	_, tr, ev := fast(t)
	x := tr.Head(300)
	var mean, ss float64
	for _, v := range x.X.Data {
		mean += v
	}
	mean /= float64(len(x.X.Data))
	for _, v := range x.X.Data {
		ss += (v - mean) * (v - mean)
	}
	std := math.Sqrt(ss / float64(len(x.X.Data)))
	cfg := Config{Seed: 4, Steps: 5, Batch: 32, Hidden: []int{32}}
	c1, err := Train(x.X, x.Labels, cfg)
	require.NoError(t, err)
	require.InDelta(t, mean, c1.Shift, 1e-12)
	require.InDelta(t, std, c1.Scale, 1e-12)

	affine := func(m *autograd.Tensor) *autograd.Tensor {
		out := autograd.Zeros(m.Rows, m.Cols)
		for k, v := range m.Data {
			out.Data[k] = 2*v + 0.5
		}
		return out
	}
	c2, err := Train(affine(x.X), x.Labels, cfg)
	require.NoError(t, err)
	probe := ev.Head(20).X
	l1, l2 := c1.Logits(probe), c2.Logits(affine(probe))
	for k := range l1.Data {
		require.InDelta(t, l1.Data[k], l2.Data[k], 1e-9*(1+math.Abs(l1.Data[k])), "logit %d", k)
	}

	// Control: the same check on c2's network with c1's standardization fails.
	wrong := &Classifier{Net: c2.Net, Shift: c1.Shift, Scale: c1.Scale}
	l3 := wrong.Logits(affine(probe))
	worst := 0.0
	for k := range l1.Data {
		worst = max(worst, math.Abs(l1.Data[k]-l3.Data[k])/(1e-9*(1+math.Abs(l1.Data[k]))))
	}
	require.Greater(t, worst, 1.0, "negative control: the wrong standardization passes")
}
