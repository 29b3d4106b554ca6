// gradscope widget: UI only. Training runs in a Web Worker (Rust → wasm, src/web/worker.rs);
// this file draws the form, the controls, the charts and the analysis views, and speaks the
// worker's JSON protocol (src/web/protocol.rs). Embeddable: `start(element, options)` returns a
// handle with `stop()`.

import { FIELDS, getPath, setPath, inputValue, showValue } from './form.js';
import { MetricChart, XYChart, PINNED_COLORS } from './charts.js';
import { FourierHeatmap, PredictionGrid, histogram, CELL_COLORS, CELL_LABELS } from './views.js';

const WORKER_URL = new URL('../gradscope-worker_loader.js', import.meta.url);
const TRAIN = '#d9480f';
const TEST = '#1c7ed6';
const LAYER_COLORS = ['#5f3dc4', '#c2255c', '#2b8a3e', '#e67700', '#1864ab', '#862e9c', '#5c940d', '#d9480f'];
const MAX_PINNED = 4;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c);
  return node;
}

const fmtAcc = (v) => (v == null ? '–' : v.toFixed(3));
const fmtLoss = (v) => (v == null ? '–' : v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4));
const fmtFrac = (v) => (v == null ? '–' : v.toFixed(3));
const stepText = (s) => (s == null ? 'never' : `step ${s}`);

const VERDICTS = {
  no_learning: ['No learning', 'train accuracy has not reached 99%'],
  memorized: ['Memorized', 'train accuracy reached 99%, test accuracy has not'],
  generalized: ['Generalized', 'train and test accuracy rose together'],
  grokked: ['Grokked', 'test accuracy reached 99% after a memorizing phase'],
};

/** Mounts a gradscope widget in `root`. Options: `hash` (a spec URL hash), `backend`
 * ('auto' | 'webgpu' | 'cpu'), `onSpecHash(hash)` called when a run is loaded. */
export function start(root, options = {}) {
  const state = {
    presets: [], spec: null, lastGood: null, running: false, finished: false, keepError: false,
    history: [], report: null, summary: null, step: 0, backend: options.backend || 'auto',
    float64: true, pendingDraw: false, worker: null, pinned: [],
    analysis: { inFlight: false, last: 0, cost: 0, drawn: 0 }, benches: [],
  };

  // ---- form ---------------------------------------------------------------------------------
  const presetSelect = el('select', { testid: 'preset-select', onchange: () => {
    const p = state.presets.find((x) => x.name === presetSelect.value);
    if (p) send({ type: 'load', spec: p.spec });
  } });
  const presetNote = el('div', { class: 'gs-preset-note', testid: 'preset-note' });
  const fieldRows = [];
  const form = el('form', { class: 'gs-form', testid: 'spec-form', onsubmit: (e) => e.preventDefault() },
    el('fieldset', {}, el('legend', {}, 'Preset'), presetSelect, presetNote));
  for (const [legend, fields] of FIELDS) {
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
  const precisionNote = el('div', { class: 'gs-field-note', testid: 'precision-note', hidden: true });
  fieldRows.find((r) => r.field.path === 'grokking.loss.precision').row.after(precisionNote);

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

  // ---- tiles, verdict, compare --------------------------------------------------------------
  const tile = (key, testid, title) => {
    const v = el('div', { class: 'v', testid }, '–');
    return [el('div', { class: 'gs-tile', title }, el('div', { class: 'k' }, key), v), v];
  };
  const [tTrainAcc, vTrainAcc] = tile('train accuracy', 'metric-train-acc');
  const [tTestAcc, vTestAcc] = tile('test accuracy', 'metric-test-acc');
  const [tTrainLoss, vTrainLoss] = tile('train loss', 'metric-train-loss');
  const [tTestLoss, vTestLoss] = tile('test loss', 'metric-test-loss');
  const [tNorm, vNorm] = tile('weight norm ‖w‖', 'metric-weight-norm', 'L2 norm of every weight (Omnigrok)');
  const [tSc, vSc] = tile('softmax collapse', 'metric-softmax-collapse', 'Fraction of training samples whose loss normalizer rounds to exactly one-hot in the loss precision, so they give no gradient (Prieto et al. 2025; for StableMax, its own normalizer)');
  const [tNlm, vNlm] = tile('cos(g, w)', 'metric-nlm', 'Cosine of the last gradient and the weights. Near −1 the step mostly scales the weights up — naïve loss minimization, the component ⊥Grad removes');
  const tiles = el('div', { class: 'gs-tiles' }, tTrainAcc, tTestAcc, tTrainLoss, tTestLoss, tNorm, tSc, tNlm);
  const badge = el('div', { class: 'gs-badge', testid: 'grok-badge', 'data-verdict': 'none' }, 'Did it grok? —');
  const summary = el('div', { class: 'gs-summary', testid: 'run-summary' });

  const pinBtn = el('button', { testid: 'pin-button', title: 'Keep this run\'s curves and overlay the next run on them', onclick: pinRun }, 'Pin run');
  const fileInput = el('input', { type: 'file', accept: '.jsonl,.json,.txt', testid: 'load-metrics', onchange: loadMetricsFile });
  const loadLabel = el('label', { class: 'gs-file' }, 'Load metrics file (CLI --out)…', fileInput);
  const clearBtn = el('button', { testid: 'clear-pinned', onclick: () => { state.pinned = []; renderPinned(); scheduleDraw(); } }, 'Clear');
  const pinnedList = el('ul', { class: 'gs-pinned', testid: 'pinned-list' });
  const compare = el('div', { class: 'gs-compare' }, pinBtn, loadLabel, clearBtn, pinnedList);

  // ---- charts -------------------------------------------------------------------------------
  const box = () => el('div');
  const [lossBox, accBox, normBox, diagBox] = [box(), box(), box(), box()];
  const panel = (title, body, testid) => el('div', { class: 'gs-panel', testid }, el('h3', {}, title), body);
  const charts = el('div', { class: 'gs-charts', testid: 'chart-main' },
    panel('Loss', lossBox), panel('Accuracy', accBox), panel('Weight norm (total and per tensor)', normBox, 'chart-norms'),
    panel('Diagnostics', diagBox, 'chart-diagnostics'));

  const heatCanvas = el('canvas', { class: 'gs-pixels', testid: 'fourier-heatmap' });
  const heatReadout = el('div', { class: 'gs-readout' });
  const keyFreqs = el('div', { class: 'gs-summary', testid: 'key-frequencies' }, '–');
  const gridCanvas = el('canvas', { class: 'gs-pixels gs-square', testid: 'prediction-grid' });
  const gridReadout = el('div', { class: 'gs-readout' });
  const legend = el('div', { class: 'gs-legend' }, ...Object.entries(CELL_LABELS).map(([k, label]) =>
    el('span', {}, el('i', { style: `background: rgb(${CELL_COLORS[k].join(',')})` }), label)));
  const [iprBox, pruneBox] = [box(), box()];
  const analysisTitle = el('span', { class: 'gs-summary', testid: 'analysis-step' }, '');
  const views = el('div', { class: 'gs-views', testid: 'analysis' },
    el('div', { class: 'gs-panel' }, el('h3', {}, 'Fourier spectrum of the operand map (frequency × unit) ', analysisTitle), heatCanvas, heatReadout, keyFreqs),
    el('div', { class: 'gs-panel' }, el('h3', {}, 'Predictions over (a, b) — row a, column b'), gridCanvas, gridReadout, legend),
    el('div', { class: 'gs-panel', testid: 'ipr-histogram' }, el('h3', {}, 'Per-unit IPR (high = periodic, generalizing)'), iprBox),
    el('div', { class: 'gs-panel', testid: 'pruning-chart' }, el('h3', {}, 'Pruning low-IPR neurons (MLP)'), pruneBox,
      el('div', { class: 'gs-summary' }, 'Doshi et al.: zero the lowest-IPR first-layer neurons and re-measure. Computed when training stops; MLPs only.')));

  const mainCol = el('div', { class: 'gs-main' }, bar, notice, fileNotice, errorBanner, benchOut, tiles,
    el('div', { class: 'gs-row' }, badge, summary), compare, charts, views);
  const lab = el('div', { class: 'gs-lab' }, form, mainCol);
  root.append(lab);

  const chartWidth = () => Math.max(260, Math.floor((charts.clientWidth - 48) / (innerWidth > 1100 ? 2 : 1)));
  const lossChart = new MetricChart(lossBox, { title: 'loss (log)', yLog: true, metrics: [
    { label: 'train', stroke: TRAIN, get: (r) => r.train_loss },
    { label: 'test', stroke: TEST, get: (r) => r.test_loss }] });
  const accChart = new MetricChart(accBox, { title: 'accuracy', yRange: [0, 1.02], metrics: [
    { label: 'train', stroke: TRAIN, get: (r) => r.train_acc },
    { label: 'test', stroke: TEST, get: (r) => r.test_acc }] });
  let normChart = null;
  const diagChart = new MetricChart(diagBox, { title: 'fraction / cosine', yRange: [-1, 1.02], metrics: [
    { label: 'softmax collapse', stroke: '#c92a2a', get: (r) => r.softmax_collapse },
    { label: 'zero loss', stroke: '#e67700', get: (r) => r.zero_loss },
    { label: 'cos(g, w)', stroke: '#5f3dc4', get: (r) => r.nlm_cosine },
    { label: 'clean train acc', stroke: '#2b8a3e', get: (r) => r.train_clean_acc },
    { label: 'corrupted fit', stroke: '#862e9c', get: (r) => r.corrupted_fit }] });
  const iprChart = new XYChart(iprBox, { xLabel: 'IPR', yLabel: 'units', series: [['units', '#5f3dc4']], bars: true });
  const pruneChart = new XYChart(pruneBox, { xLabel: 'fraction pruned', yLabel: 'accuracy', yRange: [0, 1.02], series: [
    ['train (true labels)', '#2b8a3e'], ['train (as trained)', TRAIN], ['test', TEST]] });
  // Built empty now, so the first analysis only sets data (no chart construction mid-training).
  iprChart.update([], [[]], chartWidth());
  pruneChart.update([], [[], [], []], chartWidth());
  const heatmap = new FourierHeatmap(heatCanvas, heatReadout);
  const predictionGrid = new PredictionGrid(gridCanvas, gridReadout);

  function buildNormChart(names) {
    normChart?.destroy();
    normBox.replaceChildren();
    const metrics = [{ label: 'total', stroke: '#1d1f23', get: (r) => r.weight_norm }];
    names.slice(0, 12).forEach((name, i) => metrics.push({ label: name, stroke: LAYER_COLORS[i % LAYER_COLORS.length], get: (r) => r.layer_norms?.[i] }));
    normChart = new MetricChart(normBox, { title: '‖w‖ (log)', yLog: true, metrics });
  }
  buildNormChart([]);

  const onResize = () => {
    const w = chartWidth();
    for (const c of [lossChart, accChart, normChart, diagChart, iprChart, pruneChart]) c?.resize(w);
  };
  addEventListener('resize', onResize);

  // ---- rendering ----------------------------------------------------------------------------
  function showError(message) { errorBanner.textContent = message; errorBanner.hidden = false; }
  function clearError() { errorBanner.hidden = true; errorBanner.textContent = ''; }

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
    updatePrecisionNote();
  }

  function updatePrecisionNote() {
    const f64 = fieldRows.find((r) => r.field.path === 'grokking.loss.precision').input.querySelector('option[value="f64"]');
    f64.disabled = !state.float64;
    precisionNote.hidden = state.float64;
    precisionNote.textContent = 'float64 is not available on this backend (WebGPU has no f64): the loss and the softmax-collapse metric run in float32. Pick the CPU backend for float64.';
  }

  function updateButtons() {
    const loaded = state.spec != null;
    trainBtn.disabled = !loaded || state.running || state.finished;
    pauseBtn.disabled = !state.running;
    stepBtn.disabled = !loaded || state.running || state.finished;
    resetBtn.disabled = !loaded;
    pinBtn.disabled = state.history.length < 2;
  }

  function renderBadge(report, target = badge, history = state.history) {
    if (!report) { target.dataset.verdict = 'none'; target.textContent = 'Did it grok? —'; return; }
    const [title, why] = VERDICTS[report.verdict];
    target.dataset.verdict = report.verdict;
    const ratio = report.max_loss_ratio != null ? ` · max test/train loss ${report.max_loss_ratio.toExponential(1)}` : '';
    const atFit = report.test_acc_at_fit != null ? ` (test acc then ${report.test_acc_at_fit.toFixed(2)})` : '';
    // Time to grok on this backend: the training wall time at that evaluation.
    const at = history.find((r) => r.step === report.test_step);
    const secs = at && at.wall_ms > 0 ? ` after ${(at.wall_ms / 1000).toFixed(1)} s` : '';
    target.textContent = `${title}: ${why}. Train acc ≥ 99%: ${stepText(report.train_step)}${atFit}; ` +
      `test acc ≥ 99%: ${stepText(report.test_step)}${secs}${ratio}`;
  }

  function renderPinned() {
    pinnedList.replaceChildren(...state.pinned.map((run, i) => {
      const li = el('li', {}, el('i', { style: `background: ${PINNED_COLORS[i % PINNED_COLORS.length]}` }), `${run.name} `);
      const verdict = el('span', { class: 'gs-summary' });
      renderBadge(run.report, verdict, run.history);
      if (!run.report) verdict.textContent = '';
      li.append(verdict);
      return li;
    }));
  }

  function scheduleDraw() {
    if (state.pendingDraw) return;
    state.pendingDraw = true;
    requestAnimationFrame(() => {
      state.pendingDraw = false;
      const w = chartWidth();
      lossChart.update(state.history, state.pinned, w);
      accChart.update(state.history, state.pinned, w);
      normChart.update(state.history, [], w);
      diagChart.update(state.history, [], w);
      const last = state.history.at(-1);
      vTrainAcc.textContent = fmtAcc(last?.train_acc);
      vTestAcc.textContent = fmtAcc(last?.test_acc);
      vTrainLoss.textContent = fmtLoss(last?.train_loss);
      vTestLoss.textContent = fmtLoss(last?.test_loss);
      vNorm.textContent = last ? last.weight_norm.toFixed(2) : '–';
      vSc.textContent = fmtFrac(last?.softmax_collapse);
      vNlm.textContent = last?.nlm_cosine == null ? '–' : last.nlm_cosine.toFixed(3);
      renderBadge(state.history.length ? state.report : null);
    });
  }

  /** Draws an analysis snapshot one view per task. On the first snapshot every view's code runs
   * cold and the canvases get their first 2D contexts: drawn in one go that was a single
   * 50–80 ms main-thread task (heatmap ≈ 25 ms, grid ≈ 14 ms, measured with performance.now()
   * in headless Chromium); split, no task passes ~30 ms. A newer snapshot cancels the rest. */
  function drawAnalysis(a) {
    const generation = ++state.analysis.drawn;
    const views = [
      () => {
        analysisTitle.textContent = `at step ${a.step}`;
        heatmap.update(a.spectrum);
        const keys = a.spectrum.key_freqs;
        const share = `${(100 * a.spectrum.key_share).toFixed(0)}%`;
        keyFreqs.textContent = keys.length <= 8
          ? `Key frequencies: {${keys.join(', ')}} hold ${share} of the non-constant Fourier energy`
          : `Fourier energy spread over ${keys.length} of ${a.spectrum.n_freq - 1} frequencies (${share}; strongest: ` +
            `${keys.slice(0, 5).join(', ')}). Units may still be periodic one by one: see the IPR histogram.`;
      },
      () => predictionGrid.update(a.grid, a.p),
      () => {
        const w = chartWidth();
        const [centers, counts] = histogram(a.ipr, 20);
        iprChart.update(centers, [counts], w);
        if (a.pruning.length) {
          pruneChart.update(a.pruning.map((q) => q.fraction),
            [a.pruning.map((q) => q.train_clean_acc), a.pruning.map((q) => q.train_acc), a.pruning.map((q) => q.test_acc)], w);
        }
      },
    ];
    const drawFrom = (i) => {
      if (i >= views.length || generation !== state.analysis.drawn) return;
      views[i]();
      setTimeout(() => drawFrom(i + 1), 0);
    };
    drawFrom(0);
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
    // The pruning curve costs 30 forward passes: only for the picture when training stops.
    send({ type: 'analyse', pruning: !state.running && state.step > 0 });
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
      if (!records.length && !header && r.format === 'gradscope-metrics') { header = r; continue; }
      for (const key of ['step', 'train_loss', 'train_acc', 'test_loss', 'test_acc']) {
        if (typeof r[key] !== 'number') { showError(`${file.name}, line ${i + 1}: missing number \`${key}\` (expected one object per line as written by \`gradscope run --out\`)`); return; }
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
    send({ type: 'report', records: records.map(normalizeRecord) });
    renderPinned();
    scheduleDraw();
  }

  // The worker's MetricsRecord needs these fields; older files may lack them.
  const normalizeRecord = (r) => ({ weight_norm: 0, wall_ms: 0, ...r });

  // ---- worker protocol ----------------------------------------------------------------------
  let queue = [];
  let ready = false;
  function send(cmd) {
    if (!ready) { queue.push(cmd); return; }
    state.worker.postMessage(JSON.stringify(cmd));
  }

  function onEvent(ev) {
    switch (ev.type) {
      case 'ready':
        ready = true;
        state.presets = ev.presets;
        presetSelect.replaceChildren(...ev.presets.map((p) => el('option', { value: p.name }, p.title)),
          el('option', { value: '' }, 'Custom'));
        for (const cmd of queue) state.worker.postMessage(JSON.stringify(cmd));
        queue = [];
        if (!state.lastGood) {
          // First start: the URL hash if there is one, else the default preset.
          if (options.hash && options.hash.replace(/^#/, '').length > 0) send({ type: 'load_hash', hash: options.hash });
          else send({ type: 'load', spec: ev.presets[0].spec });
        }
        break;
      case 'backend':
        backendLabel.textContent = ev.label;
        backendLabel.dataset.kind = ev.kind;
        notice.hidden = !ev.notice;
        notice.textContent = ev.notice || '';
        state.float64 = ev.float64;
        updatePrecisionNote();
        break;
      case 'loaded':
        if (state.keepError) state.keepError = false; else clearError();
        state.spec = ev.spec;
        state.lastGood = ev.spec;
        state.history = [];
        state.report = null;
        state.finished = false;
        state.summary = ev.summary;
        state.analysis.inFlight = false;
        fillForm(ev.spec);
        buildNormChart(ev.summary.param_names);
        summary.textContent = `${ev.summary.train_size} train / ${ev.summary.test_size} test pairs · ` +
          `${ev.summary.parameters.toLocaleString()} parameters` +
          (ev.summary.corrupted_labels ? ` · ${ev.summary.corrupted_labels} corrupted labels` : '') +
          (ev.summary.float64 ? ' · float64 loss' : '');
        options.onSpecHash?.(ev.hash);
        scheduleDraw();
        break;
      case 'metrics':
        if (state.history.at(-1)?.step !== ev.record.step) state.history.push(ev.record);
        state.report = ev.report;
        scheduleDraw();
        maybeAnalyse(state.history.length === 1);
        break;
      case 'analysis':
        state.analysis.inFlight = false;
        state.analysis.cost = performance.now() - state.analysis.last;
        drawAnalysis(ev.analysis);
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
        state.analysis.inFlight = false;
        showError(ev.message);
        if (ev.field) fieldRows.find((r) => r.field.path === ev.field)?.input.setAttribute('aria-invalid', 'true');
        if (!state.lastGood && state.presets.length) {
          // A bad link must not leave an empty page: run the default preset, keep the message.
          state.keepError = true;
          send({ type: 'load', spec: state.presets[0].spec });
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
    /** Loads a spec from a URL hash (the current run is kept if it is invalid). */
    loadHash(hash) { send({ type: 'load_hash', hash }); },
    /** Loads a spec object. */
    load(spec) { send({ type: 'load', spec }); },
    start() { send({ type: 'start' }); },
    pause() { send({ type: 'pause' }); },
    /** Metrics so far (one object per evaluation). */
    history() { return state.history.slice(); },
    /** The current "did it grok?" report. */
    report() { return state.report; },
    /** The loaded spec. */
    spec() { return state.spec; },
    /** Stops training and removes the widget. */
    stop() {
      state.worker?.terminate();
      removeEventListener('resize', onResize);
      for (const c of [lossChart, accChart, normChart, diagChart, iprChart, pruneChart]) c?.destroy();
      lab.remove();
    },
  };
}

export { getPath };
