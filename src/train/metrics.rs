//! What a run reports at each evaluation: one JSON object per logged step (`--out metrics.jsonl`,
//! the worker's messages, the page's chart).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Version of the metrics-file format. 2: the file starts with a [`file_header`] line; files
/// without one (version 1) were written before 2026-11-27, when the grokking transformer's
/// causal mask was inverted, so version-1 files of transformer runs describe that broken model.
pub const METRICS_FORMAT_VERSION: u32 = 2;

/// The first line of a metrics file: `{"format": "gradscope-metrics", "version", "lab",
/// "spec"}`, where `spec` is the run's tagged spec (`{"grokking": {...}}`) and `lab` its key.
/// Records follow, one per line; readers skip lines without a `step`.
pub fn file_header(spec: &impl Serialize) -> String {
    let spec = serde_json::to_value(spec).expect("specs serialize");
    let lab = spec.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    serde_json::json!({
        "format": "gradscope-metrics",
        "version": METRICS_FORMAT_VERSION,
        "lab": lab,
        "spec": spec,
    })
    .to_string()
}

/// A whole metrics file's text: the [`file_header`] line, then one JSON line per record (what
/// `gradscope run --out` writes, and a sweep's `--curves` per point).
pub fn metrics_file(spec: &impl Serialize, records: &[impl Serialize]) -> String {
    let mut text = file_header(spec) + "\n";
    for r in records {
        text += &serde_json::to_string(r).expect("records serialize");
        text.push('\n');
    }
    text
}

/// One evaluation: the step, the training wall time, and the lab's metrics `M` flattened
/// beside them, so a grokking record keeps the flat JSON shape of format-1 files
/// (`{"step", "train_loss", …, "wall_ms"}`) and a series record reads
/// `{"step", "wall_ms", "series": {"mamba.test_acc": …}}`. It dereferences to its metrics
/// (`record.test_acc`).
///
/// Why a lab's own payload type behind one record rather than a trait object: records cross
/// the worker boundary and files as JSON, and serde needs the concrete types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record<M> {
    pub step: u64,
    /// Training wall time so far in milliseconds (paused time excluded).
    #[serde(default)]
    pub wall_ms: f64,
    #[serde(flatten)]
    pub lab: M,
}

impl<M> std::ops::Deref for Record<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.lab
    }
}

impl<M> Record<M> {
    /// The same step and wall time with other metrics.
    pub fn with<N>(&self, lab: N) -> Record<N> {
        Record { step: self.step, wall_ms: self.wall_ms, lab }
    }

    /// The same record with its metrics turned into another type (a lab's wrapped by the
    /// registry).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Record<N> {
        Record { step: self.step, wall_ms: self.wall_ms, lab: f(self.lab) }
    }
}

/// What the core needs of a lab's metrics: which one went non-finite, and how to read them
/// from a metrics file.
pub trait RunMetrics: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned {
    /// The first non-finite metric, in the order a user would look for it.
    fn first_non_finite(&self) -> Option<String>;

    /// What broke first, and at which step (`step`: this record's). A lab that flags
    /// divergence earlier than its record shows it overrides this.
    fn divergence(&self, step: u64) -> Option<(String, u64)> {
        self.first_non_finite().map(|m| (m, step))
    }

    /// One record's metrics from a metrics-file line, `step` and `wall_ms` already taken out.
    /// `lab`: the file header's lab, if it has one. The error is `(field, message)`.
    fn from_file_fields(
        fields: Map<String, Value>,
        lab: Option<&str>,
    ) -> Result<Self, (String, String)>;

    /// The lab these metrics can only come from, if their shape tells (a metrics file without
    /// a header takes it from its first record).
    fn lab(&self) -> Option<&'static str> {
        None
    }
}

impl<M: RunMetrics> Record<M> {
    /// The first non-finite metric, in the order a user would look for it.
    pub fn first_non_finite(&self) -> Option<String> {
        self.lab.first_non_finite()
    }

    /// What broke first, and at which step.
    pub fn divergence(&self) -> Option<(String, u64)> {
        self.lab.divergence(self.step)
    }
}

/// Named scalar series: `{"mamba.test_acc": 0.97, "s4d.test_acc": 0.21, …}`, for labs that
/// train several models side by side (`<model>.<metric>`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesMetrics {
    pub series: BTreeMap<String, f64>,
}

impl SeriesMetrics {
    /// A named series' value.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.series.get(name).copied()
    }
}

impl RunMetrics for SeriesMetrics {
    fn first_non_finite(&self) -> Option<String> {
        self.series.iter().find(|(_, v)| !v.is_finite()).map(|(k, _)| k.clone())
    }

    /// A per-block divergence flag where the lab keeps one (`<model>.nonfinite_step.LL`: the
    /// earliest step, then the shallowest block), else the first non-finite series.
    fn divergence(&self, step: u64) -> Option<(String, u64)> {
        let flagged: Vec<(u64, &str, &str)> = self
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
                n => format!(" (and {n} more block{} at that step)", if n > 1 { "s" } else { "" }),
            };
            return Some((format!("the gradient of `{stack}`'s block {block}{also}"), step));
        }
        self.first_non_finite().map(|m| (m, step))
    }

    fn from_file_fields(
        mut fields: Map<String, Value>,
        lab: Option<&str>,
    ) -> Result<Self, (String, String)> {
        let Some(Value::Object(raw)) = fields.remove("series") else {
            let what = lab.map_or("a series record".to_string(), |lab| format!("a {lab} record"));
            return Err(("series".into(), format!("{what} must have a `series` object")));
        };
        if let Some(other) = fields.keys().next() {
            return Err((
                other.clone(),
                "is not a field of a series record (step, wall_ms, series)".into(),
            ));
        }
        let mut series = BTreeMap::new();
        for (name, v) in raw {
            let value = match v {
                // NaN and ±inf have no JSON form; serde_json writes them as null.
                Value::Null => f64::NAN,
                v => v
                    .as_f64()
                    .ok_or_else(|| (format!("series.{name}"), "must be a number".to_string()))?,
            };
            series.insert(name, value);
        }
        Ok(SeriesMetrics { series })
    }
}

/// A step at which a threshold was first reached, or `null` when it was not within the budget:
/// a column of numbers with gaps, as pandas and plotting tools take it (sweep tables and phase
/// diagrams mark the gaps as "never", apart from a large number). Sweep files of format 1 wrote
/// `"never"` instead; [`crate::sweep::read_results`] reads those as `null`.
pub fn reached_step(step: Option<u64>) -> Value {
    step.map_or(Value::Null, Value::from)
}

/// Whether a verdict field is one of [`reached_step`]'s, by its name (`train_step_99`,
/// `<m>.solved_step`: `_step` at the end or before a suffix): its `null` means "never within
/// the budget", not "no value".
pub fn is_step_field(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.ends_with("_step") || last.contains("_step_")
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
pub struct MetricsFile<M> {
    /// The file's lab: the header's, else whatever the registry guesses from the records.
    pub lab: Option<String>,
    /// The spec that produced it (from the header; format-1 files have none).
    pub spec: Option<serde_json::Value>,
    pub version: u32,
    pub records: Vec<Record<M>>,
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

/// Reads a metrics file: an optional [`file_header`] line, then one [`Record`] per line (blank
/// lines skipped); `labs`: the keys a header's `lab` may take. Every refusal names the line and
/// the field. `null` in a series (a value that was NaN or infinite when written, e.g. the step
/// a run diverged) reads as NaN.
pub fn read_metrics_file<M: RunMetrics>(
    text: &str,
    labs: &[&str],
) -> Result<MetricsFile<M>, MetricsFileError> {
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
            if !labs.contains(&lab) {
                return Err(fail(line, "lab", format!("must be one of {}", labs.join(", "))));
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
        let lab = M::from_file_fields(object, file.lab.as_deref())
            .map_err(|(field, message)| fail(line, &field, message))?;
        if file.lab.is_none() {
            // A file without a header takes the lab its first record tells, if one does.
            file.lab = lab.lab().map(str::to_string);
        }
        file.records.push(Record { step, wall_ms, lab });
    }
    if file.records.is_empty() {
        return Err(fail(text.lines().count(), "(file)", "holds no metrics records".into()));
    }
    Ok(file)
}
