// Saved runs: the run on screen kept in IndexedDB as it trains (runs.js), and the menu that
// reopens, compares, renames or deletes them.

import { el } from '../dom.js';
import { newRunId } from '../runs.js';
import { LABS } from '../labs/index.js';
import { pinWithReport } from './compare.js';

/** How often a training run's metrics are written to IndexedDB. */
const SAVE_EVERY_MS = 2000;

/** Writes the run on screen to IndexedDB: at once when `now`, else at most every
 * SAVE_EVERY_MS (a trailing save catches the last evaluations). */
export function saveRun(w, now, suffix = '') {
  const { state, store, ui } = w;
  if (!store || !state.history.length || !state.spec || state.runDeleted) return;
  if (!now && performance.now() - state.lastSave < SAVE_EVERY_MS) {
    state.saveTimer ??= setTimeout(() => { state.saveTimer = null; saveRun(w, true); }, SAVE_EVERY_MS);
    return;
  }
  clearTimeout(state.saveTimer);
  state.saveTimer = null;
  state.lastSave = performance.now();
  if (!state.run) {
    const preset = state.presets.find((p) => p.name === ui.presetSelect.value);
    state.run = {
      id: newRunId(), created: Date.now(),
      name: `${preset ? preset.title : `custom ${state.lab.title}`} · ${new Date().toLocaleString()}`,
    };
  }
  if (suffix && !state.run.name.endsWith(suffix)) state.run.name += suffix;
  const record = {
    ...state.run, lab: state.lab.id, spec: state.spec, hash: state.specHash, backend: ui.backendLabel.textContent,
    updated: Date.now(), step: state.step, history: state.history, finished: state.finished,
  };
  store.put(record).then(() => { if (ui.runsMenu.open && !state.renaming) renderRuns(w); });
}

export function buildRunsMenu(w) {
  const menu = w.ui.runsMenu;
  menu.replaceChildren(el('summary', { title: 'Runs kept in this browser (IndexedDB): reopen, compare, rename or delete' }, 'Saved runs'),
    el('div', { class: 'gs-menu-body' }, el('ul', { class: 'gs-runs', testid: 'runs-list' })));
  menu.addEventListener('toggle', () => { if (menu.open) renderRuns(w); });
}

async function renderRuns(w) {
  const list = w.ui.runsMenu.querySelector('ul');
  const runs = await w.store.list();
  if (!runs.length) { list.replaceChildren(el('li', { class: 'gs-summary' }, 'No saved runs yet: a run is saved as it trains.')); return; }
  list.replaceChildren(...runs.map((run) => savedRunItem(w, run)));
}

/** One saved run in the menu: its name, lab, size and date, and what can be done with it. */
function savedRunItem(w, run) {
  const { state, store } = w;
  const name = el('span', { class: 'gs-run-name', testid: 'run-name' }, run.name);
  const meta = el('span', { class: 'gs-summary' }, ` ${LABS.find((l) => l.id === run.lab)?.title ?? run.lab} · step ${run.step} · ${run.points} evaluations · ${new Date(run.updated).toLocaleString()}`);
  const act = (label, title, testid, fn, disabled = false) => el('button', { type: 'button', title, testid, disabled, onclick: fn }, label);
  const sameLab = run.lab === state.lab?.id;
  return el('li', { testid: 'saved-run', 'data-run-id': run.id }, name, meta, el('span', { class: 'gs-run-actions' },
    act('Open', 'Load this run\'s spec and show its saved curves (training restarts from step 0: weights are not saved)', 'run-open', async () => {
      const full = await store.get(run.id);
      if (!full) return;
      state.pendingPin = full;
      w.send({ type: 'load', spec: full.spec });
    }),
    act('Compare', sameLab ? 'Overlay this run\'s curves on the charts' : 'Open a run of the same lab to compare', 'run-compare', async () => {
      const full = await store.get(run.id);
      if (full) pinWithReport(w, full.name, full.history);
    }, !sameLab),
    act('Rename', 'Rename this run', 'run-rename', () => renameInPlace(w, run, name)),
    act('Delete', 'Delete this run from the browser', 'run-delete', async () => {
      // Deleting the run on screen stops its saving until a new run is loaded.
      if (state.run?.id === run.id) { state.run = null; state.runDeleted = true; }
      await store.delete(run.id);
      renderRuns(w);
    })));
}

/** Replaces a run's name by an input: Enter or leaving it saves, Escape cancels. */
function renameInPlace(w, run, name) {
  const { state, store } = w;
  const input = el('input', { type: 'text', value: run.name, 'aria-label': 'Run name', testid: 'run-name-input' });
  // Saves while training would re-render the list under the input: hold them off.
  state.renaming = true;
  let settled = false;
  const done = async (save) => {
    if (settled) return;
    settled = true;
    state.renaming = false;
    const newName = input.value.trim() || run.name;
    if (save) {
      if (state.run?.id === run.id) state.run.name = newName; // the next save keeps it
      await store.rename(run.id, newName);
    }
    renderRuns(w);
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') done(true); if (e.key === 'Escape') done(false); });
  input.addEventListener('blur', () => done(true));
  name.replaceWith(input);
  input.focus();
  input.select();
}

/** The saved run to pin once its spec has loaded (the menu's Open). */
export function pinPendingSaved(w) {
  const saved = w.state.pendingPin;
  if (!saved) return;
  w.state.pendingPin = null;
  pinWithReport(w, `saved: ${saved.name}`, saved.history);
}

