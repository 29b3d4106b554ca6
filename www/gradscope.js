// gradscope widget: UI only. Training runs in a Web Worker (Rust → wasm, src/web/worker.rs);
// `start(element, options)` mounts one widget and returns a handle with `stop()`; the page
// (main.js), the iframe (embed-frame.js) and <gradscope-widget> (embed-element.js) are three
// thin hosts of it.
//
// This file wires the widget's parts, each in www/widget/: `state.js` (the one state object),
// `client.js` (the worker and its command queue), `team.js` (a run's models over several
// workers, which the widget talks to as to one), `layout.js` (the frame, the control bar,
// progress), `spec-form.js` (presets and the lab's fields), `events.js` (each worker event),
// `compare.js` (pinned runs, metrics files), `saved-runs.js` (IndexedDB), `share-menus.js`
// (Export and Embed). What it keeps: mounting a lab, drawing, analysis requests, links,
// visibility, the CPU fallback when the GPU is lost, and the handle.
//
// One worker per widget: a GPUDevice cannot move between workers, and a worker per widget
// keeps widgets independent (one diverging, crashing or losing its device leaves the others
// alone) at the cost of one wasm instance each; an embed off-screen gives its worker back and
// continues later (widget/sleep.js; docs/embedding.md has the figures). A run of several
// models on the CPU trains in one worker per core while it trains (widget/team.js).
//
// A lab module exports { id, title, fields, reportText, mount } (www/labs/index.js lists them;
// see labs/grokking/); `fields` is an array of [legend, fields] or a function of the spec, each
// field as form.js describes. Events the shell does not know are the lab's own: its view and
// its form's custom controls receive them. The lab shown is the one of the loaded spec: loading
// a scans spec switches to the scans lab.

import { getPath } from './form.js';
import { joinHash, labOf, splitHash, specOfHash, parseControls, parseTheme, shows } from './links.js';
import { RunStore } from './runs.js';
import { LABS } from './labs/index.js';
import { newState } from './widget/state.js';
import { MAX_TEAM, WorkerTeam } from './widget/team.js';
import { buildLayout, applyView, showProgress, updateButtons, showError, clearError } from './widget/layout.js';
import { buildForm, fillForm, fillPresets } from './widget/spec-form.js';
import { onEvent } from './widget/events.js';
import { scheduleSleep, startsAsleep, wake } from './widget/sleep.js';
import { pin, pinRun, renderPinned, loadMetricsFile } from './widget/compare.js';
import { saveRun, buildRunsMenu } from './widget/saved-runs.js';
import { buildExportMenu, buildEmbedMenu } from './widget/share-menus.js';
import { openRecording, leaveRecording } from './widget/replay.js';

/** The labs, in the header's order (www/labs/index.js). */
export { LABS };
export { SITE, newWorker } from './widget/client.js';
export { labOf } from './links.js';
export { getPath };

/** The shortest time between two redraws of a widget's charts and views. */
const MIN_DRAW_MS = 200;

/** Options as a Set: "a,b" | ['a', 'b'] | Set | null. */
const toSet = (v) => (v == null ? null : v instanceof Set ? v : Array.isArray(v) ? new Set(v) : parseControls(v));

/** Mounts a gradscope widget in `root`. Options:
 * - `hash`: a spec URL hash (view options such as `controls=` may ride along, see links.js), or
 *   a lab key such as `scans`; `spec`: a spec object instead;
 * - `backend`: 'auto' | 'webgpu' | 'cpu';
 * - `controls` (allow-list), `hide` (names to hide), `autoplay`, `views` (the lab's outputs
 *   to show): as in links.js, and winning over the hash's;
 * - `thumbnail`: show the lab's first chart or view only (the landing page's cards);
 * - `theme`: 'light' | 'dark' | 'auto'; `themeRoot`: an element that carries the theme too
 *   (the page's and the iframe's <html>);
 * - `metrics`: the URL of a recorded run to show at once (replay.js);
 * - `workers`: how many workers a run of several models may train in (default: one per
 *   core, at most 8; an embed uses one until the reader presses Train);
 * - `saveRuns` (default true): keep runs in IndexedDB; `pauseWhenHidden`: pause training while
 *   the widget is off-screen or its tab hidden, and resume when it shows again (embeds);
 * - `onSpecHash(hash)` when a run is loaded (the hash includes the view options), `onLab(id)`
 *   when the lab shown changes;
 * - `notify(name, detail)` for what an embedding page listens to (the custom element's
 *   `gradscope-<name>` events, the iframe's `gradscope:<name>` messages): `evaluation`
 *   `{ step, record, report }` after each evaluation, `done` `{ step, report }` when the run
 *   reaches its budget, `error` `{ message }` when the widget shows an error. */
export function start(root, options = {}) {
  const fromHash = splitHash(options.hash || '');
  /** The widget: what its parts share. Each part's functions take it first. */
  const w = {
    root, options,
    view: {
      controls: options.controls != null ? toSet(options.controls) : fromHash.view.controls,
      hide: new Set([...fromHash.view.hide, ...(toSet(options.hide) || [])]),
      autoplay: options.autoplay ?? fromHash.view.autoplay,
      views: options.views != null ? toSet(options.views) : fromHash.view.views,
      theme: options.theme != null ? parseTheme(options.theme) : fromHash.view.theme,
      metrics: options.metrics || fromHash.view.metrics,
    },
    state: newState(options),
    store: null,
    ui: null,
    /** The form's rows: [{ field, input, row, names }]. */
    fieldRows: [],
  };
  w.client = new WorkerTeam({
    onEvent: (ev) => { if (!w.state.stopped) onEvent(w, ev); },
    onStartError: (message, fromWorker) => {
      if (fromWorker && (w.state.crashed || w.state.stopped)) return;
      showError(w, message);
    },
    size: () => teamSize(w),
  });
  Object.assign(w, actions(w));
  w.store = options.saveRuns === false ? null
    : new RunStore((message) => { w.ui.storeNotice.textContent = message; w.ui.storeNotice.hidden = false; });
  w.ui = buildLayout(w);
  buildExportMenu(w);
  buildEmbedMenu(w);
  if (w.store) buildRunsMenu(w);
  const watchers = watchSizeAndVisibility(w);

  // An embed starts its worker when it first shows (sleep.js); the page at once.
  if (startsAsleep(w)) w.state.sleep = { phase: 'asleep', bytes: null };
  else w.spawnWorker();
  updateButtons(w);
  applyView(w);
  firstLoad(w);
  return handle(w, watchers);
}

/** How many workers a run of several models may train in now (widget/team.js): the
 * `workers` option, else one per core. An embed uses one until the reader presses Train: a
 * post of widgets that autoplay stays one worker each. */
function teamSize(w) {
  if (w.options.pauseWhenHidden && !w.state.readerStarted) return 1;
  const wanted = Number(w.options.workers) || navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(MAX_TEAM, wanted));
}

/** What the widget's parts call on each other. */
function actions(w) {
  return {
    send: (cmd) => w.client.send(cmd),
    spawnWorker: () => {
      w.state.crashed = false;
      w.client.start({ backend: w.state.backend, canSwitch: shows(w.view, ['backend']) });
      w.send({ type: 'init', backend: w.state.backend }); // first in the queue
    },
    requestStart: () => requestStart(w),
    reset: () => reset(w),
    loadHash: (hash) => loadHash(w, hash),
    mountLab: (id, spec) => mountLab(w, id, spec),
    recoverOnCpu: (why, wasRunning, respawn) => recoverOnCpu(w, why, wasRunning, respawn),
    scheduleDraw: () => scheduleDraw(w),
    maybeAnalyse: (force) => maybeAnalyse(w, force),
    applyView: () => applyView(w),
    updateButtons: () => updateButtons(w),
    /** Progress against the loaded spec's budget (every lab has `training.steps`). */
    showProgress: (stepsPerSec) => showProgress(w, stepsPerSec, Number(getPath(w.state.spec, `${w.state.lab?.id}.training.steps`)) || 0),
    showError: (message) => showError(w, message),
    clearError: () => clearError(w),
    pin: (run) => pin(w, run),
    pinRun: () => pinRun(w),
    renderPinned: () => renderPinned(w),
    loadMetricsFile: () => loadMetricsFile(w),
    saveRun: (now, suffix) => saveRun(w, now, suffix),
  };
}

/** Queues the first run (the spec given, else the hash's, else the default preset) and paints
 * its lab and form at once, from the build-written schema and presets, while the worker
 * loads: the form is on screen before the wasm has arrived. */
function firstLoad(w) {
  w.ui.speed.textContent = 'loading the trainer…';
  if (w.view.metrics) openRecording(w, w.view.metrics, () => firstRun(w));
  else firstRun(w);
}

/** The first run: the spec given, else the hash's, else the default preset. */
function firstRun(w) {
  const { state, options } = w;
  const body = splitHash(options.hash || '').spec;
  if (options.spec) w.send({ type: 'load', spec: options.spec });
  else if (body) loadHash(w, options.hash);
  else w.send({ type: 'load', spec: state.presets[0].spec });
  const labPreset = state.presets.find((p) => p.lab === body);
  state.painted = options.spec ?? labPreset?.spec ?? (body ? specOfHash(body) : state.presets[0].spec);
  if (state.painted && LABS.some((l) => l.id === labOf(state.painted))) {
    mountLab(w, labOf(state.painted), state.painted);
    fillForm(w, state.painted);
  }
}

/** Starts training, or, for a hidden embed, as soon as it shows. */
function requestStart(w) {
  leaveRecording(w);
  if (w.options.pauseWhenHidden && !w.state.visible) { w.state.resumeOnShow = true; return; }
  w.state.startRequested = true;
  w.send({ type: 'start' });
}

/** Rebuilds the run from step 0; a crashed worker is replaced, with the last good spec. */
function reset(w) {
  clearError(w);
  if (leaveRecording(w)) return; // the live run starts at step 0 already
  if (w.state.sleep) { wake(w, { discard: true }); return; }
  if (!w.client.ready && w.client.worker) {
    w.client.terminate();
    w.spawnWorker();
    const spec = w.state.lastGood ?? w.state.painted;
    if (spec) w.send({ type: 'load', spec });
    return;
  }
  w.send({ type: 'reset' });
}

/** Loads a URL hash: a full spec hash, or a lab key alone (`#scans`) for that lab's first preset. */
function loadHash(w, hash) {
  const { state, view, options } = w;
  const parts = splitHash(hash);
  if (options.controls == null) view.controls = parts.view.controls;
  if (options.views == null) view.views = parts.view.views;
  if (options.theme == null) view.theme = parts.view.theme;
  view.hide = new Set([...parts.view.hide, ...(toSet(options.hide) || [])]);
  applyView(w);
  const body = parts.spec;
  if (parts.view.metrics) {
    if (parts.view.metrics !== state.replay?.url) {
      view.metrics = parts.view.metrics;
      openRecording(w, parts.view.metrics, () => { view.metrics = null; if (body) w.send({ type: 'load_hash', hash: body }); });
      return;
    }
    if (!body || body === state.specHash) return; // the recording on show, as it is
    leaveRecording(w); // the same recording with another spec: that spec, live
  }
  const labOnly = LABS.find((l) => l.id === body);
  if (labOnly) {
    const preset = state.presets.find((p) => p.lab === labOnly.id);
    if (preset) w.send({ type: 'load', spec: preset.spec });
    return;
  }
  w.send({ type: 'load_hash', hash: body });
}

/** Shows lab `id`: its form and its views (the previous lab's are destroyed). */
function mountLab(w, id, spec) {
  const { state, ui } = w;
  const module = LABS.find((l) => l.id === id);
  if (!module || state.lab === module) return;
  state.view?.destroy();
  state.lab = module;
  state.pinned = [];
  renderPinned(w);
  buildForm(w, spec);
  const ctx = {
    state, get fieldRows() { return w.fieldRows; }, chartWidth: w.chartWidth, summary: ui.summary,
    send: w.send, showError: w.showError, analyse: () => maybeAnalyse(w, true),
  };
  state.view = module.mount(ctx);
  ui.top.replaceChildren(...state.view.top);
  ui.bottom.replaceChildren(...state.view.bottom);
  applyView(w);
  ui.lab.dataset.lab = id;
  fillPresets(w);
  w.options.onLab?.(id);
}

/** Redraws the lab's views on the next frame, at most every MIN_DRAW_MS: each chart redraw
 * costs a style recalculation (canvas text), and five widgets on a page drawing at every
 * evaluation kept the main thread busy. Five frames a second still reads as live. */
function scheduleDraw(w) {
  const { state } = w;
  if (state.pendingDraw) return;
  state.pendingDraw = true;
  const draw = () => queueFrame(() => {
    if (state.stopped) return;
    state.pendingDraw = false;
    state.lastDraw = performance.now();
    state.view?.draw();
  });
  const wait = (state.lastDraw ?? -Infinity) + MIN_DRAW_MS - performance.now();
  if (wait > 0) setTimeout(draw, wait); else draw();
}

/** Draws waiting for an animation frame, one widget's per frame: the widgets of a page share
 * one main thread, and five widgets drawing in the same frame made one task of 50–60 ms (each
 * draw is about 10 ms). Five widgets at five draws a second fit in 25 frames of 60. */
const frameQueue = [];
function queueFrame(drawWidget) {
  frameQueue.push(drawWidget);
  if (frameQueue.length === 1) requestAnimationFrame(nextFrame);
}
function nextFrame() {
  try {
    frameQueue.shift()();
  } finally {
    // One widget's failing draw must not stop the others'.
    if (frameQueue.length) requestAnimationFrame(nextFrame);
  }
}

/** Asks for a new analysis snapshot, at most about once a second and never more than a
 * quarter of the time (it costs a few forward passes on the worker). */
function maybeAnalyse(w, force = false) {
  const { state } = w;
  const a = state.analysis;
  const now = performance.now();
  if (force) a.wantFinal = !state.running;
  if (a.inFlight || !w.client.ready || state.spec == null) return;
  if (!state.analysisShown) return; // nobody would see it
  if (state.replay) return; // a recording's weights are not here (the worker's run is at step 0)
  if (!state.running) a.wantFinal = false;
  if (!force && now - a.last < Math.max(1000, 4 * a.cost)) return;
  a.inFlight = true;
  a.last = now;
  // The costly views (grokking's pruning curve) only for the picture when training stops;
  // the lab may add options (the scans lab: a sequence the user typed).
  w.send({ type: 'analyse', final_views: !state.running && state.step > 0, ...state.view?.analyseOptions?.() });
}

/** The GPU failed mid-run: keep what was trained (pinned on the charts and in saved runs) and
 * go on on the CPU backend. Weights are not checkpointed yet, so the CPU run restarts from
 * step 0 with the same spec and seed; `respawn` when the worker itself died. */
function recoverOnCpu(w, why, wasRunning, respawn = false) {
  const { state, ui } = w;
  const lostAt = state.step;
  if (state.history.length) {
    saveRun(w, true, ' (GPU lost)');
    pin(w, { name: `WebGPU, until step ${lostAt}`, history: state.history.slice(), report: state.report, finished: false });
  }
  state.history = [];
  state.run = null;
  state.backend = 'cpu';
  ui.backendSelect.value = 'cpu';
  ui.lostNotice.textContent = `${why} The run restarted on the CPU (wasm) from step 0 with the same spec and seed; ` +
    'the curves trained on the GPU stay on the charts (dashed) and in Saved runs.';
  ui.lostNotice.hidden = false;
  if (respawn) {
    w.spawnWorker();
    w.send({ type: 'load', spec: state.lastGood });
  } else {
    w.send({ type: 'init', backend: 'cpu' });
  }
  if (wasRunning) requestStart(w);
}

/** Charts follow the widget's own width (a container in a blog post, not the window); an embed
 * pauses off-screen or in a hidden tab, and resumes when it shows. Returns what `stop()`
 * disconnects. */
function watchSizeAndVisibility(w) {
  const { state, ui, options } = w;
  // Two charts a row above 1100 px of widget width, as the stylesheet's @container rule says.
  // Measured when the widget resizes, not at each draw: reading clientWidth forces a layout.
  let measuredWidth = 0;
  const measure = () => {
    const two = w.root.clientWidth > 1100;
    measuredWidth = Math.max(200, Math.floor((ui.mainCol.clientWidth - (two ? 60 : 30)) / (two ? 2 : 1)));
  };
  w.chartWidth = () => {
    if (!measuredWidth) measure();
    return measuredWidth;
  };
  let resizeQueued = false;
  const resizeObserver = new ResizeObserver(() => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => { resizeQueued = false; if (state.stopped) return; measure(); state.view?.resize(w.chartWidth()); });
  });
  resizeObserver.observe(ui.mainCol);

  const onVisibility = () => setVisible(w, state.onScreen !== false && document.visibilityState !== 'hidden');
  let visibilityObserver = null;
  if (options.pauseWhenHidden) {
    visibilityObserver = new IntersectionObserver((entries) => {
      state.onScreen = entries.at(-1).isIntersecting;
      onVisibility();
    });
    visibilityObserver.observe(w.root);
    document.addEventListener('visibilitychange', onVisibility);
  }
  return () => {
    resizeObserver.disconnect();
    visibilityObserver?.disconnect();
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

/** An embed going off-screen pauses its training, and a while later gives its worker back
 * (sleep.js); coming back wakes it and resumes. */
function setVisible(w, visible) {
  const { state } = w;
  if (visible) wake(w); // also the first showing of an embed that started asleep
  if (visible === state.visible) return;
  state.visible = visible;
  if (!visible) {
    // A start may be on its way to the worker (state.running not yet true): pause that too.
    if (state.running || state.startRequested) {
      state.resumeOnShow = true;
      state.startRequested = false;
      w.send({ type: 'pause' });
    }
    scheduleSleep(w);
  } else if (state.resumeOnShow) {
    state.resumeOnShow = false;
    requestStart(w);
  }
}

/** The handle's setView: see there. */
function setView(w, changes) {
  const { view, options, state } = w;
  const has = (k) => Object.prototype.hasOwnProperty.call(changes, k);
  if (has('controls')) view.controls = options.controls = changes.controls == null ? null : toSet(changes.controls);
  if (has('hide')) { options.hide = changes.hide; view.hide = toSet(changes.hide) ?? new Set(); }
  if (has('views')) view.views = options.views = changes.views == null ? null : toSet(changes.views);
  if (has('theme')) view.theme = options.theme = parseTheme(changes.theme);
  if (has('autoplay')) {
    view.autoplay = options.autoplay = Boolean(changes.autoplay);
    if (view.autoplay && !state.running && !state.finished) requestStart(w);
  }
  // The form's rows follow controls and hide (fillForm applies the view too).
  if (state.spec) fillForm(w, state.spec); else applyView(w);
  updateButtons(w);
  maybeAnalyse(w, true);
  if (state.specHash) options.onSpecHash?.(joinHash(state.specHash, view));
}

/** The handle `start()` returns. */
function handle(w, unwatch) {
  const { state } = w;
  return {
    /** Loads a spec from a URL hash, or a lab's first preset from its key (`#scans`); the
     * current run is kept if the hash is invalid. */
    loadHash: (hash) => loadHash(w, hash),
    /** Loads a spec object. */
    load(spec) { w.send({ type: 'load', spec }); },
    start() { requestStart(w); },
    pause() { state.resumeOnShow = false; w.send({ type: 'pause' }); },
    /** Metrics so far (one object per evaluation). */
    history() { return state.history.slice(); },
    /** The lab's current report ("did it grok?", "which model solved it?"). */
    report() { return state.report; },
    /** The loaded spec. */
    spec() { return state.spec; },
    /** The lab shown (`grokking`, `scans`). */
    lab() { return state.lab?.id; },
    /** Shows a message in the widget's error banner (as text, never HTML); it survives the
     * next load. */
    showError(message) { state.keepError = true; showError(w, String(message)); },
    /** Whether training is running. */
    running() { return state.running; },
    /** The current step. */
    step() { return state.step; },
    /** Times `steps` training steps of the loaded spec on the active backend (what the
     * Benchmark button does): resolves to `{ label, speed }` (`train::bench::Speed`), rejects
     * with the worker's error. */
    bench(steps = 20) {
      return new Promise((resolve, reject) => {
        state.benchWaiters.push({ resolve, reject });
        w.ui.benchBtn.disabled = true;
        w.send({ type: 'bench', steps });
      });
    },
    /** Changes how the widget shows its run, keeping the run: any of `controls`, `hide`,
     * `views`, `autoplay`, `theme` (as the options of start(); `null` for a default). What is
     * set here wins over the view options of later loaded hashes, as start()'s options do. */
    setView(changes = {}) { setView(w, changes); },
    /** Shows the recorded run at `url` (a metrics file with its header; replay.js), or with
     * null, leaves the one shown for a live run of its spec from step 0. */
    showRecording(url) {
      if (!url) { leaveRecording(w); return; }
      w.view.metrics = url;
      openRecording(w, url, () => { w.view.metrics = null; });
    },
    /** The recorded run shown, `{ url, name, step }`, or null for a live run. */
    recording() { return state.replay && { url: state.replay.url, name: state.replay.name, step: state.replay.step }; },
    /** The spec's URL hash with the view options (a link to this run as shown). */
    hash() { return joinHash(state.specHash, w.view); },
    /** Test hook: the next training slice fails as a lost GPU device does (the worker's
     * `simulate_device_loss`), to exercise the fallback to the CPU. */
    simulateDeviceLoss() { w.send({ type: 'simulate_device_loss' }); },
    /** Stops training and removes the widget (its saved run stays in IndexedDB). */
    stop() {
      saveRun(w, true);
      state.stopped = true;
      clearTimeout(state.saveTimer);
      clearTimeout(state.sleepTimer);
      w.store?.close();
      w.client.terminate();
      unwatch();
      state.view?.destroy();
      w.ui.lab.remove();
    },
  };
}
