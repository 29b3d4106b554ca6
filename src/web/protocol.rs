//! Messages between the page and the training worker, as JSON strings: the run commands every
//! lab answers, and each lab's own ([`LabCommand`], [`LabEvent`]) in the same `{"type": …}` form.

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::labs::{LabAnalysis, LabCommand, LabEvent, LabReport, MetricsFile, MetricsRecord};
use crate::train::ExperimentSummary;
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

/// A preset as the page lists it (also in the page's build-written schema module).
pub use crate::labs::presets::PresetInfo;

/// A worker's share of a browser sweep: the points `index`, `index + count`, ….
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct SweepShare {
    pub index: usize,
    pub count: usize,
}

/// One axis of a planned sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepAxis {
    pub path: String,
    pub values: Vec<serde_json::Value>,
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
    /// Compute the lab's heavier views on the current weights; with `final_views`, also the
    /// costly ones (grokking's pruning curve: several forward passes; the page asks for them
    /// only when training stops).
    /// `example`: a sequence to show the views on instead of the held-out one (the scans
    /// lab's "your sequence"); a bad one is answered with an [`Event::Error`] whose field is
    /// `example`.
    Analyse {
        final_views: bool,
        #[serde(default)]
        example: Option<Vec<u32>>,
    },
    /// Pause, and time `steps` training steps of the loaded spec on the active backend (a
    /// fresh copy of the run; the paused run is untouched).
    Bench {
        steps: u64,
    },
    /// Read a metrics file (`gradscope run --out`, or the page's JSON export) and classify it.
    /// Answered with [`Event::MetricsFile`], or an [`Event::Error`] naming the line and field.
    ReadMetrics {
        name: String,
        text: String,
    },
    /// Classify a history (e.g. a metrics file from the CLI loaded into the page).
    Report {
        records: Vec<MetricsRecord>,
    },
    /// Run a sweep file's points here, one after another, on the active backend (at most
    /// [`crate::sweep::MAX_BROWSER_POINTS`]; larger sweeps belong to `gradscope sweep`).
    /// Answered with [`Event::SweepPlanned`], then one [`Event::SweepPoint`] per point.
    /// Training of the loaded run pauses. With `share`, only the points `index`, `index +
    /// count`, … (`sweep::shard_indices`, as `gradscope sweep --shard`): the page runs a
    /// sweep over several workers, each with its share.
    Sweep {
        text: String,
        #[serde(default)]
        share: Option<SweepShare>,
    },
    /// Stop a sweep after the point in progress.
    CancelSweep,
    /// Save the run as it stands (`train::checkpoint`'s bytes, what `gradscope run
    /// --checkpoint` writes and `--resume` reads): answered with a `checkpoint` message
    /// carrying the bytes (not JSON: `{type, step, bytes: Uint8Array}`), or an error. CPU
    /// backend only: reading WebGPU weights back needs an async path burn's records lack.
    Checkpoint,
    /// Continue a run from a checkpoint's bytes (what [`Command::Checkpoint`] answered): its
    /// spec, weights, optimizer state, RNG and history, on the active backend; answered with
    /// `loaded` and `state` at the checkpoint's step, or an error (the run loaded before is
    /// kept). Not JSON: the page posts `{type: "restore", bytes: Uint8Array}`. This is how a
    /// widget scrolled away gives its worker back and later continues where it was.
    #[serde(skip)]
    Restore {
        bytes: Vec<u8>,
    },
    /// Cut the loaded run into shares for at most `workers` workers (`labs::team`), each a
    /// few of its models: answered with `{type: "shares", step, names: [[model]], parts:
    /// [Uint8Array]}` (not JSON: each part is a share's checkpoint bytes, for another worker's
    /// [`Command::Restore`]), after the step-0 evaluation if the run had none. The run here is
    /// left as it was. CPU backend only, as [`Command::Checkpoint`].
    Split {
        workers: usize,
    },
    /// Train up to step `step` (evaluating on schedule only, as a run does), then pause: how
    /// the workers of a split run meet at one step before they are joined.
    RunTo {
        step: u64,
    },
    /// Join the shares of the run `spec` (checkpoint bytes, every worker's at one step) into
    /// the whole run and continue it here; answered with `loaded` and `state`, or an error.
    /// Not JSON: the page posts `{type: "merge", spec: JSON text, parts: [Uint8Array]}`.
    #[serde(skip)]
    Merge {
        spec: String,
        parts: Vec<Vec<u8>>,
    },
    /// Say how a record shows its run diverged, in the words a run that stops there uses:
    /// answered with [`Event::Divergence`]. A run split over workers asks it of its joined
    /// record (each worker saw only its own models).
    /// The record as the page holds it: JSON, non-finite numbers as `null` (read as a metrics
    /// file's line is).
    Divergence {
        record: serde_json::Value,
    },
    /// Test hook: the next training slice fails as a lost WebGPU device does (a
    /// `RunError::Device`), so the page's fallback can be exercised in a browser whose device
    /// never fails. It touches nothing else.
    SimulateDeviceLoss,
    /// A lab's own command (`scan_race`, `s4d_kernel`, `preview_operation`, …), handed to
    /// the lab through the registry ([`crate::labs::LabJobs`]).
    #[serde(untagged)]
    Lab(LabCommand),
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
    /// `warnings`: what the run will do wrong on this device, in words (the page shows them).
    Loaded {
        spec: serde_json::Value,
        hash: String,
        summary: ExperimentSummary,
        #[serde(default)]
        warnings: Vec<String>,
    },
    /// A new evaluation, and the lab's report of the run so far.
    Metrics { record: MetricsRecord, report: LabReport },
    /// The heavier views at the current step.
    Analysis { analysis: LabAnalysis },
    /// A speed measurement on the active backend.
    Bench { label: String, speed: Speed },
    /// A metrics file read for [`Command::ReadMetrics`], and its report.
    MetricsFile { name: String, file: MetricsFile, report: LabReport },
    /// The report of a history sent with [`Command::Report`].
    Report { report: LabReport },
    /// A sweep was planned: its axes (paths and values, in file order) and point count.
    SweepPlanned { axes: Vec<SweepAxis>, total: usize },
    /// One point of a browser sweep ended (the line `gradscope sweep` would write), or with
    /// `result` none, the sweep ended (`cancelled` if stopped early).
    SweepPoint {
        result: Option<crate::sweep::PointResult>,
        done: usize,
        total: usize,
        cancelled: bool,
    },
    /// Progress: the step counter and whether training is running. `compiling`: the first
    /// training step on a GPU is under way (its shaders are being compiled); `first_step_ms`:
    /// how long that step took (compilation included), once taken.
    State {
        step: u64,
        running: bool,
        finished: bool,
        steps_per_sec: f64,
        compiling: bool,
        first_step_ms: Option<f64>,
    },
    /// The answer to [`Command::Divergence`]: the message, or none if the record is finite.
    Divergence { message: Option<String> },
    /// Something the user must see. `field` names the spec field at fault, if any.
    Error { message: String, field: Option<String> },
    /// The GPU device failed mid-run (lost, or a readback failed). Training stopped at `step`;
    /// the history so far was posted first. The page moves the run to the CPU backend.
    DeviceLost { message: String, step: u64 },
    /// A Rust panic: the worker is dead and must be restarted.
    Panic { message: String },
    /// A lab's own answer (`kernel`, `race`, `operation_preview`, …).
    #[serde(untagged)]
    Lab(LabEvent),
}
