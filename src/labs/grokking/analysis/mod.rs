//! Host-side analysis of a trained model and of a run's history: the Fourier view and IPR
//! (`fourier`), the "did it grok?" verdict (`verdict`), and the types of an [`Analysis`]
//! snapshot. Everything here is plain f64 Rust on numbers read back from the device, so it is
//! identical on every backend and is its own reference.

pub mod fourier;
pub mod verdict;

use serde::{Deserialize, Serialize};

pub use fourier::Spectrum;
pub use verdict::{GrokReport, Verdict};

/// Fractions of first-layer neurons pruned (lowest IPR first) in the pruning curve.
pub const PRUNE_FRACTIONS: &[f64] = &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// What the model predicts for one cell (a, b) of the p × p grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellClass {
    /// Not in the dataset (b = 0 for division, a > b for unordered pairs).
    Absent,
    TrainCorrect,
    TrainWrong,
    TestCorrect,
    TestWrong,
    /// A corrupted training label, predicted as the corrupted class (memorized).
    NoisyMemorized,
    /// A corrupted training label, predicted as the true class (generalized past the noise).
    NoisyGeneralized,
    /// A corrupted training label, predicted as neither.
    NoisyOther,
}

/// One point of Doshi et al.'s pruning experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruningPoint {
    /// Fraction of first-layer neurons zeroed, lowest IPR first.
    pub fraction: f64,
    /// Accuracy on the training pairs against their true labels.
    pub train_clean_acc: f64,
    /// Accuracy on the training labels as trained (corrupted ones included).
    pub train_acc: f64,
    pub test_acc: f64,
}

/// A snapshot of the heavier views at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub step: u64,
    pub p: u32,
    /// Fourier spectrum of the operand map (first layer / embedding over the values of a).
    pub spectrum: Spectrum,
    /// Per-unit IPR (neurons of the MLP's first layer, or embedding dimensions).
    pub ipr: Vec<f64>,
    /// p × p cells, row a, column b.
    pub grid: Vec<CellClass>,
    /// MLP only: accuracies as low-IPR neurons are pruned.
    pub pruning: Vec<PruningPoint>,
}
