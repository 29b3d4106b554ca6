// The gradient-flow lab's page module: deep stacks (norm placement, residual scale, init,
// activation; MLP or transformer blocks) trained side by side, with per-block metrics taken at
// each evaluation step: a block × step heatmap per stack on one shared log colour scale
// (gradient norm — of the whole block or, drilled down, of one matrix — activation RMS,
// update/weight ratio, max attention logit), the per-block profile at the latest evaluation,
// activation RMS through depth at initialisation, and the loss curves.

import { el, fmtLoss, panel, tile } from '../dom.js';
import { getPath } from '../form.js';
import { MetricChart, XYChart } from '../charts.js';
import { LogHeatmap } from '../views.js';

const STACK_COLORS = ['#1c7ed6', '#d9480f', '#2b8a3e', '#862e9c'];
const NORMS = [['none', 'none'], ['post', 'Post-LN'], ['pre', 'Pre-LN'], ['peri', 'Peri-LN'], ['mix', 'Mix-LN (Post for ρL, then Pre)']];
const NORM_KINDS = [['layer_norm', 'LayerNorm'], ['rms_norm', 'RMSNorm']];
const RESIDUALS = [['one', '1'], ['inv_sqrt_depth', '1/√depth'], ['skip_init', 'SkipInit (α = 0)'], ['none', 'no residual (plain)']];
const INITS = [['kaiming', 'Kaiming'], ['xavier', 'Xavier'], ['lecun', 'LeCun'], ['orthogonal', 'orthogonal']];
const ACTS = [['relu', 'ReLU'], ['gelu', 'GELU'], ['tanh', 'tanh'], ['selu', 'SELU'], ['linear', 'linear']];
const BLOCKS = [['mlp', 'MLP (vector tasks)'], ['transformer', 'attention + MLP (sequence task)']];
const METRICS = [
  ['grad_norm', 'gradient norm ‖∂L/∂W_l‖'],
  ['act_rms', 'activation RMS of h_l'],
  ['update_ratio', 'update/weight ratio ‖ΔW_l‖/‖W_l‖'],
  ['max_logit', 'max attention logit q·k/√d (transformer blocks)'],
];
// The gradient-norm drill-down: one matrix of each block (series `grad_<tensor>.LL`).
const TENSORS = [['all', 'all of the block'], ['q', 'W_q'], ['k', 'W_k'], ['v', 'W_v'], ['o', 'W_o'], ['in', 'MLP W_in'], ['out', 'MLP W_out']];

const stackNames = (spec) => Object.keys(getPath(spec, 'gradient_flow.models') || {});
const transformer = (spec, p) => getPath(spec, `${p}.block`) === 'transformer';
const key = (name, metric, l) => `${name}.${metric}.${String(l).padStart(2, '0')}`;

/** The form: task, one field set per stack, optimizer, budget. */
function fields(spec) {
  const taskIs = (kind) => (s) => getPath(s, 'gradient_flow.task.kind') === kind;
  const copy = taskIs('copy');
  const groups = [['Task', [
    { path: 'gradient_flow.task.kind', label: 'Task', kind: 'enum', choices: [['teacher_student', 'Teacher–student'], ['low_rank_linear', 'Low-rank linear map'], ['copy', 'Copy a sequence (transformer)']] },
    { path: 'gradient_flow.task.input_dim', label: 'Input dim', kind: 'int', when: (s) => !copy(s) },
    { path: 'gradient_flow.task.output_dim', label: 'Output dim', kind: 'int', when: (s) => !copy(s) },
    { path: 'gradient_flow.task.teacher_depth', label: 'Teacher depth', kind: 'int', when: taskIs('teacher_student') },
    { path: 'gradient_flow.task.rank', label: 'Rank', kind: 'int', when: taskIs('low_rank_linear') },
    { path: 'gradient_flow.task.vocab', label: 'Symbols', kind: 'int', when: copy },
    { path: 'gradient_flow.task.copy_length', label: 'Tokens to copy', kind: 'int', when: copy },
  ]]];
  for (const name of stackNames(spec)) {
    const p = `gradient_flow.models.${name}`;
    groups.push([`Stack “${name}”`, [
      { path: `${p}.block`, label: 'Blocks', kind: 'enum', choices: BLOCKS },
      { path: `${p}.depth`, label: 'Depth', kind: 'int' },
      { path: `${p}.width`, label: 'Width', kind: 'int' },
      { path: `${p}.norm`, label: 'Norm placement', kind: 'enum', choices: NORMS },
      { path: `${p}.norm_kind`, label: 'Norm', kind: 'enum', choices: NORM_KINDS, when: (s) => getPath(s, `${p}.norm`) !== 'none' },
      { path: `${p}.mix_ratio`, label: 'Mix-LN ρ', kind: 'float', when: (s) => getPath(s, `${p}.norm`) === 'mix' },
      { path: `${p}.residual`, label: 'Residual branch', kind: 'enum', choices: RESIDUALS },
      { path: `${p}.init`, label: 'Init', kind: 'enum', choices: INITS },
      { path: `${p}.gain`, label: 'Init gain', kind: 'float' },
      { path: `${p}.activation`, label: 'Activation', kind: 'enum', choices: ACTS },
      { path: `${p}.heads`, label: 'Attention heads', kind: 'int', when: (s) => transformer(s, p) },
      { path: `${p}.qk_norm`, label: 'qk-LayerNorm', kind: 'bool', when: (s) => transformer(s, p) },
      { path: `${p}.z_loss`, label: 'z-loss weight', kind: 'float', when: (s) => transformer(s, p) },
    ]]);
  }
  groups.push(['Optimizer', [
    { path: 'gradient_flow.optimizer.kind', label: 'Optimizer', kind: 'enum', choices: [['adam_w', 'AdamW'], ['adam', 'Adam'], ['sgd', 'SGD']] },
    { path: 'gradient_flow.optimizer.lr', label: 'Learning rate', kind: 'float' },
    { path: 'gradient_flow.optimizer.weight_decay', label: 'Weight decay', kind: 'float' },
    { path: 'gradient_flow.optimizer.grad_clip', label: 'Clip ‖g‖ (0 = off)', kind: 'float' },
  ]], ['Training', [
    { path: 'gradient_flow.training.steps', label: 'Steps', kind: 'int' },
    { path: 'gradient_flow.training.batch_size', label: 'Examples / step', kind: 'int' },
    { path: 'gradient_flow.training.eval_every', label: 'Evaluate every', kind: 'int' },
    { path: 'gradient_flow.seed', label: 'Seed', kind: 'int' },
  ]]);
  return groups;
}

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
  fields,
  requiredKeys: ['step', 'series'],
  normalizeRecord: (r) => ({ wall_ms: 0, ...r }),
  reportText,

  mount(ctx) {
    const { state } = ctx;
    const w = ctx.chartWidth;
    let names = [];
    let depths = {};
    const colorOf = (name) => STACK_COLORS[Math.max(0, names.indexOf(name)) % STACK_COLORS.length];

    const tiles = el('div', { class: 'gs-tiles gs-tiles-4', testid: 'stack-tiles' });
    let tileValues = {};
    const badge = el('div', { class: 'gs-badge', testid: 'flow-report', 'data-verdict': 'none' }, 'Held-out loss per stack —');
    const lossBox = el('div');
    let lossChart = null;

    // ---- the block × step heatmaps ------------------------------------------------------------
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
    const heatmaps = el('div', { class: 'gs-panel gs-wide', testid: 'flow-heatmaps' },
      el('h3', {}, 'Per block (rows: block 1 at the top) × evaluation step (columns), one colour scale for all stacks — taken at each evaluation step '),
      el('div', { class: 'gs-controls' }, metricSelect, tensorSelect, scaleNote), mapsBox, readout);

    // ---- profiles -----------------------------------------------------------------------------
    const [profileBox, initBox] = [el('div'), el('div')];
    const profileChart = new XYChart(profileBox, { xLabel: 'block l', yLabel: 'value (log)', series: [], yLog: true });
    const initChart = new XYChart(initBox, { xLabel: 'block l', yLabel: 'RMS of h_l at init', series: [], yLog: true });
    const profileTitle = el('h3', {}, 'Per-block profile at the latest evaluation');
    const views = el('div', { class: 'gs-views', testid: 'flow-views' },
      heatmaps,
      el('div', { class: 'gs-panel', testid: 'flow-profile' }, profileTitle, profileBox),
      el('div', { class: 'gs-panel', testid: 'flow-init-rms' }, el('h3', {}, 'Signal propagation at initialisation: activation RMS through depth (before any training)'), initBox),
      el('div', { class: 'gs-panel' }, el('h3', {}, 'Held-out loss'), lossBox),
      el('div', { class: 'gs-panel gs-summary' }, 'Gradient through time is gradient flow too: for state-space models, see the ',
        el('a', { href: '#scans', testid: 'flow-ssm-link' }, 'scans lab'), '’s memory-decay view (‖∂y_T/∂u_t‖ against T − t).'));

    function buildStacks(spec) {
      names = stackNames(spec);
      depths = Object.fromEntries(names.map((n) => [n, getPath(spec, `gradient_flow.models.${n}.depth`)]));
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
      const boxes = [];
      maps = names.map((n) => {
        const canvas = el('canvas', { class: 'gs-pixels gs-flow-map', testid: `flow-heatmap-${n}` });
        const map = new LogHeatmap(canvas, readout, (r, c, v) => {
          const step = state.history[c]?.step;
          const metric = metricLabel();
          const value = v == null || Number.isNaN(v) ? 'not taken' : v === 0 ? '0 (exactly)' : v.toExponential(3);
          return `${n}, block ${r + 1}, step ${step}: ${metric} = ${value}`;
        });
        boxes.push(el('div', { class: 'gs-flow-map-box' }, el('b', { style: `color: ${colorOf(n)}` }, `${n} (depth ${depths[n]})`), canvas));
        return { name: n, map };
      });
      mapsBox.replaceChildren(...boxes);
      const series = names.map((n) => [n, colorOf(n)]);
      profileChart.setSeries(series);
      initChart.setSeries(series);
      const width = w();
      lossChart.update([], [], width);
      profileChart.update([], names.map(() => []), width);
      initChart.update([], names.map(() => []), width);
    }

    function drawHeatmaps() {
      const metric = seriesMetric();
      const h = state.history;
      let lo = Infinity;
      let hi = -Infinity;
      const grids = maps.map(({ name }) => {
        const depth = depths[name];
        const values = new Array(depth * h.length);
        for (let l = 1; l <= depth; l++) {
          const k = key(name, metric, l);
          for (let c = 0; c < h.length; c++) {
            const v = h[c].series?.[k];
            values[(l - 1) * h.length + c] = v;
            if (v > 0 && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
          }
        }
        return { depth, values };
      });
      if (!(hi >= lo)) { lo = 1; hi = 1; }
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
      top: [tiles, el('div', { class: 'gs-row' }, badge, ctx.summary)],
      bottom: [views],
      loaded(ev) { buildStacks(ev.spec); },
      draw() {
        lossChart?.update(state.history, state.pinned, w());
        const last = state.history.at(-1);
        for (const n of names) tileValues[n].textContent = fmtLoss(last?.series?.[`${n}.test_loss`]);
        const [verdict, text] = reportText(state.history.length ? state.report : null, state.history);
        badge.dataset.verdict = verdict;
        badge.textContent = text;
        drawHeatmaps();
        drawProfile();
      },
      analysis(a) {
        const depth = Math.max(0, ...a.models.map((m) => m.act_rms.length));
        const x = Array.from({ length: depth }, (_, i) => i + 1);
        initChart.update(x, names.map((n) => a.models.find((m) => m.name === n)?.act_rms || []), w());
      },
      resize(width) { for (const c of [lossChart, profileChart, initChart]) c?.resize(width); },
      destroy() { for (const c of [lossChart, profileChart, initChart]) c?.destroy(); },
    };
  },
};
