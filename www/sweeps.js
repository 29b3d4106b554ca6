// The phase-diagram page (#sweeps): a sweep's results as a heatmap over two of its axes.
// Results come from a `gradscope sweep` file (its JSON lines, docs/sweeps.md), or from a small
// sweep (≤ 25 points) run here by workers, which write the very same lines (Command::Sweep):
// one worker per core (navigator.hardwareConcurrency, at most 8; `?workers=N` sets it), each
// running its share of the points (points i, i + N, …, as `gradscope sweep --shard`). Each
// point is trained whole by one worker, so the lines equal a one-worker run's (wall times aside);
// they are kept in point order.
// Over the axes not shown (seeds, typically) each cell aggregates: the median of the chosen
// field, and how many of its runs reached it at all. `sweeps/results.js` reads the results,
// `sweeps/heatmap.js` draws them.

import { el } from './dom.js';
import { newWorker } from './widget/client.js';
import { axisValues, metricChoices, parseResults, show, specHash } from './sweeps/results.js';
import { drawHeatmap, cellAt } from './sweeps/heatmap.js';

export { parseResults, specHash };

/** A small sweep that shows Power et al.'s curve and a weight-decay axis in a minute on a CPU. */
const EXAMPLE = JSON.stringify({
  base: { grokking: { task: { p: 23 }, model: { mlp: { width: 48 } }, loss: { kind: 'cross_entropy' },
    optimizer: { lr: 0.02 }, training: { steps: 800, eval_every: 20 } } },
  axes: { 'task.train_frac': [0.3, 0.45, 0.6, 0.75], 'optimizer.weight_decay': [0.03, 0.3, 1] },
}, null, 2);

/** Most workers a sweep here starts (each holds a wasm instance: tens of MB). */
const MAX_WORKERS = 8;

/** Mounts the page in `root`; `backend`: the workers' backend for sweeps run here; `workers`:
 * how many (default: one per core). */
export function startSweeps(root, { backend = 'cpu', workers = null } = {}) {
  const size = Math.max(1, Math.min(MAX_WORKERS, Number(workers) || navigator.hardwareConcurrency || 1));
  const p = {
    root, backend, size,
    state: { results: [], axes: [], running: false, cells: [], stopped: false, x: null, y: null, metric: null, total: 0, finished: 0, cancelled: false },
    ui: buildPage(root),
    /** The workers: [{ worker, ready, queue }]. */
    team: [],
  };
  wire(p);
  const resize = new ResizeObserver(() => draw(p));
  resize.observe(root);
  return {
    /** Results shown (the lines, as parsed). */
    results: () => p.state.results.slice(),
    stop() {
      p.state.stopped = true;
      resize.disconnect();
      for (const m of p.team) m.worker.terminate();
      root.replaceChildren();
    },
  };
}

/** The page's elements, laid out in `root`. */
function buildPage(root) {
  const ui = {
    status: el('p', { class: 'gs-summary', testid: 'sweep-status', 'aria-live': 'polite' }, 'Load a results file, or run the sweep below.'),
    fileInput: el('input', { type: 'file', accept: '.jsonl,.json,application/json', testid: 'sweep-file', 'aria-label': 'A sweep results file' }),
    specText: el('textarea', { class: 'gs-sweep-spec', testid: 'sweep-spec', rows: 12, spellcheck: 'false', 'aria-label': 'Sweep file (JSON)' }),
    runBtn: el('button', { class: 'primary', testid: 'sweep-run', title: 'Run every point of this sweep here, one after another (at most 25 points)' }, 'Run here'),
    cancelBtn: el('button', { testid: 'sweep-cancel', disabled: true, title: 'Stop after the point in progress' }, 'Stop'),
    saveBtn: el('button', { testid: 'sweep-download', disabled: true, title: 'Download the results as gradscope sweep lines (JSONL)' }, 'Download results'),
    xSelect: el('select', { testid: 'sweep-x', 'aria-label': 'Horizontal axis' }),
    ySelect: el('select', { testid: 'sweep-y', 'aria-label': 'Vertical axis' }),
    metricSelect: el('select', { testid: 'sweep-metric', 'aria-label': 'Colour' }),
    canvas: el('canvas', { class: 'gs-sweep-heatmap', testid: 'sweep-heatmap', role: 'img', 'aria-label': 'Phase diagram' }),
    readout: el('p', { class: 'gs-summary', testid: 'sweep-readout', 'aria-live': 'polite' }, ''),
    legend: el('p', { class: 'gs-summary', testid: 'sweep-legend' }, ''),
    error: el('div', { class: 'gs-error', testid: 'sweep-error', role: 'alert', hidden: true }),
  };
  ui.specText.value = EXAMPLE;
  root.replaceChildren(el('section', { class: 'gs-sweeps', testid: 'sweeps' },
    el('h2', {}, 'Phase diagrams'),
    el('p', { class: 'gs-lede' }, 'A sweep trains a grid of specs; here its results become a map over two of its axes: when (and whether) each run grokked. Load what `gradscope sweep` wrote (docs/sweeps.md), or run a small sweep (≤ 25 points) right here.'),
    ui.error,
    el('div', { class: 'gs-sweep-grid' },
      el('div', { class: 'gs-sweep-side' },
        el('label', {}, 'Results file ', ui.fileInput),
        el('details', { open: true }, el('summary', {}, 'Run a sweep here'), ui.specText,
          el('div', { class: 'gs-row' }, ui.runBtn, ui.cancelBtn, ui.saveBtn))),
      el('div', { class: 'gs-sweep-main' },
        el('div', { class: 'gs-row' }, el('label', {}, 'x ', ui.xSelect), el('label', {}, 'y ', ui.ySelect), el('label', {}, 'colour ', ui.metricSelect)),
        ui.canvas, ui.legend, ui.readout, ui.status))));
  return ui;
}

/** What the page's controls do. */
function wire(p) {
  const { ui, state } = p;
  ui.runBtn.addEventListener('click', () => {
    showError(p, '');
    ensureWorkers(p);
    setRunning(p, true);
    Object.assign(state, { total: 0, finished: 0, cancelled: false, planned: 0 });
    ui.status.textContent = 'Planning…';
    p.team.forEach((m, index) => send(m, { type: 'sweep', text: ui.specText.value, share: { index, count: p.team.length } }));
  });
  ui.cancelBtn.addEventListener('click', () => { for (const m of p.team) send(m, { type: 'cancel_sweep' }); });
  ui.saveBtn.addEventListener('click', () => {
    const text = state.results.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' })), download: 'sweep.jsonl' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  ui.fileInput.addEventListener('change', () => loadFile(p));
  ui.xSelect.addEventListener('change', () => { state.x = ui.xSelect.value; });
  ui.ySelect.addEventListener('change', () => { state.y = ui.ySelect.value; });
  ui.metricSelect.addEventListener('change', () => { state.metric = ui.metricSelect.value; });
  for (const s of [ui.xSelect, ui.ySelect, ui.metricSelect]) s.addEventListener('change', () => draw(p));
  ui.canvas.addEventListener('mousemove', (e) => showCell(p, e));
  ui.canvas.addEventListener('click', (e) => {
    const c = cellUnder(p, e);
    if (c) location.hash = '#' + specHash(c.runs[0].spec);
  });
}

function showError(p, message) {
  p.ui.error.textContent = message;
  p.ui.error.hidden = !message;
}

function setRunning(p, on) {
  const { ui, state } = p;
  state.running = on;
  ui.runBtn.disabled = on;
  ui.cancelBtn.disabled = !on;
  ui.saveBtn.disabled = on || state.results.length === 0;
}

// ---- the workers (the page's own: a sweep must not disturb a lab's run) ----------------------
function send(member, cmd) {
  if (member.ready) member.worker.postMessage(JSON.stringify(cmd)); else member.queue.push(cmd);
}

function ensureWorkers(p) {
  while (p.team.length < p.size) {
    // The CPU-only build unless the sweep asks for a GPU (`?backend=webgpu|auto`).
    const member = { worker: newWorker(p.backend === 'cpu' ? 'cpu' : 'webgpu'), ready: false, queue: [] };
    member.worker.onmessage = (e) => onEvent(p, member, JSON.parse(e.data));
    member.worker.onerror = (e) => showError(p, `A worker failed: ${e.message || 'unknown error'}`);
    p.team.push(member);
  }
}

/** The status line: points done of the sweep's, and by how many workers. */
function showProgress(p) {
  const { state, ui, team } = p;
  const by = team.length > 1 ? ` (${team.length} workers)` : '';
  ui.status.textContent = `${state.results.length} of ${state.total} points…${by}`;
}

function onEvent(p, member, ev) {
  const { state, ui } = p;
  if (state.stopped) return;
  if (ev.type === 'ready') {
    member.ready = true;
    member.worker.postMessage(JSON.stringify({ type: 'init', backend: p.backend }));
    for (const c of member.queue.splice(0)) member.worker.postMessage(JSON.stringify(c));
  } else if (ev.type === 'sweep_planned') {
    // Each worker plans the same sweep: its axes once, and the shares' sizes summed.
    state.total += ev.total;
    if (state.planned++ === 0) {
      // The results shown so far give way once the new sweep is planned (not if it is refused).
      state.results = [];
      state.axes = ev.axes.map((a) => a.path);
      refreshChoices(p);
    }
    showProgress(p);
    draw(p);
  } else if (ev.type === 'sweep_point' && ev.result) {
    // In point order, as one worker (and `gradscope sweep merge`) writes them.
    const at = state.results.findIndex((r) => r.index > ev.result.index);
    state.results.splice(at < 0 ? state.results.length : at, 0, ev.result);
    showProgress(p);
    refreshChoices(p);
    draw(p);
  } else if (ev.type === 'sweep_point') {
    state.cancelled ||= ev.cancelled;
    if (++state.finished < p.team.length) return;
    setRunning(p, false);
    ui.status.textContent = state.cancelled ? `Stopped after ${state.results.length} of ${state.total} points.` : `Done: ${state.total} points.`;
  } else if (ev.type === 'error') {
    // One worker's error ends the sweep: the others stop after their point in progress.
    if (state.running) {
      setRunning(p, false);
      for (const m of p.team) if (m !== member) send(m, { type: 'cancel_sweep' });
    }
    showError(p, ev.message);
  } else if (ev.type === 'panic') {
    setRunning(p, false);
    showError(p, `A worker crashed: ${ev.message}`);
    for (const m of p.team) m.worker.terminate();
    p.team = [];
  }
}

/** A results file chosen in the picker. */
async function loadFile(p) {
  const { ui, state } = p;
  const file = ui.fileInput.files?.[0];
  if (!file) return;
  showError(p, '');
  const { results, skipped } = parseResults(await file.text());
  if (results.length === 0) {
    showError(p, `${file.name}: no gradscope sweep lines in it (see docs/sweeps.md for the format).`);
    return;
  }
  state.results = results;
  ui.readout.textContent = '';
  state.axes = results[0].axes?.length ? results[0].axes : Object.keys(results[0].point);
  ui.status.textContent = `${file.name}: ${results.length} runs${skipped ? `, ${skipped} lines skipped` : ''}.`;
  ui.saveBtn.disabled = false;
  refreshChoices(p, true);
  draw(p);
}

// ---- choices and the heatmap -------------------------------------------------------------------
function fill(select, options) {
  select.replaceChildren(...options.map(([v, t]) => el('option', { value: v }, t)));
}

/** Fills the pickers; keeps the user's choices while they still apply (`reset`: a new file). */
function refreshChoices(p, reset = false) {
  const { ui, state } = p;
  if (reset) { state.x = null; state.y = null; state.metric = null; }
  const axisOptions = state.axes.map((a) => [a, a.replace(/^[a-z_]+\./, '')]);
  fill(ui.xSelect, axisOptions);
  fill(ui.ySelect, [['', '(none)'], ...axisOptions]);
  const metrics = metricChoices(state.results);
  fill(ui.metricSelect, metrics);
  ui.xSelect.value = state.axes.includes(state.x) ? state.x : (state.axes[0] ?? '');
  // Seeds are what a cell aggregates over, not an axis to plot.
  const yDefault = state.axes.find((a) => a !== ui.xSelect.value && !/(^|\.)seed$/.test(a)) ?? '';
  ui.ySelect.value = state.y === '' || (state.axes.includes(state.y) && state.y !== ui.xSelect.value) ? state.y : yDefault;
  ui.metricSelect.value = metrics.some(([v]) => v === state.metric) ? state.metric : (metrics[0]?.[0] ?? '');
}

function draw(p) {
  const { ui, state } = p;
  const drawn = drawHeatmap(ui.canvas, p.root, state.results,
    { xPath: ui.xSelect.value, yPath: ui.ySelect.value, metric: ui.metricSelect.value });
  state.cells = drawn?.cells ?? [];
  if (!drawn) { ui.legend.textContent = ''; return; }
  const { lo, hi, logScale, reached } = drawn;
  const label = ui.metricSelect.selectedOptions[0]?.textContent ?? '';
  const never = state.cells.filter((c) => !Number.isFinite(c.value)).length;
  ui.legend.textContent = reached
    ? `${label}: dark ${show(lo)} → bright ${show(hi)}${logScale ? ' (log scale)' : ''}${never ? ` · grey × = never within the budget (${never} cell${never > 1 ? 's' : ''})` : ''} · click a cell to open its run`
    : `${label}: no cell reached it within the budget (grey ×)`;
  ui.canvas.dataset.cells = String(state.cells.length);
  ui.canvas.dataset.never = String(never);
}

function cellUnder(p, e) {
  const { ui, state } = p;
  const xCount = axisValues(state.results, ui.xSelect.value).length;
  const yCount = axisValues(state.results, ui.ySelect.value).length;
  return cellAt(ui.canvas, state.cells, e, xCount, yCount);
}

/** The readout of the cell under the mouse. */
function showCell(p, e) {
  const { ui } = p;
  const c = cellUnder(p, e);
  if (!c) { ui.readout.textContent = ''; return; }
  const where = [`${ui.xSelect.value.replace(/^[a-z_]+\./, '')} = ${show(c.x)}`];
  if (ui.ySelect.value) where.push(`${ui.ySelect.value.replace(/^[a-z_]+\./, '')} = ${show(c.y)}`);
  const what = ui.metricSelect.value.startsWith('reached:')
    ? `${c.key} reached in ${c.reached} of ${c.n} run${c.n > 1 ? 's' : ''}`
    : `${c.key} ${show(c.value)} (median of ${c.n}; reached in ${c.reached})`;
  ui.readout.textContent = `${where.join(', ')}: ${what}`;
}
