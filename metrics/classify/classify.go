package classify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/nn"
)

// Config sets up Train. Zero fields take the defaults in brackets.
type Config struct {
	Classes int                 // number of labels K, targets in 0…K−1 [10]
	Hidden  []int               // hidden widths [256, 256]; the last is the feature width
	Act     autograd.Activation // activation between layers [autograd.ActReLU]
	Epochs  int                 // passes over the shuffled training set [3]
	Steps   int                 // if > 0, this many minibatches instead of Epochs passes
	Batch   int                 // minibatch size [128]
	LR      float64             // Adam learning rate [1e-3]
	Seed    uint64              // initialization and shuffling
	// Progress, if not nil, is called after every step with the step (1-based), the total
	// number of steps and the minibatch's mean cross-entropy.
	Progress func(step, total int, loss float64)
}

func (c Config) withDefaults() Config {
	if c.Classes == 0 {
		c.Classes = 10
	}
	if len(c.Hidden) == 0 {
		c.Hidden = []int{256, 256}
	}
	if c.Act == "" {
		c.Act = autograd.ActReLU
	}
	if c.Epochs == 0 {
		c.Epochs = 3
	}
	if c.Batch == 0 {
		c.Batch = 128
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	return c
}

// Classifier is an MLP d → Hidden… → K applied to standardized pixels, whose logits give
// p(y|x) = softmax(Net((x − Shift)/Scale)) and whose last hidden layer (after its activation) is
// the feature map used by the Fréchet distance. Train sets Shift and Scale to the mean and the
// standard deviation of all training pixels (the usual MNIST normalization), so the first layer
// sees inputs of mean 0 and variance 1.
type Classifier struct {
	Net          *nn.MLP
	Shift, Scale float64
}

// Classes returns K, the number of outputs.
func (c *Classifier) Classes() int { return c.Net.Layers[len(c.Net.Layers)-1].Out() }

// Dim returns d, the input width.
func (c *Classifier) Dim() int { return c.Net.Layers[0].In() }

// FeatureDim returns the width of Features, the last hidden layer's.
func (c *Classifier) FeatureDim() int { return c.Net.Layers[len(c.Net.Layers)-1].In() }

// Train fits a Classifier to the rows of x [n, d] with labels in 0…K−1 by Adam on the mean
// cross-entropy −(1/B) Σᵢ log softmax(Net(xᵢ))_{yᵢ} (autograd.CrossEntropy) over shuffled
// minibatches, Epochs passes (or Steps minibatches), seeded by cfg.Seed. With the defaults
// and MNIST's training split this is the reference classifier 784 (or 196) → 256 → 256 → 10,
// ReLU, 3 epochs of batch 128. Data problems (no rows, len(labels) ≠ n, a label out of range,
// a non-finite value) and a loss that is not finite are errors; a bad Config panics with a
// *autograd.MisuseError. TestTrain_Subset, TestTrain_MNIST.
func Train(x *autograd.Tensor, labels []int, cfg Config) (*Classifier, error) {
	cfg = cfg.withDefaults()
	if x == nil || cfg.Classes < 2 || cfg.Epochs < 0 || cfg.Steps < 0 || cfg.Batch < 1 || cfg.LR < 0 || !cfg.Act.Valid() {
		panic(autograd.Misuse("classify.Train", "nil x or bad config (classes %d, epochs %d, steps %d, batch %d, lr %g, act %q)",
			cfg.Classes, cfg.Epochs, cfg.Steps, cfg.Batch, cfg.LR, string(cfg.Act)))
	}
	if err := checkData("Train", x, labels, cfg.Classes); err != nil {
		return nil, err
	}
	n := x.Rows
	shift, scale := pixelMoments(x)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xc1a551f1))
	sizes := append(append([]int{x.Cols}, cfg.Hidden...), cfg.Classes)
	net := nn.NewMLP(sizes, cfg.Act, rng)
	opt := nn.NewAdam(net.Params(), cfg.LR)
	batch := min(cfg.Batch, n)
	total := cfg.Steps
	if total == 0 {
		total = cfg.Epochs * ((n + batch - 1) / batch)
	}
	perm := rng.Perm(n)
	pos := 0
	xb := autograd.Zeros(batch, x.Cols)
	yb := make([]int, batch)
	for step := 1; step <= total; step++ {
		b := min(batch, n-pos)
		xb.Rows, xb.Data, yb = b, xb.Data[:b*x.Cols], yb[:b]
		for k := range b {
			i := perm[pos+k]
			for j, v := range x.Row(i) {
				xb.Row(k)[j] = (v - shift) / scale
			}
			yb[k] = labels[i]
		}
		pos += b
		if pos == n {
			rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			pos = 0
		}
		opt.ZeroGrad()
		loss := autograd.Mean(autograd.CrossEntropy(net.Forward(xb), yb))
		if v := loss.Item(); math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("classify: Train: the loss is %v at step %d; lower Config.LR (%g)", v, step, cfg.LR)
		}
		loss.Backward()
		opt.Step()
		if cfg.Progress != nil {
			cfg.Progress(step, total, loss.Item())
		}
		xb.Data = xb.Data[:cap(xb.Data)]
		yb = yb[:cap(yb)]
	}
	return &Classifier{Net: net, Shift: shift, Scale: scale}, nil
}

// pixelMoments returns the mean and the standard deviation (1 if it is 0) of all elements of x.
func pixelMoments(x *autograd.Tensor) (mean, std float64) {
	data := x.Data[:x.Rows*x.Cols]
	for _, v := range data {
		mean += v
	}
	mean /= float64(len(data))
	var ss float64
	for _, v := range data {
		ss += (v - mean) * (v - mean)
	}
	std = math.Sqrt(ss / float64(len(data)))
	if std == 0 {
		std = 1
	}
	return mean, std
}

func checkData(op string, x *autograd.Tensor, labels []int, classes int) error {
	if x.Rows == 0 {
		return fmt.Errorf("classify: %s: no rows", op)
	}
	if labels != nil && len(labels) != x.Rows {
		return fmt.Errorf("classify: %s: %d labels for %d rows", op, len(labels), x.Rows)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("classify: %s: label %d of row %d is outside 0…%d", op, l, i, classes-1)
		}
	}
	for k, v := range x.Data[:x.Rows*x.Cols] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("classify: %s: element [%d, %d] = %v is not finite", op, k/x.Cols, k%x.Cols, v)
		}
	}
	return nil
}

// chunk is the number of rows evaluated at once by Logits and Features.
const chunk = 1000

// apply runs the frozen network on x in chunks of rows, through all layers (features false) or
// all but the last (features true: the last hidden activation).
func (c *Classifier) apply(op string, x *autograd.Tensor, features bool) *autograd.Tensor {
	if x == nil || x.Cols != c.Dim() {
		cols := -1
		if x != nil {
			cols = x.Cols
		}
		panic(autograd.Misuse("classify.Classifier."+op, "x has %d columns, the classifier reads %d", cols, c.Dim()))
	}
	f := c.Net.Frozen()
	layers := f.Layers
	if features {
		layers = layers[:len(layers)-1]
	}
	width := layers[len(layers)-1].Out()
	out := autograd.Zeros(x.Rows, width)
	for lo := 0; lo < x.Rows; lo += chunk {
		hi := min(lo+chunk, x.Rows)
		h := autograd.Zeros(hi-lo, x.Cols).NoGraph()
		for k, v := range x.Data[lo*x.Cols : hi*x.Cols] {
			h.Data[k] = (v - c.Shift) / c.Scale
		}
		for i, l := range layers {
			h = l.Forward(h)
			if features || i+1 < len(layers) {
				h = f.Activation().Apply(h)
			}
		}
		copy(out.Data[lo*width:hi*width], h.Data)
	}
	return out
}

// Logits returns Net((x − Shift)/Scale) [n, K], the unnormalized log-probabilities
// log p(y|x) + const.
func (c *Classifier) Logits(x *autograd.Tensor) *autograd.Tensor { return c.apply("Logits", x, false) }

// Features returns the penultimate layer φ(x) [n, FeatureDim] of the standardized x: the activations of the last
// hidden layer, on which the Fréchet distance of images is measured (the role of Inception's
// pool features in FID; Heusel et al. 2017, arXiv:1706.08500). TestFeatures_ArePenultimate.
func (c *Classifier) Features(x *autograd.Tensor) *autograd.Tensor {
	return c.apply("Features", x, true)
}

// Predict returns argmax_k Net(x)_k for every row (the lowest k on ties).
// TestFeatures_ArePenultimate.
func (c *Classifier) Predict(x *autograd.Tensor) []int {
	lg := c.Logits(x)
	out := make([]int, lg.Rows)
	for i := range out {
		row := lg.Row(i)
		for k, v := range row {
			if v > row[out[i]] {
				out[i] = k
			}
		}
	}
	return out
}

// Accuracy returns the fraction of rows whose prediction equals the label,
// (1/n) Σᵢ 1[Predict(x)ᵢ = labelsᵢ], and its binomial standard error √(a(1 − a)/n). On
// generated images with labels the requested classes, it is the class accuracy of the
// samples: the fraction classified as the class they were asked for. TestTrain_Subset.
func (c *Classifier) Accuracy(x *autograd.Tensor, labels []int) (acc, se float64, err error) {
	if err := checkData("Accuracy", x, labels, c.Classes()); err != nil {
		return 0, 0, err
	}
	if labels == nil {
		return 0, 0, fmt.Errorf("classify: Accuracy: no labels")
	}
	hit := 0
	for i, p := range c.Predict(x) {
		if p == labels[i] {
			hit++
		}
	}
	n := float64(len(labels))
	acc = float64(hit) / n
	return acc, math.Sqrt(acc * (1 - acc) / n), nil
}

// FrechetDistance returns metrics.FrechetDistance(Features(x), Features(y)): the Fréchet
// distance between Gaussians fitted to the classifier's penultimate features of two image
// sets, the analogue of FID with this classifier in Inception's place (Heusel et al. 2017,
// arXiv:1706.08500, eq. 6). Its floor for a given size is the distance between two samples
// of real images (Floor). TestFrechetDistance_Floor.
func (c *Classifier) FrechetDistance(x, y *autograd.Tensor) (float64, error) {
	if err := checkData("FrechetDistance", x, nil, c.Classes()); err != nil {
		return 0, err
	}
	if err := checkData("FrechetDistance", y, nil, c.Classes()); err != nil {
		return 0, err
	}
	return metrics.FrechetDistance(c.Features(x), c.Features(y))
}

// Floor returns the Fréchet distance between real images and real images: FrechetDistance
// between test [n, d] and n rows of train drawn without replacement by rng. A generator's FD
// against the test set cannot be expected below it at that sample size (finite-sample bias of
// the fitted covariances). TestFrechetDistance_Floor.
func (c *Classifier) Floor(test, train *autograd.Tensor, rng *rand.Rand) (float64, error) {
	if test == nil || train == nil || rng == nil {
		panic(autograd.Misuse("classify.Classifier.Floor", "nil test, train or rng"))
	}
	if train.Rows < test.Rows {
		return 0, fmt.Errorf("classify: Floor: %d training rows for %d test rows; want at least as many", train.Rows, test.Rows)
	}
	idx := rng.Perm(train.Rows)[:test.Rows]
	sub := autograd.Zeros(test.Rows, train.Cols)
	for k, i := range idx {
		copy(sub.Row(k), train.Row(i))
	}
	return c.FrechetDistance(test, sub)
}

// Diversity returns, for each class k, the mean squared feature distance between two distinct
// images of that class,
//
//	D_k = (1/(n_k(n_k − 1))) Σ_{i≠j, yᵢ=yⱼ=k} ‖φ(xᵢ) − φ(xⱼ)‖² = 2 tr Σ_k,
//
// with Σ_k the unbiased covariance of the class's features (the identity follows by
// expanding the square). A generator that collapses a class onto one image has D_k = 0; real
// images give the reference value. Classes with fewer than two images get NaN. labels are the
// requested (or true) classes. TestDiversity_PairwiseIdentity.
func (c *Classifier) Diversity(x *autograd.Tensor, labels []int) ([]float64, error) {
	k := c.Classes()
	if err := checkData("Diversity", x, labels, k); err != nil {
		return nil, err
	}
	if labels == nil {
		return nil, fmt.Errorf("classify: Diversity: no labels")
	}
	return ClassDiversity(c.Features(x), labels, k), nil
}

// ClassDiversity is Diversity on given features f [n, m]: D_k = 2 tr Σ_k per class k < classes,
// computed as 2·Σ_j (Σᵢ (fᵢⱼ − f̄ⱼ)²)/(n_k − 1) over the rows of class k; NaN for n_k < 2.
// TestDiversity_PairwiseIdentity.
func ClassDiversity(f *autograd.Tensor, labels []int, classes int) []float64 {
	if len(labels) != f.Rows {
		panic(autograd.Misuse("classify.ClassDiversity", "%d labels for %d rows", len(labels), f.Rows))
	}
	count := make([]int, classes)
	mean := make([]float64, classes*f.Cols)
	for i, l := range labels {
		count[l]++
		for j, v := range f.Row(i) {
			mean[l*f.Cols+j] += v
		}
	}
	for l := range classes {
		for j := range f.Cols {
			mean[l*f.Cols+j] /= float64(max(count[l], 1))
		}
	}
	ss := make([]float64, classes)
	for i, l := range labels {
		for j, v := range f.Row(i) {
			d := v - mean[l*f.Cols+j]
			ss[l] += d * d
		}
	}
	out := make([]float64, classes)
	for l := range classes {
		if count[l] < 2 {
			out[l] = math.NaN()
			continue
		}
		out[l] = 2 * ss[l] / float64(count[l]-1)
	}
	return out
}

// MetaKind is the metadata key Save writes ("classify.Classifier") so Load refuses other MLPs.
const MetaKind = "classify.kind"

// Metadata keys of the input standardization (decimal, exact round trip).
const (
	metaShift = "classify.shift"
	metaScale = "classify.scale"
)

// Save writes the classifier to path as a safetensors checkpoint (nn.SaveMLP, atomically),
// with MetaKind and extra metadata such as the dataset name. TestSaveLoad_RoundTrip.
func (c *Classifier) Save(path string, extra map[string]string) error {
	meta := map[string]string{MetaKind: "classify.Classifier",
		metaShift: strconv.FormatFloat(c.Shift, 'g', -1, 64), metaScale: strconv.FormatFloat(c.Scale, 'g', -1, 64)}
	for k, v := range extra {
		meta[k] = v
	}
	return nn.SaveMLP(path, c.Net, meta)
}

// Load reads a classifier written by Save and returns it with its extra metadata (without the
// architecture keys). A file that is not a Save checkpoint is an error naming it.
// TestSaveLoad_RoundTrip.
func Load(path string) (*Classifier, map[string]string, error) {
	m, meta, err := nn.LoadMLP(path)
	if err != nil {
		return nil, nil, err
	}
	if meta[MetaKind] != "classify.Classifier" {
		return nil, nil, fmt.Errorf("classify: %s is not a classifier checkpoint (metadata %s = %q); write one with (*classify.Classifier).Save", path, MetaKind, meta[MetaKind])
	}
	shift, err1 := strconv.ParseFloat(meta[metaShift], 64)
	scale, err2 := strconv.ParseFloat(meta[metaScale], 64)
	if err1 != nil || err2 != nil || !(scale > 0) || math.IsInf(scale, 0) || math.IsNaN(shift) || math.IsInf(shift, 0) {
		return nil, nil, fmt.Errorf("classify: %s: metadata %s = %q, %s = %q; want a finite shift and a positive scale", path, metaShift, meta[metaShift], metaScale, meta[metaScale])
	}
	delete(meta, metaShift)
	delete(meta, metaScale)
	delete(meta, MetaKind)
	return &Classifier{Net: m, Shift: shift, Scale: scale}, meta, nil
}

// LoadOrTrain returns the classifier saved at path if the file exists (Load), else trains one
// on x and labels with cfg (Train), saves it to path with extra metadata and returns it; trained
// reports which happened. A file that exists but does not load is an error naming it (it is not
// overwritten), and so is a folder that cannot take the file, found before any training. The demo
// keeps its MNIST classifier this way, so it is trained once. TestLoadOrTrain.
func LoadOrTrain(path string, x *autograd.Tensor, labels []int, cfg Config, extra map[string]string) (c *Classifier, trained bool, err error) {
	if _, statErr := os.Stat(path); statErr == nil {
		c, _, err = Load(path)
		return c, false, err
	}
	probe, err := os.CreateTemp(filepath.Dir(path), ".classify-check*")
	if err != nil {
		return nil, false, fmt.Errorf("classify: cannot save a classifier to %s (nothing trained): %w", path, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if c, err = Train(x, labels, cfg); err != nil {
		return nil, false, err
	}
	return c, true, c.Save(path, extra)
}

// Report holds the measures of n generated images asked for classes requested (see Evaluate).
type Report struct {
	Accuracy, AccuracySE float64   // fraction classified as the requested class, ± s.e.
	FD                   float64   // Fréchet distance of features to the real images
	Diversity            []float64 // D_k of the samples per requested class (Diversity)
	RealDiversity        []float64 // D_k of the real images per true class, the reference
}

// Evaluate measures generated images x [n, d] asked for the classes requested against real
// images with their labels: Accuracy(x, requested), FrechetDistance(x, real),
// Diversity(x, requested) and Diversity(real, realLabels). TestEvaluate.
func (c *Classifier) Evaluate(x *autograd.Tensor, requested []int, real *autograd.Tensor, realLabels []int) (Report, error) {
	var r Report
	var err error
	if r.Accuracy, r.AccuracySE, err = c.Accuracy(x, requested); err != nil {
		return Report{}, err
	}
	if r.FD, err = c.FrechetDistance(x, real); err != nil {
		return Report{}, err
	}
	if r.Diversity, err = c.Diversity(x, requested); err != nil {
		return Report{}, err
	}
	if r.RealDiversity, err = c.Diversity(real, realLabels); err != nil {
		return Report{}, err
	}
	return r, nil
}
