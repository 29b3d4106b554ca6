// The grokking lab's page module: its own form control (the operation), tiles, "did it grok?" badge, charts and
// analysis views (analysis-view.js: Fourier spectrum, prediction grid, IPR, pruning). The widget
// (../../gradscope.js) owns the worker, run controls, presets, pin/compare and file loading.

import { el, fmtAcc, fmtLoss, fmtFrac, stepText, panel, tile } from '../../dom.js';
import { MetricChart } from '../../charts.js';
import { CONTROLS } from './controls.js';
import { TRAIN, TEST, LAYER_COLORS } from './colors.js';
import { analysisView } from './analysis-view.js';


const VERDICTS = {
  no_learning: ['No learning', 'train accuracy has not reached 99%'],
  memorized: ['Memorized', 'train accuracy reached 99%, test accuracy has not'],
  generalized: ['Generalized', 'train and test accuracy rose together'],
  grokked: ['Grokked', 'test accuracy reached 99% after a memorizing phase'],
};

/** The badge text of a report: [verdict key, sentence]. */
function reportText(report, history, { finished = true } = {}) {
  if (!report || !report.verdict) return ['none', 'Did it grok? —'];
  // Mid-run, "no learning" and "memorized" are only the story so far: grokking is the very
  // delay between the two accuracies, so the verdict waits for the budget (or a pause to judge).
  const last = history.at(-1);
  if (!finished && (report.verdict === 'no_learning' || report.verdict === 'memorized')) {
    const so = report.verdict === 'no_learning' ? 'train accuracy has not reached 99% yet' :
      `memorized at ${stepText(report.train_step)}; test accuracy may still follow (that delay is grokking)`;
    return ['early', `Too early to judge at step ${last?.step ?? 0}: ${so}.`];
  }
  const [title, why] = VERDICTS[report.verdict];
  const ratio = report.max_loss_ratio != null ? ` · max test/train loss ${report.max_loss_ratio.toExponential(1)}` : '';
  const atFit = report.test_acc_at_fit != null ? ` (test acc then ${report.test_acc_at_fit.toFixed(2)})` : '';
  // Time to grok on this backend: the training wall time at that evaluation.
  const at = history.find((r) => r.step === report.test_step);
  const secs = at && at.wall_ms > 0 ? ` after ${(at.wall_ms / 1000).toFixed(1)} s` : '';
  return [report.verdict, `${title}: ${why}. Train acc ≥ 99%: ${stepText(report.train_step)}${atFit}; ` +
    `test acc ≥ 99%: ${stepText(report.test_step)}${secs}${ratio}`];
}

/** The metric tiles: { root, show(record) } with the latest evaluation. */
function metricTiles() {
  const [tTrainAcc, vTrainAcc] = tile('train accuracy', 'metric-train-acc');
  const [tTestAcc, vTestAcc] = tile('test accuracy', 'metric-test-acc');
  const [tTrainLoss, vTrainLoss] = tile('train loss', 'metric-train-loss');
  const [tTestLoss, vTestLoss] = tile('test loss', 'metric-test-loss');
  const [tNorm, vNorm] = tile('weight norm ‖w‖', 'metric-weight-norm', 'L2 norm of every weight (Omnigrok)');
  const [tSc, vSc] = tile('softmax collapse', 'metric-softmax-collapse', 'Fraction of training samples whose loss normalizer rounds to exactly one-hot in the loss precision, so they give no gradient (Prieto et al. 2025; for StableMax, its own normalizer)');
  const [tNlm, vNlm] = tile('cos(g, w)', 'metric-nlm', 'Cosine of the last gradient and the weights. Near −1 the step mostly scales the weights up — naïve loss minimization, the component ⊥Grad removes');
  return {
    root: el('div', { class: 'gs-tiles gs-tiles-7' }, tTrainAcc, tTestAcc, tTrainLoss, tTestLoss, tNorm, tSc, tNlm),
    show(last) {
      vTrainAcc.textContent = fmtAcc(last?.train_acc);
      vTestAcc.textContent = fmtAcc(last?.test_acc);
      vTrainLoss.textContent = fmtLoss(last?.train_loss);
      vTestLoss.textContent = fmtLoss(last?.test_loss);
      vNorm.textContent = last ? last.weight_norm.toFixed(2) : '–';
      vSc.textContent = fmtFrac(last?.softmax_collapse);
      vNlm.textContent = last?.nlm_cosine == null ? '–' : last.nlm_cosine.toFixed(3);
    },
  };
}

export default {
  id: 'grokking',
  title: 'Grokking',
  controls: CONTROLS,
  reportText,

  /** Builds the lab's views. `ctx`: { state, fieldRows, chartWidth, summary }. */
  mount(ctx) {
    const { state } = ctx;
    const precisionNote = el('div', { class: 'gs-field-note', testid: 'precision-note', hidden: true });
    ctx.fieldRows.find((r) => r.field.path === 'grokking.loss.precision').row.after(precisionNote);

    const tiles = metricTiles();
    const badge = el('div', { class: 'gs-badge', testid: 'grok-badge', 'data-verdict': 'none' }, 'Did it grok? —');

    const box = () => el('div');
    const [lossBox, accBox, normBox, diagBox] = [box(), box(), box(), box()];
    const charts = el('div', { class: 'gs-charts', testid: 'chart-main' },
      panel('Loss', lossBox, 'chart-loss', 'loss'), panel('Accuracy', accBox, undefined, 'accuracy'),
      panel('Weight norm (total and per tensor)', normBox, 'chart-norms', 'norms'),
      panel('Diagnostics', diagBox, 'chart-diagnostics', 'diagnostics'));

    const w = ctx.chartWidth;
    const lossChart = new MetricChart(lossBox, { title: 'loss (log)', yLog: true, metrics: [
      { label: 'train', stroke: TRAIN, get: (r) => r.train_loss },
      { label: 'test', stroke: TEST, get: (r) => r.test_loss }] });
    const accChart = new MetricChart(accBox, { title: 'accuracy', yRange: [0, 1.02], metrics: [
      { label: 'train', stroke: TRAIN, get: (r) => r.train_acc },
      { label: 'test', stroke: TEST, get: (r) => r.test_acc }] });
    let normChart = null;
    const diagChart = new MetricChart(diagBox, { title: 'fraction / cosine', yRange: [-1, 1.02], metrics: [
      { label: 'softmax collapse', stroke: '#c92a2a', get: (r) => r.softmax_collapse },
      { label: 'zero loss', stroke: '#e67700', get: (r) => r.zero_loss },
      { label: 'cos(g, w)', stroke: '#5f3dc4', get: (r) => r.nlm_cosine },
      { label: 'clean train acc', stroke: '#2b8a3e', get: (r) => r.train_clean_acc },
      { label: 'corrupted fit', stroke: '#862e9c', get: (r) => r.corrupted_fit }] });
    const analysis = analysisView(w);

    function buildNormChart(names) {
      normChart?.destroy();
      normBox.replaceChildren();
      const metrics = [{ label: 'total', stroke: '#1d1f23', get: (r) => r.weight_norm }];
      names.slice(0, 12).forEach((name, i) => metrics.push({ label: name, stroke: LAYER_COLORS[i % LAYER_COLORS.length], get: (r) => r.layer_norms?.[i] }));
      normChart = new MetricChart(normBox, { title: '‖w‖ (log)', yLog: true, metrics });
    }
    buildNormChart([]);

    function updatePrecisionNote() {
      const f64 = ctx.fieldRows.find((r) => r.field.path === 'grokking.loss.precision').input.querySelector('option[value="f64"]');
      f64.disabled = !state.float64;
      precisionNote.hidden = state.float64;
      precisionNote.textContent = 'float64 is not available on this backend (WebGPU has no f64): the loss and the softmax-collapse metric run in float32. Pick the CPU backend for float64.';
    }

    const all = () => [lossChart, accChart, normChart, diagChart, ...analysis.charts];
    return {
      top: [tiles.root, el('div', { class: 'gs-row' }, badge, ctx.summary)],
      bottom: [charts, analysis.root],
      loaded(ev) { buildNormChart(ev.summary.param_names); },
      backend() { updatePrecisionNote(); },
      formFilled() { updatePrecisionNote(); },
      draw() {
        const width = w();
        lossChart.update(state.history, state.pinned, width);
        accChart.update(state.history, state.pinned, width);
        normChart.update(state.history, [], width);
        diagChart.update(state.history, [], width);
        tiles.show(state.history.at(-1));
        const [verdict, text] = reportText(state.history.length ? state.report : null, state.history, { finished: state.finished });
        badge.dataset.verdict = verdict;
        badge.textContent = text;
      },
      analysis: analysis.draw,
      resize(width) { for (const c of all()) c?.resize(width); },
      destroy() { for (const c of all()) c?.destroy(); precisionNote.remove(); },
    };
  },
};
