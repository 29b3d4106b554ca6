// gradscope widget: UI only. Training runs in a Web Worker (Rust → wasm, src/web/worker.rs);
// this file is the shell every lab shares — the worker and its JSON protocol
// (src/web/protocol.rs), backend choice, run controls and progress, presets, the spec form,
// errors, pin/compare, metrics files, exports, saved runs, embed snippets, and the fallback to
// the CPU when the GPU device is lost — and each lab's page module (www/labs/*.js) draws its
// own tiles, charts and views. Embeddable: `start(element, options)` returns a handle with
// `stop()`; the page (main.js), the iframe (embed-frame.js) and <gradscope-widget>
// (embed-element.js) are three thin hosts of it.
//
// One worker per widget: a GPUDevice cannot move between workers, and a worker per widget
// keeps widgets independent (one diverging, crashing or losing its device leaves the others
// alone) at the cost of one wasm instance each (see docs/embedding.md for the figures).
//
// A lab module exports { id, title, fields, reportText, mount } (www/labs/index.js lists them;
// see labs/grokking/); `fields` is an array of [legend, fields] or a function of the spec, each
// field as form.js describes. Events the shell does not know are the lab's own: its view and
// its form's custom controls receive them.
// The lab shown is the one of the loaded spec: loading a scans spec switches to the scans lab.

import { el } from './dom.js';
import { getPath, setPath, fieldInput, inputValue, showValue } from './form.js';
import { PINNED_COLORS } from './charts.js';
import { splitHash, joinHash, fieldNames, shows, showsOutput, parseControls } from './links.js';
import { RunStore, newRunId } from './runs.js';
import { download, fileStem, metricsJsonl, metricsCsv, cliLine, chartSvg, chartPng, chartsOf } from './exports.js';
import { LABS } from './labs/index.js';

/** The labs, in the header's order (www/labs/index.js). */
export { LABS };

/** The site's root (where index.html, embed.html and the worker's files are). */
export const SITE = new URL('../', import.meta.url);
const WORKER_JS = new URL('gradscope-worker.js', SITE);
const WORKER_WASM = new URL('gradscope-worker_bg.wasm', SITE);
const WORKER_LOADER = new URL('./worker-loader.js', import.meta.url);
const MAX_PINNED = 4;
/** The shortest time between two redraws of a widget's charts and views. */
const MIN_DRAW_MS = 200;
/** How often a training run's metrics are written to IndexedDB. */
const SAVE_EVERY_MS = 2000;

/** Starts the training worker. From the site's own origin it is www/worker-loader.js; a page on
 * another origin (an embed on a blog) may not start a worker from a cross-origin URL, so it
 * starts one from a same-origin blob holding the same two lines — importScripts may load the
 * glue across origins, and the wasm is fetched with CORS (the host must send
 * Access-Control-Allow-Origin, as GitHub Pages does). */
export function newWorker() {
  if (WORKER_LOADER.origin === location.origin) return new Worker(WORKER_LOADER);
  const source = `importScripts(${JSON.stringify(WORKER_JS.href)});\n` +
    `wasm_bindgen({ module_or_path: ${JSON.stringify(WORKER_WASM.href)} }).catch((e) => setTimeout(() => { throw e; }));\n`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return worker;
}

/** Options as a Set: "a,b" | ['a', 'b'] | Set | null. */
const toSet = (v) => (v == null ? null : v instanceof Set ? v : Array.isArray(v) ? new Set(v) : parseControls(v));

/** The lab key of a spec object (its top-level key) or of a URL hash (its first segment). */
export function labOf(specOrHash) {
  if (typeof specOrHash === 'string') {
    const body = specOrHash.replace(/^#/, '');
    return body.split(/[.=&]/)[0];
  }
  return specOrHash ? Object.keys(specOrHash)[0] : null;
}

/** Mounts a gradscope widget in `root`. Options:
 * - `hash`: a spec URL hash (view options such as `controls=` may ride along, see links.js), or
 *   a lab key such as `scans`; `spec`: a spec object instead;
 * - `backend`: 'auto' | 'webgpu' | 'cpu';
 * - `controls` (allow-list), `hide` (names to hide), `autoplay`, `views` (the lab's outputs
 *   to show): as in links.js, and winning over the hash's;
 * - `thumbnail`: show the lab's first chart or view only (the landing page's cards);
 * - `saveRuns` (default true): keep runs in IndexedDB; `pauseWhenHidden`: pause training while
 *   the widget is off-screen or its tab hidden, and resume when it shows again (embeds);
 * - `onSpecHash(hash)` when a run is loaded (the hash includes the view options), `onLab(id)`
 *   when the lab shown changes. */
export function start(root, options = {}) {
  const fromHash = splitHash(options.hash || '');
  const view = {
    controls: options.controls != null ? toSet(options.controls) : fromHash.view.controls,
    hide: new Set([...fromHash.view.hide, ...(toSet(options.hide) || [])]),
    autoplay: options.autoplay ?? fromHash.view.autoplay,
    views: options.views != null ? toSet(options.views) : fromHash.view.views,
  };
  const store = options.saveRuns === false ? null : new RunStore((message) => { storeNotice.textContent = message; storeNotice.hidden = false; });
  /** Elements that show or hide with the view: [{ el, names }]. */
  const controlled = [];
  const controlled_ = (node, ...names) => { controlled.push({ el: node, names }); return node; };
  const state = {
    presets: [], spec: null, lastGood: null, running: false, finished: false, keepError: false,
    history: [], report: null, summary: null, step: 0, backend: options.backend || 'auto',
    float64: true, pendingDraw: false, worker: null, pinned: [], lab: null, view: null,
    fieldSignature: '', analysis: { inFlight: false, last: 0, cost: 0 }, benches: [], benchWaiters: [], pendingLab: null,
    run: null, lastSave: 0, saveTimer: null, pendingPin: null, autoplayed: false, resumeOnShow: false,
    specHash: '', backendKind: null, visible: !options.pauseWhenHidden || document.visibilityState !== 'hidden',
  };

  // ---- form ---------------------------------------------------------------------------------
  const presetSelect = el('select', { testid: 'preset-select', 'aria-label': 'Preset', onchange: () => {
    const p = state.presets.find((x) => x.name === presetSelect.value);
    if (p) send({ type: 'load', spec: p.spec });
  } });
  const presetNote = el('div', { class: 'gs-preset-note', testid: 'preset-note' });
  const presetSet = controlled_(el('fieldset', {}, el('legend', {}, 'Preset'), presetSelect, presetNote), 'preset');
  const form = el('form', { class: 'gs-form', testid: 'spec-form', onsubmit: (e) => e.preventDefault() }, presetSet);
  let fieldRows = [];

  function labFields(spec) {
    const f = state.lab.fields;
    return typeof f === 'function' ? f(spec) : f;
  }

  /** (Re)builds the form's field sets from the lab's schema for `spec`. */
  function buildForm(spec) {
    const groups = labFields(spec);
    fieldRows = [];
    form.replaceChildren(presetSet);
    for (const [legend, fields] of groups) {
      const fs = el('fieldset', {}, el('legend', {}, legend));
      for (const field of fields) {
        const input = fieldInput(field, { onChange: () => onFieldChange(field, input), send, spec: () => state.spec });
        input.dataset.testid = 'field-' + field.path.split('.').slice(1).join('-'); // field-optimizer-lr
        input.addEventListener('change', () => onFieldChange(field, input));
        // The tooltip says what the control does and where it comes from; screen readers read
        // it as the input's description.
        if (field.tip) input.title = field.tip;
        const row = el('label', { title: field.tip }, field.label, input);
        fieldRows.push({ field, input, row, names: [...fieldNames(field.path), 'form'] });
        fs.append(row);
      }
      form.append(fs);
    }
    state.fieldSignature = groups.flatMap(([, fs]) => fs.map((f) => f.path)).join('|');
  }

  // ---- control bar --------------------------------------------------------------------------
  const trainBtn = el('button', { class: 'primary', testid: 'train-button', title: 'Train until the step budget is spent (or Pause)', onclick: () => requestStart() }, 'Train');
  const pauseBtn = el('button', { testid: 'pause-button', title: 'Pause training; Train resumes from here', onclick: () => { state.startRequested = false; send({ type: 'pause' }); } }, 'Pause');
  const stepBtn = el('button', { testid: 'step-button', title: 'Take one optimizer step, then evaluate', onclick: () => send({ type: 'step', count: 1 }) }, 'Step');
  const resetBtn = el('button', { testid: 'reset-button', title: 'Rebuild the run from step 0 (same spec and seed)', onclick: reset }, 'Reset');
  const benchBtn = el('button', { testid: 'bench-button', title: 'Time 20 training steps of this spec on the active backend', onclick: () => {
    benchBtn.disabled = true;
    benchOut.textContent = 'benchmarking…';
    send({ type: 'bench', steps: 20 });
  } }, 'Benchmark');
  const stepCount = el('span', { class: 'gs-step', testid: 'step-count' }, '0');
  const progress = el('progress', { class: 'gs-progress', testid: 'progress-bar', max: 1, value: 0, 'aria-label': 'Training progress' });
  const speed = el('span', { class: 'gs-summary', testid: 'speed', 'aria-live': 'off' }, '');
  const backendSelect = el('select', { testid: 'backend-select', 'aria-label': 'Backend', title: 'Where training runs: WebGPU (your GPU) or the CPU (WebAssembly)', onchange: () => {
    state.backend = backendSelect.value;
    send({ type: 'init', backend: state.backend });
  } }, el('option', { value: 'auto' }, 'Auto'), el('option', { value: 'webgpu' }, 'WebGPU'), el('option', { value: 'cpu' }, 'CPU (wasm)'));
  backendSelect.value = state.backend;
  const backendLabel = el('span', { testid: 'backend-label' }, 'starting…');
  const runControls = controlled_(el('span', { class: 'gs-run' }, trainBtn, pauseBtn, stepBtn, resetBtn,
    el('span', {}, 'step'), stepCount, progress, speed), 'train');
  const bar = el('div', { class: 'gs-bar' }, runControls, controlled_(benchBtn, 'bench'),
    controlled_(el('span', { class: 'gs-backend' }, backendSelect, backendLabel), 'backend'));

  const notice = el('div', { class: 'gs-notice', testid: 'backend-notice', hidden: true });
  const storeNotice = el('div', { class: 'gs-notice', testid: 'store-notice', hidden: true });
  const lostNotice = el('div', { class: 'gs-notice', testid: 'device-notice', role: 'status', hidden: true });
  const fileNotice = el('div', { class: 'gs-notice', testid: 'file-notice', hidden: true });
  const errorBanner = el('div', { class: 'gs-error', testid: 'error-banner', role: 'alert', hidden: true });
  const benchOut = el('div', { class: 'gs-summary', testid: 'bench-result' });
  const summary = el('div', { class: 'gs-summary', testid: 'run-summary' });

  // ---- compare ------------------------------------------------------------------------------
  const pinBtn = el('button', { testid: 'pin-button', title: 'Keep this run\'s curves and overlay the next run on them', onclick: pinRun }, 'Pin run');
  const fileInput = el('input', { type: 'file', accept: '.jsonl,.json,.txt', testid: 'load-metrics', onchange: loadMetricsFile });
  const loadLabel = el('label', { class: 'gs-file' }, 'Load metrics file (CLI --out)…', fileInput);
  const clearBtn = el('button', { testid: 'clear-pinned', onclick: () => { state.pinned = []; renderPinned(); scheduleDraw(); } }, 'Clear');
  const pinnedList = el('ul', { class: 'gs-pinned', testid: 'pinned-list' });
  const compare = controlled_(el('div', { class: 'gs-compare' }, pinBtn, loadLabel, clearBtn, pinnedList), 'compare');

  // ---- export, embed, saved runs ------------------------------------------------------------
  const exportMenu = el('details', { class: 'gs-menu', testid: 'export-menu' });
  const embedMenu = el('details', { class: 'gs-menu', testid: 'embed-menu' });
  const runsMenu = el('details', { class: 'gs-menu', testid: 'runs-menu' });
  const tools = el('div', { class: 'gs-tools' }, controlled_(exportMenu, 'export'), controlled_(embedMenu, 'embed'),
    ...(store ? [controlled_(runsMenu, 'runs')] : []));
  buildExportMenu();
  buildEmbedMenu();
  buildRunsMenu();

  const top = el('div', { class: 'gs-lab-top' });
  const bottom = el('div', { class: 'gs-lab-bottom' });
  const mainCol = el('div', { class: 'gs-main' }, bar, notice, lostNotice, storeNotice, fileNotice, errorBanner, benchOut, top, compare, tools, bottom);
  const lab = el('div', { class: 'gs-lab' }, form, mainCol);
  root.classList.add('gs-root'); // the container the layout's @container queries measure
  if (options.thumbnail) root.classList.add('gs-thumb');
  root.append(lab);

  // Two charts a row above 1100 px of widget width, as the stylesheet's @container rule says.
  // Measured when the widget resizes, not at each draw: reading clientWidth forces a layout.
  let measuredWidth = 0;
  const measureChartWidth = () => {
    const two = root.clientWidth > 1100;
    measuredWidth = Math.max(200, Math.floor((mainCol.clientWidth - (two ? 60 : 30)) / (two ? 2 : 1)));
  };
  const chartWidth = () => {
    if (!measuredWidth) measureChartWidth();
    return measuredWidth;
  };

  /** Shows lab `id`: its form and its views (the previous lab's are destroyed). */
  function mountLab(id, spec) {
    const module = LABS.find((l) => l.id === id);
    if (!module || state.lab === module) return;
    state.view?.destroy();
    state.lab = module;
    state.pinned = [];
    renderPinned();
    buildForm(spec);
    const ctx = { state, get fieldRows() { return fieldRows; }, chartWidth, summary, send, showError, analyse: () => maybeAnalyse(true) };
    state.view = module.mount(ctx);
    top.replaceChildren(...state.view.top);
    bottom.replaceChildren(...state.view.bottom);
    applyView();
    lab.dataset.lab = id;
    fillPresets();
    options.onLab?.(id);
  }

  // Charts follow the widget's own width (a container in a blog post, not the window).
  let resizeQueued = false;
  const onResize = () => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => { resizeQueued = false; if (state.stopped) return; measureChartWidth(); state.view?.resize(chartWidth()); });
  };
  const resizeObserver = new ResizeObserver(onResize);
  resizeObserver.observe(mainCol);

  // Off-screen or in a hidden tab, an embed pauses, and resumes when it shows again.
  let visibilityObserver = null;
  const onVisibility = () => setVisible(state.onScreen !== false && document.visibilityState !== 'hidden');
  if (options.pauseWhenHidden) {
    visibilityObserver = new IntersectionObserver((entries) => {
      state.onScreen = entries.at(-1).isIntersecting;
      onVisibility();
    });
    visibilityObserver.observe(root);
    document.addEventListener('visibilitychange', onVisibility);
  }
  function setVisible(visible) {
    if (visible === state.visible) return;
    state.visible = visible;
    // A start may be on its way to the worker (state.running not yet true): pause that too.
    if (!visible && (state.running || state.startRequested)) {
      state.resumeOnShow = true;
      state.startRequested = false;
      send({ type: 'pause' });
    } else if (visible && state.resumeOnShow) {
      state.resumeOnShow = false;
      requestStart();
    }
  }

  /** Starts training, or, for a hidden embed, as soon as it shows. */
  function requestStart() {
    if (options.pauseWhenHidden && !state.visible) { state.resumeOnShow = true; return; }
    state.startRequested = true;
    send({ type: 'start' });
  }

  /** Shows or hides each control as the view says (allow-list, hide flags, the fields' `when`). */
  function applyView() {
    for (const { el: node, names } of controlled) node.hidden = !shows(view, names);
    let anyField = false;
    for (const fs of form.querySelectorAll('fieldset')) {
      if (fs === presetSet) continue;
      const rows = fieldRows.filter((r) => fs.contains(r.row));
      const any = rows.some((r) => !r.row.hidden);
      fs.hidden = !any;
      anyField ||= any;
    }
    const formShown = anyField || !presetSet.hidden;
    form.hidden = !formShown;
    lab.classList.toggle('gs-noform', !formShown);
    top.hidden = !showsOutput(view, 'summary');
    [...bottom.children].forEach((block, i) => { block.hidden = !showsOutput(view, i === 0 ? 'charts' : 'analysis'); });
  }

  // ---- rendering ----------------------------------------------------------------------------
  function showError(message) { errorBanner.textContent = message; errorBanner.hidden = false; }
  function clearError() { errorBanner.hidden = true; errorBanner.textContent = ''; }

  function fillPresets() {
    const mine = state.presets.filter((p) => p.lab === state.lab?.id);
    presetSelect.replaceChildren(...mine.map((p) => el('option', { value: p.name }, p.title)),
      el('option', { value: '' }, 'Custom'));
  }

  function fillForm(spec) {
    for (const { field, input, row, names } of fieldRows) {
      const visible = (!field.when || field.when(spec)) && shows(view, names);
      row.hidden = !visible;
      if (visible) showValue(field, input, spec);
      input.removeAttribute('aria-invalid');
    }
    const match = state.presets.find((p) => JSON.stringify(p.spec) === JSON.stringify(spec));
    presetSelect.value = match ? match.name : '';
    presetNote.textContent = match ? `${match.expect} (${match.source})` : 'Custom spec: every field is in the link.';
    state.view?.formFilled?.(spec);
    applyView();
  }

  /** The step budget of the loaded spec (every lab has `training.steps`). */
  const budget = () => Number(getPath(state.spec, `${state.lab?.id}.training.steps`)) || 0;

  /** "step 120 of 400 · 34 steps/s · 8 s left". */
  function showProgress(stepsPerSec) {
    const total = budget();
    progress.max = Math.max(1, total);
    progress.value = Math.min(state.step, total);
    const parts = [];
    if (state.compiling) parts.push('compiling kernels…');
    else if (stepsPerSec > 0) parts.push(`${stepsPerSec.toFixed(stepsPerSec < 10 ? 2 : 0)} steps/s`);
    if (total > 0) parts.unshift(`of ${COUNT.format(total)}`);
    if (state.running && stepsPerSec > 0 && total > state.step) parts.push(`${fmtDuration((total - state.step) / stepsPerSec)} left`);
    if (state.finished) parts.push('done');
    speed.textContent = parts.join(' · ');
  }

  function updateButtons() {
    const loaded = state.spec != null;
    trainBtn.disabled = !loaded || state.running || state.finished;
    pauseBtn.disabled = !state.running;
    stepBtn.disabled = !loaded || state.running || state.finished;
    resetBtn.disabled = !loaded;
    pinBtn.disabled = state.history.length < 2;
  }

  function renderPinned() {
    pinnedList.replaceChildren(...state.pinned.map((run, i) => {
      const li = el('li', {}, el('i', { style: `background: ${PINNED_COLORS[i % PINNED_COLORS.length]}` }), `${run.name} `);
      const verdict = el('span', { class: 'gs-summary' });
      if (run.report && state.lab) verdict.textContent = state.lab.reportText(run.report, run.history, { finished: run.finished ?? true })[1];
      li.append(verdict);
      return li;
    }));
  }

  /** Redraws the lab's views on the next frame, at most every MIN_DRAW_MS: each chart redraw
   * costs a style recalculation (canvas text), and five widgets on a page drawing at every
   * evaluation kept the main thread busy. Five frames a second still reads as live. */
  function scheduleDraw() {
    if (state.pendingDraw) return;
    state.pendingDraw = true;
    const draw = () => requestAnimationFrame(() => {
      if (state.stopped) return;
      state.pendingDraw = false;
      state.lastDraw = performance.now();
      state.view?.draw();
    });
    const wait = (state.lastDraw ?? -Infinity) + MIN_DRAW_MS - performance.now();
    if (wait > 0) setTimeout(draw, wait); else draw();
  }

  /** Asks for a new analysis snapshot, at most about once a second and never more than a
   * quarter of the time (it costs a few forward passes on the worker). */
  function maybeAnalyse(force = false) {
    const a = state.analysis;
    const now = performance.now();
    if (force) a.wantFinal = !state.running;
    if (a.inFlight || !ready || state.spec == null) return;
    if (!showsOutput(view, 'analysis')) return; // nobody would see it
    if (!state.running) a.wantFinal = false;
    if (!force && now - a.last < Math.max(1000, 4 * a.cost)) return;
    a.inFlight = true;
    a.last = now;
    // The costly views (grokking's pruning curve) only for the picture when training stops;
    // the lab may add options (the scans lab: a sequence the user typed).
    send({ type: 'analyse', final_views: !state.running && state.step > 0, ...state.view?.analyseOptions?.() });
  }

  // ---- compare ------------------------------------------------------------------------------
  /** Overlays a run ({ name, history, report }) on the charts; the oldest goes past MAX_PINNED. */
  function pin(run) {
    state.pinned.push(run);
    if (state.pinned.length > MAX_PINNED) state.pinned.shift();
    renderPinned();
    scheduleDraw();
  }

  function pinRun() {
    if (state.history.length < 2) return;
    const name = presetSelect.value || `run ${state.pinned.length + 1}`;
    pin({ name: `${name} @${state.step}`, history: state.history.slice(), report: state.report, finished: state.finished });
  }

  /** A metrics file (the CLI's --out, or this page's JSON export) is read by the worker's
   * parser (src/train/metrics.rs: read_metrics_file), which names the line and field of any
   * fault; the answer is a `metrics_file` event. */
  async function loadMetricsFile() {
    const file = fileInput.files?.[0];
    if (!file) return;
    const text = await file.text();
    fileInput.value = '';
    send({ type: 'read_metrics', name: file.name, text });
  }

  // ---- device loss --------------------------------------------------------------------------
  /** The GPU failed mid-run: keep what was trained (pinned on the charts and in saved runs) and
   * go on on the CPU backend. Weights are not checkpointed yet, so the CPU run restarts from
   * step 0 with the same spec and seed; `respawn` when the worker itself died. */
  function recoverOnCpu(why, wasRunning, respawn = false) {
    const lostAt = state.step;
    if (state.history.length) {
      saveRun(true, ' (GPU lost)');
      pin({ name: `WebGPU, until step ${lostAt}`, history: state.history.slice(), report: state.report, finished: false });
    }
    state.history = [];
    state.run = null;
    state.backend = 'cpu';
    backendSelect.value = 'cpu';
    lostNotice.textContent = `${why} The run restarted on the CPU (wasm) from step 0 with the same spec and seed; ` +
      'the curves trained on the GPU stay on the charts (dashed) and in Saved runs.';
    lostNotice.hidden = false;
    if (respawn) {
      spawnWorker();
      send({ type: 'load', spec: state.lastGood });
    } else {
      send({ type: 'init', backend: 'cpu' });
    }
    if (wasRunning) requestStart();
  }

  // ---- saved runs ---------------------------------------------------------------------------
  /** Writes the run on screen to IndexedDB: at once when `now`, else at most every
   * SAVE_EVERY_MS (a trailing save catches the last evaluations). */
  function saveRun(now, suffix = '') {
    if (!store || !state.history.length || !state.spec || state.runDeleted) return;
    if (!now && performance.now() - state.lastSave < SAVE_EVERY_MS) {
      state.saveTimer ??= setTimeout(() => { state.saveTimer = null; saveRun(true); }, SAVE_EVERY_MS);
      return;
    }
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    state.lastSave = performance.now();
    if (!state.run) {
      const preset = state.presets.find((p) => p.name === presetSelect.value);
      state.run = {
        id: newRunId(), created: Date.now(),
        name: `${preset ? preset.title : `custom ${state.lab.title}`} · ${new Date().toLocaleString()}`,
      };
    }
    if (suffix && !state.run.name.endsWith(suffix)) state.run.name += suffix;
    const record = {
      ...state.run, lab: state.lab.id, spec: state.spec, hash: state.specHash, backend: backendLabel.textContent,
      updated: Date.now(), step: state.step, history: state.history, finished: state.finished,
    };
    store.put(record).then(() => { if (runsMenu.open && !state.renaming) renderRuns(); });
  }

  function buildRunsMenu() {
    runsMenu.replaceChildren(el('summary', { title: 'Runs kept in this browser (IndexedDB): reopen, compare, rename or delete' }, 'Saved runs'),
      el('div', { class: 'gs-menu-body' }, el('ul', { class: 'gs-runs', testid: 'runs-list' })));
    runsMenu.addEventListener('toggle', () => { if (runsMenu.open) renderRuns(); });
  }

  async function renderRuns() {
    const list = runsMenu.querySelector('ul');
    const runs = await store.list();
    if (!runs.length) { list.replaceChildren(el('li', { class: 'gs-summary' }, 'No saved runs yet: a run is saved as it trains.')); return; }
    list.replaceChildren(...runs.map((run) => {
      const name = el('span', { class: 'gs-run-name', testid: 'run-name' }, run.name);
      const meta = el('span', { class: 'gs-summary' }, ` ${LABS.find((l) => l.id === run.lab)?.title ?? run.lab} · step ${run.step} · ${run.points} evaluations · ${new Date(run.updated).toLocaleString()}`);
      const act = (label, title, testid, fn, disabled = false) => el('button', { type: 'button', title, testid, disabled, onclick: fn }, label);
      const sameLab = run.lab === state.lab?.id;
      const li = el('li', { testid: 'saved-run', 'data-run-id': run.id }, name, meta, el('span', { class: 'gs-run-actions' },
        act('Open', 'Load this run\'s spec and show its saved curves (training restarts from step 0: weights are not saved)', 'run-open', async () => {
          const full = await store.get(run.id);
          if (!full) return;
          state.pendingPin = full;
          send({ type: 'load', spec: full.spec });
        }),
        act('Compare', sameLab ? 'Overlay this run\'s curves on the charts' : 'Open a run of the same lab to compare', 'run-compare', async () => {
          const full = await store.get(run.id);
          if (!full) return;
          pin({ name: full.name, history: full.history, report: null });
          state.pendingReports = (state.pendingReports || []).concat([state.pinned.at(-1)]);
          send({ type: 'report', records: full.history });
        }, !sameLab),
        act('Rename', 'Rename this run', 'run-rename', () => {
          const input = el('input', { type: 'text', value: run.name, 'aria-label': 'Run name', testid: 'run-name-input' });
          // Saves while training would re-render the list under the input: hold them off.
          state.renaming = true;
          let settled = false;
          const done = async (save) => {
            if (settled) return;
            settled = true;
            state.renaming = false;
            const name = input.value.trim() || run.name;
            if (save) {
              if (state.run?.id === run.id) state.run.name = name; // the next save keeps it
              await store.rename(run.id, name);
            }
            renderRuns();
          };
          input.addEventListener('keydown', (e) => { if (e.key === 'Enter') done(true); if (e.key === 'Escape') done(false); });
          input.addEventListener('blur', () => done(true));
          name.replaceWith(input);
          input.focus();
          input.select();
        }),
        act('Delete', 'Delete this run from the browser', 'run-delete', async () => {
          // Deleting the run on screen stops its saving until a new run is loaded.
          if (state.run?.id === run.id) { state.run = null; state.runDeleted = true; }
          await store.delete(run.id);
          renderRuns();
        })));
      return li;
    }));
  }

  // ---- export -------------------------------------------------------------------------------
  function buildExportMenu() {
    const body = el('div', { class: 'gs-menu-body' });
    exportMenu.replaceChildren(el('summary', { title: 'Download the metrics, the spec or the charts; run the spec natively' }, 'Export'), body);
    exportMenu.addEventListener('toggle', () => { if (exportMenu.open) renderExport(body); });
  }

  function renderExport(body) {
    const lab = state.lab?.id;
    const stem = fileStem(lab, presetSelect.value || 'custom', state.step);
    const btn = (label, title, testid, fn) => el('button', { type: 'button', title, testid, onclick: fn }, label);
    const text = (t, type) => new Blob([t], { type });
    const charts = chartsOf(mainCol);
    const cli = el('input', { type: 'text', readonly: true, value: cliLine(state.specHash), testid: 'cli-line', 'aria-label': 'Command that runs this spec natively', onfocus: (e) => e.target.select() });
    body.replaceChildren(
      el('div', { class: 'gs-menu-row' },
        btn('Metrics CSV', 'One row per evaluation, one column per metric', 'export-csv', () => download(`${stem}.csv`, text(metricsCsv(state.history), 'text/csv'))),
        btn('Metrics JSON', 'The CLI\'s --out format (a header line, then one record per line): this page and `gradscope` read it back', 'export-json', () => download(`${stem}.jsonl`, text(metricsJsonl(lab, state.spec, state.history), 'application/x-ndjson'))),
        btn('Spec JSON', 'The spec as `gradscope run spec.json` reads it', 'export-spec', () => download(`${stem.replace(/-step\d+$/, '')}.spec.json`, text(JSON.stringify(state.spec, null, 2) + '\n', 'application/json')))),
      el('div', { class: 'gs-menu-row' }, el('span', {}, 'Run natively:'), cli,
        btn('Copy', 'Copy the command', 'copy-cli', () => copyText(cli))),
      el('div', { class: 'gs-menu-row' },
        btn('Checkpoint', state.backendKind === 'cpu'
          ? 'The weights, optimizer state and history as they stand: `gradscope run --resume FILE` continues this run natively'
          : 'Weights are saved from the CPU backend only (switch the backend to CPU)', 'export-checkpoint', () => {
          state.checkpointStem = stem;
          send({ type: 'checkpoint' });
        }),
        el('span', { class: 'gs-summary' }, 'continue natively: gradscope run --resume FILE')),
      ...charts.map(({ title, plot }, i) => el('div', { class: 'gs-menu-row' }, el('span', { class: 'gs-chart-name' }, title),
        btn('PNG', `${title} as a PNG image`, `export-png-${i}`, async () => download(`${stem}-${fileStem('', title, '').slice(1, -5)}.png`, await chartPng(plot, title))),
        btn('SVG', `${title} as an SVG vector image`, `export-svg-${i}`, () => download(`${stem}-${fileStem('', title, '').slice(1, -5)}.svg`, text(chartSvg(plot, title), 'image/svg+xml'))))));
  }

  // ---- embed --------------------------------------------------------------------------------
  function buildEmbedMenu() {
    const body = el('div', { class: 'gs-menu-body' });
    embedMenu.replaceChildren(el('summary', { title: 'Put this run into your own page: an iframe or a <gradscope-widget>' }, 'Embed'), body);
    embedMenu.addEventListener('toggle', () => { if (embedMenu.open) renderEmbed(body); });
  }

  function renderEmbed(body) {
    const controls = el('input', { type: 'text', value: view.controls ? [...view.controls].join(',') : 'train,backend', testid: 'embed-controls', 'aria-label': 'Controls the embed shows' });
    const iframe = el('textarea', { readonly: true, rows: 3, testid: 'embed-iframe', 'aria-label': 'iframe snippet' });
    const element = el('textarea', { readonly: true, rows: 3, testid: 'embed-element', 'aria-label': '<gradscope-widget> snippet' });
    const attr = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const fill = () => {
      const c = controls.value.split(/[\s,]+/).filter(Boolean).join(',');
      const title = `gradscope: ${state.lab?.title ?? ''}`;
      const views = view.views ? [...view.views].join(',') : null;
      iframe.value = `<iframe src="${attr(`${SITE.href}embed.html#${state.specHash}&controls=${c}${views ? `&views=${views}` : ''}`)}" title="${attr(title)}" ` +
        'style="width:100%;height:640px;border:0" loading="lazy"></iframe>';
      element.value = `<script type="module" src="${attr(`${SITE.href}gradscope-embed.js`)}"></script>\n` +
        `<gradscope-widget spec="${attr(state.specHash)}" controls="${attr(c)}"${views ? ` views="${attr(views)}"` : ''}></gradscope-widget>`;
    };
    controls.addEventListener('input', fill);
    fill();
    const copy = (ta) => el('button', { type: 'button', onclick: () => copyText(ta) }, 'Copy');
    body.replaceChildren(
      el('label', { class: 'gs-menu-row' }, 'Controls shown (names in docs/embedding.md; empty: charts only)', controls),
      el('div', { class: 'gs-menu-row' }, el('b', {}, 'iframe'), copy(iframe)), iframe,
      el('div', { class: 'gs-menu-row' }, el('b', {}, 'script + element'), copy(element)), element);
  }

  // ---- worker protocol ----------------------------------------------------------------------
  let queue = [];
  let ready = false;
  function send(cmd) {
    if (!ready) { queue.push(cmd); return; }
    state.worker.postMessage(JSON.stringify(cmd));
  }

  /** Loads a URL hash: a full spec hash, or a lab key alone (`#scans`) for that lab's first preset. */
  function loadHash(hash, initial = false) {
    if (!initial) state.loadRequested = true; // a later request wins over the first spec
    const parts = splitHash(hash);
    if (options.controls == null) view.controls = parts.view.controls;
    if (options.views == null) view.views = parts.view.views;
    view.hide = new Set([...parts.view.hide, ...(toSet(options.hide) || [])]);
    applyView();
    const body = parts.spec;
    const labOnly = LABS.find((l) => l.id === body);
    if (labOnly) {
      if (!state.presets.length) { state.pendingLab = labOnly.id; return; }
      state.pendingLab = null;
      const preset = state.presets.find((p) => p.lab === labOnly.id);
      if (preset) send({ type: 'load', spec: preset.spec });
      return;
    }
    send({ type: 'load_hash', hash: body });
  }

  function onEvent(ev) {
    switch (ev.type) {
      case 'ready':
        ready = true;
        state.presets = ev.presets;
        fillPresets();
        for (const cmd of queue) state.worker.postMessage(JSON.stringify(cmd));
        queue = [];
        if (state.pendingLab) { loadHash(state.pendingLab); state.pendingLab = null; }
        else if (!state.lastGood && !options.spec && !state.loadRequested) {
          // First start: the URL hash if it has a spec, else the default preset. (A spec object
          // given as an option was queued before this and is loading already.)
          if (splitHash(options.hash).spec) loadHash(options.hash, true);
          else send({ type: 'load', spec: ev.presets[0].spec });
        }
        break;
      case 'backend':
        backendLabel.textContent = ev.label;
        backendLabel.dataset.kind = ev.kind;
        backendSelect.value = ev.kind === 'cpu' && state.backend !== 'auto' ? 'cpu' : state.backend;
        notice.hidden = !ev.notice;
        notice.textContent = ev.notice || '';
        state.float64 = ev.float64;
        state.backendKind = ev.kind;
        state.view?.backend?.(ev);
        break;
      case 'loaded': {
        if (state.keepError) state.keepError = false; else clearError();
        mountLab(labOf(ev.spec), ev.spec);
        const fields = labFields(ev.spec).flatMap(([, fs]) => fs.map((f) => f.path)).join('|');
        if (fields !== state.fieldSignature) buildForm(ev.spec);
        state.spec = ev.spec;
        state.lastGood = ev.spec;
        state.history = [];
        state.report = null;
        state.finished = false;
        state.summary = ev.summary;
        state.analysis.inFlight = false;
        fillForm(ev.spec);
        state.view.loaded(ev);
        state.run = null; // a new run starts (saved at its first evaluation)
        state.runDeleted = false;
        state.specHash = ev.hash;
        state.step = 0;
        stepCount.textContent = '0';
        showProgress(0);
        if (state.pendingPin) {
          const saved = state.pendingPin;
          state.pendingPin = null;
          pin({ name: `saved: ${saved.name}`, history: saved.history, report: null });
          send({ type: 'report', records: saved.history });
          state.pendingReports = (state.pendingReports || []).concat([state.pinned.at(-1)]);
        }
        summary.textContent = [...ev.summary.facts, `${ev.summary.parameters.toLocaleString()} parameters`]
          .concat(ev.summary.float64 ? ['float64 loss'] : []).join(' · ');
        options.onSpecHash?.(joinHash(ev.hash, view));
        scheduleDraw();
        if (view.autoplay && !state.autoplayed) {
          state.autoplayed = true;
          requestStart();
        }
        break;
      }
      case 'metrics':
        if (state.history.at(-1)?.step !== ev.record.step) state.history.push(ev.record);
        state.report = ev.report;
        scheduleDraw();
        maybeAnalyse(state.history.length === 1);
        saveRun(false);
        break;
      case 'checkpoint':
        if (state.checkpointStem) {
          download(`${state.checkpointStem}.gsck`, new Blob([ev.bytes], { type: 'application/octet-stream' }));
          state.checkpointStem = null;
        }
        break;
      case 'metrics_file': {
        const { name, file, report } = ev;
        if (file.lab && state.lab && file.lab !== state.lab.id) {
          showError(`${name} holds a ${file.lab} run; open the ${LABS.find((l) => l.id === file.lab)?.title ?? file.lab} lab to compare it.`);
          break;
        }
        clearError();
        // Files without a header predate 2026-11-27, when the transformer's causal mask was inverted.
        fileNotice.hidden = file.version >= 2;
        fileNotice.textContent = file.version >= 2 ? '' : `${name} has no format header: it was written before 2026-11-27. ` +
          'If it comes from a transformer run (nanda-1l-transformer, power-division or any transformer spec), it ' +
          'describes a model whose causal mask was inverted (each query saw only later tokens); re-run it to compare.';
        pin({ name, history: file.records, report });
        break;
      }
      case 'device_lost':
        // The worker posts this before the state event that says training stopped, so
        // `running` still tells whether it was training (not a single Step, not paused).
        recoverOnCpu(`The GPU failed at step ${ev.step}: ${ev.message}.`, state.running || state.startRequested);
        break;
      case 'analysis':
        state.analysis.inFlight = false;
        state.analysis.cost = performance.now() - state.analysis.last;
        state.view?.analysis(ev.analysis);
        // Training stopped while this one was computed: take the final picture too.
        if (state.analysis.wantFinal) maybeAnalyse(true);
        break;
      case 'state': {
        const wasRunning = state.running;
        state.step = ev.step;
        state.running = ev.running;
        if (ev.running || ev.finished) state.startRequested = false;
        state.finished = ev.finished;
        stepCount.textContent = String(ev.step);
        state.compiling = ev.compiling;
        speed.title = ev.first_step_ms == null ? ''
          : `First training step: ${ev.first_step_ms < 1000 ? `${Math.round(ev.first_step_ms)} ms` : `${(ev.first_step_ms / 1000).toFixed(1)} s`}${state.backendKind === 'wgpu' ? ' (compiling its GPU kernels included)' : ''}`;
        showProgress(ev.steps_per_sec);
        if (wasRunning && !ev.running) {
          maybeAnalyse(true); // paused or finished: the final picture
          saveRun(true);
          scheduleDraw(); // the verdict may change from "too early" to final
        }
        break;
      }
      case 'bench': {
        benchBtn.disabled = false;
        const s = ev.speed;
        state.benchWaiters.splice(0).forEach((w) => w.resolve({ label: ev.label, speed: s }));
        state.benches = state.benches.filter((b) => b.label !== ev.label).concat([{ label: ev.label, sps: s.train_steps_per_sec }]);
        const base = state.benches[0];
        const cmp = state.benches.length > 1
          ? ' · ' + state.benches.map((b) => `${b.label}: ${b.sps.toFixed(2)} (${(b.sps / base.sps).toFixed(2)}×)`).join(', ')
          : '';
        benchOut.textContent = `Benchmark on ${ev.label}: ${s.train_steps_per_sec.toFixed(2)} steps/s ` +
          `(${(1000 / s.train_steps_per_sec).toFixed(1)} ms/step); ${s.eval_steps_per_sec.toFixed(2)} steps/s with an ` +
          `evaluation and readback every step (×${(s.train_steps_per_sec / s.eval_steps_per_sec).toFixed(2)} slower); first step ` +
          `${s.first_step_ms.toFixed(0)} ms` +
          (s.instrumented_steps_per_sec > 0 ? `; ${s.instrumented_steps_per_sec.toFixed(2)} steps/s with the per-step metrics on every step (×${(s.train_steps_per_sec / s.instrumented_steps_per_sec).toFixed(2)} slower)` : '') +
          (s.bare_steps_per_sec == null ? '' : `; ${s.bare_steps_per_sec.toFixed(2)} steps/s without the divergence flag`) +
          (s.gpu_dispatches_per_step == null ? '' : `; ${s.gpu_dispatches_per_step.toFixed(1)} GPU dispatches per training step`) +
          cmp;
        break;
      }
      case 'report': {
        const run = state.pendingReports?.shift();
        if (run) { run.report = ev.report; renderPinned(); }
        break;
      }
      case 'error': {
        if (benchBtn.disabled) benchBtn.disabled = false;
        state.benchWaiters.splice(0).forEach((w) => w.reject(new Error(ev.message)));
        state.analysis.inFlight = false;
        showError(ev.message);
        state.view?.event?.(ev);
        if (ev.field) fieldRows.find((r) => r.field.path === ev.field)?.input.setAttribute('aria-invalid', 'true');
        if (!state.lastGood && state.presets.length) {
          // A bad link must not leave an empty page: run the default preset, keep the message.
          state.keepError = true;
          const wanted = LABS.find((l) => l.id === labOf(splitHash(options.hash).spec));
          const preset = (wanted && state.presets.find((p) => p.lab === wanted.id)) || state.presets[0];
          send({ type: 'load', spec: preset.spec });
        }
        break;
      }
      case 'panic': {
        const wasRunning = state.running || state.startRequested;
        state.running = false;
        state.crashed = true; // the wasm traps next: its error event is not a failed start
        ready = false;
        // On WebGPU a crash is most often the device (lost, out of memory): go on on the CPU.
        if (state.backendKind === 'wgpu' && state.lastGood) {
          state.worker.terminate();
          recoverOnCpu(`The WebGPU worker crashed at step ${state.step}: ${ev.message.split('\n')[0]}.`, wasRunning, true);
          break;
        }
        showError(`The training worker crashed: ${ev.message}\nYour curves are kept; press Reset to restart the worker.`);
        break;
      }
      default:
        // A lab's own event (the scans lab's `kernel` and `race`, the grokking lab's
        // `operation_preview`): its views and its form's own controls take it.
        state.view?.event?.(ev);
        for (const r of fieldRows) r.input.control?.event?.(ev);
    }
    updateButtons();
  }

  function spawnWorker() {
    ready = false;
    let worker;
    try {
      worker = newWorker();
    } catch (e) {
      showError(`The training worker could not be started here: ${e.message}`);
      return;
    }
    // Events are JSON text, except checkpoints: `{type: 'checkpoint', step, bytes}`.
    worker.onmessage = (e) => { if (!state.stopped) onEvent(typeof e.data === 'string' ? JSON.parse(e.data) : e.data); };
    state.crashed = false;
    worker.onerror = (e) => { if (state.crashed || state.stopped) return; showError(`The training worker failed to start: ${e.message || 'unknown error (is the site reachable, and its .wasm served with CORS when embedded from another origin?)'}`); };
    state.worker = worker;
    send({ type: 'init', backend: state.backend });
  }

  function onFieldChange(field, input) {
    const base = structuredClone(state.spec || state.lastGood || {});
    setPath(base, field.path, inputValue(field, input));
    send({ type: 'load', spec: base });
  }

  function reset() {
    clearError();
    if (!ready && state.worker) { // crashed worker: start a fresh one with the last good spec
      state.worker.terminate();
      spawnWorker();
      if (state.lastGood) send({ type: 'load', spec: state.lastGood });
      return;
    }
    send({ type: 'reset' });
  }

  spawnWorker();
  updateButtons();
  applyView();
  if (options.spec) send({ type: 'load', spec: options.spec });

  return {
    /** Loads a spec from a URL hash, or a lab's first preset from its key (`#scans`); the
     * current run is kept if the hash is invalid. */
    loadHash,
    /** Loads a spec object. */
    load(spec) { state.loadRequested = true; state.pendingLab = null; send({ type: 'load', spec }); },
    start() { requestStart(); },
    pause() { state.resumeOnShow = false; send({ type: 'pause' }); },
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
    showError(message) { state.keepError = true; showError(String(message)); },
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
        benchBtn.disabled = true;
        send({ type: 'bench', steps });
      });
    },
    /** The spec's URL hash with the view options (a link to this run as shown). */
    hash() { return joinHash(state.specHash, view); },
    /** Test hook: the next training slice fails as a lost GPU device does (the worker's
     * `simulate_device_loss`), to exercise the fallback to the CPU. */
    simulateDeviceLoss() { send({ type: 'simulate_device_loss' }); },
    /** Stops training and removes the widget (its saved run stays in IndexedDB). */
    stop() {
      saveRun(true);
      state.stopped = true;
      clearTimeout(state.saveTimer);
      store?.close();
      state.worker?.terminate();
      resizeObserver.disconnect();
      visibilityObserver?.disconnect();
      document.removeEventListener('visibilitychange', onVisibility);
      state.view?.destroy();
      lab.remove();
    },
  };
}

/** Copies an input's text; where the Clipboard API is missing (plain http) or refused, selects
 * it for the reader to copy. */
function copyText(input) {
  input.select();
  navigator.clipboard?.writeText(input.value).catch(() => {});
}

/** One formatter for step counts (toLocaleString builds a new one at every call). */
const COUNT = new Intl.NumberFormat('en-US');

/** "42 s", "3 min 5 s", "1 h 20 min". */
function fmtDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export { getPath };
