// The scans lab's live S4D kernel explorer: one channel's kernel K_ℓ and eigenvalues Ā as you
// change Δ, the init and the discretization (the worker's `s4d_kernel` command, on the CPU,
// independent of the loaded run).

import { el } from '../../dom.js';
import { XYChart } from '../../charts.js';
import { drawComplexPlane } from '../../views.js';
import { schemaChoices } from '../../form.js';

const INITS = schemaChoices('scans', 'scans.models.{name}.s4d_init');
const DISCS = schemaChoices('scans', 'scans.models.{name}.discretization');

/** `ctx`: the lab's mount context; `width()`: the chart width. Returns { root, chart, event(ev) }. */
export function kernelExplorer(ctx, width) {
  const { send } = ctx;
  const kInit = el('select', { testid: 'explore-init', 'aria-label': 'S4D init' }, ...INITS.map(([v, t]) => el('option', { value: v }, t)));
  const kDisc = el('select', { testid: 'explore-disc', 'aria-label': 'Discretization' }, ...DISCS.map(([v, t]) => el('option', { value: v }, t)));
  const kDt = el('input', { type: 'range', min: '-4', max: '0', step: '0.05', value: '-2', testid: 'explore-dt' });
  const kN = el('select', { testid: 'explore-n', 'aria-label': 'State size N' }, ...[4, 8, 16, 32, 64].map((n) => el('option', { value: String(n) }, `N = ${n}`)));
  kN.value = '16';
  const kDtText = el('span', { class: 'gs-summary' });
  const kBox = el('div');
  const kCanvas = el('canvas', { class: 'gs-plane', testid: 'explore-eigen' });
  const kChart = new XYChart(kBox, { xLabel: 'ℓ', yLabel: 'K_ℓ', series: [['kernel', '#5f3dc4']] });
  let kernelPending = false;
  let kernelDirty = false;
  const requestKernel = () => {
    const logDt = Number(kDt.value) * Math.LN10;
    kDtText.textContent = `Δ = ${Math.exp(logDt).toExponential(1)}`;
    if (kernelPending) { kernelDirty = true; return; }
    kernelPending = true;
    send({ type: 's4d_kernel', init: kInit.value, discretization: kDisc.value, d_state: Number(kN.value), log_dt: logDt, len: 256 });
  };
  for (const c of [kInit, kDisc, kDt, kN]) c.addEventListener('input', requestKernel);
  const explorer = el('div', { class: 'gs-panel', testid: 'kernel-explorer', 'data-view': 'explorer' },
    el('h3', {}, 'S4D kernel explorer: one channel, K_ℓ and Ā as you change Δ, init and discretization'),
    el('div', { class: 'gs-controls' }, kInit, kDisc, kN, el('label', {}, 'log₁₀ Δ ', kDt), kDtText),
    el('div', { class: 'gs-split' }, kBox, kCanvas));
  requestKernel();
  return {
    root: explorer,
    chart: kChart,
    event(ev) {
      if (ev.type === 'kernel') {
        kernelPending = false;
        const x = ev.kernel.map((_, i) => i);
        kChart.update(x, [ev.kernel], width());
        drawComplexPlane(kCanvas, [{ color: '#5f3dc4', points: ev.eigenvalues }]);
        if (kernelDirty) { kernelDirty = false; requestKernel(); }
      } else if (ev.type === 'error') {
        kernelPending = false;
      }
    },
  };
}
