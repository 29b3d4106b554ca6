// The phase-diagram page (#sweeps): a sweep's results as a heatmap over two of its axes.
// Results come from a `gradscope sweep` file (its JSON lines, docs/sweeps.md), or from a small
// sweep (≤ 25 points) run here by the worker, which writes the very same lines (Command::Sweep).
// Over the axes not shown (seeds, typically) each cell aggregates: the median of the chosen
// field, and how many of its runs reached it at all.

import { el } from './dom.js';
import { newWorker } from './gradscope.js';
import { viridis } from './views.js';

/** A small sweep that shows Power et al.'s curve and a weight-decay axis in a minute on a CPU. */
const EXAMPLE = JSON.stringify({
  base: { grokking: { task: { p: 23 }, model: { mlp: { width: 48 } }, loss: { kind: 'cross_entropy' },
    optimizer: { lr: 0.02 }, training: { steps: 800, eval_every: 20 } } },
  axes: { 'task.train_frac': [0.3, 0.45, 0.6, 0.75], 'optimizer.weight_decay': [0.03, 0.3, 1] },
}, null, 2);
const NEVER = 'never';
const MARGIN = { left: 86, bottom: 44, top: 8, right: 8 };

/** The spec as its URL hash (src/spec/url_hash.rs's flattening: dotted keys, form-encoded). */
export function specHash(spec) {
  const pairs = [];
  const walk = (prefix, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else pairs.push([prefix, v === null ? 'null' : String(v)]);
  };
  walk('', spec);
  return new URLSearchParams(pairs).toString();
}

/** Result lines of a results file; a line that does not parse (a killed sweep's last) is skipped. */
export function parseResults(text) {
  const out = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r.format === 'gradscope-sweep') out.push(r); else skipped++;
    } catch { skipped++; }
  }
  return { results: out, skipped };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Display text of an axis value or a metric. */
function show(v) {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return NEVER;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Mounts the page in `root`; `backend`: the worker's backend for sweeps run here. */
export function startSweeps(root, { backend = 'cpu' } = {}) {
  const state = { results: [], axes: [], running: false, cells: [], stopped: false };
  const status = el('p', { class: 'gs-summary', testid: 'sweep-status', 'aria-live': 'polite' }, 'Load a results file, or run the sweep below.');
  const fileInput = el('input', { type: 'file', accept: '.jsonl,.json,application/json', testid: 'sweep-file', 'aria-label': 'A sweep results file' });
  const specText = el('textarea', { class: 'gs-sweep-spec', testid: 'sweep-spec', rows: 12, spellcheck: 'false', 'aria-label': 'Sweep file (JSON)' });
  specText.value = EXAMPLE;
  const runBtn = el('button', { class: 'primary', testid: 'sweep-run', title: 'Run every point of this sweep here, one after another (at most 25 points)' }, 'Run here');
  const cancelBtn = el('button', { testid: 'sweep-cancel', disabled: true, title: 'Stop after the point in progress' }, 'Stop');
  const saveBtn = el('button', { testid: 'sweep-download', disabled: true, title: 'Download the results as gradscope sweep lines (JSONL)' }, 'Download results');
  const xSelect = el('select', { testid: 'sweep-x', 'aria-label': 'Horizontal axis' });
  const ySelect = el('select', { testid: 'sweep-y', 'aria-label': 'Vertical axis' });
  const metricSelect = el('select', { testid: 'sweep-metric', 'aria-label': 'Colour' });
  const canvas = el('canvas', { class: 'gs-sweep-heatmap', testid: 'sweep-heatmap', role: 'img', 'aria-label': 'Phase diagram' });
  const readout = el('p', { class: 'gs-summary', testid: 'sweep-readout', 'aria-live': 'polite' }, '');
  const legend = el('p', { class: 'gs-summary', testid: 'sweep-legend' }, '');
  const error = el('div', { class: 'gs-error', testid: 'sweep-error', role: 'alert', hidden: true });

  root.replaceChildren(el('section', { class: 'gs-sweeps', testid: 'sweeps' },
    el('h2', {}, 'Phase diagrams'),
    el('p', { class: 'gs-lede' }, 'A sweep trains a grid of specs; here its results become a map over two of its axes: when (and whether) each run grokked. Load what `gradscope sweep` wrote (docs/sweeps.md), or run a small sweep (≤ 25 points) right here.'),
    error,
    el('div', { class: 'gs-sweep-grid' },
      el('div', { class: 'gs-sweep-side' },
        el('label', {}, 'Results file ', fileInput),
        el('details', { open: true }, el('summary', {}, 'Run a sweep here'), specText,
          el('div', { class: 'gs-row' }, runBtn, cancelBtn, saveBtn))),
      el('div', { class: 'gs-sweep-main' },
        el('div', { class: 'gs-row' }, el('label', {}, 'x ', xSelect), el('label', {}, 'y ', ySelect), el('label', {}, 'colour ', metricSelect)),
        canvas, legend, readout, status))));

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  // ---- the worker (its own: a sweep must not disturb a lab's run) ----------------------------
  let worker = null;
  let ready = false;
  const queue = [];
  const send = (cmd) => { if (ready) worker.postMessage(JSON.stringify(cmd)); else queue.push(cmd); };
  function ensureWorker() {
    if (worker) return;
    worker = newWorker();
    worker.onmessage = (e) => onEvent(JSON.parse(e.data));
    worker.onerror = (e) => showError(`The worker failed: ${e.message || 'unknown error'}`);
  }
  function onEvent(ev) {
    if (state.stopped) return;
    switch (ev.type) {
      case 'ready':
        ready = true;
        worker.postMessage(JSON.stringify({ type: 'init', backend }));
        for (const c of queue.splice(0)) worker.postMessage(JSON.stringify(c));
        break;
      case 'sweep_planned':
        state.results = [];
        state.axes = ev.axes.map((a) => a.path);
        status.textContent = `0 of ${ev.total} points…`;
        refreshChoices();
        draw();
        break;
      case 'sweep_point':
        if (ev.result) {
          state.results.push(ev.result);
          status.textContent = `${ev.done} of ${ev.total} points…`;
          refreshChoices();
          draw();
        } else {
          setRunning(false);
          status.textContent = ev.cancelled ? `Stopped after ${ev.done} of ${ev.total} points.` : `Done: ${ev.total} points.`;
        }
        break;
      case 'error':
        if (state.running) setRunning(false);
        showError(ev.message);
        break;
      case 'panic':
        setRunning(false);
        showError(`The worker crashed: ${ev.message}`);
        worker.terminate();
        worker = null;
        ready = false;
        break;
      default:
        break;
    }
  }
  function setRunning(on) {
    state.running = on;
    runBtn.disabled = on;
    cancelBtn.disabled = !on;
    saveBtn.disabled = on || state.results.length === 0;
  }
  runBtn.addEventListener('click', () => {
    showError('');
    ensureWorker();
    setRunning(true);
    status.textContent = 'Planning…';
    send({ type: 'sweep', text: specText.value });
  });
  cancelBtn.addEventListener('click', () => send({ type: 'cancel_sweep' }));
  saveBtn.addEventListener('click', () => {
    const text = state.results.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' })), download: 'sweep.jsonl' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    showError('');
    const { results, skipped } = parseResults(await file.text());
    if (results.length === 0) {
      showError(`${file.name}: no gradscope sweep lines in it (see docs/sweeps.md for the format).`);
      return;
    }
    state.results = results;
    readout.textContent = '';
    state.axes = results[0].axes?.length ? results[0].axes : Object.keys(results[0].point);
    status.textContent = `${file.name}: ${results.length} runs${skipped ? `, ${skipped} lines skipped` : ''}.`;
    saveBtn.disabled = false;
    refreshChoices(true);
    draw();
  });

  // ---- choices -------------------------------------------------------------------------------
  function metricChoices() {
    const fields = new Map(); // key → has a "never"
    for (const r of state.results) {
      for (const [k, v] of Object.entries(r.verdict)) {
        if (typeof v === 'number' || v === NEVER) fields.set(k, fields.get(k) || v === NEVER);
      }
    }
    const out = [];
    for (const [k, reachable] of fields) {
      out.push([`median:${k}`, `${k} (median)`]);
      if (reachable) out.push([`reached:${k}`, `${k} reached (fraction)`]);
    }
    // Steps to grok first, then the fraction that grokked: the phase diagram's usual colours.
    const rank = (v) => (v === 'median:test_step_99' ? 0 : v === 'reached:test_step_99' ? 1 : 2);
    return out.sort((a, b) => rank(a[0]) - rank(b[0]));
  }
  function fill(select, options) {
    select.replaceChildren(...options.map(([v, t]) => el('option', { value: v }, t)));
  }
  /** Fills the pickers; keeps the user's choices while they still apply (`reset`: a new file). */
  function refreshChoices(reset = false) {
    if (reset) { state.x = null; state.y = null; state.metric = null; }
    const axisOptions = state.axes.map((a) => [a, a.replace(/^[a-z_]+\./, '')]);
    fill(xSelect, axisOptions);
    fill(ySelect, [['', '(none)'], ...axisOptions]);
    const metrics = metricChoices();
    fill(metricSelect, metrics);
    xSelect.value = state.axes.includes(state.x) ? state.x : (state.axes[0] ?? '');
    // Seeds are what a cell aggregates over, not an axis to plot.
    const yDefault = state.axes.find((a) => a !== xSelect.value && !/(^|\.)seed$/.test(a)) ?? '';
    ySelect.value = state.y === '' || (state.axes.includes(state.y) && state.y !== xSelect.value) ? state.y : yDefault;
    metricSelect.value = metrics.some(([v]) => v === state.metric) ? state.metric : (metrics[0]?.[0] ?? '');
  }
  xSelect.addEventListener('change', () => { state.x = xSelect.value; });
  ySelect.addEventListener('change', () => { state.y = ySelect.value; });
  metricSelect.addEventListener('change', () => { state.metric = metricSelect.value; });
  for (const s of [xSelect, ySelect, metricSelect]) s.addEventListener('change', draw);

  // ---- the heatmap ---------------------------------------------------------------------------
  /** Distinct values of an axis, in the order the sweep gave them (numbers sorted). */
  function axisValues(path) {
    if (!path) return [null];
    const vals = [];
    for (const r of state.results) {
      const v = r.point[path];
      if (!vals.some((x) => sameValue(x, v))) vals.push(v);
    }
    return vals.every((v) => typeof v === 'number') ? vals.sort((a, b) => a - b) : vals;
  }
  function cellValue(runs, metric) {
    const [kind, key] = metric.split(/:(.*)/s);
    const raw = runs.map((r) => r.verdict?.[key]);
    const reached = raw.filter((v) => typeof v === 'number');
    if (kind === 'reached') return { value: reached.length / runs.length, reached: reached.length, n: runs.length, key };
    // "never" counts as +∞: a cell where most runs never got there has no median.
    const xs = raw.map((v) => (v === NEVER ? Infinity : typeof v === 'number' ? v : NaN)).filter((v) => !Number.isNaN(v));
    return { value: xs.length ? median(xs) : NaN, reached: reached.length, n: runs.length, key };
  }
  function draw() {
    const xPath = xSelect.value;
    const yPath = ySelect.value;
    const metric = metricSelect.value;
    const width = Math.max(240, Math.min(720, canvas.parentElement?.clientWidth || 600));
    const xs = axisValues(xPath);
    const ys = axisValues(yPath);
    const cellW = Math.max(14, Math.floor((width - MARGIN.left - MARGIN.right) / Math.max(1, xs.length)));
    const cellH = Math.max(14, Math.min(56, cellW));
    canvas.width = MARGIN.left + MARGIN.right + cellW * xs.length;
    canvas.height = MARGIN.top + MARGIN.bottom + cellH * ys.length;
    const ctx = canvas.getContext('2d');
    const css = getComputedStyle(root);
    const ink = css.getPropertyValue('--ink').trim() || '#222';
    const muted = css.getPropertyValue('--muted').trim() || '#666';
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    state.cells = [];
    if (!xPath || !metric || state.results.length === 0) { legend.textContent = ''; return; }
    for (const [j, y] of ys.entries()) {
      for (const [i, x] of xs.entries()) {
        const runs = state.results.filter((r) => sameValue(r.point[xPath], x) && (!yPath || sameValue(r.point[yPath], y)));
        if (runs.length === 0) continue;
        const v = cellValue(runs, metric);
        // Row 0 at the bottom, like a plot's y axis.
        state.cells.push({ x, y, i, j, runs, ...v, px: MARGIN.left + i * cellW, py: MARGIN.top + (ys.length - 1 - j) * cellH });
      }
    }
    const finite = state.cells.map((c) => c.value).filter(Number.isFinite);
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const logScale = metric.startsWith('median:') && /step|loss/.test(metric) && lo > 0 && hi / lo > 10;
    const t = (v) => (hi === lo ? 0.5 : logScale ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo));
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const c of state.cells) {
      if (Number.isFinite(c.value)) {
        const [r, g, b] = viridis(t(c.value));
        ctx.fillStyle = `rgb(${r},${g},${b})`;
        ctx.fillRect(c.px, c.py, cellW - 1, cellH - 1);
        if (cellW >= 34 && cellH >= 16) {
          ctx.fillStyle = t(c.value) > 0.6 ? '#111' : '#fff';
          ctx.fillText(show(c.value), c.px + cellW / 2, c.py + cellH / 2);
        }
      } else {
        // Never reached within the budget: a hatched grey cell with a cross, not a colour.
        ctx.fillStyle = '#9a9a9a';
        ctx.fillRect(c.px, c.py, cellW - 1, cellH - 1);
        ctx.strokeStyle = '#f4f4f4';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(c.px + 3, c.py + 3); ctx.lineTo(c.px + cellW - 4, c.py + cellH - 4);
        ctx.moveTo(c.px + cellW - 4, c.py + 3); ctx.lineTo(c.px + 3, c.py + cellH - 4);
        ctx.stroke();
      }
    }
    // Axes: the values under and beside the cells, the axis names.
    ctx.fillStyle = ink;
    xs.forEach((x, i) => ctx.fillText(show(x), MARGIN.left + i * cellW + cellW / 2, MARGIN.top + ys.length * cellH + 10));
    ctx.textAlign = 'right';
    ys.forEach((y, j) => { if (y !== null) ctx.fillText(show(y), MARGIN.left - 6, MARGIN.top + (ys.length - 1 - j) * cellH + cellH / 2); });
    ctx.fillStyle = muted;
    ctx.textAlign = 'center';
    ctx.fillText(xPath.replace(/^[a-z_]+\./, ''), MARGIN.left + (xs.length * cellW) / 2, canvas.height - 10);
    if (yPath) {
      ctx.save();
      ctx.translate(12, MARGIN.top + (ys.length * cellH) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(yPath.replace(/^[a-z_]+\./, ''), 0, 0);
      ctx.restore();
    }
    const label = metricSelect.selectedOptions[0]?.textContent ?? '';
    const never = state.cells.filter((c) => !Number.isFinite(c.value)).length;
    legend.textContent = finite.length
      ? `${label}: dark ${show(lo)} → bright ${show(hi)}${logScale ? ' (log scale)' : ''}${never ? ` · grey × = never within the budget (${never} cell${never > 1 ? 's' : ''})` : ''} · click a cell to open its run`
      : `${label}: no cell reached it within the budget (grey ×)`;
    canvas.dataset.cells = String(state.cells.length);
    canvas.dataset.never = String(never);
  }
  function cellAt(e) {
    const box = canvas.getBoundingClientRect();
    const x = ((e.clientX - box.left) * canvas.width) / box.width;
    const y = ((e.clientY - box.top) * canvas.height) / box.height;
    const w = (canvas.width - MARGIN.left - MARGIN.right) / Math.max(1, axisValues(xSelect.value).length);
    const h = (canvas.height - MARGIN.top - MARGIN.bottom) / Math.max(1, axisValues(ySelect.value).length);
    return state.cells.find((c) => x >= c.px && x < c.px + w && y >= c.py && y < c.py + h);
  }
  canvas.addEventListener('mousemove', (e) => {
    const c = cellAt(e);
    if (!c) { readout.textContent = ''; return; }
    const where = [`${xSelect.value.replace(/^[a-z_]+\./, '')} = ${show(c.x)}`];
    if (ySelect.value) where.push(`${ySelect.value.replace(/^[a-z_]+\./, '')} = ${show(c.y)}`);
    const what = metricSelect.value.startsWith('reached:')
      ? `${c.key} reached in ${c.reached} of ${c.n} run${c.n > 1 ? 's' : ''}`
      : `${c.key} ${show(c.value)} (median of ${c.n}; reached in ${c.reached})`;
    readout.textContent = `${where.join(', ')}: ${what}`;
  });
  canvas.addEventListener('click', (e) => {
    const c = cellAt(e);
    if (c) location.hash = '#' + specHash(c.runs[0].spec);
  });
  const resize = new ResizeObserver(() => draw());
  resize.observe(root);

  return {
    /** Results shown (the lines, as parsed). */
    results: () => state.results.slice(),
    stop() {
      state.stopped = true;
      resize.disconnect();
      worker?.terminate();
      root.replaceChildren();
    },
  };
}
