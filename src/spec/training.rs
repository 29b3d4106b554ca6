//! Settings every lab shares: the optimizer and the training budget, each validated under the
//! lab's field prefix (`grokking.optimizer.lr`, `scans.training.steps`).

use serde::{Deserialize, Serialize};

use super::SpecError;
use super::schema::{Field, FloatRange, When};

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

/// The optimizer's ranges: `validate()` checks them and the form's schema shows them.
pub const LR: FloatRange = FloatRange::open_closed(0.0, 1000.0);
pub const WEIGHT_DECAY: FloatRange = FloatRange::closed(0.0, 100.0);
pub const BETA: FloatRange = FloatRange::closed_open(0.0, 1.0);
pub const EPS: FloatRange = FloatRange::closed(1e-30, 1.0);
pub const MOMENTUM: FloatRange = FloatRange::closed_open(0.0, 1.0);
pub const MAX_WARMUP_STEPS: u64 = 1_000_000;
pub const GRAD_CLIP: FloatRange = FloatRange::closed(0.0, 1e6);
/// The budget's ranges.
pub const MAX_STEPS: u64 = 10_000_000;
pub const MAX_EVAL_EVERY: u64 = 1_000_000;

/// `x` is in `range`, or the error names `field` and the range.
pub(crate) fn check_range(x: f64, range: FloatRange, field: &str) -> Result<(), SpecError> {
    check(range.contains(x), field, || format!("must be in {} (got {x})", range.text()))
}

impl OptimizerSpec {
    /// Checks every field; errors name `{prefix}.{field}`.
    pub fn validate(&self, prefix: &str) -> Result<(), SpecError> {
        let o = self;
        let f = |name: &str| format!("{prefix}.{name}");
        check_range(o.lr, LR, &f("lr"))?;
        check_range(o.weight_decay, WEIGHT_DECAY, &f("weight_decay"))?;
        check_range(o.beta1, BETA, &f("beta1"))?;
        check_range(o.beta2, BETA, &f("beta2"))?;
        check_range(o.eps, EPS, &f("eps"))?;
        check_range(o.momentum, MOMENTUM, &f("momentum"))?;
        check(o.warmup_steps <= MAX_WARMUP_STEPS, &f("warmup_steps"), || {
            format!("must be in 0..={MAX_WARMUP_STEPS} (got {})", o.warmup_steps)
        })?;
        check(GRAD_CLIP.contains(o.grad_clip), &f("grad_clip"), || {
            format!("must be in {}, 0 = off (got {})", GRAD_CLIP.text(), o.grad_clip)
        })?;
        Ok(())
    }

    /// The optimizer's form fields under `prefix` (`scans.optimizer`); a lab picks the ones its
    /// form shows and may add to their help.
    pub fn fields(prefix: &str) -> OptimizerFields {
        let p = |name: &str| format!("{prefix}.{name}");
        let not_sgd = || When::not_equals(&p("kind"), "sgd");
        OptimizerFields {
            kind: Field::choice(&p("kind"), "Optimizer", &[("adam_w", "AdamW"), ("adam", "Adam"), ("sgd", "SGD")])
                .help("AdamW (decoupled weight decay, Loshchilov & Hutter 2019), Adam with L2 decay, or SGD with momentum."),
            orthograd: Field::bool(&p("orthograd"), "⊥Grad")
                .help("⊥Grad: remove the gradient's component along the weights, keep its norm, then step (Prieto et al. 2025)."),
            lr: Field::float(&p("lr"), "Learning rate", LR).help("Learning rate."),
            weight_decay: Field::float(&p("weight_decay"), "Weight decay", WEIGHT_DECAY)
                .help("Weight-decay coefficient: decoupled for AdamW, an L2 term on the gradient for Adam and SGD."),
            beta1: Field::float(&p("beta1"), "β₁", BETA).when(not_sgd())
                .help("Adam's first-moment decay β₁."),
            beta2: Field::float(&p("beta2"), "β₂", BETA).when(not_sgd())
                .help("Adam's second-moment decay β₂."),
            eps: Field::float(&p("eps"), "ε", EPS).when(not_sgd())
                .help("Adam's ε added to the denominator."),
            momentum: Field::float(&p("momentum"), "Momentum", MOMENTUM).when(When::equals(&p("kind"), "sgd"))
                .help("SGD momentum; 0 = plain SGD."),
            warmup_steps: Field::int(&p("warmup_steps"), "Warm-up steps", 0, MAX_WARMUP_STEPS)
                .help("Linear learning-rate warm-up over this many steps (0 = none; Nanda et al. use 10)."),
            grad_clip: Field::float(&p("grad_clip"), "Clip ‖g‖ (0 = off)", GRAD_CLIP)
                .help("Clip the global gradient L2 norm to this value before each step; 0 = off."),
        }
    }
}

/// The optimizer's form fields, one per spec field.
pub struct OptimizerFields {
    pub kind: Field,
    pub orthograd: Field,
    pub lr: Field,
    pub weight_decay: Field,
    pub beta1: Field,
    pub beta2: Field,
    pub eps: Field,
    pub momentum: Field,
    pub warmup_steps: Field,
    pub grad_clip: Field,
}

impl TrainingSpec {
    /// Checks every field; errors name `{prefix}.{field}`. A batch holds at most `max_batch`
    /// of the lab's `unit` (training pairs, sequences).
    pub fn validate(&self, prefix: &str, max_batch: usize, unit: &str) -> Result<(), SpecError> {
        let tr = self;
        check((1..=MAX_STEPS).contains(&tr.steps), &format!("{prefix}.steps"), || {
            format!("must be in 1..={MAX_STEPS} (got {})", tr.steps)
        })?;
        check(tr.batch_size <= max_batch, &format!("{prefix}.batch_size"), || {
            format!(
                "must be 0 (full batch) or at most the {max_batch} {unit} (got {})",
                tr.batch_size
            )
        })?;
        check(
            (1..=MAX_EVAL_EVERY).contains(&tr.eval_every),
            &format!("{prefix}.eval_every"),
            || format!("must be in 1..={MAX_EVAL_EVERY} (got {})", tr.eval_every),
        )?;
        Ok(())
    }

    /// The budget's steps and evaluation interval under `prefix` (`grokking.training`); the
    /// batch size is each lab's own field (its unit and bounds differ).
    pub fn fields(prefix: &str) -> TrainingFields {
        TrainingFields {
            steps: Field::int(&format!("{prefix}.steps"), "Steps", 1, MAX_STEPS)
                .help("Optimizer steps to run."),
            eval_every: Field::int(
                &format!("{prefix}.eval_every"),
                "Evaluate every",
                1,
                MAX_EVAL_EVERY,
            )
            .help("Measure the metrics every this many steps."),
        }
    }
}

/// The budget's form fields that every lab shares.
pub struct TrainingFields {
    pub steps: Field,
    pub eval_every: Field,
}

/// The seed's form field (`{lab}.seed`): any whole number; past 2⁵³ the page passes the digits
/// as a string, which the spec reads exactly (`spec::seed`).
pub fn seed_field(lab: &str, help: &str) -> Field {
    Field::int_from(&format!("{lab}.seed"), "Seed", 0).help(help)
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
