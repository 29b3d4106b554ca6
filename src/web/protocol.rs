//! Messages between the page and the training worker, as JSON strings.

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, GrokReport};
use crate::backend::BackendKind;
use crate::experiments::ExperimentSummary;
use crate::train::MetricsRecord;
use crate::train::bench::Speed;

/// Which backend the page asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// WebGPU if the browser has an adapter, else the CPU backend (with a notice saying why).
    Auto,
    Webgpu,
    Cpu,
}

/// A preset as the page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetInfo {
    pub name: String,
    pub title: String,
    pub source: String,
    pub expect: String,
    pub spec: serde_json::Value,
}

impl PresetInfo {
    pub fn all() -> Vec<PresetInfo> {
        crate::spec::presets::all()
            .into_iter()
            .map(|p| PresetInfo {
                name: p.name.into(),
                title: p.title.into(),
                source: p.source.into(),
                expect: p.expect.into(),
                spec: serde_json::to_value(&p.spec).expect("specs serialize"),
            })
            .collect()
    }
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Select (and initialise) a backend. Rebuilds the loaded run on it, from step 0.
    Init {
        backend: BackendChoice,
    },
    /// Load a spec given as JSON. On error the current run is kept.
    Load {
        spec: serde_json::Value,
    },
    /// Load a spec from a URL hash. On error the current run is kept.
    LoadHash {
        hash: String,
    },
    /// Train until paused or the budget is spent.
    Start,
    Pause,
    /// Take `count` optimizer steps, then evaluate.
    Step {
        count: u64,
    },
    /// Rebuild the loaded run from step 0.
    Reset,
    /// Compute the heavier views (Fourier, IPR, prediction grid) on the current weights; with
    /// `pruning`, also the pruning curve (several forward passes: the page asks for it only
    /// when training stops).
    Analyse {
        pruning: bool,
    },
    /// Pause, and time `steps` training steps of the loaded spec on the active backend (a
    /// fresh copy of the run; the paused run is untouched).
    Bench {
        steps: u64,
    },
    /// Classify a history (e.g. a metrics file from the CLI loaded into the page).
    Report {
        records: Vec<MetricsRecord>,
    },
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The worker is listening; these presets can be loaded.
    Ready { presets: Vec<PresetInfo> },
    /// A backend is active. `notice` says why it is not the one asked for, if so; `float64`
    /// says whether float64 losses can run on it.
    Backend { kind: BackendKind, label: String, notice: Option<String>, float64: bool },
    /// A run was built from `spec` (validated, defaults filled in); `hash` is its URL hash.
    Loaded { spec: serde_json::Value, hash: String, summary: ExperimentSummary },
    /// A new evaluation, and the run's "did it grok?" report so far.
    Metrics { record: MetricsRecord, report: GrokReport },
    /// The heavier views at the current step.
    Analysis { analysis: Analysis },
    /// A speed measurement on the active backend.
    Bench { label: String, speed: Speed },
    /// The report of a history sent with [`Command::Report`].
    Report { report: GrokReport },
    /// Progress: the step counter and whether training is running.
    State { step: u64, running: bool, finished: bool, steps_per_sec: f64 },
    /// Something the user must see. `field` names the spec field at fault, if any.
    Error { message: String, field: Option<String> },
    /// A Rust panic: the worker is dead and must be restarted.
    Panic { message: String },
}
