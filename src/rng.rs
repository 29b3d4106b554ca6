//! Seeded random streams. One seed drives a run; each consumer (split, label noise, init, batch
//! order) draws from its own ChaCha stream, so changing one consumer never shifts another's
//! numbers, and results are identical across platforms (ChaCha is specified bit-for-bit).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Independent random streams derived from one run seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Train/test split of the pairs.
    Split = 0,
    /// Which training labels are corrupted, and their new classes.
    LabelNoise = 1,
    /// Weight initialization.
    Init = 2,
    /// Minibatch order.
    Batches = 3,
    /// Sequences of a memory task (scans lab): training batches.
    Sequences = 4,
    /// Sequences of a memory task held out for evaluation.
    EvalSequences = 5,
    /// The gradient-flow lab's teacher (or low-rank map).
    Teacher = 6,
    /// The gradient-flow lab's inputs: training batches.
    FlowInputs = 7,
    /// The gradient-flow lab's fixed probe batch (`inspect gradients`, the at-init profile).
    ProbeInputs = 8,
}

/// A reproducible generator for `stream` of the run with `seed`.
pub fn stream(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}
