//! A spec turned into a running experiment: dataset + model + optimizer on a device.
//!
//! [`Experiment`] is the lab-agnostic face the training session drives; each lab adds a variant
//! and implements the same handful of methods (step, train_step, metrics_tensor, record,
//! analyse, summary). An enum rather than a `dyn` trait: `analyse` is async (an async trait
//! method is not object-safe), and every lab's payloads are concrete serde types anyway.

pub mod gradient_flow;
pub mod gradient_probe;
pub mod grokking;
pub mod scans;
pub mod scans_dump;

use burn::tensor::{Device, Tensor};

pub use gradient_flow::GradientFlowExperiment;
pub use grokking::GrokkingExperiment;
pub use scans::ScansExperiment;

use crate::analysis::LabAnalysis;
use crate::spec::{ExperimentSpec, SpecError};
use crate::train::MetricsRecord;
use crate::train::checkpoint::ExperimentState;
use crate::train::metrics::ReadoutLayout;
use crate::train::session::RunError;

/// What a device can hold and compute, used to refuse runs before allocating anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest single buffer, in bytes (WebGPU: `maxStorageBufferBindingSize`).
    pub max_buffer_bytes: u64,
    /// Float64 tensors are supported (the CPU backend; not WebGPU).
    pub float64: bool,
    /// What a run may hold in all, in bytes: an estimate's bound, since neither WebGPU nor
    /// wgpu reports a device's memory (see [`DeviceLimits::GPU_TOTAL_BYTES`]).
    pub max_total_bytes: u64,
}

impl DeviceLimits {
    /// A CPU backend: bounded by memory, not by a buffer limit. 4 GiB per tensor keeps a run
    /// from swapping a laptop to death.
    pub const CPU: DeviceLimits =
        DeviceLimits { max_buffer_bytes: 4 << 30, float64: true, max_total_bytes: 8 << 30 };
    /// A GPU run's bound: 4 GiB, about what a browser tab's GPU process holds before Chromium
    /// loses the device, and what most laptop GPUs have.
    pub const GPU_TOTAL_BYTES: u64 = 4 << 30;
}

/// A built experiment of any lab.
pub enum Experiment {
    Grokking(GrokkingExperiment),
    Scans(ScansExperiment),
    GradientFlow(GradientFlowExperiment),
}

/// What was built, for the page and the CLI, in words any lab can fill.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExperimentSummary {
    /// The lab's key (`grokking`, `scans`).
    pub lab: String,
    /// Trainable parameters (of every model, for labs that train several).
    pub parameters: usize,
    /// Grokking: names of the weight tensors, in the order of its records' `layer_norms`.
    pub param_names: Vec<String>,
    /// The loss runs in float64.
    pub float64: bool,
    /// One-line facts about the run ("4753 train / 4656 test pairs").
    pub facts: Vec<String>,
    /// Labs with named series: every series name the records carry (`mamba.test_acc`).
    pub series: Vec<String>,
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
            ExperimentSpec::Scans(s) => {
                scans::check_fits(s, limits)?;
                Ok(Experiment::Scans(ScansExperiment::new(s, device)))
            }
            ExperimentSpec::GradientFlow(s) => {
                gradient_flow::check_fits(s, limits)?;
                Ok(Experiment::GradientFlow(GradientFlowExperiment::new(s, device)))
            }
        }
    }

    /// Optimizer steps taken so far.
    pub fn step(&self) -> u64 {
        match self {
            Experiment::Grokking(e) => e.step(),
            Experiment::Scans(e) => e.step(),
            Experiment::GradientFlow(e) => e.step(),
        }
    }

    /// The run between two steps, for a checkpoint (`train::checkpoint`). Reads the weights
    /// synchronously: native and CPU backends only.
    pub fn save_state(&self) -> Result<ExperimentState, String> {
        match self {
            Experiment::Grokking(e) => e.save_state(),
            Experiment::Scans(e) => e.save_state(),
            Experiment::GradientFlow(e) => e.save_state(),
        }
    }

    /// Puts a saved state back into this freshly built experiment (same spec).
    pub fn restore_state(&mut self, state: ExperimentState) -> Result<(), String> {
        match self {
            Experiment::Grokking(e) => e.restore_state(state),
            Experiment::Scans(e) => e.restore_state(state),
            Experiment::GradientFlow(e) => e.restore_state(state),
        }
    }

    /// Enqueues one optimizer step (no readback). With `stats`, the step also keeps what the
    /// next evaluation reports about its gradient.
    pub fn train_step(&mut self, stats: bool) {
        match self {
            Experiment::Grokking(e) => e.train_step(stats),
            Experiment::Scans(e) => e.train_step(),
            Experiment::GradientFlow(e) => e.train_step(stats),
        }
    }

    /// The evaluation as one small device tensor (read back by the session in one transfer)
    /// and where each named metric lies in it.
    pub fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        match self {
            Experiment::Grokking(e) => e.metrics_tensor(),
            Experiment::Scans(e) => e.metrics_tensor(),
            Experiment::GradientFlow(e) => e.metrics_tensor(),
        }
    }

    /// The record of [`Experiment::metrics_tensor`]'s values.
    pub fn record(&self, layout: &ReadoutLayout, values: &[f32], wall_ms: f64) -> MetricsRecord {
        match self {
            Experiment::Grokking(e) => e.record(layout, values, wall_ms),
            Experiment::Scans(e) => e.record(layout, values, wall_ms),
            Experiment::GradientFlow(e) => e.record(layout, values, wall_ms),
        }
    }

    /// The heavier views on the current weights (a few async readbacks); `final_views` adds
    /// the costly ones (grokking: the pruning curve), which the page asks for when training
    /// stops.
    /// The lab's views. `example`: a sequence to show them on (the scans lab; the grokking lab
    /// has none); a bad one is [`RunError::Input`].
    pub async fn analyse(
        &self,
        final_views: bool,
        example: Option<&[u32]>,
    ) -> Result<LabAnalysis, RunError> {
        if let Some(tokens) = example {
            self.check_example(tokens)?;
        }
        match self {
            Experiment::Grokking(e) => {
                e.analyse(final_views).await.map(LabAnalysis::Grokking).map_err(RunError::Device)
            }
            Experiment::Scans(e) => {
                let example =
                    example.map(|t| e.typed_example(t)).transpose().map_err(RunError::Input)?;
                e.analyse(example).await.map(LabAnalysis::Scans).map_err(RunError::Device)
            }
            Experiment::GradientFlow(e) => {
                e.analyse().await.map(LabAnalysis::GradientFlow).map_err(RunError::Device)
            }
        }
    }

    /// Whether [`Experiment::analyse`] takes `tokens` as its example (nothing runs).
    pub fn check_example(&self, tokens: &[u32]) -> Result<(), RunError> {
        match self {
            Experiment::Grokking(_) | Experiment::GradientFlow(_) => {
                Err(RunError::Input("only the scans lab's views take an example sequence".into()))
            }
            Experiment::Scans(e) => e.typed_example(tokens).map(drop).map_err(RunError::Input),
        }
    }

    pub fn summary(&self) -> ExperimentSummary {
        match self {
            Experiment::Grokking(e) => e.summary(),
            Experiment::Scans(e) => e.summary(),
            Experiment::GradientFlow(e) => e.summary(),
        }
    }

    pub fn as_grokking(&self) -> Option<&GrokkingExperiment> {
        match self {
            Experiment::Grokking(e) => Some(e),
            Experiment::Scans(_) | Experiment::GradientFlow(_) => None,
        }
    }

    pub fn as_scans(&self) -> Option<&ScansExperiment> {
        match self {
            Experiment::Scans(e) => Some(e),
            Experiment::Grokking(_) | Experiment::GradientFlow(_) => None,
        }
    }
}
