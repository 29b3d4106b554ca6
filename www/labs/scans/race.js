// The scans lab's scan race: time per forward+backward of each way to mix a sequence against
// its length, on the active backend (the worker's `scan_race` command; results stream back as
// `race` events).

import { el } from '../../dom.js';
import { XYChart } from '../../charts.js';

const RACE_COLORS = { sequential: '#c92a2a', parallel: '#1c7ed6', chunked: '#2b8a3e', fused: '#5f3dc4', s4d_conv: '#e67700' };
const RACE_NAMES = { sequential: 'sequential scan', parallel: 'parallel scan', chunked: 'chunked scan', fused: 'fused scan (one kernel)', s4d_conv: 'S4D convolution' };
const RACE_LENGTHS = [64, 256, 1024, 4096, 16384];

/** `ctx`: the lab's mount context; `width()`: the chart width. Returns { root, chart, event(ev) }. */
export function scanRace(ctx, width) {
  const { send } = ctx;
  const lengthBoxes = RACE_LENGTHS.map((l) => {
    const box = el('input', { type: 'checkbox', value: String(l), testid: `race-len-${l}` });
    box.checked = l <= 4096;
    return [l, box];
  });
  const targetBoxes = Object.keys(RACE_NAMES).map((t) => {
    const box = el('input', { type: 'checkbox', value: t, testid: `race-target-${t}` });
    box.checked = true;
    return [t, box];
  });
  const capInput = el('input', { type: 'text', value: '10', size: '4', testid: 'race-cap' });
  const raceRun = el('button', { testid: 'race-run', onclick: startRace }, 'Run the race');
  const raceCancel = el('button', { testid: 'race-cancel', disabled: true, onclick: () => send({ type: 'cancel_race' }) }, 'Cancel');
  const raceStatus = el('div', { class: 'gs-summary', testid: 'race-status' }, 'Time per forward+backward of each way to mix a sequence, measured on the active backend.');
  const raceBox = el('div');
  const raceTable = el('table', { class: 'gs-table', testid: 'race-table' });
  const raceChart = new XYChart(raceBox, { xLabel: 'sequence length L', yLabel: 'ms per fwd+bwd', series: [], xLog: true, yLog: true });
  let race = { entries: [], lengths: [], targets: [], device: '' };
  const race_ = el('div', { class: 'gs-panel', testid: 'scan-race', 'data-view': 'race' },
    el('h3', {}, 'Scan race (batch 1, 64 channels, 16 states)'),
    el('div', { class: 'gs-controls' },
      ...lengthBoxes.map(([l, b]) => el('label', {}, b, ` ${l}`)), el('span', {}, '·'),
      ...targetBoxes.map(([t, b]) => el('label', {}, b, ` ${RACE_NAMES[t]}`)),
      el('label', {}, 'cap (s) ', capInput), raceRun, raceCancel),
    raceStatus, el('div', { class: 'gs-split' }, raceBox, raceTable));

  function startRace() {
    const lengths = lengthBoxes.filter(([, b]) => b.checked).map(([l]) => l);
    const targets = targetBoxes.filter(([, b]) => b.checked).map(([t]) => t);
    const cap = Number(capInput.value);
    if (!lengths.length || !targets.length || !(cap > 0)) {
      ctx.showError('Scan race: pick at least one length and one target, and a positive cap in seconds.');
      return;
    }
    race = { entries: [], lengths, targets, device: '' };
    raceChart.setSeries(targets.map((t) => [RACE_NAMES[t], RACE_COLORS[t]]));
    drawRace();
    raceRun.disabled = true;
    raceCancel.disabled = false;
    raceStatus.textContent = 'Racing… (training is paused)';
    send({ type: 'scan_race', lengths, targets, cap_ms: cap * 1000 });
  }

  function drawRace() {
    const ms = (t, l) => race.entries.find((e) => e.target === t && e.len === l)?.ms ?? null;
    raceChart.update(race.lengths, race.targets.map((t) => race.lengths.map((l) => ms(t, l))), width());
    const head = el('tr', {}, el('th', {}, race.device || 'target'), ...race.lengths.map((l) => el('th', {}, `L = ${l}`)));
    const rows = race.targets.map((t) => el('tr', {}, el('td', {}, RACE_NAMES[t]), ...race.lengths.map((l) => {
      const e = race.entries.find((x) => x.target === t && x.len === l);
      if (!e) return el('td', {}, '');
      if (e.ms == null) return el('td', { class: 'gs-muted', title: e.note || '' }, /buffer/.test(e.note || '') ? 'too large' : 'capped');
      return el('td', {}, `${e.ms < 10 ? e.ms.toFixed(2) : e.ms.toFixed(0)} ms` + (e.dispatches == null ? '' : ` · ${e.dispatches} disp.`));
    })));
    raceTable.replaceChildren(head, ...rows);
  }

  return {
    root: race_,
    chart: raceChart,
    event(ev) {
      if (ev.type !== 'race') return;
      if (ev.device) race.device = ev.device;
      if (ev.entry) { race.entries.push(ev.entry); drawRace(); }
      if (ev.done) {
        raceRun.disabled = false;
        raceCancel.disabled = true;
        const ok = race.entries.filter((e) => e.ms != null).length;
        raceStatus.textContent = `Race on ${race.device}: ${ok} measurements.`;
        drawRace();
      }
    },
  };
}
