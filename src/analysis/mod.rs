//! Host-side analysis of a trained model and of a run's history: the Fourier view and IPR
//! (`fourier`), the "did it grok?" verdict (`verdict`), and the types of an [`Analysis`]
//! snapshot. Everything here is plain f64 Rust on numbers read back from the device, so it is
//! identical on every backend and is its own reference.

pub mod fourier;
pub mod gradient_flow;
pub mod scans;
pub mod verdict;

use serde::{Deserialize, Serialize};

pub use fourier::Spectrum;
pub use gradient_flow::FlowReport;
pub use scans::{ScansAnalysis, ScansReport};
pub use verdict::{GrokReport, Verdict};

use crate::train::MetricsRecord;

/// A lab's running summary of its history (the page's badge). Untagged: a grokking report
/// keeps its format-1 JSON shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabReport {
    Grokking(GrokReport),
    Scans(ScansReport),
    GradientFlow(FlowReport),
}

impl LabReport {
    /// The empty report of lab `lab` (a spec's top-level key).
    pub fn for_lab(lab: &str) -> Self {
        match lab {
            "scans" => LabReport::Scans(ScansReport::default()),
            "gradient_flow" => LabReport::GradientFlow(FlowReport::default()),
            _ => LabReport::Grokking(GrokReport::default()),
        }
    }

    /// Folds in the next evaluation.
    pub fn update(&mut self, record: &MetricsRecord) {
        match self {
            LabReport::Grokking(r) => r.update(record),
            LabReport::Scans(r) => r.update(record),
            LabReport::GradientFlow(r) => r.update(record),
        }
    }

    /// The report of a history (e.g. a metrics file), its lab read from its records.
    pub fn from_history(history: &[MetricsRecord]) -> Self {
        let lab = match history.first() {
            Some(r) if gradient_flow::is_flow_record(r) => "gradient_flow",
            Some(r) if matches!(r.lab, crate::train::metrics::LabMetrics::Series(_)) => "scans",
            _ => "grokking",
        };
        let mut report = LabReport::for_lab(lab);
        for r in history {
            report.update(r);
        }
        report
    }

    /// The fields a sweep records for a run of this lab (`gradscope sweep`), each lab naming
    /// its own: steps to grok for grokking, per-model accuracy for scans, per-stack loss for
    /// gradient flow. Non-finite numbers are written as `null`.
    pub fn sweep_fields(&self, history: &[MetricsRecord]) -> Vec<(String, serde_json::Value)> {
        match self {
            LabReport::Grokking(r) => r.sweep_fields(history),
            LabReport::Scans(r) => r.sweep_fields(history),
            LabReport::GradientFlow(r) => r.sweep_fields(history),
        }
    }

    /// Whether a sweep table shows this verdict field (the rest are in the JSON lines), and
    /// in which place among those it shows.
    pub fn headline_field(lab: &str, key: &str) -> Option<usize> {
        match lab {
            "grokking" => ["verdict", "train_step_99", "test_step_99", "final_test_acc"]
                .iter()
                .position(|k| *k == key),
            "scans" => key.ends_with(".final_test_acc").then_some(0),
            _ => key.ends_with(".final_loss").then_some(0),
        }
    }

    pub fn grokking(&self) -> Option<&GrokReport> {
        match self {
            LabReport::Grokking(r) => Some(r),
            LabReport::Scans(_) | LabReport::GradientFlow(_) => None,
        }
    }
}

/// A lab's snapshot of its heavier views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabAnalysis {
    Grokking(Analysis),
    Scans(ScansAnalysis),
    /// The gradient-flow lab: every stack's per-block profile at initialisation.
    GradientFlow(crate::experiments::gradient_probe::GradientProfile),
}

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
