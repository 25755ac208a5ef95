// Package data provides the 2-D toy distributions of the flow-matching literature, their exact
// (or quadrature) log-densities and differential entropies, and readers and writers for user
// data in CSV and NumPy .npy files.
//
// # Notation
//
// Data points are x₁ (t = 1 in Flow Matching); a batch of n points in d dimensions is an
// [n, d] *autograd.Tensor. All randomness comes from an explicit *rand.Rand (math/rand/v2).
//
// # Datasets
//
// Names lists the built-in sets; Sample(name, n, rng) draws from one, Lookup returns it as a
// Toy (Density and Entropic where available). Each constructor's doc comment states the exact
// formula and the convention it follows, FFJORD's lib/toy_data.py unless stated:
//
//	8gaussians     (1/8) Σ_k N(4(cos πk/4, sin πk/4)/√2, (0.5/√2)² I)   exact log p; H ≈ 2.83
//	gaussian       N(0, I₂)                                              H = ln(2πe) = 2.8379
//	checkerboard   uniform on 8 squares of side 2 in [−4, 4)²             p = 1/32, H = ln 32
//	moons          make_moons(noise 0.1)·2 + (−1, −0.2)                  H = H(moons-sklearn) + 2 ln 2
//	moons-sklearn  make_moons(noise 0.1)                                  H ≈ 1.006
//	moons-peer     2·make_moons(noise 0.05) − (1, 0.25) (torch peer)      H ≈ 0.294 + 2 ln 2
//	pinwheel       5 arms, x = 2·R(−2πk/5 − 0.25 e^a)·(a, b)             exact log p; H ≈ 2.32
//	circles, rings, 2spirals, swissroll                                   see their constructors
//
// GaussianMixture is the user-defined mixture (any dimension, full covariances).
//
// # Entropies
//
// The differential entropy H = −∫ p log p is the floor of the expected negative
// log-likelihood of any model: E[NLL] = H + KL(p ‖ model). Entropy(name) returns it in
// closed form where one exists, otherwise as the Monte-Carlo average of −log p over samples,
// with its standard error. log p is exact for Gaussian mixtures and for pinwheel (a sum over
// every preimage of x under its folding map; see pinwheel.go) and computed by 1-D Simpson
// quadrature over the curve parameter for the noisy-curve sets (moons, circles, rings,
// 2spirals, swissroll; see curves.go). Values from Entropy (seeded, so reproducible):
//
//	checkerboard   3.4657 exact       gaussian       2.8379 exact
//	8gaussians     2.8313 ± 0.0022    moons-sklearn  0.9986 ± 0.0052
//	moons          2.3849 ± 0.0052    moons-peer     1.6672 ± 0.0051
//	circles        3.2688 ± 0.0055    rings          2.6233 ± 0.0062
//	2spirals       2.6476 ± 0.0050    swissroll      2.6620 ± 0.0054
//	pinwheel       2.3174 ± 0.0022
//
// TestEntropy_KnownValues checks these against exact values, 2-D quadrature of −∫ p log p
// (8gaussians) and independent Monte-Carlo estimates (8gaussians ≈ 2.829 over 2·10⁵ samples;
// unscaled moons, noise 0.1 and 0.05, ≈ 1.006 and 0.294 ± 0.004); pinwheel's also against
// −∫ p log p by 2-D quadrature (2.31779, TestPinwheel_Normalised).
//
// # Files
//
// ReadCSV and ReadNPY load user data as [n, d] tensors and reject malformed, ragged,
// non-numeric and non-finite input with an error naming the file and the line and field (CSV)
// or the header problem (.npy). WriteCSV and WriteNPY write atomically (temporary file, then
// rename).
//
// # References
//
//   - Grathwohl, Chen, Bettencourt, Sutskever, Duvenaud 2018, FFJORD, arXiv:1810.01367 (toy data,
//     github.com/rtqichen/ffjord lib/toy_data.py).
//   - Pedregosa et al. 2011, scikit-learn (make_moons, make_circles, make_swiss_roll).
//   - NumPy Enhancement Proposal 1, the .npy format (versions 1.0–3.0).
package data
