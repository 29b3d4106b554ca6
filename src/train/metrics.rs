//! What a run reports at each evaluation: one JSON object per logged step (`--out metrics.jsonl`,
//! the worker's messages, the page's chart).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::ExperimentSpec;

/// Version of the metrics-file format. 2: the file starts with a [`file_header`] line; files
/// without one (version 1) were written before 2026-11-27, when the transformer's causal mask
/// was inverted, so version-1 files of transformer runs describe that broken model.
pub const METRICS_FORMAT_VERSION: u32 = 2;

/// The first line of a metrics file: `{"format": "gradscope-metrics", "version", "lab",
/// "spec"}`. Records follow, one per line; readers skip lines without a `step`.
pub fn file_header(spec: &ExperimentSpec) -> String {
    let spec: serde_json::Value = serde_json::from_str(&spec.to_json()).expect("specs serialize");
    let lab = spec.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    serde_json::json!({
        "format": "gradscope-metrics",
        "version": METRICS_FORMAT_VERSION,
        "lab": lab,
        "spec": spec,
    })
    .to_string()
}

/// One evaluation of any lab: the step, the training wall time, and the lab's metrics
/// flattened beside them, so a grokking record keeps the flat JSON shape of format-1 files
/// (`{"step", "train_loss", …, "wall_ms"}`) and a scans record reads
/// `{"step", "wall_ms", "series": {"mamba.test_acc": …}}`.
///
/// Why per-lab payloads behind one record rather than a trait object: records cross the worker
/// boundary and files as JSON, and serde needs the concrete types; an enum keeps the session,
/// the worker and the CLI free of any lab's field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub step: u64,
    /// Training wall time so far in milliseconds (paused time excluded).
    #[serde(default)]
    pub wall_ms: f64,
    #[serde(flatten)]
    pub lab: LabMetrics,
}

/// A lab's metrics at one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabMetrics {
    Grokking(GrokkingMetrics),
    /// Named series (`<model>.<metric>`), for labs that train several models side by side.
    Series(SeriesMetrics),
}

/// Named scalar series: `{"mamba.test_acc": 0.97, "s4d.test_acc": 0.21, …}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesMetrics {
    pub series: BTreeMap<String, f64>,
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
        self.grokking().map(|m| GrokkingRecord {
            step: self.step,
            wall_ms: self.wall_ms,
            metrics: m.clone(),
        })
    }

    /// A named series' value (`None` for grokking records or a missing name).
    pub fn series(&self, name: &str) -> Option<f64> {
        match &self.lab {
            LabMetrics::Series(s) => s.series.get(name).copied(),
            LabMetrics::Grokking(_) => None,
        }
    }

    /// The first non-finite metric, in the order a user would look for it.
    pub fn first_non_finite(&self) -> Option<String> {
        match &self.lab {
            LabMetrics::Grokking(m) => m.first_non_finite().map(str::to_string),
            LabMetrics::Series(s) => {
                s.series.iter().find(|(_, v)| !v.is_finite()).map(|(k, _)| k.clone())
            }
        }
    }

    /// What broke first, and at which step: a per-block divergence flag where the lab keeps
    /// one (`<stack>.nonfinite_step.LL`, the earliest step, then the shallowest block), else
    /// the first non-finite metric at this record's step.
    pub fn divergence(&self) -> Option<(String, u64)> {
        if let LabMetrics::Series(s) = &self.lab {
            let flagged: Vec<(u64, &str, &str)> = s
                .series
                .iter()
                .filter_map(|(k, &step)| {
                    let (stack, block) = k.split_once(".nonfinite_step.")?;
                    Some((step as u64, stack, block))
                })
                .collect();
            if let Some(&(step, stack, block)) = flagged.iter().min() {
                let also = flagged.iter().filter(|f| f.0 == step).count() - 1;
                let also = match also {
                    0 => String::new(),
                    n => format!(
                        " (and {n} more block{} at that step)",
                        if n > 1 { "s" } else { "" }
                    ),
                };
                return Some((format!("the gradient of `{stack}`'s block {block}{also}"), step));
            }
        }
        self.first_non_finite().map(|m| (m, self.step))
    }
}

/// A grokking record with its step: what grokking tests and tools read (`r.test_acc`).
#[derive(Clone, Debug, PartialEq)]
pub struct GrokkingRecord {
    pub step: u64,
    pub wall_ms: f64,
    pub metrics: GrokkingMetrics,
}

impl std::ops::Deref for GrokkingRecord {
    type Target = GrokkingMetrics;
    fn deref(&self) -> &GrokkingMetrics {
        &self.metrics
    }
}

/// The grokking lab's metrics at one step. Losses and accuracies are over the whole train /
/// test split, with the weights as they are after `step` optimizer updates. The diagnostics
/// default when absent, so a metrics file with only the first five fields still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrokkingMetrics {
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    /// L2 norm of all weights, √Σw².
    #[serde(default)]
    pub weight_norm: f64,
    /// Fraction of training samples whose loss normalizer has collapsed: Σ exp(z − max z) == 1
    /// exactly in the loss's float type (Prieto et al. 2025), or for StableMax Σ s(z) == s(max z)
    /// (see `train::loss::softmax_collapsed`).
    #[serde(default)]
    pub softmax_collapse: f64,
    /// Fraction of training samples with a loss of exactly 0.
    #[serde(default)]
    pub zero_loss: f64,
    /// cos(g, w) of the last step's full gradient and the weights: the "naïve loss
    /// minimization" direction ⊥Grad removes. `None` before the first step.
    #[serde(default)]
    pub nlm_cosine: Option<f64>,
    /// ‖g‖ of the last step's gradient (before clipping / ⊥Grad).
    #[serde(default)]
    pub grad_norm: Option<f64>,
    /// With label noise: accuracy on the training pairs against their true labels.
    #[serde(default)]
    pub train_clean_acc: Option<f64>,
    /// With label noise: fraction of corrupted training labels the model reproduces.
    #[serde(default)]
    pub corrupted_fit: Option<f64>,
    /// L2 norm of each weight tensor, in the order of the run summary's `param_names`.
    #[serde(default)]
    pub layer_norms: Vec<f64>,
}

impl GrokkingMetrics {
    /// The first non-finite metric, in the order a user would look for it.
    pub fn first_non_finite(&self) -> Option<&'static str> {
        [
            ("train_loss", self.train_loss),
            ("test_loss", self.test_loss),
            ("weight_norm", self.weight_norm),
            ("grad_norm", self.grad_norm.unwrap_or(0.0)),
            ("train_acc", self.train_acc),
            ("test_acc", self.test_acc),
        ]
        .into_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|(name, _)| name)
    }
}

/// Device metrics gathered into one tensor for one readback, each part under a name, so the
/// host reads them back by name rather than by position.
#[derive(Default)]
pub struct Readout {
    parts: Vec<burn::tensor::Tensor<1>>,
    layout: ReadoutLayout,
}

/// Where each named part of a [`Readout`] lies in the values read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadoutLayout {
    entries: Vec<(String, std::ops::Range<usize>)>,
}

impl Readout {
    /// Appends `part` (`[n]`) under `name`.
    pub fn push(&mut self, name: impl Into<String>, part: burn::tensor::Tensor<1>) {
        let start = self.layout.entries.last().map_or(0, |(_, r)| r.end);
        let len = part.dims()[0];
        self.layout.entries.push((name.into(), start..start + len));
        self.parts.push(part);
    }

    /// The concatenated tensor and its layout.
    pub fn finish(self) -> (burn::tensor::Tensor<1>, ReadoutLayout) {
        (burn::tensor::Tensor::cat(self.parts, 0), self.layout)
    }
}

impl ReadoutLayout {
    /// The values of part `name` (empty if there is no such part or `values` is short).
    pub fn get<'v>(&self, values: &'v [f32], name: &str) -> &'v [f32] {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, r)| values.get(r.clone()))
            .unwrap_or(&[])
    }

    /// The first value of part `name` as f64 (NaN if absent).
    pub fn scalar(&self, values: &[f32], name: &str) -> f64 {
        self.get(values, name).first().map_or(f64::NAN, |&v| v as f64)
    }
}

/// A metrics file as read back: `gradscope run --out`, the page's JSON export, or a format-1
/// file without a header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    /// The file's lab: the header's, else guessed from the records (`series` → not grokking).
    pub lab: Option<String>,
    /// The spec that produced it (from the header; format-1 files have none).
    pub spec: Option<serde_json::Value>,
    pub version: u32,
    pub records: Vec<MetricsRecord>,
}

/// Why a metrics file was refused: the 1-based line and the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, `{field}`: {message}")]
pub struct MetricsFileError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// Largest metrics file read (a 100 000-step run evaluated every step is ~30 MB).
pub const MAX_METRICS_FILE_BYTES: usize = 256 << 20;

/// Reads a metrics file: an optional [`file_header`] line, then one [`MetricsRecord`] per line
/// (blank lines skipped). Every refusal names the line and the field. `null` in a series (a
/// value that was NaN or infinite when written, e.g. the step a run diverged) reads as NaN.
pub fn read_metrics_file(text: &str) -> Result<MetricsFile, MetricsFileError> {
    let fail = |line: usize, field: &str, message: String| MetricsFileError {
        line,
        field: field.into(),
        message,
    };
    if text.len() > MAX_METRICS_FILE_BYTES {
        return Err(fail(
            0,
            "(file)",
            format!("is {} bytes; at most {MAX_METRICS_FILE_BYTES} are read", text.len()),
        ));
    }
    let mut file = MetricsFile { lab: None, spec: None, version: 1, records: Vec::new() };
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| fail(line, "(json)", format!("not JSON: {e}")))?;
        let serde_json::Value::Object(mut object) = value else {
            return Err(fail(line, "(record)", "is not a JSON object".into()));
        };
        if object.get("format").is_some() {
            if header_seen || !file.records.is_empty() {
                return Err(fail(line, "format", "a header line may only come first".into()));
            }
            header_seen = true;
            if object.get("format").and_then(|f| f.as_str()) != Some("gradscope-metrics") {
                return Err(fail(line, "format", "must be \"gradscope-metrics\"".into()));
            }
            let version = object.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
            if !(2..=u64::from(METRICS_FORMAT_VERSION)).contains(&version) {
                return Err(fail(
                    line,
                    "version",
                    format!("must be 2 to {METRICS_FORMAT_VERSION}"),
                ));
            }
            file.version = version as u32;
            let lab = object.get("lab").and_then(|l| l.as_str()).unwrap_or_default();
            if !crate::spec::LABS.iter().any(|(key, _)| *key == lab) {
                let known: Vec<&str> = crate::spec::LABS.iter().map(|(k, _)| *k).collect();
                return Err(fail(line, "lab", format!("must be one of {}", known.join(", "))));
            }
            file.lab = Some(lab.to_string());
            file.spec = object.remove("spec");
            continue;
        }
        let Some(step) = object.remove("step").and_then(|s| s.as_u64()) else {
            return Err(fail(
                line,
                "step",
                "must be a whole number ≥ 0 (one record per line, as `gradscope run --out` writes)"
                    .into(),
            ));
        };
        let wall_ms = match object.remove("wall_ms") {
            None | Some(serde_json::Value::Null) => 0.0,
            Some(v) => {
                v.as_f64().ok_or_else(|| fail(line, "wall_ms", "must be a number".into()))?
            }
        };
        let series_lab = object.contains_key("series");
        match (file.lab.as_deref(), series_lab) {
            (Some("grokking"), true) => {
                return Err(fail(line, "series", "a grokking file has no series".into()));
            }
            (Some(lab), false) if lab != "grokking" => {
                return Err(fail(
                    line,
                    "series",
                    format!("a {lab} record must have a `series` object"),
                ));
            }
            _ => {}
        }
        let lab = if series_lab {
            let Some(serde_json::Value::Object(raw)) = object.remove("series") else {
                return Err(fail(line, "series", "must be an object of named numbers".into()));
            };
            if let Some(other) = object.keys().next() {
                return Err(fail(
                    line,
                    other,
                    "is not a field of a series record (step, wall_ms, series)".into(),
                ));
            }
            let mut series = BTreeMap::new();
            for (name, v) in raw {
                let value = match v {
                    // NaN and ±inf have no JSON form; serde_json writes them as null.
                    serde_json::Value::Null => f64::NAN,
                    v => v.as_f64().ok_or_else(|| {
                        fail(line, &format!("series.{name}"), "must be a number".into())
                    })?,
                };
                series.insert(name, value);
            }
            LabMetrics::Series(SeriesMetrics { series })
        } else {
            let metrics: GrokkingMetrics = serde_path_to_error::deserialize(
                serde_json::Value::Object(object),
            )
            .map_err(|e| {
                let path = e.path().to_string();
                let field =
                    if path.is_empty() || path == "." { "(record)".to_string() } else { path };
                let inner = e.into_inner().to_string();
                fail(line, &field, inner.split(" at line ").next().unwrap_or_default().to_string())
            })?;
            LabMetrics::Grokking(metrics)
        };
        if file.lab.is_none() && !series_lab {
            file.lab = Some("grokking".into());
        }
        file.records.push(MetricsRecord { step, wall_ms, lab });
    }
    if file.records.is_empty() {
        return Err(fail(text.lines().count(), "(file)", "holds no metrics records".into()));
    }
    Ok(file)
}
