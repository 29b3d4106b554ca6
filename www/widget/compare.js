// Compare: runs pinned over the charts (this run at some step, a saved run, a metrics file from
// the CLI), with each one's verdict.

import { el } from '../dom.js';
import { PINNED_COLORS } from '../charts.js';
import { LABS } from '../labs/index.js';

/** Runs kept on the charts at once; the oldest goes first. */
const MAX_PINNED = 4;

/** Overlays a run ({ name, history, report, finished }) on the charts. */
export function pin(w, run) {
  w.state.pinned.push(run);
  if (w.state.pinned.length > MAX_PINNED) w.state.pinned.shift();
  renderPinned(w);
  w.scheduleDraw();
}

/** Pins the run on screen as it stands. */
export function pinRun(w) {
  const { state, ui } = w;
  if (state.history.length < 2) return;
  const name = ui.presetSelect.value || `run ${state.pinned.length + 1}`;
  pin(w, { name: `${name} @${state.step}`, history: state.history.slice(), report: state.report, finished: state.finished });
}

/** Pins `history` now and gives it its verdict when the worker's report of it arrives. */
export function pinWithReport(w, name, history) {
  pin(w, { name, history, report: null });
  w.state.pendingReports.push(w.state.pinned.at(-1));
  w.send({ type: 'report', records: history });
}

/** The worker's report of the oldest pinned run still waiting for one. */
export function takeReport(w, report) {
  const run = w.state.pendingReports.shift();
  if (run) { run.report = report; renderPinned(w); }
}

export function renderPinned(w) {
  const { state } = w;
  w.ui.pinnedList.replaceChildren(...state.pinned.map((run, i) => {
    const li = el('li', {}, el('i', { style: `background: ${PINNED_COLORS[i % PINNED_COLORS.length]}` }), `${run.name} `);
    const verdict = el('span', { class: 'gs-summary' });
    if (run.report && state.lab) verdict.textContent = state.lab.reportText(run.report, run.history, { finished: run.finished ?? true })[1];
    li.append(verdict);
    return li;
  }));
}

/** A metrics file (the CLI's --out, or this page's JSON export) is read by the worker's
 * parser (src/train/metrics.rs: read_metrics_file), which names the line and field of any
 * fault; the answer is a `metrics_file` event ([`showMetricsFile`]). */
export async function loadMetricsFile(w) {
  const input = w.ui.fileInput;
  const file = input.files?.[0];
  if (!file) return;
  const text = await file.text();
  input.value = '';
  w.send({ type: 'read_metrics', name: file.name, text });
}

/** Pins a metrics file the worker read, if it is the shown lab's. */
export function showMetricsFile(w, { name, file, report }) {
  const { state, ui } = w;
  if (file.lab && state.lab && file.lab !== state.lab.id) {
    w.showError(`${name} holds a ${file.lab} run; open the ${LABS.find((l) => l.id === file.lab)?.title ?? file.lab} lab to compare it.`);
    return;
  }
  w.clearError();
  // Files without a header predate 2026-11-27, when the transformer's causal mask was inverted.
  ui.fileNotice.hidden = file.version >= 2;
  ui.fileNotice.textContent = file.version >= 2 ? '' : `${name} has no format header: it was written before 2026-11-27. ` +
    'If it comes from a transformer run (nanda-1l-transformer, power-division or any transformer spec), it ' +
    'describes a model whose causal mask was inverted (each query saw only later tokens); re-run it to compare.';
  pin(w, { name, history: file.records, report });
}
