//! Losses, accuracy and the softmax-collapse diagnostics on `[batch, classes]` logits.
//!
//! Every loss is computed per sample first (`[batch]`), so the same code gives the training
//! loss (the mean) and the per-sample diagnostics (the fraction of samples at exactly zero loss).
//! With [`Precision::F64`] the logits are cast to float64 before the softmax / StableMax, as
//! Prieto et al. do; the result is cast back to float32, and autodiff casts the gradient too.

use burn::tensor::activation::log_softmax;
use burn::tensor::{FloatDType, Int, Tensor};

use serde::{Deserialize, Serialize};

fn dtype(precision: Precision) -> FloatDType {
    match precision {
        Precision::F32 => FloatDType::F32,
        Precision::F64 => FloatDType::F64,
    }
}

/// StableMax's s(x) = x + 1 for x ≥ 0, 1 / (1 − x) for x < 0 (Prieto et al. 2025, `utils.py`).
///
/// Both branches are evaluated on clamped inputs, so the branch not taken stays finite and its
/// (masked-out) gradient cannot turn into 0·∞ = NaN.
pub fn stablemax_s<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let positive = x.clone().greater_equal_elem(0.0);
    let linear = x.clone().clamp_min(0.0).add_scalar(1.0); // x + 1 where x ≥ 0
    let reciprocal = x.clamp_max(0.0).neg().add_scalar(1.0).recip(); // 1/(1 − x) where x < 0
    reciprocal.mask_where(positive, linear)
}

/// log StableMax along dim 1: log(s(z_k) / Σ_j s(z_j)). `[batch, classes]`.
pub fn log_stablemax(logits: Tensor<2>) -> Tensor<2> {
    let s = stablemax_s(logits); // [batch, classes]
    let total = s.clone().sum_dim(1); // [batch, 1]
    s.log() - total.log() // broadcasts [batch, 1] over classes
}

/// Per-sample loss `[batch]` in float32 (computed in `precision`).
///
/// - MSE: mean over classes of (z − one_hot(y))² (PyTorch `MSELoss()` on one-hot targets,
///   Doshi et al.); its batch mean is the usual MSE.
/// - Cross-entropy: −log softmax(z)_y.
/// - StableMax: −log stablemax(z)_y.
///
/// `targets` is `one_hot(labels)`, `[batch, classes]`, precomputed once per dataset.
pub fn per_sample_loss(
    kind: LossKind,
    precision: Precision,
    logits: Tensor<2>,
    targets: Tensor<2>,
) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let z = logits.cast(dtype(precision));
    let t = targets.cast(dtype(precision));
    let per_sample = match kind {
        LossKind::Mse => (z - t).square().mean_dim(1), // [batch, 1]
        // −Σ_k onehot_k · log p_k = −log p_y.
        LossKind::CrossEntropy => (log_softmax(z, 1) * t).sum_dim(1).neg(),
        LossKind::Stablemax => (log_stablemax(z) * t).sum_dim(1).neg(),
    };
    per_sample.reshape([batch]).cast(FloatDType::F32) // [batch, 1] -> [batch]
}

/// Mean loss over the batch, as a `[1]` tensor.
pub fn loss(
    kind: LossKind,
    precision: Precision,
    logits: Tensor<2>,
    targets: Tensor<2>,
) -> Tensor<1> {
    per_sample_loss(kind, precision, logits, targets).mean()
}

/// Fraction of rows whose argmax equals the label, as a `[1]` tensor.
pub fn accuracy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    predictions(logits).equal(labels).float().mean()
}

/// argmax over classes, `[batch, classes]` → `[batch]`.
pub fn predictions(logits: Tensor<2>) -> Tensor<1, Int> {
    let [batch, _] = logits.dims();
    logits.argmax(1).reshape([batch]) // [batch, 1] -> [batch]
}

/// Per-sample collapse of the loss's normalizer: every non-maximal term is absorbed by
/// rounding, so the top class's probability is exactly 1 in `precision` and the sample stops
/// giving gradient. Returns 1.0 / 0.0 per sample, `[batch]` (float32).
///
/// - Softmax (cross-entropy, and MSE runs): Σ_k exp(z_k − max z) == 1 exactly (Prieto et al.
///   2025, `logger.py`). In float32 this starts at a logit gap of ln 2²⁴ ≈ 16.6, in float64 at
///   ln 2⁵³ ≈ 36.7.
/// - StableMax: Σ_k s(z_k) == s(max z) exactly. s decays polynomially, so this needs gaps of
///   ~10⁷ (f32) — StableMax runs do not collapse even when their logits would have collapsed a
///   softmax long before.
pub fn softmax_collapsed(logits: Tensor<2>, kind: LossKind, precision: Precision) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let z = logits.cast(dtype(precision));
    let collapsed = match kind {
        LossKind::Stablemax => {
            let s = stablemax_s(z); // [batch, classes]
            s.clone().sum_dim(1).equal(s.max_dim(1)) // [batch, 1]
        }
        LossKind::CrossEntropy | LossKind::Mse => {
            let max = z.clone().max_dim(1); // [batch, 1]
            (z - max).exp().sum_dim(1).equal_elem(1.0) // [batch, 1]
        }
    };
    collapsed.float().cast(FloatDType::F32).reshape([batch])
}

/// Training loss on the p output logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Mean squared error against one-hot targets, averaged over samples and classes
    /// (PyTorch's `MSELoss()`, as in Doshi et al.).
    Mse,
    /// Softmax cross-entropy, averaged over samples.
    CrossEntropy,
    /// StableMax cross-entropy (Prieto et al. 2025): softmax with exp replaced by
    /// s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0), which cannot collapse numerically.
    Stablemax,
}

/// Float type of the loss (logits are cast before the softmax / StableMax).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    F32,
    /// Only on backends with f64 (the CPU backend; WebGPU has none).
    F64,
}
