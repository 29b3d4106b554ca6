// The grokking lab's analysis views: the Fourier spectrum of the operand map, the prediction
// grid over (a, b), the per-unit IPR histogram and Doshi et al.'s pruning curve.

import { el, runSplit } from '../../dom.js';
import { XYChart } from '../../charts.js';
import { FourierHeatmap, PredictionGrid, histogram, CELL_COLORS, CELL_LABELS } from '../../views.js';
import { TRAIN, TEST } from './colors.js';

/** `width()`: the chart width. Returns { root, charts, draw(analysis) }. */
export function analysisView(width) {
  const box = () => el('div');
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
    el('div', { class: 'gs-panel', 'data-view': 'fourier' }, el('h3', {}, 'Fourier spectrum of the operand map (frequency × unit) ', analysisTitle), heatCanvas, heatReadout, keyFreqs),
    el('div', { class: 'gs-panel', 'data-view': 'predictions' }, el('h3', {}, 'Predictions over (a, b) — row a, column b'), gridCanvas, gridReadout, legend),
    el('div', { class: 'gs-panel', testid: 'ipr-histogram', 'data-view': 'ipr' }, el('h3', {}, 'Per-unit IPR (high = periodic, generalizing)'), iprBox),
    el('div', { class: 'gs-panel', testid: 'pruning-chart', 'data-view': 'pruning' }, el('h3', {}, 'Pruning low-IPR neurons (MLP)'), pruneBox,
      el('div', { class: 'gs-summary' }, 'Doshi et al.: zero the lowest-IPR first-layer neurons and re-measure. Computed when training stops; MLPs only.')));
  const iprChart = new XYChart(iprBox, { xLabel: 'IPR', yLabel: 'units', series: [['units', '#5f3dc4']], bars: true });
  const pruneChart = new XYChart(pruneBox, { xLabel: 'fraction pruned', yLabel: 'accuracy', yRange: [0, 1.02], series: [
    ['train (true labels)', '#2b8a3e'], ['train (as trained)', TRAIN], ['test', TEST]] });
  // Built empty now, so the first analysis only sets data (no chart construction mid-training).
  iprChart.update([], [[]], width());
  pruneChart.update([], [[], [], []], width());
  const heatmap = new FourierHeatmap(heatCanvas, heatReadout);
  const predictionGrid = new PredictionGrid(gridCanvas, gridReadout);
  const drawToken = { drawn: 0 };

  /** Draws an analysis snapshot one view per task. On the first snapshot every view's code
   * runs cold and the canvases get their first 2D contexts: drawn in one go that was a single
   * 50–80 ms main-thread task (heatmap ≈ 25 ms, grid ≈ 14 ms, measured with performance.now()
   * in headless Chromium); split, no task passes ~30 ms. A newer snapshot cancels the rest. */
  function draw(a) {
    runSplit(drawToken, [
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
        const w = width();
        const [centers, counts] = histogram(a.ipr, 20);
        iprChart.update(centers, [counts], w);
        if (a.pruning.length) {
          pruneChart.update(a.pruning.map((q) => q.fraction),
            [a.pruning.map((q) => q.train_clean_acc), a.pruning.map((q) => q.train_acc), a.pruning.map((q) => q.test_acc)], w);
        }
      },
    ]);
  }

  return { root: views, charts: [iprChart, pruneChart], draw };
}
