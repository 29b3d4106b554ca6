//! Checkpoints: everything a run needs to go on exactly where it stopped — the spec, the
//! history, the step, every model's weights and optimizer state (burn's burnpack bytes), the
//! data RNG's position and the lab's own small state (grokking: the epoch's batch order).
//!
//! One byte format, [`Checkpoint::to_bytes`], for a file (`gradscope run --checkpoint`) or a
//! blob (the page's saved runs):
//!
//! ```text
//! GRADSCOPE-CHECKPOINT\n
//! {"format": "gradscope-checkpoint", "version": 1, "spec", "step", "wall_ms", "history",
//!  "rng", "extra", "blobs": [{"kind": "model" | "optimizer", "len"}]}\n
//! <blob 0><blob 1>…
//! ```
//!
//! A resumed run on the CPU backend continues bitwise as the uninterrupted one would (with the
//! same thread count: Flex splits matmul sums by thread), checked in `tests/native/checkpoint.rs`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::metrics::{Record, RunMetrics};
use crate::spec::RunSpec;

/// First bytes of a checkpoint.
pub const CHECKPOINT_MAGIC: &[u8] = b"GRADSCOPE-CHECKPOINT\n";
/// Version of [`Checkpoint::to_bytes`]'s layout.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Where a ChaCha stream is: restoring it gives the same numbers from there on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte seed, hex.
    pub seed: String,
    pub stream: u64,
    /// The word position, a decimal string (a u128).
    pub word_pos: String,
}

impl RngState {
    pub fn of(rng: &ChaCha8Rng) -> Self {
        RngState {
            seed: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    pub fn restore(&self) -> Result<ChaCha8Rng, String> {
        let bad = || "the RNG state is malformed".to_string();
        if self.seed.len() != 64 {
            return Err(bad());
        }
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&self.seed[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse().map_err(|_| bad())?);
        Ok(rng)
    }
}

/// An experiment's state between two steps (see [`super::Experiment::save_state`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentState {
    pub step: u64,
    /// Each model's burnpack bytes, in the experiment's model order.
    pub models: Vec<Vec<u8>>,
    /// Each model's optimizer state (burnpack bytes), same order.
    pub optimizers: Vec<Vec<u8>>,
    /// The data RNG (grokking: the batch shuffler).
    pub rng: RngState,
    /// The lab's own small state, as JSON.
    pub extra: serde_json::Value,
}

/// A run saved between two steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint<S, M> {
    /// The run's spec (a lab's tagged spec: `{"grokking": {...}}` in the file).
    pub spec: S,
    /// Every evaluation so far (the last one is at `state.step`).
    pub history: Vec<Record<M>>,
    /// Training wall time so far.
    pub wall_ms: f64,
    pub state: ExperimentState,
}

#[derive(Serialize, Deserialize)]
struct Meta<M> {
    format: String,
    version: u32,
    spec: serde_json::Value,
    step: u64,
    wall_ms: f64,
    history: Vec<Record<M>>,
    rng: RngState,
    extra: serde_json::Value,
    blobs: Vec<Blob>,
}

#[derive(Serialize, Deserialize)]
struct Blob {
    kind: String,
    len: usize,
}

impl<S: RunSpec, M: RunMetrics> Checkpoint<S, M> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = &self.state;
        let blobs: Vec<Blob> = s
            .models
            .iter()
            .map(|m| Blob { kind: "model".into(), len: m.len() })
            .chain(s.optimizers.iter().map(|o| Blob { kind: "optimizer".into(), len: o.len() }))
            .collect();
        let meta = Meta {
            format: "gradscope-checkpoint".into(),
            version: CHECKPOINT_VERSION,
            spec: serde_json::to_value(&self.spec).expect("specs serialize"),
            step: s.step,
            wall_ms: self.wall_ms,
            history: self.history.clone(),
            rng: s.rng.clone(),
            extra: s.extra.clone(),
            blobs,
        };
        let mut out = CHECKPOINT_MAGIC.to_vec();
        out.extend(serde_json::to_vec(&meta).expect("checkpoints serialize"));
        out.push(b'\n');
        for blob in s.models.iter().chain(&s.optimizers) {
            out.extend_from_slice(blob);
        }
        out
    }

    /// Reads [`Checkpoint::to_bytes`]' layout; the error says what is wrong with the file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let rest = bytes
            .strip_prefix(CHECKPOINT_MAGIC)
            .ok_or("not a gradscope checkpoint (it does not start with GRADSCOPE-CHECKPOINT)")?;
        let newline = rest.iter().position(|&b| b == b'\n').ok_or("the checkpoint is truncated")?;
        let meta: Meta<M> = serde_json::from_slice(&rest[..newline])
            .map_err(|e| format!("the checkpoint's header is malformed: {e}"))?;
        if meta.format != "gradscope-checkpoint" || meta.version != CHECKPOINT_VERSION {
            return Err(format!(
                "checkpoint format {} version {} is not one this gradscope reads (version {CHECKPOINT_VERSION})",
                meta.format, meta.version
            ));
        }
        let spec = S::from_value(meta.spec).map_err(|e| format!("the checkpoint's spec: {e}"))?;
        let mut data = &rest[newline + 1..];
        let (mut models, mut optimizers) = (Vec::new(), Vec::new());
        for blob in &meta.blobs {
            if blob.len > data.len() {
                return Err("the checkpoint is truncated (a weights blob is cut short)".into());
            }
            let (this, tail) = data.split_at(blob.len);
            match blob.kind.as_str() {
                "model" => models.push(this.to_vec()),
                "optimizer" => optimizers.push(this.to_vec()),
                other => return Err(format!("the checkpoint has an unknown blob kind `{other}`")),
            }
            data = tail;
        }
        if !data.is_empty() {
            return Err("the checkpoint has trailing bytes".into());
        }
        Ok(Checkpoint {
            spec,
            history: meta.history,
            wall_ms: meta.wall_ms,
            state: ExperimentState {
                step: meta.step,
                models,
                optimizers,
                rng: meta.rng,
                extra: meta.extra,
            },
        })
    }
}

/// A model's burnpack bytes.
pub fn module_bytes<M: burn::module::Module>(module: &M) -> Result<Vec<u8>, String> {
    module.clone().into_record().into_bytes().map(|b| b.to_vec()).map_err(|e| e.to_string())
}

/// `module` with the weights of `bytes` (same architecture; the parameter ids come back too,
/// which is what the optimizer state is keyed by).
pub fn load_module<M: burn::module::Module>(module: M, bytes: &[u8]) -> Result<M, String> {
    let record =
        burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| e.to_string())?;
    module.try_load_record(record).map_err(|e| e.to_string())
}

/// An optimizer's state as burnpack bytes.
pub fn optimizer_bytes(optimizer: &burn::optim::ModuleOptimizer) -> Result<Vec<u8>, String> {
    optimizer.into_bytes().map(|b| b.to_vec()).map_err(|e| e.to_string())
}

/// `fresh` (an optimizer built from the spec) with the state of `bytes`.
pub fn load_optimizer(
    fresh: burn::optim::ModuleOptimizer,
    bytes: &[u8],
) -> Result<burn::optim::ModuleOptimizer, String> {
    fresh.from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec())).map_err(|e| e.to_string())
}

/// Each trained model and its optimizer as bytes, in order: [`ExperimentState`]'s `models` and
/// `optimizers`.
pub fn save_trained<'a, M: burn::module::Module + 'a>(
    pairs: impl IntoIterator<Item = (&'a M, &'a burn::optim::ModuleOptimizer)>,
) -> Result<(Vec<Vec<u8>>, Vec<Vec<u8>>), String> {
    let mut models = Vec::new();
    let mut optimizers = Vec::new();
    for (model, optimizer) in pairs {
        models.push(module_bytes(model)?);
        optimizers.push(optimizer_bytes(optimizer)?);
    }
    Ok((models, optimizers))
}

/// Puts `state`'s models and optimizers back into `slots` (each model, present between steps,
/// and its optimizer), in order; `fresh` builds an optimizer of the spec for the loaded model (its
/// parameter groups may name the model's parameters) to load the state into.
pub fn restore_trained<'a, M: burn::module::Module + 'a>(
    slots: Vec<(&'a mut Option<M>, &'a mut burn::optim::ModuleOptimizer)>,
    state: &ExperimentState,
    fresh: impl Fn(&M) -> burn::optim::ModuleOptimizer,
) -> Result<(), String> {
    if state.models.len() != slots.len() || state.optimizers.len() != slots.len() {
        return Err(format!(
            "the checkpoint holds {} models and {} optimizers; this run has {} models",
            state.models.len(),
            state.optimizers.len(),
            slots.len()
        ));
    }
    for (i, (slot, optimizer)) in slots.into_iter().enumerate() {
        let model = slot.take().expect("the model is present between steps");
        let model = load_module(model, &state.models[i])?;
        *optimizer = load_optimizer(fresh(&model), &state.optimizers[i])?;
        *slot = Some(model);
    }
    Ok(())
}
