// A recorded run shown at once (`metrics=URL` in the hash, the element's `metrics` attribute):
// a metrics file as `gradscope run --out` writes it (a header line with the lab and the spec,
// then one record per evaluation). Its spec fills the form, its curves and verdict fill the
// charts, before the worker has even loaded; nothing trains. "Train it yourself" (or Train,
// Step, Reset) leaves the recording and trains the same spec live from step 0. Views that need
// the model's weights (spectra, predictions, kernels) come with the live run: a metrics file
// holds metrics only.

import { el } from '../dom.js';
import { labOf } from '../links.js';
import { LABS } from '../labs/index.js';
import { fillForm } from './spec-form.js';

/** The header and records of a metrics file's text, or an Error naming the fault. The worker
 * reads the same file again (src/train/metrics.rs) for the lab's report, and would name a
 * fault this quick reading lets pass. */
export function parseRecording(text) {
  const lines = String(text).split('\n').filter((l) => l.trim());
  const json = (l, i) => { try { return JSON.parse(l); } catch (e) { throw new Error(`line ${i + 1} is not JSON (${e.message})`); } };
  const header = lines.length ? json(lines[0], 0) : null;
  if (header?.format !== 'gradscope-metrics' || typeof header.spec !== 'object' || header.spec === null) {
    throw new Error('it has no gradscope-metrics header line, so the spec it ran is unknown (load it with "Load metrics file" to overlay it on a run instead)');
  }
  const lab = labOf(header.spec);
  if (!LABS.some((l) => l.id === lab)) throw new Error(`its spec is for an unknown lab: ${lab}`);
  const records = lines.slice(1).map((l, i) => json(l, i + 1));
  if (!records.length || records.some((r) => !Number.isInteger(r?.step))) throw new Error('it holds no records with a step');
  return { lab, spec: header.spec, records };
}

/** The banner that says a recording is shown, with its "Train it yourself" button. */
export function replayBanner(w) {
  const text = el('span', { testid: 'replay-text' });
  const button = el('button', { type: 'button', class: 'primary', testid: 'replay-train', onclick: () => w.requestStart() }, 'Train it yourself');
  return { root: el('div', { class: 'gs-notice gs-replay', testid: 'replay-notice', role: 'status', hidden: true }, text, ' ', button), text, button };
}

/** Fetches the recording at `url` (relative to the page) and shows it; `done(ok)` after. A file
 * that cannot be fetched or read is reported in the widget, which then shows its first run. */
export async function openRecording(w, url, fallback) {
  const { state, ui } = w;
  const name = decodeURIComponent(String(url).split(/[?#]/)[0].split('/').pop() || url);
  state.replay = { url, name, step: 0, records: null };
  ui.replay.root.hidden = false;
  ui.replay.text.textContent = `Loading the recorded run ${name}…`;
  ui.replay.button.hidden = true;
  let text;
  let recording;
  try {
    const response = await fetch(new URL(url, document.baseURI));
    if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
    text = await response.text();
    recording = parseRecording(text);
  } catch (e) {
    if (state.replay?.url !== url) return; // left meanwhile
    state.replay = null;
    ui.replay.root.hidden = true;
    w.showError(`Cannot show the recorded run ${url}: ${e.message}.`);
    state.keepError = true;
    fallback();
    return;
  }
  if (state.replay?.url !== url || state.stopped) return;
  const last = recording.records.at(-1).step;
  Object.assign(state.replay, { step: last, records: recording.records });
  // The worker loads the spec (its `loaded` event then keeps these, as for a waking widget)
  // and reads the file for the lab's report (its `metrics_file` event).
  state.waking = { history: recording.records, step: last, finished: true };
  w.send({ type: 'load', spec: recording.spec });
  w.send({ type: 'read_metrics', name, text });
  w.mountLab(recording.lab, recording.spec);
  Object.assign(state, { history: recording.records, step: last, finished: true, report: null });
  state.painted = recording.spec;
  fillForm(w, recording.spec);
  ui.stepCount.textContent = String(last);
  w.showProgress(0);
  ui.replay.text.textContent = `A recorded run (${name}): ${recording.records.length} evaluations to step ${last.toLocaleString('en-US')}, shown as it was trained.`;
  ui.replay.button.hidden = false;
  w.scheduleDraw();
}

/** Leaves the recording, if one is shown, for a live run of the same spec from step 0. */
export function leaveRecording(w) {
  const { state, ui } = w;
  if (!state.replay) return false;
  state.replay = null;
  state.waking = null;
  ui.replay.root.hidden = true;
  w.view.metrics = null;
  Object.assign(state, { history: [], report: null, step: 0, finished: false });
  ui.stepCount.textContent = '0';
  w.send({ type: 'reset' });
  w.scheduleDraw();
  return true;
}
