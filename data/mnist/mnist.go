package mnist

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
)

// Classes is the number of MNIST labels, the digits 0–9.
const Classes = 10

// Split selects the standard training set (60,000 images) or test set (10,000 images).
type Split int

const (
	Train Split = iota // train-{images-idx3,labels-idx1}-ubyte.gz, 60,000 images
	Test               // t10k-{images-idx3,labels-idx1}-ubyte.gz, 10,000 images
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Names returns the dataset names Load accepts: "mnist" (28×28 = 784 pixels) and "mnist14"
// (2×2 average-pooled to 14×14 = 196 pixels).
func Names() []string { return []string{"mnist", "mnist14"} }

// Side returns the image side of a dataset name (28 for "mnist", 14 for "mnist14") and
// whether the name is known.
func Side(name string) (int, bool) {
	switch name {
	case "mnist":
		return 28, true
	case "mnist14":
		return 14, true
	}
	return 0, false
}

// Set is an MNIST split as data points: X [n, Side²] holds one image per row, row-major
// (pixel (r, c) in column r·Side + c), with values in [−1, 1] (Scale), and Labels[i] ∈ {0, …, 9}
// is the digit of row i. A Set returned by Load is shared by every caller in the process:
// read it, do not modify it (Subset and Batch return copies).
type Set struct {
	Name   string // "mnist" or "mnist14"
	Split  Split
	Side   int              // 28 or 14
	X      *autograd.Tensor // [n, Side²], values in [−1, 1]
	Labels []int            // [n], digits 0–9
}

// Scale maps a pixel byte b ∈ {0, …, 255} to b/255·2 − 1 ∈ [−1, 1] (0 is the black
// background, −1; 255 is full ink, +1). TestLoad_ValueRange.
func Scale(b byte) float64 { return float64(b)/255*2 - 1 }

// Unscale maps a value in [−1, 1] back to a pixel byte, round((v + 1)/2·255), clamped to
// 0…255: the inverse of Scale on its image. TestScale_RoundTrip.
func Unscale(v float64) byte {
	p := (v + 1) / 2 * 255
	switch {
	case !(p > 0): // also NaN
		return 0
	case p >= 255:
		return 255
	}
	return byte(p + 0.5)
}

// Load returns the named dataset ("mnist" or "mnist14") and split, reading the files from
// Dir(""): $FLOWMATCH_MNIST_DIR, else the module cache. It is LoadDir("", name, split).
func Load(name string, split Split) (*Set, error) { return LoadDir("", name, split) }

// LoadDir returns the named dataset and split read from the MNIST files in dir (Dir(dir)
// when dir is empty). Each pixel is scaled by Scale first, x = b/255·2 − 1; "mnist14" then
// averages each 2×2 block, x₁₄(r, c) = ¼ Σ_{i,j∈{0,1}} x₂₈(2r+i, 2c+j) (the same as pooling
// the bytes and scaling after, since Scale is affine). Files are parsed once per process and
// each (folder, name, split) is built once (sync.Once), so later calls return the same *Set at
// no cost (the training images take about a second to read and decompress).
// TestLoad_Counts, TestLoad_LabelHistogram, TestLoad_ValueRange, TestPool_HandExample.
func LoadDir(dir, name string, split Split) (*Set, error) {
	side, ok := Side(name)
	if !ok {
		return nil, fmt.Errorf("mnist: unknown dataset %q; want one of %v", name, Names())
	}
	if split != Train && split != Test {
		panic(autograd.Misuse("mnist.LoadDir", "split %d: want mnist.Train or mnist.Test", int(split)))
	}
	d, err := Dir(dir)
	if err != nil {
		return nil, err
	}
	e, _ := setCache.LoadOrStore(fmt.Sprintf("%s\x00%s\x00%d", d, name, split), new(onceSet))
	o := e.(*onceSet)
	o.Do(func() { o.set, o.err = build(d, name, side, split) })
	return o.set, o.err
}

type onceSet struct {
	sync.Once
	set *Set
	err error
}

type onceIDX struct {
	sync.Once
	a   *IDX
	err error
}

var setCache, idxCache sync.Map

// readCached reads an IDX file once per process.
func readCached(path string, magic uint32) (*IDX, error) {
	e, _ := idxCache.LoadOrStore(path, new(onceIDX))
	o := e.(*onceIDX)
	o.Do(func() { o.a, o.err = ReadIDX(path, magic) })
	return o.a, o.err
}

func build(dir, name string, side int, split Split) (*Set, error) {
	imgFile, lblFile := Files[0], Files[1]
	if split == Test {
		imgFile, lblFile = Files[2], Files[3]
	}
	imgPath, lblPath := filepath.Join(dir, imgFile), filepath.Join(dir, lblFile)
	imgs, err := readCached(imgPath, MagicImages)
	if err != nil {
		return nil, err
	}
	lbls, err := readCached(lblPath, MagicLabels)
	if err != nil {
		return nil, err
	}
	if imgs.Dims[1] != 28 || imgs.Dims[2] != 28 {
		return nil, fmt.Errorf("mnist: %s: images are %d×%d, want 28×28", imgPath, imgs.Dims[1], imgs.Dims[2])
	}
	n := imgs.Dims[0]
	if lbls.Dims[0] != n {
		return nil, fmt.Errorf("mnist: %s holds %d labels but %s holds %d images; want one label per image", lblPath, lbls.Dims[0], imgPath, n)
	}
	s := &Set{Name: name, Split: split, Side: side, X: autograd.Zeros(n, side*side), Labels: make([]int, n)}
	for i, b := range lbls.Data {
		if b >= Classes {
			return nil, fmt.Errorf("mnist: %s: label %d of image %d, want a digit 0–9", lblPath, b, i)
		}
		s.Labels[i] = int(b)
	}
	var lut [256]float64
	for b := range lut {
		lut[b] = Scale(byte(b))
	}
	for i := range n {
		img, row := imgs.Data[i*784:(i+1)*784], s.X.Row(i)
		if side == 28 {
			for j, b := range img {
				row[j] = lut[b]
			}
			continue
		}
		pool(row, img, &lut)
	}
	return s, nil
}

// pool writes the 2×2 average of the scaled 28×28 image img into dst [196]:
// dst[r·14 + c] = ¼ Σ_{i,j∈{0,1}} Scale(img[(2r+i)·28 + 2c+j]).
func pool(dst []float64, img []byte, lut *[256]float64) {
	for r := range 14 {
		for c := range 14 {
			k := 2*r*28 + 2*c
			dst[r*14+c] = (lut[img[k]] + lut[img[k+1]] + lut[img[k+28]] + lut[img[k+29]]) / 4
		}
	}
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Dim returns the number of pixels per image, Side².
func (s *Set) Dim() int { return s.Side * s.Side }

// Subset returns a new Set holding copies of the rows idx, in that order (indices may
// repeat). An index out of range panics with a *autograd.MisuseError.
func (s *Set) Subset(idx []int) *Set {
	d := s.Dim()
	out := &Set{Name: s.Name, Split: s.Split, Side: s.Side, X: autograd.Zeros(len(idx), d), Labels: make([]int, len(idx))}
	for k, i := range idx {
		if i < 0 || i >= s.Len() {
			panic(autograd.Misuse("mnist.Set.Subset", "index %d out of range [0, %d)", i, s.Len()))
		}
		copy(out.X.Row(k), s.X.Row(i))
		out.Labels[k] = s.Labels[i]
	}
	return out
}

// Head returns Subset(0, 1, …, n−1), the first n images (all of them if n ≥ Len).
func (s *Set) Head(n int) *Set {
	n = min(max(n, 0), s.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return s.Subset(idx)
}

// Batch draws n images uniformly with replacement from rng and returns them as x [n, Side²]
// (a copy) with their labels. n must be positive and rng not nil (else a *autograd.MisuseError
// panic). TestSet_Batch.
func (s *Set) Batch(n int, rng *rand.Rand) (x *autograd.Tensor, labels []int) {
	if n <= 0 || rng == nil {
		panic(autograd.Misuse("mnist.Set.Batch", "n = %d (want > 0), rng nil = %t", n, rng == nil))
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = rng.IntN(s.Len())
	}
	b := s.Subset(idx)
	return b.X, b.Labels
}

// Sampler returns the images as an unconditional data sampler x₁ ~ q,
// func(n, rng) = Batch(n, rng) without the labels; it converts to fm.Sampler.
func (s *Set) Sampler() func(n int, rng *rand.Rand) *autograd.Tensor {
	return func(n int, rng *rand.Rand) *autograd.Tensor {
		x, _ := s.Batch(n, rng)
		return x
	}
}

// CondSampler returns the labelled images as a conditional data sampler, the form of
// fm.TrainConfig.Cond: func(n, rng) draws Batch(n, rng) and returns the images x₁ [n, Side²]
// with their one-hot label contexts c = nn.LabelContext(labels, Classes) [n, Classes+1] (the
// last column, the null label ∅, is 0; fm.TrainConfig.CondDrop sets it during training).
// TestSet_CondSampler.
func (s *Set) CondSampler() func(n int, rng *rand.Rand) (x1, c *autograd.Tensor) {
	return func(n int, rng *rand.Rand) (*autograd.Tensor, *autograd.Tensor) {
		x, labels := s.Batch(n, rng)
		return x, nn.LabelContext(labels, Classes)
	}
}
