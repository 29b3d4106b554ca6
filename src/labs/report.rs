//! [`LabReport`] and [`LabAnalysis`]: a lab's running report and its heavier views, of any lab.

use serde::{Deserialize, Serialize};

use super::gradient_flow::probe::GradientProfile;
use super::gradient_flow::report::{self as flow_report, FlowReport};
use super::grokking::analysis::{self as grokking_analysis, Analysis, GrokReport};
use super::scans::analysis::{self as scans_analysis, ScansAnalysis, ScansReport};
use super::{LabMetrics, MetricsRecord};
use crate::train::RunReport;

/// A lab's running summary of its history (the page's badge). Untagged: a grokking report
/// keeps its format-1 JSON shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabReport {
    Grokking(GrokReport),
    Scans(ScansReport),
    GradientFlow(FlowReport),
}

impl RunReport<LabMetrics> for LabReport {
    /// Folds in the next evaluation (a record of another lab's shape is skipped).
    fn update(&mut self, record: &MetricsRecord) {
        match self {
            LabReport::Grokking(r) => {
                if let Some(g) = record.to_grokking() {
                    r.update(&g);
                }
            }
            LabReport::Scans(r) => {
                if let Some(s) = record.to_series() {
                    r.update(&s);
                }
            }
            LabReport::GradientFlow(r) => {
                if let Some(s) = record.to_series() {
                    r.update(&s);
                }
            }
        }
    }
}

impl LabReport {
    /// The empty report of lab `lab` (a spec's top-level key).
    pub fn for_lab(lab: &str) -> Self {
        match lab {
            "scans" => LabReport::Scans(ScansReport::default()),
            "gradient_flow" => LabReport::GradientFlow(FlowReport::default()),
            _ => LabReport::Grokking(GrokReport::default()),
        }
    }

    /// Folds in the next evaluation.
    pub fn update(&mut self, record: &MetricsRecord) {
        RunReport::update(self, record)
    }

    /// The report of a history (e.g. a metrics file), its lab read from its records: series
    /// with per-block gradient norms are the gradient-flow lab's, other series the scans lab's.
    pub fn from_history(history: &[MetricsRecord]) -> Self {
        let lab = match history.first().map(|r| &r.lab) {
            Some(LabMetrics::Series(s)) if flow_report::is_flow_record(s) => "gradient_flow",
            Some(LabMetrics::Series(_)) => "scans",
            _ => "grokking",
        };
        let mut report = LabReport::for_lab(lab);
        for r in history {
            report.update(r);
        }
        report
    }

    /// The fields a sweep records for a run of this lab (`gradscope sweep`), each lab naming
    /// its own: steps to grok for grokking, per-model accuracy for scans, per-stack loss for
    /// gradient flow. Non-finite numbers are written as `null`.
    pub fn sweep_fields(&self, history: &[MetricsRecord]) -> Vec<(String, serde_json::Value)> {
        match self {
            LabReport::Grokking(r) => {
                let h: Vec<_> = history.iter().filter_map(MetricsRecord::to_grokking).collect();
                r.sweep_fields(&h)
            }
            LabReport::Scans(r) => {
                let h: Vec<_> = history.iter().filter_map(MetricsRecord::to_series).collect();
                r.sweep_fields(&h)
            }
            LabReport::GradientFlow(r) => r.sweep_fields(),
        }
    }

    /// Whether a sweep table shows this verdict field (the rest are in the JSON lines), and
    /// in which place among those it shows.
    pub fn headline_field(lab: &str, key: &str) -> Option<usize> {
        match lab {
            "grokking" => grokking_analysis::verdict::headline_field(key),
            "scans" => scans_analysis::headline_field(key),
            _ => flow_report::headline_field(key),
        }
    }

    /// What `gradscope run` prints when a run ends, in the lab's words. `analyse` gives the
    /// final weights' views, for a lab whose outcome names them (grokking: key frequencies);
    /// it is called only then.
    pub fn outcome_lines(
        &self,
        history: &[MetricsRecord],
        analyse: impl FnOnce() -> Option<LabAnalysis>,
    ) -> Vec<String> {
        match self {
            LabReport::Grokking(r) => {
                if history.last().and_then(MetricsRecord::grokking).is_none() {
                    return Vec::new();
                }
                let h: Vec<_> = history.iter().filter_map(MetricsRecord::to_grokking).collect();
                let analysis = match analyse() {
                    Some(LabAnalysis::Grokking(a)) => Some(a),
                    _ => None,
                };
                grokking_analysis::verdict::outcome_lines(r, &h, analysis.as_ref())
            }
            LabReport::Scans(r) => {
                r.outcome_lines(history.last().and_then(MetricsRecord::to_series).as_ref())
            }
            LabReport::GradientFlow(r) => {
                r.outcome_lines(history.last().and_then(MetricsRecord::to_series).as_ref())
            }
        }
    }

    /// Where `--stop-after-grok margin` ends a run standing at `step`: the step at which test
    /// accuracy first reached 0.99, once the run is `margin` or more steps past it (grokking
    /// runs; `None` before that and in the other labs). Long grokking runs need not spend the
    /// rest of their budget once they have grokked.
    pub fn grok_stop(&self, step: u64, margin: u64) -> Option<u64> {
        let at = self.grokking()?.test_step?;
        (step >= at.saturating_add(margin)).then_some(at)
    }

    pub fn grokking(&self) -> Option<&GrokReport> {
        match self {
            LabReport::Grokking(r) => Some(r),
            LabReport::Scans(_) | LabReport::GradientFlow(_) => None,
        }
    }
}

/// A lab's snapshot of its heavier views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabAnalysis {
    Grokking(Analysis),
    Scans(ScansAnalysis),
    /// The gradient-flow lab: every stack's per-block profile at initialisation.
    GradientFlow(GradientProfile),
}
