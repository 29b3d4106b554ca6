// The gradient-flow lab's depth views: a block × step heatmap per stack on one shared log colour
// scale (gradient norm — of the whole block or, drilled down, of one matrix — activation RMS,
// update/weight ratio, max attention logit), and the per-block profile at the latest evaluation.

import { el, swatch } from '../../dom.js';
import { XYChart } from '../../charts.js';
import { LogHeatmap } from '../../views.js';

const METRICS = [
  ['grad_norm', 'gradient norm ‖∂L/∂W_l‖'],
  ['act_rms', 'activation RMS of h_l'],
  ['update_ratio', 'update/weight ratio ‖ΔW_l‖/‖W_l‖'],
  ['max_logit', 'max attention logit q·k/√d (transformer blocks)'],
];
// The gradient-norm drill-down: one matrix of each block (series `grad_<tensor>.LL`).
const TENSORS = [['all', 'all of the block'], ['q', 'W_q'], ['k', 'W_k'], ['v', 'W_v'], ['o', 'W_o'], ['in', 'MLP W_in'], ['out', 'MLP W_out']];

const key = (name, metric, l) => `${name}.${metric}.${String(l).padStart(2, '0')}`;

/** Each stack's block × evaluation grid of `metric` over `history` (row-major, block 1 first),
 * and the positive finite range all of them share: one colour scale for every stack. */
function blockGrids(history, names, depths, metric) {
  let lo = Infinity;
  let hi = -Infinity;
  const grids = names.map((name) => {
    const depth = depths[name];
    const values = new Array(depth * history.length);
    for (let l = 1; l <= depth; l++) {
      const k = key(name, metric, l);
      for (let c = 0; c < history.length; c++) {
        const v = history[c].series?.[k];
        values[(l - 1) * history.length + c] = v;
        if (v > 0 && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
      }
    }
    return { depth, values };
  });
  return hi >= lo ? { grids, lo, hi } : { grids, lo: 1, hi: 1 };
}

/** The hover readout of one heatmap cell. */
function cellText(name, block, step, metric, v) {
  const value = v == null || Number.isNaN(v) ? 'not taken' : v === 0 ? '0 (exactly)' : v.toExponential(3);
  return `${name}, block ${block}, step ${step}: ${metric} = ${value}`;
}

/** `state`: the widget's state (its history); `w()`: the chart width; `colorOf(name)`: a
 * stack's colour. Returns { maps, profile, chart, setStacks(names, depths), draw() }. */
export function depthViews(state, w, colorOf) {
  let names = [];
  let depths = {};
  const redraw = () => { tensorSelect.hidden = metricSelect.value !== 'grad_norm'; drawHeatmaps(); drawProfile(); };
  const metricSelect = el('select', { testid: 'flow-metric', 'aria-label': 'metric', onchange: redraw },
    ...METRICS.map(([v, t]) => el('option', { value: v }, t)));
  const tensorSelect = el('select', { testid: 'flow-tensor', 'aria-label': 'weight matrix', onchange: redraw },
    ...TENSORS.map(([v, t]) => el('option', { value: v }, t)));
  // The series metric on screen: a block's gradient norm, or one of its matrices'.
  const seriesMetric = () => (metricSelect.value === 'grad_norm' && tensorSelect.value !== 'all'
    ? `grad_${tensorSelect.value}` : metricSelect.value);
  const metricLabel = () => {
    const base = METRICS.find(([m]) => m === metricSelect.value)[1];
    const t = TENSORS.find(([v]) => v === tensorSelect.value);
    return seriesMetric() === metricSelect.value ? base : `gradient norm of ${t[1]} ‖∂L/∂W‖`;
  };
  const readout = el('div', { class: 'gs-readout', testid: 'flow-readout' });
  const scaleNote = el('span', { class: 'gs-summary', testid: 'flow-scale' });
  const mapsBox = el('div', { class: 'gs-flow-maps' });
  let maps = [];
  const heatmaps = el('div', { class: 'gs-panel gs-wide', testid: 'flow-heatmaps', 'data-view': 'heatmaps' },
    el('h3', {}, 'Per block (rows: block 1 at the top) × evaluation step (columns), one colour scale for all stacks — taken at each evaluation step '),
    el('div', { class: 'gs-controls' }, metricSelect, tensorSelect, scaleNote), mapsBox, readout);
  const profileBox = el('div');
  const profileChart = new XYChart(profileBox, { xLabel: 'block l', yLabel: 'value (log)', series: [], yLog: true });
  const profileTitle = el('h3', {}, 'Per-block profile at the latest evaluation');
  // The heatmaps are the lab's main chart (its own block: `views=charts` shows them alone).
  const mainMaps = el('div', { class: 'gs-views gs-views-one', testid: 'flow-main' }, heatmaps);

  /** The heatmaps of a run of these stacks (`depths`: each one's number of blocks). */
  function setStacks(stackNames, stackDepths) {
    names = stackNames;
    depths = stackDepths;
    const boxes = [];
    maps = names.map((n) => {
      const canvas = el('canvas', { class: 'gs-pixels gs-flow-map', testid: `flow-heatmap-${n}` });
      const map = new LogHeatmap(canvas, readout, (r, c, v) => cellText(n, r + 1, state.history[c]?.step, metricLabel(), v));
      boxes.push(el('div', { class: 'gs-flow-map-box' }, el('b', {}, swatch(colorOf(n)), `${n} (depth ${depths[n]})`), canvas));
      return { name: n, map };
    });
    mapsBox.replaceChildren(...boxes);
    profileChart.setSeries(names.map((n) => [n, colorOf(n)]));
    profileChart.update([], names.map(() => []), w());
  }

  function drawHeatmaps() {
    const h = state.history;
    const { grids, lo, hi } = blockGrids(h, maps.map((m) => m.name), depths, seriesMetric());
    maps.forEach(({ map }, i) => map.update(grids[i].depth, h.length, grids[i].values, [lo, hi]));
    scaleNote.textContent = h.length ? `log colour scale from ${lo.toExponential(2)} (dark) to ${hi.toExponential(2)} (yellow); white: exactly 0; grey: not taken` : '';
  }

  function drawProfile() {
    const last = state.history.at(-1);
    const metric = seriesMetric();
    const depth = Math.max(0, ...names.map((n) => depths[n]));
    const x = Array.from({ length: depth }, (_, i) => i + 1);
    const ys = names.map((n) => x.map((l) => {
      const v = last?.series?.[key(n, metric, l)];
      return v > 0 && Number.isFinite(v) ? v : null;
    }));
    profileTitle.textContent = `Per-block ${metricLabel()} at step ${last?.step ?? '–'}`;
    profileChart.update(x, ys, w());
  }

  return {
    maps: mainMaps,
    profile: el('div', { class: 'gs-panel', testid: 'flow-profile', 'data-view': 'profile' }, profileTitle, profileBox),
    chart: profileChart,
    setStacks,
    draw() { drawHeatmaps(); drawProfile(); },
  };
}
