// The scans lab's page module: S4D vs Mamba on memory tasks (its form is the schema's:
// src/labs/scans/schema.rs). Per-model accuracy tiles and curves, the analysis views (example
// with predictions, S4D kernels and eigenvalues, Mamba's Δ_t and states, memory decay,
// extrapolation), the live S4D kernel explorer and the scan race.

import { el, fmtAcc, stepText, panel, tile } from '../../dom.js';
import { MetricChart } from '../../charts.js';
import { getPath } from '../../form.js';
import { MODEL_COLORS } from './tokens.js';
import { analysisViews } from './views.js';
import { kernelExplorer } from './explorer.js';
import { scanRace } from './race.js';

/** Per model: "mamba 0.98 (≥ 90% at step 400)". */
function reportText(report, history) {
  if (!report || !report.models) return ['none', 'Which model solves it? —'];
  const parts = report.models.map((m) => {
    const last = history.at(-1)?.series?.[`${m.name}.test_acc`];
    return `${m.name}: ${fmtAcc(last ?? m.best_acc)} (≥ 90%: ${stepText(m.solved_step)})`;
  });
  const solved = report.models.filter((m) => m.solved_step != null).map((m) => m.name);
  return [solved.length ? 'solved' : 'none', `Held-out accuracy per answer token — ${parts.join(' · ')}` +
    (solved.length ? `. Solved by ${solved.join(', ')}.` : '.')];
}

const modelNames = (spec) => Object.keys(getPath(spec, 'scans.models') || {});

export default {
  id: 'scans',
  title: 'S4D vs Mamba',
  reportText,

  mount(ctx) {
    const { state } = ctx;
    const w = ctx.chartWidth;
    let names = [];
    const colorOf = (name) => MODEL_COLORS[Math.max(0, names.indexOf(name)) % MODEL_COLORS.length];

    const tiles = el('div', { class: 'gs-tiles gs-tiles-4', testid: 'model-tiles' });
    let tileValues = {};
    const badge = el('div', { class: 'gs-badge', testid: 'scans-report', 'data-verdict': 'none' }, 'Which model solves it? —');
    const [accBox, lossBox] = [el('div'), el('div')];
    const charts = el('div', { class: 'gs-charts', testid: 'chart-main' },
      panel('Held-out accuracy (per answer token)', accBox, 'chart-accuracy', 'accuracy'),
      panel('Training loss', lossBox, 'chart-loss', 'loss'));
    let accChart = null;
    let lossChart = null;
    const views = analysisViews(ctx, w, colorOf);
    const explorer = kernelExplorer(ctx, w);
    const race = scanRace(ctx, w);

    /** The charts and tiles of a run of these models. */
    function buildCharts(modelList) {
      names = modelList;
      accChart?.destroy();
      lossChart?.destroy();
      accBox.replaceChildren();
      lossBox.replaceChildren();
      accChart = new MetricChart(accBox, { title: 'accuracy', yRange: [0, 1.02], metrics: names.map((n) => (
        { label: n, stroke: colorOf(n), get: (r) => r.series?.[`${n}.test_acc`] })) });
      lossChart = new MetricChart(lossBox, { title: 'loss (log)', yLog: true, metrics: names.map((n) => (
        { label: n, stroke: colorOf(n), get: (r) => r.series?.[`${n}.train_loss`] })) });
      tileValues = {};
      tiles.replaceChildren(...names.map((n) => {
        const [t, v] = tile(`${n}: held-out acc`, `metric-acc-${n}`);
        t.style.borderTop = `3px solid ${colorOf(n)}`;
        tileValues[n] = v;
        return t;
      }));
      views.setModels(names);
      // Built now, empty, so no chart is constructed mid-training (each is a ~50 ms task).
      accChart.update([], [], w());
      lossChart.update([], [], w());
    }

    const all = () => [accChart, lossChart, ...views.charts, explorer.chart, race.chart];
    return {
      top: [tiles, el('div', { class: 'gs-row' }, badge, ctx.summary)],
      bottom: [charts, views.root, explorer.root, race.root],
      loaded(ev) { buildCharts(modelNames(ev.spec)); },
      draw() {
        const width = w();
        accChart?.update(state.history, state.pinned, width);
        lossChart?.update(state.history, state.pinned, width);
        const last = state.history.at(-1);
        for (const n of names) tileValues[n].textContent = fmtAcc(last?.series?.[`${n}.test_acc`]);
        const [verdict, text] = reportText(state.history.length ? state.report : null, state.history);
        badge.dataset.verdict = verdict;
        badge.textContent = text;
      },
      analysis: views.draw,
      analyseOptions: views.analyseOptions,
      event(ev) {
        explorer.event(ev);
        race.event(ev);
        views.event(ev);
      },
      resize(width) { for (const c of all()) c?.resize(width); },
      destroy() { for (const c of all()) c?.destroy(); },
    };
  },
};
