//! The experiment spec: one serializable description of a run.
//!
//! An [`ExperimentSpec`] is everything a run depends on, seed included. It round-trips through
//! JSON (CLI files, the worker protocol), the URL hash (every run is a link, as in TF
//! Playground) and the page's form. Parsing and [`ExperimentSpec::validate`] are the only
//! gates: once a spec is valid, building and running it must not fail on user input.
//!
//! Labs are variants of [`ExperimentSpec`], keyed by the lab's name (`{"scans": {...}}`);
//! what every lab has (seed, optimizer, [`TrainingSpec`]) is reached through
//! [`ExperimentSpec::training`] and friends, so no caller outside a lab matches on the lab.

mod error;
pub mod gradient_flow;
mod grokking;
pub mod presets;
pub mod scans;
pub mod seed;
mod training;
pub mod url_hash;

pub use error::SpecError;
pub use gradient_flow::GradientFlowSpec;
pub use grokking::*;
pub use scans::ScansSpec;
pub use training::{OptimizerKind, OptimizerSpec, TrainingSpec};

use serde::{Deserialize, Serialize};

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
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: Self =
            serde_path_to_error::deserialize(&mut de).map_err(SpecError::from_serde)?;
        de.end().map_err(|e| SpecError::new("(json)", e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parses a spec from a `serde_json::Value` (used by the URL-hash decoder).
    pub fn from_value(value: serde_json::Value) -> Result<Self, SpecError> {
        let spec: Self = serde_path_to_error::deserialize(value).map_err(SpecError::from_serde)?;
        spec.validate()?;
        Ok(spec)
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
