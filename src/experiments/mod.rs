//! A spec turned into a running experiment: dataset + model + optimizer on a device.
//!
//! [`Experiment`] is the lab-agnostic face the training session drives; each lab adds a variant.

pub mod grokking;

use burn::tensor::{Device, Tensor};

pub use grokking::GrokkingExperiment;

use crate::analysis::Analysis;
use crate::spec::{ExperimentSpec, SpecError};
use crate::train::MetricsRecord;

/// What a device can hold and compute, used to refuse runs before allocating anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest single buffer, in bytes (WebGPU: `maxStorageBufferBindingSize`).
    pub max_buffer_bytes: u64,
    /// Float64 tensors are supported (the CPU backend; not WebGPU).
    pub float64: bool,
}

impl DeviceLimits {
    /// A CPU backend: bounded by memory, not by a buffer limit. 4 GiB per tensor keeps a run
    /// from swapping a laptop to death.
    pub const CPU: DeviceLimits = DeviceLimits { max_buffer_bytes: 4 << 30, float64: true };
}

/// A built experiment of any lab.
pub enum Experiment {
    Grokking(GrokkingExperiment),
}

/// Sizes of what was built, for the page and the CLI.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExperimentSummary {
    pub train_size: usize,
    pub test_size: usize,
    pub parameters: usize,
    /// Labels replaced by label noise.
    pub corrupted_labels: usize,
    /// Names of the weight tensors, in the order of [`MetricsRecord::layer_norms`].
    pub param_names: Vec<String>,
    /// The loss runs in float64.
    pub float64: bool,
}

impl Experiment {
    /// Validates `spec`, checks it fits `limits`, and builds it on `device` (an autodiff device).
    pub fn build(
        spec: &ExperimentSpec,
        device: &Device,
        limits: DeviceLimits,
    ) -> Result<Self, SpecError> {
        spec.validate()?;
        match spec {
            ExperimentSpec::Grokking(s) => {
                grokking::check_fits(s, limits)?;
                Ok(Experiment::Grokking(GrokkingExperiment::new(s, device)))
            }
        }
    }

    /// Optimizer steps taken so far.
    pub fn step(&self) -> u64 {
        match self {
            Experiment::Grokking(e) => e.step(),
        }
    }

    /// Enqueues one optimizer step (no readback). With `stats`, the step also keeps what the
    /// next evaluation reports about its gradient.
    pub fn train_step(&mut self, stats: bool) {
        match self {
            Experiment::Grokking(e) => e.train_step(stats),
        }
    }

    /// The evaluation as one small device tensor (read back by the session in one transfer).
    pub fn metrics_tensor(&self) -> Tensor<1> {
        match self {
            Experiment::Grokking(e) => e.metrics_tensor(),
        }
    }

    /// The record of [`Experiment::metrics_tensor`]'s values.
    pub fn record(&self, values: &[f32], wall_ms: f64) -> MetricsRecord {
        match self {
            Experiment::Grokking(e) => e.record(values, wall_ms),
        }
    }

    /// The heavier views on the current weights (a few async readbacks); `pruning` adds the
    /// pruning curve (several forward passes).
    pub async fn analyse(&self, pruning: bool) -> Result<Analysis, String> {
        match self {
            Experiment::Grokking(e) => e.analyse(pruning).await,
        }
    }

    pub fn summary(&self) -> ExperimentSummary {
        match self {
            Experiment::Grokking(e) => e.summary(),
        }
    }
}
