// Package classify measures generated images with a classifier trained by this repository's own
// autograd: the class accuracy of conditional samples, the Fréchet distance of their
// penultimate-layer features to real images (an analogue of the Fréchet Inception Distance)
// with its real-vs-real floor, and the diversity of each class.
//
// # Notation
//
// Images are rows of x [n, d] (d = 784 for 28×28 MNIST, 196 for 14×14, values in [−1, 1]; see
// package data/mnist), labels yᵢ ∈ {0, …, K−1}. The classifier is an MLP
// x → h₁ → … → h_L → logits, softmax(logits) = p(y|x); its features are φ(x) = h_L, the last
// hidden layer after its activation. For generated images, the labels are the classes the
// sampler was asked for (the context c of a conditional model v_θ(t, x, c), x₁ at t = 1).
//
// # Measures
//
//	Train            Adam on the mean cross-entropy −log softmax(Net(xᵢ))_{yᵢ}
//	Accuracy         (1/n) Σ 1[argmax Net(xᵢ) = yᵢ] ± √(a(1 − a)/n)
//	FrechetDistance  ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2(Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}) of φ
//	Floor            the same between the test set and as many training images
//	Diversity        D_k = mean ‖φ(xᵢ) − φ(xⱼ)‖² over pairs of class k = 2 tr Σ_k
//	Evaluate         all of the above for generated images and their requested classes
//
// Save and Load keep a trained classifier in a safetensors checkpoint (nn.SaveMLP), so the
// demo and the tutorials reuse one instead of training it again (LoadOrTrain).
//
// # Measured (2-core AMD EPYC, Zen 5, family 26; shared, load average about 30)
//
// The defaults (K = 10, hidden 256, 256, ReLU, 3 epochs of batch 128, Adam 1e-3, seed 1) on the
// full training split, by TestTrain_MNIST (run with FLOWMATCH_CLASSIFY_FULL=1):
//
//	dataset   test accuracy      training          FD floor (10,000 test vs 10,000 training)
//	mnist14   0.9755 ± 0.0015    7.2 s CPU         0.594
//	mnist     0.9762 ± 0.0015    ≤ 22 s CPU (*)    1.592
//
// (*) the whole test took 29 s of CPU (309 s wall under that load), mnist14's training 7.2 s
// of it. The Fréchet distance is measured in this classifier's features, so its values, floor
// included, belong to one trained classifier: compare models with the same classifier file
// (Save, LoadOrTrain).
//
// # References
//
//   - Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter 2017, GANs Trained by a Two Time-Scale
//     Update Rule Converge to a Local Nash Equilibrium, arXiv:1706.08500 (FID: the Fréchet
//     distance of Gaussians fitted to a classifier's features, §3 and eq. 6).
//   - Dowson & Landau 1982, The Fréchet distance between multivariate normal distributions,
//     J. Multivariate Anal. 12.
//   - LeCun, Bottou, Bengio, Haffner 1998, Gradient-based learning applied to document
//     recognition, Proc. IEEE 86(11) (MNIST).
//   - Kingma & Ba 2014, Adam: A Method for Stochastic Optimization, arXiv:1412.6980.
//   - Lipman, Chen, Ben-Hamu, Nickel, Le 2022, Flow Matching for Generative Modeling,
//     arXiv:2210.02747 (the samples being measured; data x₁ at t = 1).
package classify
