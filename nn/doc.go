// Package nn builds trainable models on package autograd: layers and
// activations, the velocity network v_θ(t, x) of flow matching, optimizers
// (SGD, Adam, AdamW), gradient clipping, an exponential moving average of
// parameters, and checkpoints in the safetensors format.
//
// # Modules and parameters
//
// A Module lists its trainable tensors (Params); NamedParams gives them
// stable, PyTorch-style names ("layers.0.weight") for checkpoints. A layer
// stores y = x·W + b with W [in, out], so a batch [n, in] maps to [n, out]
// with one matrix product and no transpose. Frozen returns a view of a model
// whose parameters share Data but require no gradient: inference, and
// input-gradients such as the divergence ∇ₓ·v_θ, then cost no weight
// gradients.
//
// # Conditional fields
//
// A VelocityMLP may read a context c ∈ ℝ^k (NewCondVelocityMLP; Ctx): the
// MLP's input row is then (x, t, c) and ForwardCond evaluates v_θ(t, x, c),
// the conditional field of class-conditional generation, classifier-free
// guidance (Ho & Salimans 2022) and flow-matching posterior estimation
// (Dax et al. 2023, where c is an observation). A class label is the
// one-hot row of width K+1 made by LabelContext, whose last column is the
// null label ∅ (NullLabel); the rows of the first layer's weight that
// multiply those columns are the learned label-embedding table, added to the
// first pre-activation (TestLabelContext_IsEmbedding), so a
// label-conditioned model (NewLabelVelocityMLP) is the same MLP with the
// same fused path. The fused step (TrainStep.LossGradCond) and evaluator
// (Evaluator.EvalCond, EvalDivCond, EvalGuided, the last computing
// (1 − w)·v_θ(t, x, ∅) + w·v_θ(t, x, c) in one stacked pass) serve
// conditional models too; checkpoints record the context (MetaContext).
//
// # Training
//
// An Optimizer reads each parameter's Grad (filled by Backward) and updates
// its Data in place; Step allocates nothing after construction. Adam and AdamW
// follow torch.optim.Adam and torch.optim.AdamW step for step, bias correction
// included (TestAdam_HandComputedTwoSteps).
//
// # Checkpoints
//
// SaveMLP and SaveVelocityMLP write a model's parameters and its
// architecture (the metadata keys MetaModel, MetaSizes, MetaActivation) to a
// safetensors file, atomically; LoadMLP and LoadVelocityMLP rebuild the model
// from the file alone and return the rest of the metadata. The file format
// itself (header, dtype, offsets, atomic write, a loader that never panics)
// is package nn/safetensors, which knows nothing of models. A corrupt file
// or metadata that contradicts the tensors is a *safetensors.Error naming
// the file, the key and the value (TestCheckpoint_BadMetadata).
//
// # Notation
//
// x₀ is noise at t = 0 and x₁ data at t = 1; ψ_t is the flow map, u_t the
// target field and v_θ the model field, v_θ(t, x) with x [batch, dim] and
// t [batch, 1]. θ are the parameters, g = ∂L/∂θ their gradient, η the
// learning rate, k the step count (from 1), ⊙ the element-wise product and
// all arithmetic on vectors is element-wise.
//
// # References
//
//   - Lipman et al. 2022, Flow Matching for Generative Modeling, arXiv:2210.02747
//     (the velocity MLP on (x, t) and its training loss).
//   - Chen et al. 2018, Neural Ordinary Differential Equations, arXiv:1806.07366.
//   - Grathwohl et al. 2018, FFJORD, arXiv:1810.01367 (divergences of v_θ,
//     the toy data sets).
//   - Tong et al. 2023, Improving and Generalizing Flow-Based Generative
//     Models with Minibatch Optimal Transport, arXiv:2302.00482.
//   - Liu et al. 2022, Flow Straight and Fast: Rectified Flow, arXiv:2209.03003.
//   - Kingma & Ba 2014, Adam, arXiv:1412.6980; Loshchilov & Hutter 2017,
//     Decoupled Weight Decay Regularization (AdamW), arXiv:1711.05101;
//     torch.optim.Adam / AdamW for the exact update used here.
//   - He et al. 2015, arXiv:1502.01852, and torch.nn.Linear.reset_parameters
//     for the U(±1/√fan_in) initialization.
//   - Vaswani et al. 2017, Attention Is All You Need, arXiv:1706.03762, and
//     Ho et al. 2020, DDPM, arXiv:2006.11239, for sinusoidal time embeddings.
//   - Ho & Salimans 2022, Classifier-Free Diffusion Guidance,
//     arXiv:2207.12598 (the null label, label dropout, the guided field).
//   - Zheng, Le, Shaul, Lipman, Grover, Chen 2023, Guided Flows for
//     Generative Modeling and Decision Making, arXiv:2311.13443 (guidance
//     for flow-matching velocities).
//   - Dax, Wildberger, Buchholz, Green, Macke, Schölkopf 2023, Flow Matching
//     for Scalable Simulation-Based Inference, arXiv:2305.17161 (a
//     real-vector context: posteriors p(θ|x)).
//   - Hugging Face safetensors format specification,
//     https://github.com/huggingface/safetensors.
package nn
