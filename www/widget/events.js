// What the widget does with each worker event (src/web/protocol.rs's `Event`). Events it does
// not know are a lab's own (the scans lab's `kernel` and `race`, the grokking lab's
// `operation_preview`): the lab's view and its form's custom controls receive them.

import { download } from '../exports.js';
import { joinHash, labOf, splitHash } from '../links.js';
import { LABS } from '../labs/index.js';
import { notify } from './layout.js';
import { pinPendingSaved } from './saved-runs.js';
import { showMetricsFile, takeReport } from './compare.js';
import { sleepFailed, takeCheckpoint } from './sleep.js';
import { fieldSignature, fillForm, fillPresets, labFields, buildForm } from './spec-form.js';

/** Handles one event from the worker. */
export function onEvent(w, ev) {
  const handler = HANDLERS[ev.type];
  if (handler) handler(w, ev);
  else {
    w.state.view?.event?.(ev);
    for (const r of w.fieldRows) r.input.control?.event?.(ev);
  }
  w.updateButtons();
}

const HANDLERS = {
  ready, backend, loaded, metrics, checkpoint, state, bench, error, panic,
  metrics_file: (w, ev) => {
    // The recording on show (replay.js): its report is the verdict; any other file is pinned.
    const replay = w.state.replay;
    if (replay?.records && !replay.reported && ev.name === replay.name) {
      replay.reported = true;
      w.state.report = ev.report;
      w.scheduleDraw();
    } else {
      showMetricsFile(w, ev);
    }
  },
  report: (w, ev) => takeReport(w, ev.report),
  analysis: (w, ev) => {
    const a = w.state.analysis;
    a.inFlight = false;
    a.cost = performance.now() - a.last;
    w.state.view?.analysis(ev.analysis);
    // Training stopped while this one was computed: take the final picture too.
    if (a.wantFinal) w.maybeAnalyse(true);
  },
  device_lost: (w, ev) => {
    // The worker posts this before the state event that says training stopped, so
    // `running` still tells whether it was training (not a single Step, not paused).
    w.recoverOnCpu(`The GPU failed at step ${ev.step}: ${ev.message}.`, w.state.running || w.state.startRequested);
  },
};

/** The worker listens: post what was queued (the first run's load is queued since start()). */
function ready(w, ev) {
  w.client.markReady();
  // The build-written presets the page started with are the worker's own unless the page and
  // the wasm come from different builds (a cached page with a new worker): the worker's win.
  if (JSON.stringify(ev.presets) !== JSON.stringify(w.state.presets)) {
    w.state.presets = ev.presets;
    fillPresets(w);
  }
}

function backend(w, ev) {
  const { state, ui } = w;
  ui.backendLabel.textContent = ev.label;
  ui.backendLabel.dataset.kind = ev.kind;
  ui.backendSelect.value = ev.kind === 'cpu' && state.backend !== 'auto' ? 'cpu' : state.backend;
  ui.notice.hidden = !ev.notice;
  ui.notice.textContent = ev.notice || '';
  state.float64 = ev.float64;
  state.backendKind = ev.kind;
  state.view?.backend?.(ev);
}

/** A run was built: show its lab, its form and its summary, from step 0. */
function loaded(w, ev) {
  const { state, ui } = w;
  if (state.keepError) state.keepError = false; else w.clearError();
  w.mountLab(labOf(ev.spec), ev.spec);
  if (fieldSignature(labFields(w, ev.spec)) !== state.fieldSignature) buildForm(w, ev.spec);
  Object.assign(state, { spec: ev.spec, lastGood: ev.spec, history: [], report: null, finished: false, summary: ev.summary });
  state.analysis.inFlight = false;
  fillForm(w, ev.spec);
  state.view.loaded(ev);
  state.run = null; // a new run starts (saved at its first evaluation)
  state.runDeleted = false;
  state.specHash = ev.hash;
  state.step = 0;
  // A widget that slept continues its run (sleep.js): its curves, report and saved run stay.
  if (state.waking) Object.assign(state, state.waking);
  state.waking = null;
  ui.stepCount.textContent = String(state.step);
  w.showProgress(0);
  pinPendingSaved(w);
  // What the run will do wrong on this device (the worker's `warnings`, e.g. Adam's tiny ε
  // where subnormals are flushed); cleared by the next run that has none.
  ui.runNotice.hidden = !ev.warnings?.length;
  ui.runNotice.textContent = (ev.warnings ?? []).join(' ');
  ui.summary.textContent = [...ev.summary.facts, `${ev.summary.parameters.toLocaleString()} parameters`]
    .concat(ev.summary.float64 ? ['float64 loss'] : []).join(' · ');
  w.options.onSpecHash?.(joinHash(ev.hash, w.view));
  w.scheduleDraw();
  if (w.view.autoplay && !state.autoplayed && !state.replay) {
    state.autoplayed = true;
    w.requestStart();
  }
}

function metrics(w, ev) {
  const { state } = w;
  if (state.history.at(-1)?.step !== ev.record.step) state.history.push(ev.record);
  state.report = ev.report;
  w.scheduleDraw();
  w.maybeAnalyse(state.history.length === 1);
  w.saveRun(false);
  notify(w, 'evaluation', { step: ev.record.step, record: ev.record, report: ev.report });
}

function checkpoint(w, ev) {
  if (takeCheckpoint(w, ev)) return;
  if (!w.state.checkpointStem) return;
  download(`${w.state.checkpointStem}.gsck`, new Blob([ev.bytes], { type: 'application/octet-stream' }));
  w.state.checkpointStem = null;
}

/** Progress: the step, running or not, the speed. */
function state(w, ev) {
  const { state: s, ui } = w;
  const wasRunning = s.running;
  const wasFinished = s.finished;
  // A recording on show (replay.js) keeps its own step: the worker's run waits at step 0.
  const replay = s.replay?.records ? s.replay : null;
  s.step = replay ? replay.step : ev.step;
  s.running = ev.running;
  if (ev.running || ev.finished) s.startRequested = false;
  s.finished = replay ? true : ev.finished;
  ui.stepCount.textContent = String(s.step);
  s.compiling = ev.compiling;
  ui.speed.title = ev.first_step_ms == null ? ''
    : `First training step: ${ev.first_step_ms < 1000 ? `${Math.round(ev.first_step_ms)} ms` : `${(ev.first_step_ms / 1000).toFixed(1)} s`}${s.backendKind === 'wgpu' ? ' (compiling its GPU kernels included)' : ''}`;
  w.showProgress(ev.steps_per_sec);
  if (wasRunning && !ev.running) {
    w.maybeAnalyse(true); // paused or finished: the final picture
    w.saveRun(true);
    w.scheduleDraw(); // the verdict may change from "too early" to final
  }
  if (ev.finished && !wasFinished && !replay) notify(w, 'done', { step: ev.step, report: s.report });
}

function bench(w, ev) {
  const { state, ui } = w;
  ui.benchBtn.disabled = false;
  const s = ev.speed;
  state.benchWaiters.splice(0).forEach((waiter) => waiter.resolve({ label: ev.label, speed: s }));
  state.benches = state.benches.filter((b) => b.label !== ev.label).concat([{ label: ev.label, sps: s.train_steps_per_sec }]);
  const base = state.benches[0];
  const cmp = state.benches.length > 1
    ? ' · ' + state.benches.map((b) => `${b.label}: ${b.sps.toFixed(2)} (${(b.sps / base.sps).toFixed(2)}×)`).join(', ')
    : '';
  ui.benchOut.textContent = `Benchmark on ${ev.label}: ${s.train_steps_per_sec.toFixed(2)} steps/s ` +
    `(${(1000 / s.train_steps_per_sec).toFixed(1)} ms/step); ${s.eval_steps_per_sec.toFixed(2)} steps/s with an ` +
    `evaluation and readback every step (×${(s.train_steps_per_sec / s.eval_steps_per_sec).toFixed(2)} slower); first step ` +
    `${s.first_step_ms.toFixed(0)} ms` +
    (s.instrumented_steps_per_sec > 0 ? `; ${s.instrumented_steps_per_sec.toFixed(2)} steps/s with the per-step metrics on every step (×${(s.train_steps_per_sec / s.instrumented_steps_per_sec).toFixed(2)} slower)` : '') +
    (s.bare_steps_per_sec == null ? '' : `; ${s.bare_steps_per_sec.toFixed(2)} steps/s without the divergence flag`) +
    (s.gpu_dispatches_per_step == null ? '' : `; ${s.gpu_dispatches_per_step.toFixed(1)} GPU dispatches per training step`) +
    cmp;
}

function error(w, ev) {
  const { state, ui, options } = w;
  sleepFailed(w);
  if (state.waking) {
    // The saved run could not be continued: run it again from step 0, and say so.
    state.waking = null;
    state.keepError = true;
    w.send({ type: 'load', spec: state.lastGood });
  }
  if (ui.benchBtn.disabled) ui.benchBtn.disabled = false;
  state.benchWaiters.splice(0).forEach((waiter) => waiter.reject(new Error(ev.message)));
  state.analysis.inFlight = false;
  w.showError(ev.message);
  state.view?.event?.(ev);
  if (ev.field) w.fieldRows.find((r) => r.field.path === ev.field)?.input.setAttribute('aria-invalid', 'true');
  if (!state.lastGood && state.presets.length) {
    // A bad link must not leave an empty page: run the default preset, keep the message.
    state.keepError = true;
    const wanted = LABS.find((l) => l.id === labOf(splitHash(options.hash).spec));
    const preset = (wanted && state.presets.find((p) => p.lab === wanted.id)) || state.presets[0];
    w.send({ type: 'load', spec: preset.spec });
  }
}

/** A Rust panic: the worker is dead. On WebGPU it is most often the device (lost, out of
 * memory): go on on the CPU; else say so and keep the curves. */
function panic(w, ev) {
  const { state } = w;
  const wasRunning = state.running || state.startRequested;
  state.running = false;
  state.crashed = true; // the wasm traps next: its error event is not a failed start
  w.client.markDead();
  if (state.backendKind === 'wgpu' && state.lastGood) {
    w.client.terminate();
    w.recoverOnCpu(`The WebGPU worker crashed at step ${state.step}: ${ev.message.split('\n')[0]}.`, wasRunning, true);
    return;
  }
  w.showError(`The training worker crashed: ${ev.message}\nYour curves are kept; press Reset to restart the worker.`);
}
