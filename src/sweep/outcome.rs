//! What a sweep writes: one JSON line per run, read back (tolerating the truncated last line a
//! killed sweep leaves), merged across shards, and shown as a table.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use web_time::Instant;

use super::Point;
use crate::backend::DeviceLimits;
use crate::labs::{ExperimentSpec, LabReport, TrainingSession};
use crate::train::RunError;
use crate::train::metrics::is_step_field;

/// Format name of a sweep's result lines (`"format"` of each line).
pub const SWEEP_FORMAT: &str = "gradscope-sweep";
/// Version of the result-line format. 2: a step never reached within the budget is `null`
/// (version 1 wrote `"never"`, which [`read_results`] reads as `null`).
pub const SWEEP_FORMAT_VERSION: u32 = 2;

/// How a point's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Trained to its budget (or to where `--stop-after-grok` stopped it: see `steps`).
    Ok,
    /// A metric became non-finite; the verdict covers the history up to there.
    Diverged,
}

/// A run's result without the point it belongs to: what `sweep-point` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub status: RunStatus,
    /// The divergence, in words, when `status` is `diverged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Optimizer steps taken.
    pub steps: u64,
    /// The lab's verdict fields ([`LabReport::sweep_fields`]).
    pub verdict: Map<String, Value>,
    /// Training wall time in seconds (the one field that differs between identical runs).
    pub wall_s: f64,
}

/// One line of a sweep's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// Always [`SWEEP_FORMAT`].
    pub format: String,
    pub version: u32,
    /// [`super::spec_hash`] of `spec`: what a rerun recognizes the point by.
    pub hash: String,
    /// Place in the sweep's cartesian product.
    pub index: usize,
    /// The axis values, `{path: value}`.
    pub point: Map<String, Value>,
    /// The axis paths in the sweep file's order (`point`'s keys are sorted).
    #[serde(default)]
    pub axes: Vec<String>,
    pub lab: String,
    #[serde(flatten)]
    pub result: RunResult,
    /// The point's full spec: `gradscope run` on it (or opening it in the page) redoes the run.
    pub spec: Value,
}

impl PointResult {
    pub fn new(point: &Point, result: RunResult) -> Self {
        PointResult {
            format: SWEEP_FORMAT.into(),
            version: SWEEP_FORMAT_VERSION,
            hash: point.hash.clone(),
            index: point.index,
            point: point.values_json(),
            axes: point.values.iter().map(|(p, _)| p.clone()).collect(),
            lab: point.spec.lab().into(),
            result,
            spec: serde_json::from_str(&point.spec.to_json()).expect("specs serialize"),
        }
    }

    /// The line, without its newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("results serialize")
    }

    /// This result as the current format writes it: a version-1 line's `"never"` steps are
    /// `null` (a merge of old and new shards then reads alike).
    fn in_current_format(mut self) -> Self {
        if self.version < 2 {
            for (name, v) in self.result.verdict.iter_mut() {
                if is_step_field(name) && v.as_str() == Some("never") {
                    *v = Value::Null;
                }
            }
            self.version = SWEEP_FORMAT_VERSION;
        }
        self
    }

    /// This result with its wall time zeroed: two runs of the same spec compare equal this way.
    pub fn without_wall_time(&self) -> Self {
        let mut r = self.clone();
        r.result.wall_s = 0.0;
        r
    }
}

/// Trains `spec` on `device` to its budget, or with `stop_after_grok` that many steps past the
/// evaluation where test accuracy first reached 0.99 (grokking; as `gradscope run
/// --stop-after-grok` stops), and returns its verdict with the run itself (whose history is
/// the point's curve). A divergence is a result (`status: diverged`), not an error; a device
/// failure is.
pub async fn run_point(
    spec: ExperimentSpec,
    device: &burn::tensor::Device,
    limits: DeviceLimits,
    stop_after_grok: Option<u64>,
) -> Result<(RunResult, TrainingSession), RunError> {
    let mut session = TrainingSession::new(spec, device, limits)?;
    match train_point(&mut session, stop_after_grok, || false).await? {
        PointEnd::Done(result) => Ok((result, session)),
        PointEnd::Interrupted => unreachable!("nothing interrupts this run"),
    }
}

/// How [`train_point`] ended.
#[derive(Debug)]
pub enum PointEnd {
    /// The point's verdict: it reached its budget, its grok stop, or diverged.
    Done(RunResult),
    /// `interrupted()` said stop, at an evaluation: the session stands there, ready for a
    /// checkpoint that resumes it exactly.
    Interrupted,
}

/// Trains a point's session (new, or resumed from a checkpoint) as [`run_point`] does, asking
/// `interrupted()` after each evaluation whether to stop there instead (a sweep told to stop by
/// SIGTERM checkpoints its points in flight there). The result's wall time counts the time a
/// resumed session had already trained.
pub async fn train_point(
    session: &mut TrainingSession,
    stop_after_grok: Option<u64>,
    interrupted: impl Fn() -> bool,
) -> Result<PointEnd, RunError> {
    let started = Instant::now();
    let before_ms = session.wall_ms();
    let trained = async {
        while !session.is_finished() {
            if let Some(margin) = stop_after_grok
                && session.report().grok_stop(session.step(), margin).is_some()
            {
                break;
            }
            if session.advance(u64::MAX).await?.is_some() && !session.is_finished() && interrupted()
            {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let (status, error) = match trained.await {
        Ok(true) => (RunStatus::Ok, None),
        Ok(false) => return Ok(PointEnd::Interrupted),
        Err(e @ RunError::Diverged { .. }) => (RunStatus::Diverged, Some(e.to_string())),
        Err(e) => return Err(e),
    };
    let report = LabReport::from_history(session.history());
    Ok(PointEnd::Done(RunResult {
        status,
        error,
        steps: session.step(),
        verdict: report.sweep_fields(session.history()).into_iter().collect(),
        wall_s: before_ms / 1e3 + started.elapsed().as_secs_f64(),
    }))
}

/// A results file read back.
#[derive(Debug, Default)]
pub struct ResultsFile {
    pub results: Vec<PointResult>,
    /// Byte length of the complete lines: a truncated last line (a killed write) lies past it,
    /// and an appending writer cuts the file back to here first.
    pub complete_len: usize,
    /// Lines that did not parse, as (line number, reason); a truncated last line is not listed.
    pub skipped: Vec<(usize, String)>,
}

/// Reads a sweep's JSON lines. The last line may be cut short (the sweep was killed while
/// writing it): it is dropped, and the point runs again. Other bad lines are listed.
pub fn read_results(text: &str) -> ResultsFile {
    let mut file = ResultsFile::default();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let complete = line.ends_with('\n');
        let body = line.trim();
        if complete {
            offset += line.len();
            file.complete_len = offset;
        }
        if body.is_empty() {
            continue;
        }
        match serde_json::from_str::<PointResult>(body) {
            Ok(r) if r.format == SWEEP_FORMAT => file.results.push(r.in_current_format()),
            Ok(r) => file.skipped.push((i + 1, format!("format is `{}`", r.format))),
            Err(_) if !complete => {}
            Err(e) => file.skipped.push((i + 1, e.to_string())),
        }
    }
    file
}

/// Merges results (from shards, or reruns): one per point hash, the first seen kept, ordered
/// by point index.
pub fn merge(results: impl IntoIterator<Item = PointResult>) -> Vec<PointResult> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<PointResult> =
        results.into_iter().filter(|r| seen.insert(r.hash.clone())).collect();
    out.sort_by(|a, b| a.index.cmp(&b.index).then_with(|| a.hash.cmp(&b.hash)));
    out
}

/// The results as an aligned text table: the axis values, the status and the lab's headline
/// verdict fields ([`LabReport::headline_field`]).
pub fn table(results: &[PointResult]) -> String {
    let Some(first) = results.first() else { return "(no results)\n".into() };
    let axis_cols: Vec<String> = if first.axes.len() == first.point.len() {
        first.axes.clone()
    } else {
        first.point.keys().cloned().collect()
    };
    let mut verdict_cols: Vec<(usize, String)> = Vec::new();
    for r in results {
        for k in r.result.verdict.keys() {
            if let Some(rank) = LabReport::headline_field(&r.lab, k) {
                if !verdict_cols.iter().any(|(_, c)| c == k) {
                    verdict_cols.push((rank, k.clone()));
                }
            }
        }
    }
    verdict_cols.sort();
    let verdict_cols: Vec<String> = verdict_cols.into_iter().map(|(_, c)| c).collect();
    let short = |path: &str| -> String {
        // `grokking.task.train_fraction` → `task.train_fraction`: the lab is the same for all.
        path.split_once('.').map_or(path, |(_, rest)| rest).to_string()
    };
    let cell = |name: &str, v: Option<&Value>| -> String {
        match v {
            Some(Value::Null) if is_step_field(name) => "never".into(),
            None | Some(Value::Null) => "–".into(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) {
                    format!("{x:.3e}")
                } else {
                    format!("{:.4}", x).trim_end_matches('0').trim_end_matches('.').to_string()
                }
            }
            Some(v) => v.to_string(),
        }
    };
    let mut header: Vec<String> = vec!["#".into()];
    header.extend(axis_cols.iter().map(|c| short(c)));
    header.push("status".into());
    header.extend(verdict_cols.iter().cloned());
    let mut rows = vec![header];
    for r in results {
        let mut row = vec![r.index.to_string()];
        row.extend(axis_cols.iter().map(|c| cell("", r.point.get(c))));
        row.push(
            serde_json::to_value(r.result.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        );
        row.extend(verdict_cols.iter().map(|c| cell(c, r.result.verdict.get(c))));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> =
            row.iter().zip(&widths).map(|(s, w)| format!("{s:>w$}", w = *w)).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
