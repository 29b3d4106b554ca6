//! Settings every lab shares: the optimizer and the training budget, each validated under the
//! lab's field prefix (`grokking.optimizer.lr`, `scans.training.steps`).

use serde::{Deserialize, Serialize};

use super::SpecError;

/// Optimizer family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam with decoupled weight decay: w ← w·(1 − lr·wd) − lr·adam(g) (Loshchilov & Hutter).
    AdamW,
    /// Adam with L2 weight decay added to the gradient.
    Adam,
    /// SGD with optional momentum and L2 weight decay.
    Sgd,
}

/// Optimizer settings. Fields that do not apply to `kind` are ignored (momentum for Adam, betas
/// for SGD).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerSpec {
    pub kind: OptimizerKind,
    /// Learning rate, in (0, 1000] (SGD on a scaled output needs large ones: Kumar et al. use
    /// 100/α²).
    pub lr: f64,
    /// Weight decay, in [0, 100].
    pub weight_decay: f64,
    /// Adam β₁, in [0, 1).
    pub beta1: f64,
    /// Adam β₂, in [0, 1).
    pub beta2: f64,
    /// Adam ε, in [1e-30, 1] (Prieto et al. use 1e-25).
    pub eps: f64,
    /// SGD momentum, in [0, 1).
    pub momentum: f64,
    /// Linear learning-rate warm-up over this many steps (0 = none).
    pub warmup_steps: u64,
    /// ⊥Grad (Prieto et al. 2025): remove the gradient's component along the weights (per
    /// tensor), rescale to the original norm, then step the optimizer above.
    pub orthograd: bool,
    /// Clip the global gradient L2 norm to this value before the step; 0 = off. [0, 1e6].
    pub grad_clip: f64,
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::AdamW,
            lr: 1e-2,
            weight_decay: 5.0,
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-8,
            momentum: 0.0,
            warmup_steps: 0,
            orthograd: false,
            grad_clip: 0.0,
        }
    }
}

/// How long to train and how often to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSpec {
    /// Optimizer steps to run (= epochs when full batch), 1..=10⁷.
    pub steps: u64,
    /// Minibatch size; 0 means full batch (every training pair, every step).
    pub batch_size: usize,
    /// Evaluate train/test metrics every this many steps, 1..=10⁶. Each evaluation is one
    /// readback from the device, so on a GPU a larger value keeps the GPU busier.
    pub eval_every: u64,
}

impl Default for TrainingSpec {
    fn default() -> Self {
        Self { steps: 100, batch_size: 0, eval_every: 1 }
    }
}

impl OptimizerSpec {
    /// Checks every field; errors name `{prefix}.{field}`.
    pub fn validate(&self, prefix: &str) -> Result<(), SpecError> {
        let o = self;
        let f = |name: &str| format!("{prefix}.{name}");
        check(finite_in(o.lr, 0.0, 1000.0, true, false), &f("lr"), || {
            format!("must be in (0, 1000] (got {})", o.lr)
        })?;
        check(finite_in(o.weight_decay, 0.0, 100.0, false, false), &f("weight_decay"), || {
            format!("must be in [0, 100] (got {})", o.weight_decay)
        })?;
        check(finite_in(o.beta1, 0.0, 1.0, false, true), &f("beta1"), || {
            format!("must be in [0, 1) (got {})", o.beta1)
        })?;
        check(finite_in(o.beta2, 0.0, 1.0, false, true), &f("beta2"), || {
            format!("must be in [0, 1) (got {})", o.beta2)
        })?;
        check(finite_in(o.eps, 1e-30, 1.0, false, false), &f("eps"), || {
            format!("must be in [1e-30, 1] (got {})", o.eps)
        })?;
        check(finite_in(o.momentum, 0.0, 1.0, false, true), &f("momentum"), || {
            format!("must be in [0, 1) (got {})", o.momentum)
        })?;
        check(o.warmup_steps <= 1_000_000, &f("warmup_steps"), || {
            format!("must be in 0..=1000000 (got {})", o.warmup_steps)
        })?;
        check(finite_in(o.grad_clip, 0.0, 1e6, false, false), &f("grad_clip"), || {
            format!("must be in [0, 1000000], 0 = off (got {})", o.grad_clip)
        })?;
        Ok(())
    }
}

impl TrainingSpec {
    /// Checks every field; errors name `{prefix}.{field}`. A batch holds at most `max_batch`
    /// of the lab's `unit` (training pairs, sequences).
    pub fn validate(&self, prefix: &str, max_batch: usize, unit: &str) -> Result<(), SpecError> {
        let tr = self;
        check((1..=10_000_000).contains(&tr.steps), &format!("{prefix}.steps"), || {
            format!("must be in 1..=10000000 (got {})", tr.steps)
        })?;
        check(tr.batch_size <= max_batch, &format!("{prefix}.batch_size"), || {
            format!(
                "must be 0 (full batch) or at most the {max_batch} {unit} (got {})",
                tr.batch_size
            )
        })?;
        check((1..=1_000_000).contains(&tr.eval_every), &format!("{prefix}.eval_every"), || {
            format!("must be in 1..=1000000 (got {})", tr.eval_every)
        })?;
        Ok(())
    }
}

pub(crate) fn check(
    ok: bool,
    field: &str,
    message: impl FnOnce() -> String,
) -> Result<(), SpecError> {
    if ok { Ok(()) } else { Err(SpecError::new(field, message())) }
}

pub(crate) fn finite_in(x: f64, lo: f64, hi: f64, lo_open: bool, hi_open: bool) -> bool {
    x.is_finite()
        && (if lo_open { x > lo } else { x >= lo })
        && (if hi_open { x < hi } else { x <= hi })
}

pub(crate) fn in_range(x: usize, lo: usize, hi: usize, field: &str) -> Result<(), SpecError> {
    check((lo..=hi).contains(&x), field, || format!("must be in {lo}..={hi} (got {x})"))
}

/// A model name usable in a series name and a URL-hash path: 1–24 of `[a-z0-9_-]`.
pub fn valid_variant_name(name: &str) -> bool {
    (1..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
