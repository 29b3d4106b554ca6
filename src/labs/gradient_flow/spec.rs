//! Settings of the gradient-flow lab (`docs/science.md` §3): a regression task, the deep
//! stacks trained on it side by side (the `models` map of the scans lab: same seed, same
//! batches, series named `<name>.<metric>`), the optimizer and the budget.
//!
//! A file of this lab is `{"gradient_flow": {...}}`, its [`super::ExperimentSpec`] key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::deep_stack::{
    Activation, BlockKind, InitKind, NormKind, NormPlacement, ResidualScale,
};
use super::deep_stack::{Objective, StackConfig};
pub use super::regression::{FlowTask, FlowTaskKind};
use crate::spec::schema::FloatRange;
pub use crate::spec::{OptimizerKind, OptimizerSpec, TrainingSpec};
use crate::spec::{SpecError, check, check_range, in_range, valid_variant_name};

pub const MAX_DEPTH: usize = 64;
pub const MAX_WIDTH: usize = 1024;
pub const MAX_DIM: usize = 1024;
pub const MAX_MODELS: usize = 4;
pub const MAX_BATCH: usize = 4096;
/// Largest init gain: ×10 already saturates every activation offered.
pub const MAX_GAIN: f64 = 10.0;
pub const MAX_VOCAB: usize = 256;
/// Copying: at most 64 tokens (sequences of 128).
pub const MAX_COPY_LENGTH: usize = 64;
/// Largest z-loss weight (Wortsman et al. use 1e-4; 1 already dominates the cross-entropy).
pub const MAX_Z_LOSS: f64 = 1.0;
/// Deepest teacher MLP.
pub const MAX_TEACHER_DEPTH: usize = 16;
/// The init gain, Mix-LN's ρ and the z-loss weight, as `validate()` checks them.
pub const GAIN: FloatRange = FloatRange::open_closed(0.0, MAX_GAIN);
pub const MIX_RATIO: FloatRange = FloatRange::closed(0.0, 1.0);
pub const Z_LOSS: FloatRange = FloatRange::closed(0.0, MAX_Z_LOSS);

/// A gradient-flow run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradientFlowSpec {
    /// Seeds the stacks' inits, the teacher and the batches.
    #[serde(with = "crate::spec::seed")]
    pub seed: u64,
    pub task: FlowTask,
    /// The stacks trained side by side on the same batches, by name.
    pub models: BTreeMap<String, StackSpec>,
    pub optimizer: OptimizerSpec,
    /// `batch_size`: fresh inputs per step (0 is not allowed here).
    pub training: TrainingSpec,
}

/// One stack of the run: `depth` residual (or plain) blocks of `width`, each
/// `x → x + s·F(x)` with the MLP branch F = W_out·act(W_in x + b_in) + b_out and a norm placed
/// as `norm` says, preceded in a transformer block by a causal self-attention sublayer wired
/// the same way (see `models/deep_stack.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackSpec {
    pub depth: usize,
    pub width: usize,
    pub norm: NormPlacement,
    pub norm_kind: NormKind,
    /// Mix-LN: Post-LN for the first ⌊ρ·depth⌋ blocks (ρ as typed: 0.58 of 50 is 29), Pre-LN
    /// after (Li et al. 2024: ρ = 0.25).
    pub mix_ratio: f64,
    pub residual: ResidualScale,
    pub init: InitKind,
    /// Multiplies the init's standard deviation (Omnigrok's α; orthogonal: the matrix).
    pub gain: f64,
    pub activation: Activation,
    /// `mlp` for the vector tasks, `transformer` (attention + MLP) for the sequence task.
    pub block: BlockKind,
    /// Transformer: attention heads (`width` must be divisible by it).
    pub heads: usize,
    /// Transformer: qk-LayerNorm, LayerNorm on each head's queries and keys (Dehghani et
    /// al. 2023), which Wortsman et al. (2023) show keeps attention logits bounded at high lr.
    pub qk_norm: bool,
    /// Transformer: weight of the z-loss, z · mean (log Z)² of the output logits (PaLM;
    /// Wortsman et al. use 1e-4); 0 is off.
    pub z_loss: f64,
}

impl Default for StackSpec {
    /// A Pre-LN residual ReLU stack of 8 blocks, width 64, Kaiming init.
    fn default() -> Self {
        Self {
            depth: 8,
            width: 64,
            norm: NormPlacement::Pre,
            norm_kind: NormKind::LayerNorm,
            mix_ratio: 0.25,
            residual: ResidualScale::One,
            init: InitKind::Kaiming,
            gain: 1.0,
            activation: Activation::Relu,
            block: BlockKind::Mlp,
            heads: 4,
            qk_norm: false,
            z_loss: 0.0,
        }
    }
}

impl StackSpec {
    /// The model's configuration for `task`.
    pub fn config(&self, task: &FlowTask) -> StackConfig {
        let (input_dim, output_dim) = task.dims();
        StackConfig {
            input_dim,
            output_dim,
            depth: self.depth,
            width: self.width,
            norm: self.norm,
            norm_kind: self.norm_kind,
            mix_ratio: self.mix_ratio,
            residual: self.residual,
            init: self.init,
            gain: self.gain,
            activation: self.activation,
            block: self.block,
            heads: self.heads,
            qk_norm: self.qk_norm,
            seq_len: task.seq_len(),
            objective: if task.is_sequence() {
                Objective::Classification { z_loss: self.z_loss }
            } else {
                Objective::Regression
            },
        }
    }
}

impl Default for GradientFlowSpec {
    /// Pre-LN against Post-LN at depth 24 on the teacher–student task.
    fn default() -> Self {
        let stack = |norm| StackSpec { depth: 24, norm, ..StackSpec::default() };
        let models = BTreeMap::from([
            ("pre-ln".to_string(), stack(NormPlacement::Pre)),
            ("post-ln".to_string(), stack(NormPlacement::Post)),
        ]);
        Self {
            seed: 0,
            task: FlowTask::default(),
            models,
            optimizer: OptimizerSpec {
                kind: OptimizerKind::AdamW,
                lr: 1e-3,
                weight_decay: 0.0,
                ..OptimizerSpec::default()
            },
            training: TrainingSpec { steps: 2000, batch_size: 64, eval_every: 20 },
        }
    }
}

impl GradientFlowSpec {
    /// Checks every field against its allowed range; the error names the field and the range.
    pub fn validate(&self) -> Result<(), SpecError> {
        let t = &self.task;
        in_range(t.input_dim, 1, MAX_DIM, "gradient_flow.task.input_dim")?;
        in_range(t.output_dim, 1, MAX_DIM, "gradient_flow.task.output_dim")?;
        in_range(t.teacher_depth, 1, MAX_TEACHER_DEPTH, "gradient_flow.task.teacher_depth")?;
        let max_rank = t.input_dim.min(t.output_dim);
        in_range(t.rank, 1, max_rank, "gradient_flow.task.rank")?;
        in_range(t.vocab, 2, MAX_VOCAB, "gradient_flow.task.vocab")?;
        in_range(t.copy_length, 2, MAX_COPY_LENGTH, "gradient_flow.task.copy_length")?;
        check(
            !self.models.is_empty() && self.models.len() <= MAX_MODELS,
            "gradient_flow.models",
            || format!("must name 1..={MAX_MODELS} models (got {})", self.models.len()),
        )?;
        for (name, m) in &self.models {
            check(valid_variant_name(name), "gradient_flow.models", || {
                format!("model name `{name}` must be 1–24 characters of a–z, 0–9, _ and -")
            })?;
            let f = |field: &str| format!("gradient_flow.models.{name}.{field}");
            in_range(m.depth, 1, MAX_DEPTH, &f("depth"))?;
            in_range(m.width, 1, MAX_WIDTH, &f("width"))?;
            check(MIX_RATIO.contains(m.mix_ratio), &f("mix_ratio"), || {
                format!("ρ must be in {} (got {})", MIX_RATIO.text(), m.mix_ratio)
            })?;
            check_range(m.gain, GAIN, &f("gain"))?;
            let transformer = m.block == BlockKind::Transformer;
            check(transformer == t.is_sequence(), &f("block"), || {
                if t.is_sequence() {
                    "the copy task is a sequence task: it needs `transformer` blocks".into()
                } else {
                    "`transformer` blocks need the sequence task (`copy`); the vector tasks \
                     have one input per example: use `mlp`"
                        .into()
                }
            })?;
            if transformer {
                in_range(m.heads, 1, m.width, &f("heads"))?;
                check(m.width % m.heads == 0, &f("heads"), || {
                    format!("width {} must be divisible by the heads ({})", m.width, m.heads)
                })?;
            } else {
                check(!m.qk_norm, &f("qk_norm"), || {
                    "qk-LayerNorm needs attention: `transformer` blocks".into()
                })?;
            }
            check_range(m.z_loss, Z_LOSS, &f("z_loss"))?;
            check(m.z_loss == 0.0 || t.is_sequence(), &f("z_loss"), || {
                "the z-loss acts on output logits: it needs the sequence task (`copy`)".into()
            })?;
        }
        self.optimizer.validate("gradient_flow.optimizer")?;
        self.training.validate("gradient_flow.training", MAX_BATCH, "inputs")?;
        check(self.training.batch_size >= 1, "gradient_flow.training.batch_size", || {
            "must be at least 1 (fresh inputs every step)".into()
        })?;
        Ok(())
    }
}

impl crate::spec::RunSpec for GradientFlowSpec {
    fn validate(&self) -> Result<(), SpecError> {
        GradientFlowSpec::validate(self)
    }

    fn training(&self) -> &TrainingSpec {
        &self.training
    }

    fn training_mut(&mut self) -> &mut TrainingSpec {
        &mut self.training
    }
}
