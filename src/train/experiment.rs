//! The contract between the core and a lab: what the training session drives.
//!
//! Each lab implements [`Experiment`] for its own experiment, with its own spec, metrics,
//! report and analysis types; the registry (`labs`) wraps the labs in one enum that
//! implements it again by delegation, so [`super::TrainingSession`] runs any lab without naming
//! one. A trait with associated types rather than `dyn`: `analyse` is async (an async trait
//! method is not object-safe), and every payload crosses the worker boundary and files as a
//! concrete serde type anyway.

use std::future::Future;

use burn::tensor::{Device, Tensor};

use super::checkpoint::ExperimentState;
use super::metrics::{ReadoutLayout, Record, RunMetrics};
use super::session::RunError;
use crate::backend::DeviceLimits;
use crate::spec::{RunSpec, SpecError};

/// A built experiment: dataset, model(s) and optimizer(s) on a device.
pub trait Experiment: Sized {
    type Spec: RunSpec;
    type Metrics: RunMetrics;
    type Report: RunReport<Self::Metrics>;
    /// The heavier views on the weights (`analyse`).
    type Analysis;

    /// Refuses a spec that does not fit a device of `limits` (float64 where there is none, a
    /// tensor larger than one buffer, more memory than the device holds), naming the estimate.
    /// Called before anything is allocated.
    fn check_fits(spec: &Self::Spec, limits: DeviceLimits) -> Result<(), SpecError>;

    /// Builds a valid spec that fits on `device` (an autodiff device).
    fn new(spec: &Self::Spec, device: &Device) -> Self;

    /// Validates `spec`, checks it fits `limits`, and builds it on `device`.
    fn build(spec: &Self::Spec, device: &Device, limits: DeviceLimits) -> Result<Self, SpecError> {
        spec.validate()?;
        Self::check_fits(spec, limits)?;
        Ok(Self::new(spec, device))
    }

    /// The report of a run with no evaluation yet.
    fn new_report(&self) -> Self::Report;

    /// Optimizer steps taken so far.
    fn step(&self) -> u64;

    /// The run between two steps, for a checkpoint. Reads the weights synchronously: native and
    /// CPU backends only.
    fn save_state(&self) -> Result<ExperimentState, String>;

    /// Puts a saved state back into this freshly built experiment (same spec).
    fn restore_state(&mut self, state: ExperimentState) -> Result<(), String>;

    /// Enqueues one optimizer step (no readback). With `stats`, the step also keeps what the
    /// next evaluation reports about its gradient.
    fn train_step(&mut self, stats: bool);

    /// The evaluation as one small device tensor (read back by the session in one transfer)
    /// and where each named metric lies in it.
    fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout);

    /// The record of [`Experiment::metrics_tensor`]'s values.
    fn record(&self, layout: &ReadoutLayout, values: &[f32], wall_ms: f64)
    -> Record<Self::Metrics>;

    /// The lab's heavier views on the current weights (a few async readbacks); `final_views`
    /// adds the costly ones, which the page asks for when training stops. `example`: a sequence
    /// to show them on, for labs whose views take one; a bad one is [`RunError::Input`].
    fn analyse(
        &self,
        final_views: bool,
        example: Option<&[u32]>,
    ) -> impl Future<Output = Result<Self::Analysis, RunError>>;

    /// Whether [`Experiment::analyse`] takes `tokens` as its example (nothing runs).
    fn check_example(&self, _tokens: &[u32]) -> Result<(), RunError> {
        Err(RunError::Input("this lab's views take no example sequence".into()))
    }

    /// What was built, in words any front end can show.
    fn summary(&self) -> ExperimentSummary;

    /// Turns off (or back on) the per-step check a lab runs on every step, for a benchmark of
    /// plain training; returns whether the lab has one.
    fn set_divergence_flag(&mut self, _on: bool) -> bool {
        false
    }
}

/// A lab's running summary of its history (the page's badge: "did it grok?", "which model
/// solved it?").
pub trait RunReport<M>: Clone {
    /// Folds in the next evaluation.
    fn update(&mut self, record: &Record<M>);
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
