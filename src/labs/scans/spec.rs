//! Settings of the scans lab: a memory task, the models trained on it side by side, the
//! optimizer and the budget.
//!
//! **Variants.** `models` maps a name to a model; every model is trained from the same seed on
//! the same batches, and its metrics are series named `<name>.<metric>` (`mamba.test_acc`).
//! A map keyed by name rather than a list, so names are unique by construction and each field
//! has a readable URL-hash path: `#scans.models.mamba.d_state=16`. (The gradient-flow lab uses
//! the same construct for its four stacks.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::memory::{MemoryTask, TaskKind};
pub use super::ssm::net::MixerKind;
pub use super::ssm::s4d::{Discretization, S4dInit};
pub use super::ssm::scan::ScanMethod;
use crate::spec::schema::FloatRange;
pub use crate::spec::{OptimizerKind, OptimizerSpec, TrainingSpec};
use crate::spec::{SpecError, check, check_range, finite_in, in_range, valid_variant_name};

/// Longest training sequence accepted: a sequential scan at 4096 steps is already ~16k ops a
/// forward pass, and the browser evaluates longer ones for extrapolation.
pub const MAX_LEN: usize = 4096;
/// Largest vocabulary of data / value symbols.
pub const MAX_VOCAB: usize = 256;
pub const MAX_D_MODEL: usize = 512;
pub const MAX_D_STATE: usize = 256;
pub const MAX_LAYERS: usize = 8;
pub const MAX_EXPAND: usize = 4;
/// Models trained side by side.
pub const MAX_MODELS: usize = 4;
/// Largest factor of the training length the extrapolation curve evaluates at.
pub const MAX_EXTRAPOLATION: usize = 16;
/// Most data tokens a copying sequence scatters.
pub const MAX_DATA_TOKENS: usize = 64;
/// Most sequences generated per step.
pub const MAX_BATCH: usize = 1024;
/// Most held-out sequences.
pub const MAX_EVAL_SEQUENCES: usize = 4096;
/// The log-uniform init range of Δ: its lower end in `DT_MIN`, its upper end in
/// [`dt_min`, `DT_MAX_LIMIT`] (S4D and Mamba use 1e-3 and 0.1).
pub const DT_MIN: FloatRange = FloatRange::closed(1e-5, 1.0);
pub const DT_MAX_LIMIT: f64 = 10.0;

/// A scans-lab run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScansSpec {
    /// Seeds the models' inits and the training and evaluation sequences.
    #[serde(with = "crate::spec::seed")]
    pub seed: u64,
    pub task: MemoryTask,
    /// The models trained side by side on the same batches, by name (see the module doc).
    pub models: BTreeMap<String, ScanModelSpec>,
    pub optimizer: OptimizerSpec,
    /// `batch_size`: sequences per step (fresh ones every step; 0 is not allowed here).
    pub training: TrainingSpec,
    pub eval: EvalSpec,
}

/// How the models are measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSpec {
    /// Held-out sequences (fixed for the run) per evaluation.
    pub sequences: usize,
    /// The final analysis evaluates at L, 2L, 4L, … up to this factor × L (the extrapolation
    /// curve; 1 = training length only).
    pub extrapolation: usize,
}

impl Default for EvalSpec {
    fn default() -> Self {
        Self { sequences: 256, extrapolation: 4 }
    }
}

/// One model of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanModelSpec {
    pub mixer: MixerKind,
    pub layers: usize,
    pub d_model: usize,
    /// State size N (S4D: N/2 complex modes, so even; Mamba: N real modes per channel).
    pub d_state: usize,
    /// Mamba's expansion factor (gated blocks).
    pub expand: usize,
    /// S4D's A init (plain and gated S4D).
    pub s4d_init: S4dInit,
    /// How S4D (plain and gated) discretizes A and B: ZOH or bilinear.
    pub discretization: Discretization,
    /// Δ initialised log-uniform in [dt_min, dt_max].
    pub dt_min: f64,
    pub dt_max: f64,
    /// How the selective scan is computed (Mamba; same numbers, different speed). `fused`:
    /// one kernel per backend (Flex CPU, or CubeCL on wgpu/WebGPU).
    pub scan: ScanMethod,
}

impl Default for ScanModelSpec {
    /// A 2-layer Mamba, d_model 32 (the paper's synthetic-task models are 2 layers, D = 64).
    fn default() -> Self {
        Self {
            mixer: MixerKind::Mamba,
            layers: 2,
            d_model: 32,
            d_state: 16,
            expand: 2,
            s4d_init: S4dInit::Lin,
            discretization: Discretization::Zoh,
            dt_min: 1e-3,
            dt_max: 1e-1,
            scan: ScanMethod::Fused,
        }
    }
}

impl ScanModelSpec {
    pub fn with_mixer(mixer: MixerKind) -> Self {
        Self { mixer, ..Self::default() }
    }
}

impl Default for ScansSpec {
    /// Selective copying at browser scale, S4D and Mamba side by side, Adam 3e-3 (lr ≤ 1e-3 is
    /// S4's advice for A and Δ at scale; at this size 3e-3 trains both in minutes).
    fn default() -> Self {
        Self {
            seed: 0,
            task: MemoryTask::default(),
            models: BTreeMap::from([
                ("s4d".to_string(), ScanModelSpec::with_mixer(MixerKind::S4d)),
                ("mamba".to_string(), ScanModelSpec::with_mixer(MixerKind::Mamba)),
            ]),
            optimizer: OptimizerSpec {
                kind: OptimizerKind::AdamW,
                lr: 3e-3,
                weight_decay: 0.0,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                momentum: 0.0,
                warmup_steps: 0,
                orthograd: false,
                grad_clip: 1.0,
            },
            training: TrainingSpec { steps: 1000, batch_size: 32, eval_every: 25 },
            eval: EvalSpec::default(),
        }
    }
}

impl ScansSpec {
    /// Checks every field; the first bad one is reported with its allowed range.
    pub fn validate(&self) -> Result<(), SpecError> {
        let t = &self.task;
        in_range(t.vocab, 2, MAX_VOCAB, "scans.task.vocab")?;
        match t.kind {
            TaskKind::SelectiveCopying => {
                in_range(t.data_tokens, 1, MAX_DATA_TOKENS, "scans.task.data_tokens")?;
                check(t.len <= MAX_LEN && t.len >= 2 * t.data_tokens, "scans.task.len", || {
                    format!(
                        "must be in {}..={MAX_LEN}: at least the {} data tokens and their {} \
                         answer slots (got {})",
                        2 * t.data_tokens,
                        t.data_tokens,
                        t.data_tokens,
                        t.len
                    )
                })?;
            }
            TaskKind::InductionHeads => in_range(t.len, 4, MAX_LEN, "scans.task.len")?,
        }
        check(!self.models.is_empty() && self.models.len() <= MAX_MODELS, "scans.models", || {
            format!("must name 1..={MAX_MODELS} models (got {})", self.models.len())
        })?;
        for (name, m) in &self.models {
            check(valid_variant_name(name), "scans.models", || {
                format!("model name `{name}` must be 1–24 characters of a–z, 0–9, _ and -")
            })?;
            let f = |field: &str| format!("scans.models.{name}.{field}");
            in_range(m.layers, 1, MAX_LAYERS, &f("layers"))?;
            in_range(m.d_model, 1, MAX_D_MODEL, &f("d_model"))?;
            in_range(m.d_state, 1, MAX_D_STATE, &f("d_state"))?;
            check(m.mixer == MixerKind::Mamba || m.d_state % 2 == 0, &f("d_state"), || {
                format!(
                    "must be even for S4D (N/2 complex modes and their conjugates; got {})",
                    m.d_state
                )
            })?;
            in_range(m.expand, 1, MAX_EXPAND, &f("expand"))?;
            check_range(m.dt_min, DT_MIN, &f("dt_min"))?;
            check(finite_in(m.dt_max, m.dt_min, DT_MAX_LIMIT, false, false), &f("dt_max"), || {
                format!("must be in [dt_min = {}, {DT_MAX_LIMIT}] (got {})", m.dt_min, m.dt_max)
            })?;
        }
        self.optimizer.validate("scans.optimizer")?;
        check(self.training.batch_size >= 1, "scans.training.batch_size", || {
            "must be at least 1 (sequences are generated fresh every step)".into()
        })?;
        self.training.validate("scans.training", MAX_BATCH, "sequences")?;
        in_range(self.eval.sequences, 1, MAX_EVAL_SEQUENCES, "scans.eval.sequences")?;
        in_range(self.eval.extrapolation, 1, MAX_EXTRAPOLATION, "scans.eval.extrapolation")?;
        Ok(())
    }
}

impl crate::spec::RunSpec for ScansSpec {
    fn validate(&self) -> Result<(), SpecError> {
        ScansSpec::validate(self)
    }

    fn training(&self) -> &TrainingSpec {
        &self.training
    }

    fn training_mut(&mut self) -> &mut TrainingSpec {
        &mut self.training
    }
}
