// The gradient-flow lab's page module: deep stacks (norm placement, residual scale, init,
// activation; MLP or transformer blocks) trained side by side, with per-block metrics taken at
// each evaluation step: a block × step heatmap per stack on one shared log colour scale
// (gradient norm — of the whole block or, drilled down, of one matrix — activation RMS,
// update/weight ratio, max attention logit), the per-block profile at the latest evaluation,
// activation RMS through depth at initialisation, and the loss curves.

import { el, fmtLoss, tile } from '../../dom.js';
import { getPath } from '../../form.js';
import { MetricChart, XYChart } from '../../charts.js';
import { depthViews } from './depth-views.js';

// Okabe–Ito colours (distinct under the common colour-vision deficiencies), led by the shell's blue and orange.
const STACK_COLORS = ['#1c7ed6', '#d9480f', '#009e73', '#cc79a7'];
const stackNames = (spec) => Object.keys(getPath(spec, 'gradient_flow.models') || {});

/** Per stack: "post-ln: loss 0.317 (best 0.31 at step 1980); last/first block ‖g‖ 1.42". */
function reportText(report, history) {
  if (!report || !report.stacks) return ['none', 'Held-out loss per stack —'];
  const parts = report.stacks.map((m) => {
    const last = history.at(-1)?.series?.[`${m.name}.test_loss`];
    const ratio = Number.isFinite(m.last_over_first) ? `; last/first block ‖g‖ ${m.last_over_first.toPrecision(3)}` : '';
    const logit = Number.isFinite(m.max_logit) ? `; max attention logit ${m.max_logit.toPrecision(3)}` : '';
    return `${m.name}: ${fmtLoss(last ?? m.last_loss)} (best ${fmtLoss(m.best_loss)} at step ${m.best_step})${ratio}${logit}`;
  });
  return ['none', `Held-out loss — ${parts.join(' · ')}`];
}

export default {
  id: 'gradient_flow',
  title: 'Gradient flow',
  reportText,

  mount(ctx) {
    const { state } = ctx;
    const w = ctx.chartWidth;
    let names = [];
    const colorOf = (name) => STACK_COLORS[Math.max(0, names.indexOf(name)) % STACK_COLORS.length];

    const tiles = el('div', { class: 'gs-tiles gs-tiles-4', testid: 'stack-tiles' });
    let tileValues = {};
    const badge = el('div', { class: 'gs-badge', testid: 'flow-report', 'data-verdict': 'none' }, 'Held-out loss per stack —');
    const lossBox = el('div');
    let lossChart = null;
    const depth = depthViews(state, w, colorOf);
    const initBox = el('div');
    const initChart = new XYChart(initBox, { xLabel: 'block l', yLabel: 'RMS of h_l at init', series: [], yLog: true });
    const views = el('div', { class: 'gs-views', testid: 'flow-views' },
      depth.profile,
      el('div', { class: 'gs-panel', testid: 'flow-init-rms', 'data-view': 'init-rms' }, el('h3', {}, 'Signal propagation at initialisation: activation RMS through depth (before any training)'), initBox),
      el('div', { class: 'gs-panel', testid: 'flow-loss', 'data-view': 'loss' }, el('h3', {}, 'Held-out loss'), lossBox),
      el('div', { class: 'gs-panel gs-summary' }, 'Gradient through time is gradient flow too: for state-space models, see the ',
        el('a', { href: '#scans', testid: 'flow-ssm-link' }, 'scans lab'), '’s memory-decay view (‖∂y_T/∂u_t‖ against T − t).'));

    /** The tiles, loss curves and depth views of a run of these stacks. */
    function buildStacks(spec) {
      names = stackNames(spec);
      const depths = Object.fromEntries(names.map((n) => [n, getPath(spec, `gradient_flow.models.${n}.depth`)]));
      lossChart?.destroy();
      lossBox.replaceChildren();
      lossChart = new MetricChart(lossBox, { title: 'loss (log)', yLog: true, metrics: names.map((n) => (
        { label: n, stroke: colorOf(n), get: (r) => r.series?.[`${n}.test_loss`] })) });
      tileValues = {};
      tiles.replaceChildren(...names.map((n) => {
        const [t, v] = tile(`${n}: held-out loss`, `metric-loss-${n}`);
        t.style.borderTop = `3px solid ${colorOf(n)}`;
        tileValues[n] = v;
        return t;
      }));
      depth.setStacks(names, depths);
      initChart.setSeries(names.map((n) => [n, colorOf(n)]));
      lossChart.update([], [], w());
      initChart.update([], names.map(() => []), w());
    }

    const all = () => [lossChart, depth.chart, initChart];
    return {
      top: [tiles, el('div', { class: 'gs-row' }, badge, ctx.summary)],
      bottom: [depth.maps, views],
      loaded(ev) { buildStacks(ev.spec); },
      draw() {
        lossChart?.update(state.history, state.pinned, w());
        const last = state.history.at(-1);
        for (const n of names) tileValues[n].textContent = fmtLoss(last?.series?.[`${n}.test_loss`]);
        const [verdict, text] = reportText(state.history.length ? state.report : null, state.history);
        badge.dataset.verdict = verdict;
        badge.textContent = text;
        depth.draw();
      },
      analysis(a) {
        const maxDepth = Math.max(0, ...a.models.map((m) => m.act_rms.length));
        const x = Array.from({ length: maxDepth }, (_, i) => i + 1);
        initChart.update(x, names.map((n) => a.models.find((m) => m.name === n)?.act_rms || []), w());
      },
      resize(width) { for (const c of all()) c?.resize(width); },
      destroy() { for (const c of all()) c?.destroy(); },
    };
  },
};
