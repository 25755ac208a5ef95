// Package steparena holds, once for the module, what every training loop
// that builds a graph per step does with an autograd.Arena: one arena per
// run (New), the step's batch entered into it (In), and Reset after the
// optimizer step, so that a steady-state step allocates no tensor storage.
// fm.Train, fm.TrainParam, riemann.Train and discrete.Train use it, and
// so do the samplers fm.SampleSDE, riemann.Integrate (through
// cnf.ArenaField) and discrete.Euler, EulerDistribution and Gillespie for
// their model's evaluations.
//
// Tests install another constructor with Set: a poisoned arena (Poisoned,
// whose Reset fills every released buffer with NaN, so a tensor that escaped
// its step shows) or none (Heap: nil, the garbage-collected heap), run the
// same loop both ways and compare the losses and parameters bit for bit
// (BitDiff): fm's TestTrain_ArenaBitIdentical and
// TestTrainParam_ArenaBitIdentical, riemann's and discrete's
// TestTrain_ArenaBitIdentical. PerStep measures the bytes and objects a
// steady step allocates, for the loops' benchmarks (fm's
// BenchmarkTrainParamStep, riemann's and discrete's BenchmarkTrainStep),
// which report them through steparenatest.ReportPerStep. TestBitDiff, TestPerStep, TestIn and TestSet
// check the helpers.
//
// # Notation
//
// A run is a loop of steps; step s draws a batch (x₀, x₁, t), builds the
// loss L_s(θ) as a graph, propagates ∂L_s/∂θ into the parameters' Grad and
// updates θ. Everything the graph of step s holds is dead once θ is
// updated, which is why one Reset per step is enough.
//
// # References
//
//   - Lipman et al. 2022, "Flow Matching for Generative Modeling",
//     arXiv:2210.02747, Algorithm 1 (the training loop).
//   - Paszke et al. 2019, "PyTorch: An Imperative Style, High-Performance
//     Deep Learning Library", arXiv:1912.01703, §5.3 (a caching allocator:
//     freed blocks are kept by size and handed out again).
package steparena
