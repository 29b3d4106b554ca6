//! What the grokking lab reports at each evaluation: flat named numbers, the shape format-1
//! metrics files have.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::train::metrics::{Record, RunMetrics};

/// A grokking record with its step: what grokking tests and tools read (`r.test_acc`).
pub type GrokkingRecord = Record<GrokkingMetrics>;

/// The grokking lab's metrics at one step. Losses and accuracies are over the whole train /
/// test split, with the weights as they are after `step` optimizer updates. The diagnostics
/// default when absent, so a metrics file with only the first five fields still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrokkingMetrics {
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    /// L2 norm of all weights, √Σw².
    #[serde(default)]
    pub weight_norm: f64,
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

impl GrokkingMetrics {
    /// The first non-finite metric, in the order a user would look for it.
    pub fn first_non_finite_name(&self) -> Option<&'static str> {
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

impl GrokkingMetrics {
    /// One line for a progress bar: accuracies and losses.
    pub fn progress_text(&self) -> String {
        format!(
            "train {:.3}/{:.4}  test {:.3}/{:.4}",
            self.train_acc, self.train_loss, self.test_acc, self.test_loss
        )
    }
}

impl RunMetrics for GrokkingMetrics {
    fn first_non_finite(&self) -> Option<String> {
        self.first_non_finite_name().map(str::to_string)
    }

    fn from_file_fields(
        fields: Map<String, Value>,
        _lab: Option<&str>,
    ) -> Result<Self, (String, String)> {
        serde_path_to_error::deserialize(Value::Object(fields)).map_err(|e| {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." { "(record)".to_string() } else { path };
            let inner = e.into_inner().to_string();
            (field, inner.split(" at line ").next().unwrap_or_default().to_string())
        })
    }

    fn lab(&self) -> Option<&'static str> {
        Some("grokking")
    }
}
