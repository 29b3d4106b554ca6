//! The spec's common parts: what every lab's run description shares, and the gate it passes.
//!
//! A run is described by one serializable spec, seed included. It round-trips through JSON
//! (CLI files, the worker protocol), the URL hash (every run is a link, as in TF Playground)
//! and the page's form. Parsing and validation are the only gates: once a spec is valid,
//! building and running it must not fail on user input.
//!
//! This module knows no lab. Each lab's spec lives in its folder (`labs/<lab>/spec.rs`) and
//! the registry's `labs::ExperimentSpec` tags them by lab (`{"scans": {...}}`); the core reaches
//! any of them through [`RunSpec`].

mod error;
mod preset;
pub mod schema;
pub mod seed;
mod training;
pub mod url_hash;

pub use error::SpecError;
pub use preset::Preset;
pub use training::{
    OptimizerFields, OptimizerKind, OptimizerSpec, TrainingFields, TrainingSpec, seed_field,
    valid_variant_name,
};
pub(crate) use training::{check, check_range, finite_in, in_range};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What the core needs of a run's spec: its budget, its validation, and its JSON forms.
pub trait RunSpec: Clone + Serialize + DeserializeOwned {
    /// Checks every field against its allowed range; the error names the field and the range.
    fn validate(&self) -> Result<(), SpecError>;

    /// The budget: steps, batch size, evaluation interval.
    fn training(&self) -> &TrainingSpec;

    fn training_mut(&mut self) -> &mut TrainingSpec;

    /// Parses a spec from a `serde_json::Value` and validates it, naming the offending field.
    fn from_value(value: serde_json::Value) -> Result<Self, SpecError> {
        let spec: Self = serde_path_to_error::deserialize(value).map_err(SpecError::from_serde)?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parses a spec from JSON, naming the offending field on error.
    fn from_json(text: &str) -> Result<Self, SpecError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: Self =
            serde_path_to_error::deserialize(&mut de).map_err(SpecError::from_serde)?;
        de.end().map_err(|e| SpecError::new("(json)", e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Compact JSON, the form the worker protocol carries.
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a spec always serializes")
    }

    /// Pretty JSON, the form the CLI reads and writes.
    fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a spec always serializes")
    }

    /// How many optimizer steps the run is budgeted for.
    fn steps(&self) -> u64 {
        self.training().steps
    }
}
