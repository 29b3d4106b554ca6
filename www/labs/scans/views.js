// The scans lab's analysis views: the example (example-view.js), S4D's kernels and eigenvalues, Mamba's Δ_t and states, memory decay and extrapolation.

import { el, runSplit } from '../../dom.js';
import { XYChart } from '../../charts.js';
import { ValueHeatmap, drawComplexPlane } from '../../views.js';
import { exampleView } from './example-view.js';

/** Each model's accuracy ± its standard error over the sequences scored, per length (analyses
 * saved before it was measured have no error: the value alone). */
function extrapolationText(models) {
  const point = ([len, acc, se]) => `${acc.toFixed(2)}${se == null ? '' : ` ± ${se.toFixed(2)}`} at ${len}`;
  const lines = models.filter((m) => m.extrapolation.length).map((m) => `${m.name}: ${m.extrapolation.map(point).join(', ')}`);
  return lines.length ? `± standard error over the sequences scored · ${lines.join(' · ')}` : '';
}

/** `ctx`: the lab's mount context; `width()`: the chart width; `colorOf(name)`: a model's
 * colour. Returns { root, charts, setModels(names), draw(analysis), analyseOptions(), event(ev) }. */
export function analysisViews(ctx, width, colorOf) {
  let names = [];
  const example = exampleView(ctx, colorOf);
  const [kernelBox, deltaBox, decayBox, extraBox] = [el('div'), el('div'), el('div'), el('div')];
  const eigenCanvas = el('canvas', { class: 'gs-plane', testid: 'eigen-view' });
  const stateCanvas = el('canvas', { class: 'gs-pixels', testid: 'state-heatmap' });
  const stateReadout = el('div', { class: 'gs-readout' });
  const stateMap = new ValueHeatmap(stateCanvas, stateReadout, (r, c, v) => `t = ${r}, state ${c}: mean |h| = ${v.toFixed(4)}`);
  const kernelChart = new XYChart(kernelBox, { xLabel: 'ℓ', yLabel: 'K_ℓ (channel 0)', series: [] });
  const deltaChart = new XYChart(deltaBox, { xLabel: 'position t', yLabel: 'mean Δ_t', series: [] });
  const decayChart = new XYChart(decayBox, { xLabel: 'T − t', yLabel: '‖∂y_T/∂u_t‖', series: [], yLog: true });
  const extraChart = new XYChart(extraBox, { xLabel: 'sequence length', yLabel: 'held-out acc', series: [], yRange: [0, 1.02], xLog: true });
  const legendBox = el('div', { class: 'gs-legend', testid: 'model-legend' });
  const extraNote = el('p', { class: 'gs-summary', testid: 'extrapolation-note' });
  const views = el('div', { class: 'gs-views', testid: 'analysis' },
    example.root,
    el('div', { class: 'gs-panel', testid: 'kernel-view', 'data-view': 'kernels' }, el('h3', {}, 'S4D kernels K_ℓ (first layer, channel 0)'), kernelBox),
    el('div', { class: 'gs-panel', 'data-view': 'eigenvalues' }, el('h3', {}, 'S4D eigenvalues Ā (first layer, 4 channels) and the unit circle'), eigenCanvas, legendBox),
    el('div', { class: 'gs-panel', testid: 'delta-view', 'data-view': 'delta' }, el('h3', {}, 'Mamba: Δ_t on the example (first layer, mean over channels; data tokens marked)'), deltaBox),
    el('div', { class: 'gs-panel', 'data-view': 'states' }, el('h3', {}, 'Mamba: states |h_t| (time ↓ × state →, first layer)'), stateCanvas, stateReadout),
    el('div', { class: 'gs-panel', testid: 'memory-decay', 'data-view': 'memory-decay' }, el('h3', {}, 'Memory decay: ‖∂y_T/∂u_t‖ (Frobenius, exact) against T − t'), decayBox),
    el('div', { class: 'gs-panel', testid: 'extrapolation', 'data-view': 'extrapolation' }, el('h3', {}, 'Extrapolation: held-out accuracy at L, 2L, 4L …'), extraBox, extraNote));

  const drawToken = { drawn: 0 };
  function drawAnalysis(a) {
    const models = a.models;
    const byName = (n) => models.find((m) => m.name === n);
    runSplit(drawToken, [
      () => example.draw(a),
      () => {
        const taps = Math.max(0, ...models.map((m) => m.kernels[0]?.length || 0));
        const x = Array.from({ length: taps }, (_, i) => i);
        kernelChart.update(x, names.map((n) => byName(n)?.kernels[0] || x.map(() => null)), width());
        drawComplexPlane(eigenCanvas, models.filter((m) => m.eigenvalues.length).map((m) => ({ color: colorOf(m.name), points: m.eigenvalues })));
      },
      () => {
        const x = Array.from({ length: a.len }, (_, i) => i);
        const deltas = names.map((n) => byName(n)?.delta || x.map(() => null));
        const top = Math.max(1e-9, ...deltas.flat().filter((v) => v != null));
        const isData = (t) => (a.task === 'selective_copying' ? t >= 2 : t === 0);
        const marks = a.example.tokens.map((t, i) => (isData(t) && i < a.example.answer_start ? top : null));
        deltaChart.update(x, [...deltas, marks], width());
        const sel = models.find((m) => m.states);
        if (sel) stateMap.update(sel.states.rows, sel.states.cols, sel.states.values);
      },
      () => {
        const len = Math.max(0, ...models.map((m) => m.memory_decay.length));
        const x = Array.from({ length: len }, (_, i) => i);
        decayChart.update(x, names.map((n) => byName(n)?.memory_decay.map((v) => (v > 0 ? v : null)) || []), width());
        const lens = models[0]?.extrapolation.map(([l]) => l) || [];
        extraChart.update(lens, names.map((n) => byName(n)?.extrapolation.map(([, acc]) => acc) || []), width());
        extraNote.textContent = extrapolationText(models);
      },
    ]);
  }

  /** The views of a run of these models, built now, empty, so no chart is constructed
   * mid-training (each is a ~50 ms task). */
  function setModels(modelList) {
    names = modelList;
    const series = names.map((n) => [n, colorOf(n)]);
    for (const c of [kernelChart, deltaChart, decayChart, extraChart]) c.setSeries(series);
    deltaChart.setSeries([...series, ['data token', '#adb5bd', { paths: () => null, points: { show: true, size: 7 } }]]);
    example.reset();
    const w = width();
    for (const c of [kernelChart, decayChart, extraChart]) c.update([], names.map(() => []), w);
    deltaChart.update([], [...names.map(() => []), []], w);
    legendBox.replaceChildren(...names.map((n) => el('span', {}, el('i', { style: `background: ${colorOf(n)}` }), n)));
  }

  return {
    root: views,
    charts: [kernelChart, deltaChart, decayChart, extraChart],
    setModels,
    draw: drawAnalysis,
    analyseOptions: example.analyseOptions,
    event: example.event,
  };
}
