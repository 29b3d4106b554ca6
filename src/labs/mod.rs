//! The labs, and the registry: the one place that names them all.
//!
//! A lab is a folder (`grokking/`, `scans/`, `gradient_flow/`, named by the lab's key as the
//! URL hash spells it) that owns everything of that lab: its spec and presets, data, models,
//! experiment, report and analysis, and its extra commands. Each lab's experiment implements
//! the core's [`crate::train::Experiment`] with its own types. This module wraps them, one enum
//! per payload, each variant keyed by the lab's name:
//!
//! | type | what |
//! |---|---|
//! | [`ExperimentSpec`] | the run description (`{"scans": {...}}`) |
//! | [`LabExperiment`] | a built experiment; implements `train::Experiment` by delegation |
//! | [`LabMetrics`], [`MetricsRecord`] | one evaluation's metrics, as files and the worker carry them |
//! | [`LabReport`], [`LabAnalysis`] | the running report and the heavier views |
//! | [`presets`] | every lab's presets, in the page's order |
//! | [`schema`] | every lab's form (fields, ranges, help), which `gradscope schema` writes for the page |
//! | [`LabCommand`], [`LabEvent`], [`LabJobs`] | a lab's own worker commands (kernel explorer, scan race, operation preview) |
//! | [`team`] | a run of several models split over workers, and joined back |
//! | [`Dump`], [`run_lab_bench`] | a lab's own CLI commands (`inspect init|gradients|ssm`, `bench scans`) |
//!
//! The CLI, the worker and the sweeps reach a lab through these types, and the core (`spec`,
//! `train`, `nn`, `backend`) imports no lab; `tests/native/layout.rs` fails the build when either
//! rule is broken. Adding a lab: `docs/architecture.md`.

pub mod gradient_flow;
pub mod grokking;
pub mod scans;

mod commands;
mod dumps;
mod experiment;
mod metrics;
pub mod presets;
mod report;
pub mod schema;
pub mod team;

use serde::{Deserialize, Serialize};

pub use commands::{LabCommand, LabEvent, LabJobs};
pub use dumps::{Dump, DumpError};
pub use experiment::LabExperiment;
pub use metrics::{LabMetrics, MetricsFile, MetricsRecord, read_metrics_file};
pub use report::{LabAnalysis, LabReport};

use crate::spec::{OptimizerSpec, RunSpec, SpecError, TrainingSpec, url_hash};
use gradient_flow::GradientFlowSpec;
use grokking::GrokkingSpec;
use scans::ScansSpec;

/// The benchmarks labs add to `gradscope bench` beside a spec's training speed, by name.
#[cfg(not(target_arch = "wasm32"))]
pub const LAB_BENCHES: [&str; 1] = ["scans"];

/// Runs the lab benchmark `name` (see [`LAB_BENCHES`]) on each backend of `kinds`, printing
/// its table; `None` if no lab has one of that name. `lengths` and `cap_seconds`: the scan
/// race's lengths (empty: its default) and time cap.
#[cfg(not(target_arch = "wasm32"))]
pub fn run_lab_bench(
    name: &str,
    kinds: &[crate::backend::BackendKind],
    lengths: &[usize],
    cap_seconds: f64,
) -> Option<Result<(), crate::train::lab_command::CommandError>> {
    match name {
        "scans" => Some(scans::race_table::print_race(kinds, lengths, cap_seconds)),
        _ => None,
    }
}

/// A run in progress, of any lab.
pub type TrainingSession = crate::train::TrainingSession<LabExperiment>;
/// A run saved between two steps, of any lab.
pub type Checkpoint = crate::train::Checkpoint<ExperimentSpec, LabMetrics>;

/// One experiment: which lab, and that lab's settings.
///
/// Externally tagged (`{"grokking": {...}}`) rather than internally tagged: serde buffers
/// internally tagged content, which would lose the field path in error messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExperimentSpec {
    /// Delayed generalization on modular arithmetic (see `docs/science.md` §1).
    Grokking(GrokkingSpec),
    /// S4D vs Mamba on synthetic memory tasks (see `docs/science.md` §2).
    Scans(ScansSpec),
    /// Gradients through deep stacks: norm placement, residual scale, init, activation (see
    /// `docs/science.md` §3).
    GradientFlow(GradientFlowSpec),
}

/// The labs, in the page's order: `(key, title)`. The key is the spec's top-level key and the
/// first segment of its URL hash.
pub const LABS: [(&str, &str); 3] =
    [("grokking", "Grokking"), ("scans", "S4D vs Mamba"), ("gradient_flow", "Gradient flow")];

impl Default for ExperimentSpec {
    fn default() -> Self {
        presets::default_preset().spec
    }
}

impl ExperimentSpec {
    /// Parses a spec from JSON, naming the offending field on error. Missing fields take their
    /// defaults (those of the default preset), so `{"grokking":{"task":{"p":113}}}` is valid.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        <Self as RunSpec>::from_json(text)
    }

    /// Parses a spec from a `serde_json::Value` (used by the URL-hash decoder).
    pub fn from_value(value: serde_json::Value) -> Result<Self, SpecError> {
        <Self as RunSpec>::from_value(value)
    }

    /// Decodes a URL hash (with or without the leading `#`) into a validated spec.
    pub fn from_hash(hash: &str) -> Result<Self, SpecError> {
        url_hash::decode(hash)
    }

    /// The URL-hash body of this spec (no leading `#`).
    pub fn to_hash(&self) -> String {
        url_hash::encode(self)
    }

    /// Pretty JSON, the form the CLI reads and writes.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a spec always serializes")
    }

    /// Compact JSON, the form the worker protocol carries.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a spec always serializes")
    }

    /// Checks every field against its allowed range; the error names the field and the range.
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            ExperimentSpec::Grokking(spec) => spec.validate(),
            ExperimentSpec::Scans(spec) => spec.validate(),
            ExperimentSpec::GradientFlow(spec) => spec.validate(),
        }
    }

    /// The lab's key (`grokking`, `scans`): the spec's top-level key.
    pub fn lab(&self) -> &'static str {
        match self {
            ExperimentSpec::Grokking(_) => "grokking",
            ExperimentSpec::Scans(_) => "scans",
            ExperimentSpec::GradientFlow(_) => "gradient_flow",
        }
    }

    /// The seed that makes this run reproducible.
    pub fn seed(&self) -> u64 {
        match self {
            ExperimentSpec::Grokking(spec) => spec.seed,
            ExperimentSpec::Scans(spec) => spec.seed,
            ExperimentSpec::GradientFlow(spec) => spec.seed,
        }
    }

    /// The budget: steps, batch size, evaluation interval.
    pub fn training(&self) -> &TrainingSpec {
        match self {
            ExperimentSpec::Grokking(spec) => &spec.training,
            ExperimentSpec::Scans(spec) => &spec.training,
            ExperimentSpec::GradientFlow(spec) => &spec.training,
        }
    }

    pub fn training_mut(&mut self) -> &mut TrainingSpec {
        match self {
            ExperimentSpec::Grokking(spec) => &mut spec.training,
            ExperimentSpec::Scans(spec) => &mut spec.training,
            ExperimentSpec::GradientFlow(spec) => &mut spec.training,
        }
    }

    pub fn optimizer(&self) -> &OptimizerSpec {
        match self {
            ExperimentSpec::Grokking(spec) => &spec.optimizer,
            ExperimentSpec::Scans(spec) => &spec.optimizer,
            ExperimentSpec::GradientFlow(spec) => &spec.optimizer,
        }
    }

    /// How many optimizer steps the run is budgeted for.
    pub fn steps(&self) -> u64 {
        self.training().steps
    }

    /// This spec with another step budget, validated.
    pub fn with_steps(mut self, steps: u64) -> Result<Self, SpecError> {
        self.training_mut().steps = steps;
        self.validate()?;
        Ok(self)
    }
}

impl RunSpec for ExperimentSpec {
    fn validate(&self) -> Result<(), SpecError> {
        ExperimentSpec::validate(self)
    }

    fn training(&self) -> &TrainingSpec {
        ExperimentSpec::training(self)
    }

    fn training_mut(&mut self) -> &mut TrainingSpec {
        ExperimentSpec::training_mut(self)
    }
}
