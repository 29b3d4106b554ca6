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
const NORMS = [['none', 'none'], ['post', 'Post-LN'], ['pre', 'Pre-LN'], ['peri', 'Peri-LN'], ['mix', 'Mix-LN (Post for ρL, then Pre)']];
const NORM_KINDS = [['layer_norm', 'LayerNorm'], ['rms_norm', 'RMSNorm']];
const RESIDUALS = [['one', '1'], ['inv_sqrt_depth', '1/√depth'], ['skip_init', 'SkipInit (α = 0)'], ['none', 'no residual (plain)']];
const INITS = [['kaiming', 'Kaiming'], ['xavier', 'Xavier'], ['lecun', 'LeCun'], ['orthogonal', 'orthogonal']];
const ACTS = [['relu', 'ReLU'], ['gelu', 'GELU'], ['tanh', 'tanh'], ['selu', 'SELU'], ['linear', 'linear']];
const BLOCKS = [['mlp', 'MLP (vector tasks)'], ['transformer', 'attention + MLP (sequence task)']];
const stackNames = (spec) => Object.keys(getPath(spec, 'gradient_flow.models') || {});
const transformer = (spec, p) => getPath(spec, `${p}.block`) === 'transformer';

/** The form: task, one field set per stack, optimizer, budget. */
function fields(spec) {
  const taskIs = (kind) => (s) => getPath(s, 'gradient_flow.task.kind') === kind;
  const copy = taskIs('copy');
  const groups = [['Task', [
    { path: 'gradient_flow.task.kind', label: 'Task', kind: 'enum', choices: [['teacher_student', 'Teacher–student'], ['low_rank_linear', 'Low-rank linear map'], ['copy', 'Copy a sequence (transformer)']],
      tip: 'Teacher–student regression, a low-rank linear map (Saxe et al. 2014), or copying (transformer blocks).' },
    { path: 'gradient_flow.task.input_dim', label: 'Input dim', kind: 'int', when: (s) => !copy(s),
      tip: 'Width of the inputs x ~ N(0, I) (1–1024).' },
    { path: 'gradient_flow.task.output_dim', label: 'Output dim', kind: 'int', when: (s) => !copy(s),
      tip: 'Width of the regression targets (1–1024).' },
    { path: 'gradient_flow.task.teacher_depth', label: 'Teacher depth', kind: 'int', when: taskIs('teacher_student'),
      tip: 'Layers of the random tanh MLP teacher that produces the targets (1–16).' },
    { path: 'gradient_flow.task.rank', label: 'Rank', kind: 'int', when: taskIs('low_rank_linear'),
      tip: 'Rank r of the target map, 1 to min(input, output dim); singular values 3, 3(r−1)/r, …, 3/r.' },
    { path: 'gradient_flow.task.vocab', label: 'Symbols', kind: 'int', when: copy,
      tip: 'Symbols of the copy task (2–256); the separator token comes on top.' },
    { path: 'gradient_flow.task.copy_length', label: 'Tokens to copy', kind: 'int', when: copy,
      tip: 'Tokens n to copy after the separator (2–64); sequences are 2n long.' },
  ]]];
  for (const name of stackNames(spec)) {
    const p = `gradient_flow.models.${name}`;
    groups.push([`Stack “${name}”`, [
      { path: `${p}.block`, label: 'Blocks', kind: 'enum', choices: BLOCKS,
        tip: 'MLP blocks for the vector tasks, or causal attention + MLP blocks for the copy task.' },
      { path: `${p}.depth`, label: 'Depth', kind: 'int',
        tip: 'Number of residual (or plain) blocks in the stack (1–64).' },
      { path: `${p}.width`, label: 'Width', kind: 'int',
        tip: 'Width of the residual stream and of each block\'s MLP hidden layer (1–1024).' },
      { path: `${p}.norm`, label: 'Norm placement', kind: 'enum', choices: NORMS,
        tip: 'Where norms sit: Post-LN, Pre-LN (Xiong et al. 2020), Peri-LN (Kim et al. 2025) or Mix-LN (Li et al. 2024).' },
      { path: `${p}.norm_kind`, label: 'Norm', kind: 'enum', choices: NORM_KINDS, when: (s) => getPath(s, `${p}.norm`) !== 'none',
        tip: 'The normalization: LayerNorm, or RMSNorm (rescale only, no mean or bias; Zhang & Sennrich 2019).' },
      { path: `${p}.mix_ratio`, label: 'Mix-LN ρ', kind: 'float', when: (s) => getPath(s, `${p}.norm`) === 'mix',
        tip: 'Mix-LN ρ in [0, 1]: the first ⌊ρ·depth⌋ blocks are Post-LN (ρ as typed: 0.58 of 50 blocks is 29), the rest Pre-LN (Li et al. 2024 use 0.25).' },
      { path: `${p}.residual`, label: 'Residual branch', kind: 'enum', choices: RESIDUALS,
        tip: 'Branch scale s in x + s·F(x): 1, 1/√depth, SkipInit\'s learnable α = 0 (De & Smith 2020), or no skip.' },
      { path: `${p}.init`, label: 'Init', kind: 'enum', choices: INITS,
        tip: 'Weight init: Kaiming (He et al. 2015), Xavier (Glorot & Bengio 2010), LeCun, or orthogonal (Saxe et al. 2014).' },
      { path: `${p}.gain`, label: 'Init gain', kind: 'float',
        tip: 'Multiplies the init\'s standard deviation (orthogonal: the matrix), in (0, 10].' },
      { path: `${p}.activation`, label: 'Activation', kind: 'enum', choices: ACTS,
        tip: 'Branch activation; SELU self-normalizes with LeCun init (Klambauer et al. 2017); linear = deep linear net.' },
      { path: `${p}.heads`, label: 'Attention heads', kind: 'int', when: (s) => transformer(s, p),
        tip: 'Attention heads per block; must divide the width.' },
      { path: `${p}.qk_norm`, label: 'qk-LayerNorm', kind: 'bool', when: (s) => transformer(s, p),
        tip: 'LayerNorm on each head\'s queries and keys (Dehghani et al. 2023); keeps logits bounded (Wortsman et al. 2023).' },
      { path: `${p}.z_loss`, label: 'z-loss weight', kind: 'float', when: (s) => transformer(s, p),
        tip: 'Weight z of the z-loss z·mean(log Z)² on the output logits, in [0, 1]; 0 = off (Wortsman et al. 2023: 1e-4).' },
    ]]);
  }
  groups.push(['Optimizer', [
    { path: 'gradient_flow.optimizer.kind', label: 'Optimizer', kind: 'enum', choices: [['adam_w', 'AdamW'], ['adam', 'Adam'], ['sgd', 'SGD']],
      tip: 'AdamW (decoupled weight decay, Loshchilov & Hutter 2019), Adam with L2 decay, or SGD with momentum.' },
    { path: 'gradient_flow.optimizer.lr', label: 'Learning rate', kind: 'float',
      tip: 'Learning rate, in (0, 1000].' },
    { path: 'gradient_flow.optimizer.weight_decay', label: 'Weight decay', kind: 'float',
      tip: 'Weight-decay coefficient in [0, 100]: decoupled for AdamW, an L2 term on the gradient for Adam and SGD.' },
    { path: 'gradient_flow.optimizer.grad_clip', label: 'Clip ‖g‖ (0 = off)', kind: 'float',
      tip: 'Clip the global gradient L2 norm to this value before each step, in [0, 10⁶]; 0 = off.' },
  ]], ['Training', [
    { path: 'gradient_flow.training.steps', label: 'Steps', kind: 'int',
      tip: 'Optimizer steps to run (1–10⁷).' },
    { path: 'gradient_flow.training.batch_size', label: 'Examples / step', kind: 'int',
      tip: 'Fresh inputs (or copy sequences) drawn per step (1–4096).' },
    { path: 'gradient_flow.training.eval_every', label: 'Evaluate every', kind: 'int',
      tip: 'Take the held-out loss and per-block metrics every this many steps (1–10⁶).' },
    { path: 'gradient_flow.seed', label: 'Seed', kind: 'int',
      tip: 'Seeds the stacks\' inits, the teacher and the batches.' },
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
      el('div', { class: 'gs-panel', testid: 'flow-init-rms' }, el('h3', {}, 'Signal propagation at initialisation: activation RMS through depth (before any training)'), initBox),
      el('div', { class: 'gs-panel' }, el('h3', {}, 'Held-out loss'), lossBox),
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
