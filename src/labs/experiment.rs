//! [`LabExperiment`]: a built experiment of any lab, driven by the core's training session
//! through `train::Experiment`, which it implements by handing each call to its lab.

use burn::tensor::{Device, Tensor};

use super::gradient_flow::GradientFlowExperiment;
use super::grokking::GrokkingExperiment;
use super::scans::ScansExperiment;
use super::{ExperimentSpec, LabAnalysis, LabMetrics, LabReport, MetricsRecord};
use crate::backend::DeviceLimits;
use crate::spec::SpecError;
use crate::train::metrics::ReadoutLayout;
use crate::train::{Experiment, ExperimentState, ExperimentSummary, RunError};

/// A built experiment of any lab.
pub enum LabExperiment {
    Grokking(GrokkingExperiment),
    Scans(ScansExperiment),
    GradientFlow(GradientFlowExperiment),
}

/// `$e` bound to the lab's experiment in every arm, for calls every lab answers alike.
macro_rules! each_lab {
    ($self:expr, $e:ident => $body:expr) => {
        match $self {
            LabExperiment::Grokking($e) => $body,
            LabExperiment::Scans($e) => $body,
            LabExperiment::GradientFlow($e) => $body,
        }
    };
}

impl Experiment for LabExperiment {
    type Spec = ExperimentSpec;
    type Metrics = LabMetrics;
    type Report = LabReport;
    type Analysis = LabAnalysis;

    fn check_fits(spec: &ExperimentSpec, limits: DeviceLimits) -> Result<(), SpecError> {
        match spec {
            ExperimentSpec::Grokking(s) => GrokkingExperiment::check_fits(s, limits),
            ExperimentSpec::Scans(s) => ScansExperiment::check_fits(s, limits),
            ExperimentSpec::GradientFlow(s) => GradientFlowExperiment::check_fits(s, limits),
        }
    }

    fn new(spec: &ExperimentSpec, device: &Device) -> Self {
        match spec {
            ExperimentSpec::Grokking(s) => Self::Grokking(Experiment::new(s, device)),
            ExperimentSpec::Scans(s) => Self::Scans(Experiment::new(s, device)),
            ExperimentSpec::GradientFlow(s) => Self::GradientFlow(Experiment::new(s, device)),
        }
    }

    fn new_report(&self) -> LabReport {
        match self {
            Self::Grokking(e) => LabReport::Grokking(Experiment::new_report(e)),
            Self::Scans(e) => LabReport::Scans(Experiment::new_report(e)),
            Self::GradientFlow(e) => LabReport::GradientFlow(Experiment::new_report(e)),
        }
    }

    fn step(&self) -> u64 {
        each_lab!(self, e => Experiment::step(e))
    }

    fn save_state(&self) -> Result<ExperimentState, String> {
        each_lab!(self, e => Experiment::save_state(e))
    }

    fn restore_state(&mut self, state: ExperimentState) -> Result<(), String> {
        each_lab!(self, e => Experiment::restore_state(e, state))
    }

    fn train_step(&mut self, stats: bool) {
        each_lab!(self, e => Experiment::train_step(e, stats))
    }

    fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        each_lab!(self, e => Experiment::metrics_tensor(e))
    }

    fn record(&self, layout: &ReadoutLayout, values: &[f32], wall_ms: f64) -> MetricsRecord {
        match self {
            Self::Grokking(e) => {
                Experiment::record(e, layout, values, wall_ms).map(LabMetrics::Grokking)
            }
            Self::Scans(e) => {
                Experiment::record(e, layout, values, wall_ms).map(LabMetrics::Series)
            }
            Self::GradientFlow(e) => {
                Experiment::record(e, layout, values, wall_ms).map(LabMetrics::Series)
            }
        }
    }

    async fn analyse(
        &self,
        final_views: bool,
        example: Option<&[u32]>,
    ) -> Result<LabAnalysis, RunError> {
        if let Some(tokens) = example {
            self.check_example(tokens)?;
        }
        Ok(match self {
            Self::Grokking(e) => {
                LabAnalysis::Grokking(Experiment::analyse(e, final_views, example).await?)
            }
            Self::Scans(e) => {
                LabAnalysis::Scans(Experiment::analyse(e, final_views, example).await?)
            }
            Self::GradientFlow(e) => {
                LabAnalysis::GradientFlow(Experiment::analyse(e, final_views, example).await?)
            }
        })
    }

    fn check_example(&self, tokens: &[u32]) -> Result<(), RunError> {
        match self {
            Self::Scans(e) => Experiment::check_example(e, tokens),
            Self::Grokking(_) | Self::GradientFlow(_) => {
                Err(RunError::Input("only the scans lab's views take an example sequence".into()))
            }
        }
    }

    fn summary(&self) -> ExperimentSummary {
        each_lab!(self, e => Experiment::summary(e))
    }

    fn set_divergence_flag(&mut self, on: bool) -> bool {
        each_lab!(self, e => Experiment::set_divergence_flag(e, on))
    }
}

impl LabExperiment {
    pub fn as_grokking(&self) -> Option<&GrokkingExperiment> {
        match self {
            Self::Grokking(e) => Some(e),
            Self::Scans(_) | Self::GradientFlow(_) => None,
        }
    }

    pub fn as_scans(&self) -> Option<&ScansExperiment> {
        match self {
            Self::Scans(e) => Some(e),
            Self::Grokking(_) | Self::GradientFlow(_) => None,
        }
    }
}
