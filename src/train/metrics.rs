//! What a run reports at each evaluation: one JSON object per logged step (`--out metrics.jsonl`,
//! the worker's messages, the page's chart).

use serde::{Deserialize, Serialize};

use crate::spec::ExperimentSpec;

/// Version of the metrics-file format. 2: the file starts with a [`file_header`] line; files
/// without one (version 1) were written before 2026-11-27, when the transformer's causal mask
/// was inverted, so version-1 files of transformer runs describe that broken model.
pub const METRICS_FORMAT_VERSION: u32 = 2;

/// The first line of a metrics file: `{"format": "gradscope-metrics", "version", "lab",
/// "spec"}`. Records follow, one per line; readers skip lines without a `step`.
pub fn file_header(spec: &ExperimentSpec) -> String {
    let spec: serde_json::Value = serde_json::from_str(&spec.to_json()).expect("specs serialize");
    let lab = spec.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    serde_json::json!({
        "format": "gradscope-metrics",
        "version": METRICS_FORMAT_VERSION,
        "lab": lab,
        "spec": spec,
    })
    .to_string()
}

/// Metrics at one step. Losses and accuracies are over the whole train / test split, with the
/// weights as they are after `step` optimizer updates. The diagnostics after `wall_ms` default
/// when absent, so a metrics file with only the first seven fields still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub step: u64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    /// L2 norm of all weights, √Σw².
    pub weight_norm: f64,
    /// Training wall time so far in milliseconds (paused time excluded).
    pub wall_ms: f64,
    /// Fraction of training samples whose loss normalizer has collapsed: Σ exp(z − max z) == 1
    /// exactly in the loss's float type (Prieto et al. 2025), or for StableMax Σ s(z) == s(max z)
    /// (see `train::loss::softmax_collapsed`).
    #[serde(default)]
    pub softmax_collapse: f64,
    /// Fraction of training samples with a loss of exactly 0.
    #[serde(default)]
    pub zero_loss: f64,
    /// cos(g, w) of the last step's full gradient and the weights: the "naïve loss
    /// minimization" direction ⊥Grad removes. `None` before the first step.
    #[serde(default)]
    pub nlm_cosine: Option<f64>,
    /// ‖g‖ of the last step's gradient (before clipping / ⊥Grad).
    #[serde(default)]
    pub grad_norm: Option<f64>,
    /// With label noise: accuracy on the training pairs against their true labels.
    #[serde(default)]
    pub train_clean_acc: Option<f64>,
    /// With label noise: fraction of corrupted training labels the model reproduces.
    #[serde(default)]
    pub corrupted_fit: Option<f64>,
    /// L2 norm of each weight tensor, in the order of the run summary's `param_names`.
    #[serde(default)]
    pub layer_norms: Vec<f64>,
}

impl MetricsRecord {
    /// The first non-finite metric, in the order a user would look for it.
    pub fn first_non_finite(&self) -> Option<&'static str> {
        [
            ("train_loss", self.train_loss),
            ("test_loss", self.test_loss),
            ("weight_norm", self.weight_norm),
            ("grad_norm", self.grad_norm.unwrap_or(0.0)),
            ("train_acc", self.train_acc),
            ("test_acc", self.test_acc),
        ]
        .into_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|(name, _)| name)
    }
}
