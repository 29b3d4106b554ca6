// An embed off-screen gives its worker back, so a post with many widgets holds the workers (one
// wasm instance each, tens of MB) of the widgets on screen only, and continues where it was
// when it shows again: same step, same curves, the same training ahead.
//
// - An embed (`pauseWhenHidden`) starts its worker when it first shows; until then its form
//   and preset are drawn from the build-written schema and its first load waits in the queue.
// - Hidden for SLEEP_AFTER_MS (scrolled away, or its tab hidden), a widget on the CPU backend
//   asks its worker for a checkpoint (weights, optimizer state, RNG, history: what `gradscope
//   run --checkpoint` writes), keeps the bytes and terminates the worker. Shown again, it
//   starts a new worker and continues from them (`restore`); the page keeps its curves. A run
//   not yet evaluated has nothing to save and is rebuilt from its spec.
// - A widget on WebGPU keeps its worker: its weights cannot be read back from the GPU today.
// - A sleeping widget also drops its canvases' pixels (its charts and heatmaps: ~4 MB each
//   widget, about twice that in Chromium's memory, measured), keeping their size on the page;
//   they are drawn again when it wakes.
//
// `state.sleep`: null (awake), `{ phase: 'saving' }` (checkpoint asked for), or
// `{ phase: 'asleep', bytes }` (no worker; `bytes` null when there was nothing to save).

import { chartsIn } from '../charts.js';

/** How long a widget stays hidden before it gives its worker back: long enough that a reader
 * scrolling past, or glancing at another tab, does not pay for a restore. */
export const SLEEP_AFTER_MS = 3000;

/** A widget with `pauseWhenHidden` starts asleep: its worker starts when it first shows. */
export function startsAsleep(w) {
  return Boolean(w.options.pauseWhenHidden);
}

/** The widget was hidden: give the worker back after SLEEP_AFTER_MS if it is still hidden. */
export function scheduleSleep(w) {
  const { state } = w;
  clearTimeout(state.sleepTimer);
  state.sleepTimer = setTimeout(() => sleep(w), SLEEP_AFTER_MS);
}

function sleep(w) {
  const { state } = w;
  if (state.visible || state.stopped || state.sleep || !w.client.ready) return;
  // A run on the GPU, one being benchmarked, or one not yet loaded keeps its worker.
  if (state.backendKind !== 'cpu' || state.spec == null || state.benchWaiters.length || w.ui.benchBtn.disabled) return;
  releaseCanvases(w);
  // Nothing trained (a recording on show included: its worker waits at step 0): nothing to save.
  if (state.history.length === 0 || state.replay) {
    state.sleep = { phase: 'asleep', bytes: null };
    w.client.terminate();
    return;
  }
  state.sleep = { phase: 'saving' };
  w.send({ type: 'checkpoint' });
}

/** A `checkpoint` event: true if it was this module's (the bytes are kept, the worker ends). */
export function takeCheckpoint(w, ev) {
  const { state } = w;
  if (state.sleep?.phase !== 'saving') return false;
  if (state.visible) { state.sleep = null; return true; } // shown again while saving: stay awake
  state.sleep = { phase: 'asleep', bytes: ev.bytes };
  w.client.terminate();
  return true;
}

/** An error while saving (the worker could not checkpoint): stay awake. */
export function sleepFailed(w) {
  if (w.state.sleep?.phase === 'saving') w.state.sleep = null;
}

/** The widget shows: a sleeping widget starts a worker and continues its run (or, with
 * `discard`, rebuilds it from step 0, as Reset does). Commands sent while it slept follow. */
export function wake(w, { discard = false } = {}) {
  const { state } = w;
  clearTimeout(state.sleepTimer);
  restoreCanvases(w);
  if (state.sleep?.phase === 'saving') { state.sleep = null; return; }
  if (state.sleep?.phase !== 'asleep') return;
  const { bytes } = state.sleep;
  state.sleep = null;
  const held = w.client.queue.splice(0);
  w.spawnWorker();
  if (bytes && !discard) {
    // The worker answers `loaded` at the saved step: the page keeps what it has (events.js).
    state.waking = { history: state.history, report: state.report, run: state.run, step: state.step };
    w.send({ type: 'restore', bytes });
  } else if (state.lastGood) {
    // A recording on show keeps its curves and verdict over the new worker's step 0 (replay.js).
    if (state.replay?.records) state.waking = { history: state.history, report: state.report, step: state.step, finished: true };
    w.send({ type: 'load', spec: state.lastGood });
  }
  for (const cmd of held) w.send(cmd);
}

/** Frees the widget's charts (charts.js `release`) and empties the backing store of its other
 * canvases (heatmaps), pinning their displayed size. (Style properties are set through CSSOM,
 * which the strict CSP allows, never as attributes.) */
function releaseCanvases(w) {
  for (const chart of chartsIn(w.root)) chart.release();
  const released = [];
  for (const canvas of w.root.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const { width, height } = canvas;
    const style = { width: canvas.style.width, height: canvas.style.height };
    canvas.style.width = `${canvas.offsetWidth}px`;
    canvas.style.height = `${canvas.offsetHeight}px`;
    canvas.width = 0;
    canvas.height = 0;
    released.push({ canvas, width, height, style });
  }
  w.state.releasedCanvases = released;
}

/** Gives the canvases their size back and asks for a redraw: the charts from the history, the
 * heatmaps from a new analysis. */
function restoreCanvases(w) {
  const released = w.state.releasedCanvases;
  if (!released) return;
  w.state.releasedCanvases = null;
  for (const { canvas, width, height, style } of released) {
    canvas.width = width;
    canvas.height = height;
    Object.assign(canvas.style, style);
  }
  w.scheduleDraw();
  w.maybeAnalyse(true);
}
