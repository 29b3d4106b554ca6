//! The training worker's event loop.
//!
//! `onmessage` only queues [`Command`]s; one async loop owns the backend and the session,
//! handles queued commands, and trains in slices of ~100 ms, yielding to the worker's event loop
//! between slices so Pause is honoured promptly. Metrics are read back asynchronously
//! (`TrainingSession::evaluate`), never with a blocking read.

use async_channel::{Receiver, Sender};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};
use web_time::Instant;

use super::protocol::{BackendChoice, Command, Event, PresetInfo, SweepAxis, SweepShare};
use crate::backend::{self, Backend, BackendKind};
use crate::labs::{
    Checkpoint, ExperimentSpec, LabExperiment, LabJobs, LabReport, TrainingSession,
    read_metrics_file, team,
};
use crate::spec::SpecError;
use crate::sweep::{MAX_BROWSER_POINTS, Point, PointResult, SweepPlan};
use crate::train::RunError;
use crate::train::bench::measure;
use crate::train::lab_command::Reply;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(event: &Event) {
    let json = serde_json::to_string(event).expect("events serialize");
    let _ = scope().post_message(&JsValue::from_str(&json));
}

/// Posts checkpoint bytes as `{type: "checkpoint", step, bytes: Uint8Array}` (transferred, not
/// copied, and not JSON: a grokking run's checkpoint is a few MB).
fn post_checkpoint(step: u64, bytes: &[u8]) {
    let array = js_sys::Uint8Array::from(bytes);
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"checkpoint".into());
    let _ = js_sys::Reflect::set(&message, &"step".into(), &JsValue::from_f64(step as f64));
    let _ = js_sys::Reflect::set(&message, &"bytes".into(), &array);
    let transfer = js_sys::Array::of1(&array.buffer());
    let _ = scope().post_message_with_transfer(&message, &transfer);
}

/// Posts a split run's shares as `{type: "shares", step, names, parts: [Uint8Array]}`, the
/// parts transferred.
fn post_shares(step: u64, names: &[Vec<String>], parts: &[Vec<u8>]) {
    let message = js_sys::Object::new();
    let arrays = js_sys::Array::new();
    let transfer = js_sys::Array::new();
    for part in parts {
        let array = js_sys::Uint8Array::from(part.as_slice());
        transfer.push(&array.buffer());
        arrays.push(&array);
    }
    let names = js_names(names);
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"shares".into());
    let _ = js_sys::Reflect::set(&message, &"step".into(), &JsValue::from_f64(step as f64));
    let _ = js_sys::Reflect::set(&message, &"names".into(), &names);
    let _ = js_sys::Reflect::set(&message, &"parts".into(), &arrays);
    let _ = scope().post_message_with_transfer(&message, &transfer);
}

/// `names` as a JS array of arrays of strings.
fn js_names(names: &[Vec<String>]) -> JsValue {
    let outer = js_sys::Array::new();
    for share in names {
        let inner = js_sys::Array::new();
        for n in share {
            inner.push(&JsValue::from_str(n));
        }
        outer.push(&inner);
    }
    outer.into()
}

/// Resolves on the next macrotask, letting queued `onmessage` events run.
async fn yield_now() {
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (a macrotask later at least).
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Asks the browser for a WebGPU adapter before burn does, so a browser without WebGPU gets a
/// sentence saying why (wgpu would otherwise fail deep inside, or panic, with no `navigator.gpu`).
/// Returns what `GPUAdapter.info` says of the adapter ("google swiftshader, fallback adapter").
async fn probe_webgpu() -> Result<String, String> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .map_err(|_| "no navigator object in this worker".to_string())?;
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no navigator.gpu (WebGPU is off or unsupported)".into());
    }
    let request = js_sys::Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise =
        request.call0(&gpu).map_err(|e| format!("requestAdapter() threw {e:?}"))?.unchecked_into();
    let adapter = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("requestAdapter() failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser offers no WebGPU adapter (requestAdapter() returned null)".into());
    }
    let info = js_sys::Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let field = |name: &str| {
        js_sys::Reflect::get(&info, &name.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let mut parts: Vec<String> = ["description", "vendor", "architecture"]
        .iter()
        .map(|f| field(f))
        .filter(|s| !s.is_empty())
        .collect();
    parts.dedup();
    let fallback = js_sys::Reflect::get(&info, &"isFallbackAdapter".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut text = parts.join(" ");
    if fallback {
        text.push_str(if text.is_empty() { "fallback adapter" } else { ", fallback adapter" });
    }
    Ok(text)
}

/// A message from the page as a [`Command`]: JSON text, or `{type: "restore", bytes:
/// Uint8Array}` (checkpoint bytes are not sent as JSON).
fn command_of(data: &JsValue) -> Result<Command, String> {
    if let Some(text) = data.as_string() {
        return serde_json::from_str::<Command>(&text)
            .map_err(|e| format!("bad command {text}: {e}"));
    }
    let field = |name: &str| js_sys::Reflect::get(data, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let kind = field("type").as_string();
    if kind.as_deref() == Some("merge") {
        let spec = field("spec").as_string().ok_or("bad command: merge without its spec text")?;
        let parts = js_sys::Array::from(&field("parts"))
            .iter()
            .map(|p| p.dyn_into::<js_sys::Uint8Array>().map(|a| a.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "bad command: merge's parts must be Uint8Arrays")?;
        return Ok(Command::Merge { spec, parts });
    }
    match (kind.as_deref(), field("bytes").dyn_into::<js_sys::Uint8Array>()) {
        (Some("restore"), Ok(bytes)) => Ok(Command::Restore { bytes: bytes.to_vec() }),
        _ => Err(
            "bad command: neither JSON text, {type: \"restore\", bytes: Uint8Array} nor {type: \"merge\", spec, parts}"
                .into(),
        ),
    }
}

/// Installs the panic hook and the message handler, then runs the loop. Called once from the
/// worker binaries' `main` ([`crate::worker_binary`]), after the static constructors.
pub fn worker_main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&Event::Panic { message: info.to_string() });
    }));
    // Before WebGPU starts: the benchmark reports GPU dispatches per step.
    backend::count_gpu_dispatches();
    let (tx, rx): (Sender<Command>, Receiver<Command>) = async_channel::unbounded();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match command_of(&event.data()) {
            Ok(cmd) => {
                let _ = tx.try_send(cmd);
            }
            Err(message) => post(&Event::Error { message, field: None }),
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    wasm_bindgen_futures::spawn_local(run(rx));
    post(&Event::Ready { presets: PresetInfo::all() });
}

#[derive(Default)]
struct Worker {
    backend: Option<Backend>,
    spec: Option<ExperimentSpec>,
    session: Option<TrainingSession>,
    running: bool,
    /// Steps still owed to a `Step` command.
    stepping: u64,
    /// The step a `RunTo` command trains up to.
    run_to: Option<u64>,
    /// Smoothed wall time of one optimizer step, for slice sizing and the speed readout.
    step_ms: Option<f64>,
    /// Wall time of the run's first training slice (one step, and the kernel compilation it
    /// triggers on a GPU).
    first_step_ms: Option<f64>,
    /// The labs' own work between turns (a scan race in progress).
    labs: LabJobs,
    /// Set by [`Command::SimulateDeviceLoss`]: the next slice fails as a lost device.
    simulate_device_loss: bool,
    /// A browser sweep in progress: the points still to run, and how many there are.
    sweep: Option<(std::collections::VecDeque<Point>, usize)>,
}

async fn run(rx: Receiver<Command>) {
    let mut w = Worker::default();
    loop {
        if !w.busy() {
            match rx.recv().await {
                Ok(cmd) => w.handle(cmd).await,
                Err(_) => return,
            }
        }
        while let Ok(cmd) = rx.try_recv() {
            w.handle(cmd).await;
        }
        if w.labs.busy() {
            let replies = w.labs.step(w.backend.as_ref(), async || sleep_ms(50).await).await;
            w.post_replies(replies);
            yield_now().await;
        } else if w.sweep.is_some() {
            w.sweep_step().await;
            yield_now().await;
        } else if w.busy() {
            w.train_slice().await;
            yield_now().await;
        }
    }
}

fn spec_error(e: &SpecError) -> Event {
    Event::Error { message: e.to_string(), field: Some(e.field.clone()) }
}

fn error(message: impl Into<String>) -> Event {
    Event::Error { message: message.into(), field: None }
}

/// The event for an error that stopped training at `step`: a failed device is its own event
/// (the page moves the run to the CPU), anything else a message.
fn stopped_by(e: RunError, step: u64) -> Event {
    match e {
        RunError::Device(message) => Event::DeviceLost { message, step },
        e => error(e.to_string()),
    }
}

/// The backend `choice` asks for, and why it is another one if it is: WebGPU if the browser
/// has an adapter, else the CPU.
async fn choose_backend(choice: BackendChoice) -> (Backend, Option<String>) {
    if choice == BackendChoice::Cpu {
        return (backend::cpu(), None);
    }
    let gpu = match probe_webgpu().await {
        Ok(info) => backend::webgpu().await.map_err(|e| e.to_string()).map(|mut b| {
            // wgpu gets no adapter name in a browser; the probe's is better.
            if b.label == "WebGPU" && !info.is_empty() {
                b.label = format!("WebGPU — {info}");
            }
            b
        }),
        Err(why) => Err(format!("WebGPU is not available: {why}")),
    };
    match gpu {
        Ok(b) => (b, None),
        Err(e) => (backend::cpu(), Some(format!("{e} — training on the CPU (wasm) instead."))),
    }
}

/// Reads a metrics file for the page and classifies it.
fn read_metrics(name: String, text: &str) {
    match read_metrics_file(text) {
        Ok(file) => {
            let report = LabReport::from_history(&file.records);
            post(&Event::MetricsFile { name, file, report });
        }
        Err(e) => post(&Event::Error {
            message: format!("{name}: {e}"),
            field: Some("metrics file".into()),
        }),
    }
}

impl Worker {
    fn busy(&self) -> bool {
        self.labs.busy()
            || self.sweep.is_some()
            || (self.session.is_some()
                && (self.running || self.stepping > 0 || self.run_to.is_some()))
    }

    fn post_state(&self) {
        self.post_state_compiling(false);
    }

    /// [`Self::post_state`], saying whether the GPU is compiling the first step's kernels.
    fn post_state_compiling(&self, compiling: bool) {
        let (step, finished) = match &self.session {
            Some(s) => (s.step(), s.is_finished()),
            None => (0, false),
        };
        post(&Event::State {
            step,
            running: self.running,
            finished,
            steps_per_sec: self.step_ms.map_or(0.0, |ms| 1e3 / ms.max(1e-6)),
            compiling,
            first_step_ms: self.first_step_ms,
        });
    }

    /// Stops training (a run, or the steps owed to `Step`) and says so.
    fn pause(&mut self) {
        self.running = false;
        self.stepping = 0;
        self.run_to = None;
        self.post_state();
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Init { backend } => self.init(backend).await,
            Command::Load { spec } => self.load(ExperimentSpec::from_value(spec)),
            Command::LoadHash { hash } => self.load(ExperimentSpec::from_hash(&hash)),
            Command::Start => {
                self.run_to = None;
                if let Some(s) = &self.session {
                    self.running = !s.is_finished();
                }
                self.post_state();
            }
            Command::Pause => self.pause(),
            Command::Step { count } => {
                self.running = false;
                self.run_to = None;
                self.stepping = count.max(1);
            }
            Command::Reset => {
                if let Some(spec) = self.spec.clone() {
                    self.build(spec);
                }
            }
            Command::Analyse { final_views, example } => self.analyse(final_views, example).await,
            Command::Bench { steps } => self.bench(steps).await,
            Command::ReadMetrics { name, text } => read_metrics(name, &text),
            Command::Report { records } => {
                post(&Event::Report { report: LabReport::from_history(&records) });
            }
            Command::Sweep { text, share } => self.plan_sweep(&text, share),
            Command::CancelSweep => self.cancel_sweep(),
            Command::Checkpoint => self.checkpoint(),
            Command::Restore { bytes } => self.restore(&bytes),
            Command::Split { workers } => self.split(workers).await,
            Command::RunTo { step } => self.start_run_to(step),
            Command::Merge { spec, parts } => self.merge(&spec, &parts),
            Command::Divergence { record } => match read_metrics_file(&record.to_string()) {
                Ok(file) => post(&Event::Divergence {
                    message: file
                        .records
                        .first()
                        .and_then(|r| r.divergence())
                        .map(|(metric, step)| RunError::Diverged { metric, step }.to_string()),
                }),
                Err(e) => post(&error(format!("reading a record: {e}"))),
            },
            Command::SimulateDeviceLoss => self.simulate_device_loss = true,
            Command::Lab(command) => {
                let replies = self.labs.handle(command, self.backend.as_ref()).await;
                self.post_replies(replies);
            }
        }
    }

    /// Posts a lab's replies, pausing training first where one asks.
    fn post_replies(&mut self, replies: Vec<Reply<crate::labs::LabEvent>>) {
        for reply in replies {
            match reply {
                Reply::Event(event) => post(&Event::Lab(event)),
                Reply::Error(message) => post(&error(message)),
                Reply::PauseTraining => self.pause(),
            }
        }
    }

    /// Selects a backend and rebuilds the loaded run on it, from step 0. The loaded spec must
    /// fit the new backend, or the switch is refused: the old backend and its run stay (a run
    /// is never left on a device it was not built for).
    async fn init(&mut self, choice: BackendChoice) {
        self.running = false;
        self.stepping = 0;
        let (b, notice) = choose_backend(choice).await;
        let rebuilt = self
            .spec
            .clone()
            .map(|spec| (TrainingSession::new(spec.clone(), &b.device, b.limits), spec));
        if let (Some((Err(e), _)), Some(old)) = (&rebuilt, &self.backend) {
            post(&Event::Backend {
                kind: old.kind,
                label: old.label.clone(),
                notice: None,
                float64: old.limits.float64,
            });
            let field = match e {
                RunError::Spec(se) => Some(se.field.clone()),
                _ => None,
            };
            let message = format!("cannot switch to {}: {e}. Still on {}.", b.label, old.label);
            post(&Event::Error { message, field });
            self.post_state();
            return;
        }
        post(&Event::Backend {
            kind: b.kind,
            label: b.label.clone(),
            notice,
            float64: b.limits.float64,
        });
        self.backend = Some(b);
        self.session = None;
        match rebuilt {
            Some((Ok(session), spec)) => self.install(spec, session),
            Some((Err(RunError::Spec(e)), _)) => post(&spec_error(&e)),
            Some((Err(e), _)) => post(&error(e.to_string())),
            None => {}
        }
    }

    /// Loads a parsed spec; on error the current run is kept.
    fn load(&mut self, spec: Result<ExperimentSpec, SpecError>) {
        match spec {
            Ok(spec) => self.build(spec),
            Err(e) => post(&spec_error(&e)),
        }
    }

    async fn analyse(&self, final_views: bool, example: Option<Vec<u32>>) {
        let Some(session) = &self.session else { return };
        match session.analyse(final_views, example.as_deref()).await {
            Ok(analysis) => post(&Event::Analysis { analysis }),
            Err(e) => {
                let field = matches!(e, RunError::Input(_)).then(|| "example".to_string());
                post(&Event::Error { message: e.to_string(), field })
            }
        }
    }

    /// Pauses, and times `steps` training steps of a fresh copy of the loaded run.
    async fn bench(&mut self, steps: u64) {
        self.pause();
        let (Some(spec), Some(backend)) = (&self.spec, &self.backend) else { return };
        let (device, limits) = (&backend.device, backend.limits);
        // Kernel launches are counted on the GPU only.
        let gpu = backend.kind == BackendKind::Wgpu;
        let count = || if gpu { backend::gpu_dispatches() } else { None };
        let pause = async || sleep_ms(50).await;
        match measure::<LabExperiment>(spec, device, limits, steps, count, pause).await {
            Ok(speed) => post(&Event::Bench { label: backend.label.clone(), speed }),
            Err(e) => post(&error(e.to_string())),
        }
    }

    /// Plans a browser sweep (at most [`MAX_BROWSER_POINTS`]), or this worker's share of it,
    /// and pauses training for it. `total` in its events counts the points of the share.
    fn plan_sweep(&mut self, text: &str, share: Option<SweepShare>) {
        let plan = match SweepPlan::from_json(text) {
            Ok(p) => p,
            Err(e) => return post(&spec_error(&e)),
        };
        let total = plan.len();
        if total > MAX_BROWSER_POINTS {
            return post(&Event::Error {
                message: format!(
                    "this sweep has {total} points; the browser runs at most {MAX_BROWSER_POINTS} (run it with `gradscope sweep` and load its results file here)"
                ),
                field: Some("sweep".into()),
            });
        }
        let (index, count) = share.map_or((0, 1), |s| (s.index, s.count));
        if count == 0 || index >= count {
            return post(&error(format!("sweep share {index} of {count}: no such share")));
        }
        self.pause();
        let mine: Vec<Point> = crate::sweep::shard_indices(total, index, count)
            .map(|i| plan.point(i).expect("an index below the plan's length"))
            .collect();
        let total = mine.len();
        let axes = plan
            .axes
            .iter()
            .map(|a| SweepAxis { path: a.path.clone(), values: a.values.clone() })
            .collect();
        post(&Event::SweepPlanned { axes, total });
        self.sweep = Some((mine.into(), total));
    }

    fn cancel_sweep(&mut self) {
        if let Some((left, total)) = self.sweep.take() {
            let done = total - left.len();
            post(&Event::SweepPoint { result: None, done, total, cancelled: true });
        }
    }

    /// Posts the run's checkpoint bytes (CPU backend only).
    fn checkpoint(&self) {
        let (Some(session), Some(backend)) = (&self.session, &self.backend) else { return };
        if backend.kind != BackendKind::Cpu {
            return post(&error(
                "weights can be saved from the CPU backend only (WebGPU's cannot be read back synchronously); switch the backend to CPU (wasm) and save again",
            ));
        }
        match session.checkpoint() {
            Ok(c) => post_checkpoint(session.step(), &c.to_bytes()),
            Err(e) => post(&error(format!("saving the weights: {e}"))),
        }
    }

    /// Continues the run saved in `bytes` ([`Self::checkpoint`]'s) on the active backend, from
    /// its step, with its history; the run loaded before stays if it cannot.
    fn restore(&mut self, bytes: &[u8]) {
        let Some(backend) = &self.backend else {
            return post(&error("no backend is ready to continue the saved run on"));
        };
        let checkpoint = match Checkpoint::from_bytes(bytes) {
            Ok(c) => c,
            Err(e) => return post(&error(format!("continuing the saved run: {e}"))),
        };
        let spec = checkpoint.spec.clone();
        match TrainingSession::resume(checkpoint, &backend.device, backend.limits) {
            Ok(session) => self.install(spec, session),
            Err(e) => post(&error(format!("continuing the saved run: {e}"))),
        }
    }

    /// Cuts the run into shares for at most `workers` workers and posts them (see
    /// [`Command::Split`]); the run here goes on as it was.
    async fn split(&mut self, workers: usize) {
        let (Some(session), Some(backend)) = (self.session.as_mut(), &self.backend) else {
            return post(&error("no run is loaded to split"));
        };
        if backend.kind != BackendKind::Cpu {
            return post(&error("a run is split over workers on the CPU backend only"));
        }
        let names = team::plan_shares(session.spec(), workers);
        if names.len() < 2 {
            return post(&error("this run has one model: it trains in one worker"));
        }
        // A checkpoint holds at least the step-0 evaluation, which the run would take first.
        if session.history().is_empty() {
            match session.evaluate().await {
                Ok(record) => post(&Event::Metrics { record, report: session.report() }),
                Err(e) => return post(&stopped_by(e, session.step())),
            }
        }
        let parts: Result<Vec<Vec<u8>>, String> =
            session.checkpoint().map_err(|e| e.to_string()).and_then(|whole| {
                names.iter().map(|n| team::share_of(&whole, n).map(|c| c.to_bytes())).collect()
            });
        match parts {
            Ok(parts) => post_shares(session.step(), &names, &parts),
            Err(e) => post(&error(format!("splitting the run over workers: {e}"))),
        }
    }

    /// Trains up to `step`, then pauses (see [`Command::RunTo`]).
    fn start_run_to(&mut self, step: u64) {
        self.running = false;
        self.stepping = 0;
        let behind = self.session.as_ref().is_some_and(|s| s.step() < step && !s.is_finished());
        self.run_to = behind.then_some(step);
        if !behind {
            self.post_state();
        }
    }

    /// Joins a split run's shares into the whole run `spec` and continues it here.
    fn merge(&mut self, spec: &str, parts: &[Vec<u8>]) {
        let Some(backend) = &self.backend else {
            return post(&error("no backend is ready to join the run on"));
        };
        let joined = ExperimentSpec::from_json(spec).map_err(|e| e.to_string()).and_then(|whole| {
            let shares =
                parts.iter().map(|p| Checkpoint::from_bytes(p)).collect::<Result<Vec<_>, _>>()?;
            team::merge_checkpoints(&whole, &shares)
        });
        let checkpoint = match joined {
            Ok(c) => c,
            Err(e) => return post(&error(format!("joining the run's workers: {e}"))),
        };
        let spec = checkpoint.spec.clone();
        match TrainingSession::resume(checkpoint, &backend.device, backend.limits) {
            Ok(session) => self.install(spec, session),
            Err(e) => post(&error(format!("joining the run's workers: {e}"))),
        }
    }

    /// Runs the next point of a browser sweep to its end and posts its result line.
    async fn sweep_step(&mut self) {
        let Some((points, total)) = self.sweep.as_mut() else { return };
        let total = *total;
        let Some(point) = points.pop_front() else {
            self.sweep = None;
            return post(&Event::SweepPoint { result: None, done: total, total, cancelled: false });
        };
        let done = total - points.len();
        let Some(backend) = self.backend.as_ref() else {
            self.sweep = None;
            return post(&error("no backend is ready for the sweep"));
        };
        match crate::sweep::run_point(point.spec.clone(), &backend.device, backend.limits, None)
            .await
        {
            Ok((result, _)) => {
                let line = PointResult::new(&point, result);
                post(&Event::SweepPoint { result: Some(line), done, total, cancelled: false });
            }
            Err(e) => {
                self.sweep = None;
                post(&error(format!("sweep point #{}: {e}", point.index)));
            }
        }
        if self.sweep.as_ref().is_some_and(|(left, _)| left.is_empty()) {
            self.sweep = None;
            post(&Event::SweepPoint { result: None, done: total, total, cancelled: false });
        }
    }

    /// Builds a run from a validated spec on the current backend; on error keeps the old run.
    fn build(&mut self, spec: ExperimentSpec) {
        let Some(backend) = &self.backend else {
            self.spec = Some(spec);
            return;
        };
        match TrainingSession::new(spec.clone(), &backend.device, backend.limits) {
            Ok(session) => self.install(spec, session),
            Err(RunError::Spec(e)) => post(&spec_error(&e)),
            Err(e) => post(&error(e.to_string())),
        }
    }

    /// Makes `session` (built from `spec`) the current run.
    fn install(&mut self, spec: ExperimentSpec, session: TrainingSession) {
        let limits = self.backend.as_ref().map(|b| b.limits);
        let warnings = limits
            .and_then(|limits| crate::train::optim::subnormal_warning(spec.optimizer(), limits))
            .into_iter()
            .collect();
        post(&Event::Loaded {
            spec: serde_json::to_value(&spec).expect("specs serialize"),
            hash: spec.to_hash(),
            summary: session.summary(),
            warnings,
        });
        self.spec = Some(spec);
        self.session = Some(session);
        self.running = false;
        self.stepping = 0;
        self.run_to = None;
        self.step_ms = None;
        self.first_step_ms = None;
        self.post_state();
    }

    /// Trains for about 100 ms (at least one step), posting any evaluation taken.
    async fn train_slice(&mut self) {
        // A run's first step on a GPU compiles its shaders (seconds on a software adapter):
        // the page says so instead of showing a frozen counter.
        let first = self.step_ms.is_none();
        if first && self.backend.as_ref().is_some_and(|b| b.kind == BackendKind::Wgpu) {
            self.post_state_compiling(true);
        }
        let Some(session) = self.session.as_mut() else { return };
        let budget_ms = 100.0;
        let per_step = self.step_ms.unwrap_or(budget_ms);
        let mut max_steps = ((budget_ms / per_step).floor() as u64).clamp(1, 64);
        if self.stepping > 0 {
            max_steps = max_steps.min(self.stepping);
        }
        if let Some(to) = self.run_to {
            max_steps = max_steps.min(to.saturating_sub(session.step()).max(1));
        }
        let before = session.step();
        let started = Instant::now();
        let result = if std::mem::take(&mut self.simulate_device_loss) {
            Err(RunError::Device(
                "the GPU device was lost (simulated by the page's test hook)".into(),
            ))
        } else {
            session.advance(max_steps).await
        };
        let taken = session.step() - before;
        if taken > 0 {
            let ms = started.elapsed().as_secs_f64() * 1e3 / taken as f64;
            if first {
                self.first_step_ms = Some(ms);
            }
            self.step_ms = Some(self.step_ms.map_or(ms, |old| 0.7 * old + 0.3 * ms));
        }
        let record = match result {
            Ok(record) => self.owed_evaluation(record, taken).await,
            Err(e) => Err(e),
        };
        let Some(session) = self.session.as_ref() else { return };
        match record {
            Ok(Some(r)) => post(&Event::Metrics { record: r, report: session.report() }),
            Ok(None) => {}
            Err(e) => {
                // Diverged, or the device failed: say so, keep the history.
                self.running = false;
                self.stepping = 0;
                self.run_to = None;
                if let Some(r) = session.history().last() {
                    post(&Event::Metrics { record: r.clone(), report: session.report() });
                }
                post(&stopped_by(e, session.step()));
                self.post_state();
                return;
            }
        }
        if session.is_finished() {
            self.running = false;
            self.stepping = 0;
        }
        if self.run_to.is_some_and(|to| session.step() >= to || session.is_finished()) {
            self.run_to = None;
        }
        self.post_state();
    }

    /// `record` of a slice that took `taken` steps, with an evaluation added where a manual
    /// step ends between scheduled ones (a manual step always shows its result).
    async fn owed_evaluation(
        &mut self,
        record: Option<crate::labs::MetricsRecord>,
        taken: u64,
    ) -> Result<Option<crate::labs::MetricsRecord>, RunError> {
        if self.stepping == 0 {
            return Ok(record);
        }
        self.stepping = self.stepping.saturating_sub(taken);
        let Some(session) = self.session.as_mut() else { return Ok(record) };
        if self.stepping == 0 && record.is_none() && taken > 0 {
            return session.evaluate().await.map(Some);
        }
        Ok(record)
    }
}
