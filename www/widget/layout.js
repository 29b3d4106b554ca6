// The widget's frame: the form column, the control bar, the notices, compare and the tools
// menus, the lab's two slots (top: tiles and summary; bottom: charts and views). Buttons call
// the widget's actions (`w.*`) when clicked.

import { el } from '../dom.js';
import { shows, showsOutput } from '../links.js';
import { recolorCharts } from '../charts.js';
import { leaveRecording, replayBanner } from './replay.js';

/** Builds the frame in `w.root` and returns its elements. */
export function buildLayout(w) {
  const ui = {};
  /** Elements that show or hide with the view: [{ el, names }]. */
  ui.controlled = [];
  const controlled = (node, ...names) => { ui.controlled.push({ el: node, names }); return node; };

  // ---- form: the preset picker, then the lab's field sets (spec-form.js)
  ui.presetSelect = el('select', { testid: 'preset-select', 'aria-label': 'Preset', onchange: () => {
    const p = w.state.presets.find((x) => x.name === ui.presetSelect.value);
    if (p) w.send({ type: 'load', spec: p.spec });
  } });
  ui.presetNote = el('div', { class: 'gs-preset-note', testid: 'preset-note' });
  ui.presetSet = controlled(el('fieldset', {}, el('legend', {}, 'Preset'), ui.presetSelect, ui.presetNote), 'preset');
  ui.form = el('form', { class: 'gs-form', testid: 'spec-form', onsubmit: (e) => e.preventDefault() }, ui.presetSet);

  buildControlBar(w, ui, controlled);
  ui.notice = el('div', { class: 'gs-notice', testid: 'backend-notice', hidden: true });
  ui.storeNotice = el('div', { class: 'gs-notice', testid: 'store-notice', hidden: true });
  ui.lostNotice = el('div', { class: 'gs-notice', testid: 'device-notice', role: 'status', hidden: true });
  ui.fileNotice = el('div', { class: 'gs-notice', testid: 'file-notice', hidden: true });
  ui.runNotice = el('div', { class: 'gs-notice', testid: 'run-notice', role: 'status', hidden: true });
  ui.replay = replayBanner(w);
  ui.errorBanner = el('div', { class: 'gs-error', testid: 'error-banner', role: 'alert', hidden: true });
  ui.benchOut = el('div', { class: 'gs-summary', testid: 'bench-result' });
  ui.summary = el('div', { class: 'gs-summary', testid: 'run-summary' });

  // ---- compare (compare.js)
  ui.pinBtn = el('button', { testid: 'pin-button', title: 'Keep this run\'s curves and overlay the next run on them', onclick: () => w.pinRun() }, 'Pin run');
  ui.fileInput = el('input', { type: 'file', accept: '.jsonl,.json,.txt', testid: 'load-metrics', onchange: () => w.loadMetricsFile() });
  const loadLabel = el('label', { class: 'gs-file' }, 'Load metrics file (CLI --out)…', ui.fileInput);
  const clearBtn = el('button', { testid: 'clear-pinned', onclick: () => { w.state.pinned = []; w.renderPinned(); w.scheduleDraw(); } }, 'Clear');
  ui.pinnedList = el('ul', { class: 'gs-pinned', testid: 'pinned-list' });
  const compare = controlled(el('div', { class: 'gs-compare' }, ui.pinBtn, loadLabel, clearBtn, ui.pinnedList), 'compare');

  // ---- export, embed, saved runs (share-menus.js, saved-runs.js)
  ui.exportMenu = el('details', { class: 'gs-menu', testid: 'export-menu' });
  ui.embedMenu = el('details', { class: 'gs-menu', testid: 'embed-menu' });
  ui.runsMenu = el('details', { class: 'gs-menu', testid: 'runs-menu' });
  const tools = el('div', { class: 'gs-tools' }, controlled(ui.exportMenu, 'export'), controlled(ui.embedMenu, 'embed'),
    ...(w.store ? [controlled(ui.runsMenu, 'runs')] : []));

  ui.top = el('div', { class: 'gs-lab-top' });
  ui.bottom = el('div', { class: 'gs-lab-bottom' });
  ui.mainCol = el('div', { class: 'gs-main' }, ui.bar, ui.replay.root, ui.notice, ui.runNotice, ui.lostNotice, ui.storeNotice, ui.fileNotice,
    ui.errorBanner, ui.benchOut, ui.top, compare, tools, ui.bottom);
  ui.lab = el('div', { class: 'gs-lab' }, ui.form, ui.mainCol);
  w.root.classList.add('gs-root'); // the container the layout's @container queries measure
  if (w.options.thumbnail) w.root.classList.add('gs-thumb');
  w.root.append(ui.lab);
  return ui;
}

/** Train, Pause, Step, Reset, the progress, Benchmark and the backend picker. */
function buildControlBar(w, ui, controlled) {
  ui.trainBtn = el('button', { class: 'primary', testid: 'train-button', title: 'Train until the step budget is spent (or Pause)', onclick: () => { w.state.readerStarted = true; w.requestStart(); } }, 'Train');
  ui.pauseBtn = el('button', { testid: 'pause-button', title: 'Pause training; Train resumes from here', onclick: () => { w.state.startRequested = false; w.send({ type: 'pause' }); } }, 'Pause');
  ui.stepBtn = el('button', { testid: 'step-button', title: 'Take one optimizer step, then evaluate', onclick: () => { leaveRecording(w); w.send({ type: 'step', count: 1 }); } }, 'Step');
  ui.resetBtn = el('button', { testid: 'reset-button', title: 'Rebuild the run from step 0 (same spec and seed)', onclick: () => w.reset() }, 'Reset');
  ui.benchBtn = el('button', { testid: 'bench-button', title: 'Time 20 training steps of this spec on the active backend', onclick: () => {
    ui.benchBtn.disabled = true;
    ui.benchOut.textContent = 'benchmarking…';
    w.send({ type: 'bench', steps: 20 });
  } }, 'Benchmark');
  ui.stepCount = el('span', { class: 'gs-step', testid: 'step-count' }, '0');
  ui.progress = el('progress', { class: 'gs-progress', testid: 'progress-bar', max: 1, value: 0, 'aria-label': 'Training progress' });
  ui.speed = el('span', { class: 'gs-summary', testid: 'speed', 'aria-live': 'off' }, '');
  ui.backendSelect = el('select', { testid: 'backend-select', 'aria-label': 'Backend', title: 'Where training runs: WebGPU (your GPU) or the CPU (WebAssembly)', onchange: () => {
    w.state.backend = ui.backendSelect.value;
    w.send({ type: 'init', backend: w.state.backend });
  } }, el('option', { value: 'auto' }, 'Auto'), el('option', { value: 'webgpu' }, 'WebGPU'), el('option', { value: 'cpu' }, 'CPU (wasm)'));
  ui.backendSelect.value = w.state.backend;
  ui.backendLabel = el('span', { testid: 'backend-label' }, 'starting…');
  const runControls = controlled(el('span', { class: 'gs-run' }, ui.trainBtn, ui.pauseBtn, ui.stepBtn, ui.resetBtn,
    el('span', {}, 'step'), ui.stepCount, ui.progress, ui.speed), 'train');
  ui.bar = el('div', { class: 'gs-bar' }, runControls, controlled(ui.benchBtn, 'bench'),
    controlled(el('span', { class: 'gs-backend' }, ui.backendSelect, ui.backendLabel), 'backend'));
}

/** Shows or hides each control as the view says (allow-list, hide flags, the fields' `when`). */
export function applyView(w) {
  const { ui, view } = w;
  for (const { el: node, names } of ui.controlled) node.hidden = !shows(view, names);
  let anyField = false;
  for (const fs of ui.form.querySelectorAll('fieldset')) {
    if (fs === ui.presetSet) continue;
    const rows = w.fieldRows.filter((r) => fs.contains(r.row));
    const any = rows.some((r) => !r.row.hidden);
    fs.hidden = !any;
    anyField ||= any;
  }
  const formShown = anyField || !ui.presetSet.hidden;
  ui.form.hidden = !formShown;
  ui.lab.classList.toggle('gs-noform', !formShown);
  ui.top.hidden = !showsOutput(view, 'summary');
  // The bottom slot's first block is the lab's main charts, the rest its analysis views; each
  // shows whole when its part is listed, else only the panels listed by id (data-view).
  let analysisShown = false;
  [...ui.bottom.children].forEach((block, i) => {
    const whole = showsOutput(view, i === 0 ? 'charts' : 'analysis');
    const panels = block.matches('[data-view]') ? [] : [...block.querySelectorAll('[data-view]')];
    let any = whole;
    for (const p of panels) {
      p.hidden = !whole && !view.views.has(p.dataset.view);
      any ||= !p.hidden;
    }
    block.hidden = !(any || (block.matches('[data-view]') && view.views.has(block.dataset.view)));
    if (i > 0) analysisShown ||= !block.hidden;
  });
  // Analysis snapshots cost forward passes on the worker: only when one of their views shows.
  w.state.analysisShown = analysisShown;
  const theme = view.theme ?? 'auto';
  if (ui.lab.dataset.theme !== theme) {
    ui.lab.dataset.theme = theme;
    // The iframe's whole document follows too (its margins, its scrollbar).
    if (w.options.themeRoot) w.options.themeRoot.dataset.theme = theme;
    recolorCharts();
  }
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

/** "step 120 of 400 · 34 steps/s · 8 s left"; `total`: the step budget. */
export function showProgress(w, stepsPerSec, total) {
  const { ui, state } = w;
  ui.progress.max = Math.max(1, total);
  ui.progress.value = Math.min(state.step, total);
  const parts = [];
  if (state.compiling) parts.push('compiling kernels…');
  else if (stepsPerSec > 0) parts.push(`${stepsPerSec.toFixed(stepsPerSec < 10 ? 2 : 0)} steps/s`);
  if (total > 0) parts.unshift(`of ${COUNT.format(total)}`);
  if (state.running && stepsPerSec > 0 && total > state.step) parts.push(`${fmtDuration((total - state.step) / stepsPerSec)} left`);
  if (state.finished) parts.push('done');
  ui.speed.textContent = parts.join(' · ');
}

export function updateButtons(w) {
  const { ui, state } = w;
  const loaded = state.spec != null;
  // A recording on show counts as finished, but Train and Step leave it for a live run.
  const done = state.finished && !state.replay;
  ui.trainBtn.disabled = !loaded || state.running || done;
  ui.pauseBtn.disabled = !state.running;
  ui.stepBtn.disabled = !loaded || state.running || done;
  ui.resetBtn.disabled = !loaded;
  ui.pinBtn.disabled = state.history.length < 2;
}

export function showError(w, message) {
  w.ui.errorBanner.textContent = message;
  w.ui.errorBanner.hidden = false;
  notify(w, 'error', { message: String(message) });
}

/** Tells the embedding page (`options.notify`, see start() in gradscope.js); a listener's own
 * failure is not the widget's. */
export function notify(w, name, detail) {
  try { w.options.notify?.(name, detail); } catch (e) { console.error(`gradscope: a ${name} listener failed`, e); }
}
export function clearError(w) { w.ui.errorBanner.hidden = true; w.ui.errorBanner.textContent = ''; }
