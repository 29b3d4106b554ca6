// gradscope widget: UI only. Training runs in a Web Worker (Rust → wasm, src/web/worker.rs);
// this file is the shell every lab shares — the worker and its JSON protocol
// (src/web/protocol.rs), backend choice, run controls, presets, the spec form, errors,
// pin/compare and metrics files — and each lab's page module (www/labs/*.js) draws its own
// tiles, charts and views. Embeddable: `start(element, options)` returns a handle with `stop()`.
//
// A lab module exports { id, title, fields, requiredKeys, normalizeRecord, reportText, mount }
// (see labs/grokking.js); `fields` is an array of [legend, fields] or a function of the spec.
// The lab shown is the one of the loaded spec: loading a scans spec switches to the scans lab.

import { el } from './dom.js';
import { getPath, setPath, inputValue, showValue } from './form.js';
import { PINNED_COLORS } from './charts.js';
import grokking from './labs/grokking.js';
import scans from './labs/scans.js';
import gradientFlow from './labs/gradient_flow.js';

/** The labs, in the header's order. */
export const LABS = [grokking, scans, gradientFlow];

const WORKER_URL = new URL('../gradscope-worker_loader.js', import.meta.url);
const MAX_PINNED = 4;

/** The lab key of a spec object (its top-level key) or of a URL hash (its first segment). */
export function labOf(specOrHash) {
  if (typeof specOrHash === 'string') {
    const body = specOrHash.replace(/^#/, '');
    return body.split(/[.=&]/)[0];
  }
  return specOrHash ? Object.keys(specOrHash)[0] : null;
}

/** Mounts a gradscope widget in `root`. Options: `hash` (a spec URL hash, or a lab key such as
 * `scans`), `backend` ('auto' | 'webgpu' | 'cpu'), `onSpecHash(hash)` called when a run is
 * loaded, `onLab(id)` called when the lab shown changes. */
export function start(root, options = {}) {
  const state = {
    presets: [], spec: null, lastGood: null, running: false, finished: false, keepError: false,
    history: [], report: null, summary: null, step: 0, backend: options.backend || 'auto',
    float64: true, pendingDraw: false, worker: null, pinned: [], lab: null, view: null,
    fieldSignature: '', analysis: { inFlight: false, last: 0, cost: 0 }, benches: [], pendingLab: null,
  };

  // ---- form ---------------------------------------------------------------------------------
  const presetSelect = el('select', { testid: 'preset-select', onchange: () => {
    const p = state.presets.find((x) => x.name === presetSelect.value);
    if (p) send({ type: 'load', spec: p.spec });
  } });
  const presetNote = el('div', { class: 'gs-preset-note', testid: 'preset-note' });
  const presetSet = el('fieldset', {}, el('legend', {}, 'Preset'), presetSelect, presetNote);
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
        let input;
        if (field.kind === 'enum') input = el('select', {}, ...field.choices.map(([v, t]) => el('option', { value: v }, t)));
        else if (field.kind === 'model') input = el('select', {}, el('option', { value: 'mlp' }, 'MLP'), el('option', { value: 'transformer' }, 'Transformer'));
        else if (field.kind === 'mlp-input') input = el('select', {}, el('option', { value: 'one_hot' }, 'one-hot a ⊕ b'), el('option', { value: 'embedding' }, 'learned embedding'));
        else if (field.kind === 'bool') input = el('input', { type: 'checkbox' });
        else input = el('input', { type: 'text', inputmode: 'decimal', spellcheck: 'false' });
        input.dataset.testid = 'field-' + field.path.split('.').slice(1).join('-'); // field-optimizer-lr
        input.addEventListener('change', () => onFieldChange(field, input));
        const row = el('label', {}, field.label, input);
        fieldRows.push({ field, input, row });
        fs.append(row);
      }
      form.append(fs);
    }
    state.fieldSignature = groups.flatMap(([, fs]) => fs.map((f) => f.path)).join('|');
  }

  // ---- control bar --------------------------------------------------------------------------
  const trainBtn = el('button', { class: 'primary', testid: 'train-button', onclick: () => send({ type: 'start' }) }, 'Train');
  const pauseBtn = el('button', { testid: 'pause-button', onclick: () => send({ type: 'pause' }) }, 'Pause');
  const stepBtn = el('button', { testid: 'step-button', onclick: () => send({ type: 'step', count: 1 }) }, 'Step');
  const resetBtn = el('button', { testid: 'reset-button', onclick: reset }, 'Reset');
  const benchBtn = el('button', { testid: 'bench-button', title: 'Time 20 training steps of this spec on the active backend', onclick: () => {
    benchBtn.disabled = true;
    benchOut.textContent = 'benchmarking…';
    send({ type: 'bench', steps: 20 });
  } }, 'Benchmark');
  const stepCount = el('span', { class: 'gs-step', testid: 'step-count' }, '0');
  const speed = el('span', { class: 'gs-summary', testid: 'speed' }, '');
  const backendSelect = el('select', { testid: 'backend-select', onchange: () => {
    state.backend = backendSelect.value;
    send({ type: 'init', backend: state.backend });
  } }, el('option', { value: 'auto' }, 'Auto'), el('option', { value: 'webgpu' }, 'WebGPU'), el('option', { value: 'cpu' }, 'CPU (wasm)'));
  backendSelect.value = state.backend;
  const backendLabel = el('span', { testid: 'backend-label' }, 'starting…');
  const bar = el('div', { class: 'gs-bar' }, trainBtn, pauseBtn, stepBtn, resetBtn,
    el('span', {}, 'step'), stepCount, speed, benchBtn,
    el('span', { class: 'gs-backend' }, backendSelect, backendLabel));

  const notice = el('div', { class: 'gs-notice', testid: 'backend-notice', hidden: true });
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
  const compare = el('div', { class: 'gs-compare' }, pinBtn, loadLabel, clearBtn, pinnedList);

  const top = el('div', { class: 'gs-lab-top' });
  const bottom = el('div', { class: 'gs-lab-bottom' });
  const mainCol = el('div', { class: 'gs-main' }, bar, notice, fileNotice, errorBanner, benchOut, top, compare, bottom);
  const lab = el('div', { class: 'gs-lab' }, form, mainCol);
  root.append(lab);

  const chartWidth = () => Math.max(260, Math.floor((mainCol.clientWidth - 60) / (mainCol.clientWidth > 820 ? 2 : 1)));

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
    lab.dataset.lab = id;
    fillPresets();
    options.onLab?.(id);
  }

  const onResize = () => state.view?.resize(chartWidth());
  addEventListener('resize', onResize);

  // ---- rendering ----------------------------------------------------------------------------
  function showError(message) { errorBanner.textContent = message; errorBanner.hidden = false; }
  function clearError() { errorBanner.hidden = true; errorBanner.textContent = ''; }

  function fillPresets() {
    const mine = state.presets.filter((p) => p.lab === state.lab?.id);
    presetSelect.replaceChildren(...mine.map((p) => el('option', { value: p.name }, p.title)),
      el('option', { value: '' }, 'Custom'));
  }

  function fillForm(spec) {
    for (const { field, input, row } of fieldRows) {
      const visible = !field.when || field.when(spec);
      row.hidden = !visible;
      if (visible) showValue(field, input, spec);
      input.removeAttribute('aria-invalid');
    }
    const match = state.presets.find((p) => JSON.stringify(p.spec) === JSON.stringify(spec));
    presetSelect.value = match ? match.name : '';
    presetNote.textContent = match ? `${match.expect} (${match.source})` : 'Custom spec: every field is in the link.';
    state.view?.formFilled?.(spec);
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
      if (run.report && state.lab) verdict.textContent = state.lab.reportText(run.report, run.history)[1];
      li.append(verdict);
      return li;
    }));
  }

  function scheduleDraw() {
    if (state.pendingDraw) return;
    state.pendingDraw = true;
    requestAnimationFrame(() => {
      state.pendingDraw = false;
      state.view?.draw();
    });
  }

  /** Asks for a new analysis snapshot, at most about once a second and never more than a
   * quarter of the time (it costs a few forward passes on the worker). */
  function maybeAnalyse(force = false) {
    const a = state.analysis;
    const now = performance.now();
    if (force) a.wantFinal = !state.running;
    if (a.inFlight || !ready || state.spec == null) return;
    if (!state.running) a.wantFinal = false;
    if (!force && now - a.last < Math.max(1000, 4 * a.cost)) return;
    a.inFlight = true;
    a.last = now;
    // The costly views (grokking's pruning curve) only for the picture when training stops;
    // the lab may add options (the scans lab: a sequence the user typed).
    send({ type: 'analyse', final_views: !state.running && state.step > 0, ...state.view?.analyseOptions?.() });
  }

  // ---- compare ------------------------------------------------------------------------------
  function pinRun() {
    if (state.history.length < 2) return;
    const name = presetSelect.value || `run ${state.pinned.length + 1}`;
    state.pinned.push({ name: `${name} @${state.step}`, history: state.history.slice(), report: state.report });
    if (state.pinned.length > MAX_PINNED) state.pinned.shift();
    renderPinned();
    scheduleDraw();
  }

  async function loadMetricsFile() {
    const file = fileInput.files?.[0];
    if (!file) return;
    const text = await file.text();
    fileInput.value = '';
    const records = [];
    let header = null;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      let r;
      try { r = JSON.parse(line); } catch (e) { showError(`${file.name}, line ${i + 1}: not JSON (${e.message})`); return; }
      // Format version ≥ 2 starts with a header line (src/train/metrics.rs: file_header).
      if (!records.length && !header && r.format === 'gradscope-metrics') {
        header = r;
        if (header.lab && header.lab !== state.lab.id) {
          showError(`${file.name} holds a ${header.lab} run; switch to that lab (header) to compare it.`);
          return;
        }
        continue;
      }
      for (const key of state.lab.requiredKeys) {
        const ok = key === 'series' ? r.series && typeof r.series === 'object' : typeof r[key] === 'number';
        if (!ok) { showError(`${file.name}, line ${i + 1}: missing \`${key}\` (expected one object per line as written by \`gradscope run --out\` for the ${state.lab.title} lab)`); return; }
      }
      records.push(r);
    }
    if (!records.length) { showError(`${file.name}: no metrics records`); return; }
    clearError();
    // Files without a header predate 2026-11-27, when the transformer's causal mask was inverted.
    fileNotice.hidden = !!header;
    fileNotice.textContent = header ? '' : `${file.name} has no format header: it was written before 2026-11-27. ` +
      'If it comes from a transformer run (nanda-1l-transformer, power-division or any transformer spec), it ' +
      'describes a model whose causal mask was inverted (each query saw only later tokens); re-run it to compare.';
    const run = { name: file.name, history: records, report: null };
    state.pinned.push(run);
    if (state.pinned.length > MAX_PINNED) state.pinned.shift();
    state.pendingReports = (state.pendingReports || []).concat([run]);
    send({ type: 'report', records: records.map(state.lab.normalizeRecord) });
    renderPinned();
    scheduleDraw();
  }

  // ---- worker protocol ----------------------------------------------------------------------
  let queue = [];
  let ready = false;
  function send(cmd) {
    if (!ready) { queue.push(cmd); return; }
    state.worker.postMessage(JSON.stringify(cmd));
  }

  /** Loads a URL hash: a full spec hash, or a lab key alone (`#scans`) for that lab's first preset. */
  function loadHash(hash) {
    const body = (hash || '').replace(/^#/, '');
    const labOnly = LABS.find((l) => l.id === body);
    if (labOnly) {
      if (!state.presets.length) { state.pendingLab = labOnly.id; return; }
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
        else if (!state.lastGood) {
          // First start: the URL hash if there is one, else the default preset.
          if (options.hash && options.hash.replace(/^#/, '').length > 0) loadHash(options.hash);
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
        summary.textContent = [...ev.summary.facts, `${ev.summary.parameters.toLocaleString()} parameters`]
          .concat(ev.summary.float64 ? ['float64 loss'] : []).join(' · ');
        options.onSpecHash?.(ev.hash);
        scheduleDraw();
        break;
      }
      case 'metrics':
        if (state.history.at(-1)?.step !== ev.record.step) state.history.push(ev.record);
        state.report = ev.report;
        scheduleDraw();
        maybeAnalyse(state.history.length === 1);
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
        state.finished = ev.finished;
        stepCount.textContent = String(ev.step);
        speed.textContent = ev.steps_per_sec > 0 ? `${ev.steps_per_sec.toFixed(ev.steps_per_sec < 10 ? 2 : 0)} steps/s` : '';
        if (wasRunning && !ev.running) maybeAnalyse(true); // paused or finished: the final picture
        break;
      }
      case 'bench': {
        benchBtn.disabled = false;
        const s = ev.speed;
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
      case 'kernel':
      case 'race':
        state.view?.event?.(ev);
        break;
      case 'error': {
        if (benchBtn.disabled) benchBtn.disabled = false;
        state.analysis.inFlight = false;
        showError(ev.message);
        state.view?.event?.(ev);
        if (ev.field) fieldRows.find((r) => r.field.path === ev.field)?.input.setAttribute('aria-invalid', 'true');
        if (!state.lastGood && state.presets.length) {
          // A bad link must not leave an empty page: run the default preset, keep the message.
          state.keepError = true;
          const wanted = LABS.find((l) => l.id === labOf(options.hash || ''));
          const preset = (wanted && state.presets.find((p) => p.lab === wanted.id)) || state.presets[0];
          send({ type: 'load', spec: preset.spec });
        }
        break;
      }
      case 'panic':
        state.running = false;
        showError(`The training worker crashed: ${ev.message}\nYour curves are kept; press Reset to restart the worker.`);
        ready = false;
        break;
    }
    updateButtons();
  }

  function spawnWorker() {
    ready = false;
    const worker = new Worker(WORKER_URL);
    worker.onmessage = (e) => onEvent(JSON.parse(e.data));
    worker.onerror = (e) => { showError(`The training worker failed to start: ${e.message || 'unknown error'}`); };
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

  return {
    /** Loads a spec from a URL hash, or a lab's first preset from its key (`#scans`); the
     * current run is kept if the hash is invalid. */
    loadHash,
    /** Loads a spec object. */
    load(spec) { send({ type: 'load', spec }); },
    start() { send({ type: 'start' }); },
    pause() { send({ type: 'pause' }); },
    /** Metrics so far (one object per evaluation). */
    history() { return state.history.slice(); },
    /** The lab's current report ("did it grok?", "which model solved it?"). */
    report() { return state.report; },
    /** The loaded spec. */
    spec() { return state.spec; },
    /** The lab shown (`grokking`, `scans`). */
    lab() { return state.lab?.id; },
    /** Stops training and removes the widget. */
    stop() {
      state.worker?.terminate();
      removeEventListener('resize', onResize);
      state.view?.destroy();
      lab.remove();
    },
  };
}

export { getPath };
