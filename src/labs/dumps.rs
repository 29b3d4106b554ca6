//! `gradscope inspect`: a lab's numbers as plain JSON, for checking them with other code —
//! each dump owned by its lab, named here.

use burn::tensor::Device;

use super::ExperimentSpec;
use super::grokking::GrokkingExperiment;
use crate::backend::DeviceLimits;
use crate::spec::SpecError;
use crate::train::{Experiment, RunError};

/// What `gradscope inspect` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    /// The grokking lab: the initial weights by name and the train/test split; the scans lab:
    /// every model's initial weights by name and the first training batch.
    Init,
    /// The gradient-flow lab: every stack's per-block gradient norm and activation RMS at
    /// initialisation, on one fixed batch.
    Gradients,
    /// The scans lab: the selective scan's and an S4D layer's inputs and outputs at length
    /// `len`.
    Ssm { len: usize },
}

/// Why a dump was not written.
#[derive(Clone, Debug, PartialEq)]
pub enum DumpError {
    /// The spec or an option does not fit this dump (exit code 2).
    Input(SpecError),
    /// Computing it failed (exit code 1).
    Failed(String),
}

impl Dump {
    /// The preset a dump takes when no spec is given (`None`: the default preset).
    pub fn default_preset(self) -> Option<&'static str> {
        match self {
            Dump::Init => None,
            Dump::Gradients => Some("norm-placement"),
            Dump::Ssm { .. } => Some("selective-copying"),
        }
    }

    /// The dump of `spec` on `device` (a CPU device), with the spec itself under `"spec"`.
    pub async fn of(
        self,
        spec: &ExperimentSpec,
        device: &Device,
    ) -> Result<serde_json::Value, DumpError> {
        let wrong_lab = |message: &str| DumpError::Input(SpecError::new("(spec)", message));
        let mut json = match (self, spec) {
            (Dump::Init, ExperimentSpec::Grokking(s)) => {
                let experiment = GrokkingExperiment::build(s, device, DeviceLimits::CPU)
                    .map_err(DumpError::Input)?;
                let dump = experiment.weights_and_split().await.map_err(DumpError::Failed)?;
                serde_json::to_value(&dump).expect("dumps serialize")
            }
            (Dump::Init, ExperimentSpec::Scans(s)) => {
                let experiment =
                    super::scans::experiment::ScansExperiment::build(s, device, DeviceLimits::CPU)
                        .map_err(DumpError::Input)?;
                super::scans::dump::init_dump(&experiment).await.map_err(DumpError::Failed)?
            }
            (Dump::Init, _) => {
                return Err(wrong_lab(
                    "`inspect init` takes a grokking or scans spec; for the gradient-flow lab use \
                     `inspect gradients`",
                ));
            }
            (Dump::Gradients, ExperimentSpec::GradientFlow(s)) => {
                let profile = super::gradient_flow::probe::profile_at_init(s, device)
                    .await
                    .map_err(DumpError::Failed)?;
                serde_json::to_value(&profile).expect("profiles serialize")
            }
            (Dump::Gradients, _) => {
                return Err(wrong_lab(
                    "`inspect gradients` takes a gradient-flow spec (e.g. the norm-placement preset)",
                ));
            }
            (Dump::Ssm { len }, ExperimentSpec::Scans(s)) => {
                let max = super::scans::spec::MAX_LEN;
                if !(1..=max).contains(&len) {
                    let message = format!("must be in 1..={max} (got {len})");
                    return Err(DumpError::Input(SpecError::new("--len", message)));
                }
                super::scans::dump::ssm_dump(s, len, device).await.map_err(DumpError::Failed)?
            }
            (Dump::Ssm { .. }, _) => {
                return Err(wrong_lab(
                    "`inspect ssm` takes a scans-lab spec (e.g. the selective-copying preset); for \
                     a grokking spec use `inspect init`",
                ));
            }
        };
        json["spec"] = serde_json::to_value(spec).expect("specs serialize");
        Ok(json)
    }
}

impl From<RunError> for DumpError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Spec(e) => DumpError::Input(e),
            e => DumpError::Failed(e.to_string()),
        }
    }
}
