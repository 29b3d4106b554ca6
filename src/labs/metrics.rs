//! [`LabMetrics`]: one evaluation's metrics of any lab, in the JSON shapes metrics files,
//! checkpoints and the worker carry.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::LABS;
use super::grokking::{GrokkingMetrics, GrokkingRecord};
use crate::train::metrics::{MetricsFileError, Record, RunMetrics, SeriesMetrics};

/// One evaluation of any lab (`record.step`, `record.wall_ms`, the lab's metrics beside them).
pub type MetricsRecord = Record<LabMetrics>;

/// A metrics file of any lab.
pub type MetricsFile = crate::train::MetricsFile<LabMetrics>;

/// A lab's metrics at one evaluation: the grokking lab's flat numbers, or named series (the
/// labs that train several models side by side). Untagged: a grokking record keeps the flat
/// shape of format-1 files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabMetrics {
    Grokking(GrokkingMetrics),
    /// Named series (`<model>.<metric>`): the scans and gradient-flow labs.
    Series(SeriesMetrics),
}

impl RunMetrics for LabMetrics {
    fn first_non_finite(&self) -> Option<String> {
        match self {
            LabMetrics::Grokking(m) => m.first_non_finite(),
            LabMetrics::Series(s) => s.first_non_finite(),
        }
    }

    fn divergence(&self, step: u64) -> Option<(String, u64)> {
        match self {
            LabMetrics::Grokking(m) => m.divergence(step),
            LabMetrics::Series(s) => s.divergence(step),
        }
    }

    /// A record with a `series` object is a series record, else a grokking one; either must
    /// agree with the file's lab.
    fn from_file_fields(
        fields: Map<String, Value>,
        lab: Option<&str>,
    ) -> Result<Self, (String, String)> {
        let series = fields.contains_key("series");
        match (lab, series) {
            (Some("grokking"), true) => {
                Err(("series".into(), "a grokking file has no series".into()))
            }
            (Some(lab), false) if lab != "grokking" => {
                Err(("series".into(), format!("a {lab} record must have a `series` object")))
            }
            (_, true) => SeriesMetrics::from_file_fields(fields, lab).map(LabMetrics::Series),
            (_, false) => GrokkingMetrics::from_file_fields(fields, lab).map(LabMetrics::Grokking),
        }
    }

    fn lab(&self) -> Option<&'static str> {
        match self {
            LabMetrics::Grokking(m) => m.lab(),
            LabMetrics::Series(_) => None,
        }
    }
}

impl MetricsRecord {
    /// The grokking lab's metrics, if this is a grokking record.
    pub fn grokking(&self) -> Option<&GrokkingMetrics> {
        match &self.lab {
            LabMetrics::Grokking(m) => Some(m),
            LabMetrics::Series(_) => None,
        }
    }

    /// A grokking record as one value (step, wall time, and the metrics by `Deref`).
    pub fn to_grokking(&self) -> Option<GrokkingRecord> {
        self.grokking().map(|m| self.with(m.clone()))
    }

    /// The named series, if this is a series record.
    pub fn series_metrics(&self) -> Option<&SeriesMetrics> {
        match &self.lab {
            LabMetrics::Series(s) => Some(s),
            LabMetrics::Grokking(_) => None,
        }
    }

    /// A series record as one value.
    pub fn to_series(&self) -> Option<Record<SeriesMetrics>> {
        self.series_metrics().map(|s| self.with(s.clone()))
    }

    /// One line for a progress bar: the grokking lab's accuracies and losses, or each model's
    /// held-out accuracy (or loss).
    pub fn progress_text(&self) -> String {
        match &self.lab {
            LabMetrics::Grokking(m) => m.progress_text(),
            LabMetrics::Series(s) => s
                .series
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_suffix(".test_acc").map(|name| format!("{name} {v:.3}")).or_else(|| {
                        k.strip_suffix(".test_loss").map(|name| format!("{name} {v:.4}"))
                    })
                })
                .collect::<Vec<_>>()
                .join("  "),
        }
    }

    /// A named series' value (`None` for grokking records or a missing name).
    pub fn series(&self, name: &str) -> Option<f64> {
        self.series_metrics().and_then(|s| s.get(name))
    }
}

/// Reads a metrics file of any lab: `gradscope run --out`, the page's JSON export, or a
/// format-1 file without a header (see `train::metrics::read_metrics_file`).
pub fn read_metrics_file(text: &str) -> Result<MetricsFile, MetricsFileError> {
    let labs: Vec<&str> = LABS.iter().map(|(key, _)| *key).collect();
    crate::train::metrics::read_metrics_file(text, &labs)
}
