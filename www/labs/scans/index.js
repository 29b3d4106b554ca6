// The scans lab's page module: S4D vs Mamba on memory tasks. Its form (task, one field set per
// model, optimizer, budget), per-model accuracy tiles and curves, the analysis views (example
// with predictions, S4D kernels and eigenvalues, Mamba's Δ_t and states, memory decay,
// extrapolation), the live S4D kernel explorer and the scan race.

import { el, swatch, fmtAcc, stepText, panel, tile, runSplit } from '../../dom.js';
import { getPath } from '../../form.js';
import { MetricChart, XYChart } from '../../charts.js';
import { ValueHeatmap, drawComplexPlane } from '../../views.js';

// Okabe–Ito colours (distinct under the common colour-vision deficiencies), led by the shell's blue and orange.
const MODEL_COLORS = ['#1c7ed6', '#d9480f', '#009e73', '#cc79a7'];
const RACE_COLORS = { sequential: '#c92a2a', parallel: '#1c7ed6', chunked: '#2b8a3e', fused: '#5f3dc4', s4d_conv: '#e67700' };
const RACE_NAMES = { sequential: 'sequential scan', parallel: 'parallel scan', chunked: 'chunked scan', fused: 'fused scan (one kernel)', s4d_conv: 'S4D convolution' };
const RACE_LENGTHS = [64, 256, 1024, 4096, 16384];

const MIXERS = [['s4d', 'S4D (LTI)'], ['gated_s4d', 'S4D in a gated block (LTI)'], ['mamba', 'Mamba (selective)']];
const INITS = [['lin', 'S4D-Lin'], ['inv', 'S4D-Inv'], ['real', 'S4D-Real']];
const DISCS = [['zoh', 'ZOH'], ['bilinear', 'bilinear']];
const SCANS = [['fused', 'fused (one kernel: CPU or GPU)'], ['parallel', 'parallel'], ['chunked', 'chunked'], ['sequential', 'sequential']];

const modelNames = (spec) => Object.keys(getPath(spec, 'scans.models') || {});

/** The form: task, one field set per model of the spec, optimizer, budget. */
function fields(spec) {
  const copying = (s) => getPath(s, 'scans.task.kind') === 'selective_copying';
  const groups = [['Task', [
    { path: 'scans.task.kind', label: 'Task', kind: 'enum', choices: [['selective_copying', 'Selective copying'], ['induction_heads', 'Induction heads']],
      tip: 'Synthetic memory task of the Mamba paper (Gu & Dao 2023): selective copying or induction heads.' },
    { path: 'scans.task.len', label: 'Sequence length L', kind: 'int',
      tip: 'Training sequence length L, up to 4096 (copying: ≥ 2 × tokens to copy; induction heads: ≥ 4).' },
    { path: 'scans.task.vocab', label: 'Symbols', kind: 'int',
      tip: 'Data (copying) or value (induction) symbols, 2–256; noise, answer-slot or trigger tokens come on top.' },
    { path: 'scans.task.data_tokens', label: 'Tokens to copy', kind: 'int', when: copying,
      tip: 'Data tokens scattered among noise that the model must output in order at the end (1–64).' },
  ]]];
  for (const name of modelNames(spec)) {
    const p = `scans.models.${name}`;
    const mixer = (s) => getPath(s, `${p}.mixer`);
    groups.push([`Model “${name}”`, [
      { path: `${p}.mixer`, label: 'Mixer', kind: 'enum', choices: MIXERS,
        tip: 'S4D (LTI, Gu et al. 2022), S4D in Mamba\'s gated block, or Mamba\'s selective SSM (Gu & Dao 2023).' },
      { path: `${p}.layers`, label: 'Layers', kind: 'int',
        tip: 'Stacked mixer blocks (1–8); the Mamba paper\'s synthetic-task models have 2.' },
      { path: `${p}.d_model`, label: 'd_model', kind: 'int',
        tip: 'Model width D: the channels each block mixes over time (1–512).' },
      { path: `${p}.d_state`, label: 'State size N', kind: 'int',
        tip: 'State size N per channel (1–256); even for S4D mixers (N/2 complex-conjugate pairs).' },
      { path: `${p}.expand`, label: 'Expand', kind: 'int', when: (s) => mixer(s) !== 's4d',
        tip: 'Inner-width multiplier of the gated (Mamba-style) block, 1–4 (Mamba\'s default is 2).' },
      { path: `${p}.s4d_init`, label: 'S4D init', kind: 'enum', choices: INITS, when: (s) => mixer(s) !== 'mamba',
        tip: 'Init of S4D\'s diagonal A: Lin (−½ + iπn), Inv (HiPPO-like) or Real (−(n+1)) (Gu et al. 2022).' },
      { path: `${p}.discretization`, label: 'Discretization', kind: 'enum', choices: DISCS, when: (s) => mixer(s) === 's4d',
        tip: 'How continuous A, B become Ā, B̄ for step Δ: zero-order hold or bilinear (Gu et al. 2022).' },
      { path: `${p}.dt_min`, label: 'Δ min', kind: 'float',
        tip: 'Lower end of the log-uniform init range of the step Δ, in [1e-5, 1] (S4D and Mamba use 1e-3).' },
      { path: `${p}.dt_max`, label: 'Δ max', kind: 'float',
        tip: 'Upper end of the log-uniform init range of the step Δ, in [Δ min, 10] (S4D and Mamba use 0.1).' },
      { path: `${p}.scan`, label: 'Scan', kind: 'enum', choices: SCANS, when: (s) => mixer(s) === 'mamba',
        tip: 'How Mamba\'s selective scan is computed: same numbers, different speed; fused runs one kernel.' },
    ]]);
  }
  groups.push(['Optimizer', [
    { path: 'scans.optimizer.kind', label: 'Optimizer', kind: 'enum', choices: [['adam_w', 'AdamW'], ['adam', 'Adam'], ['sgd', 'SGD']],
      tip: 'AdamW (decoupled weight decay, Loshchilov & Hutter 2019), Adam with L2 decay, or SGD with momentum.' },
    { path: 'scans.optimizer.lr', label: 'Learning rate', kind: 'float',
      tip: 'Learning rate, in (0, 1000]; S4 advises ≤ 1e-3 for A and Δ at scale.' },
    { path: 'scans.optimizer.weight_decay', label: 'Weight decay', kind: 'float',
      tip: 'Weight-decay coefficient in [0, 100]: decoupled for AdamW, an L2 term on the gradient for Adam and SGD.' },
    { path: 'scans.optimizer.grad_clip', label: 'Clip ‖g‖ (0 = off)', kind: 'float',
      tip: 'Clip the global gradient L2 norm to this value before each step, in [0, 10⁶]; 0 = off.' },
  ]], ['Training', [
    { path: 'scans.training.steps', label: 'Steps', kind: 'int',
      tip: 'Optimizer steps to run (1–10⁷).' },
    { path: 'scans.training.batch_size', label: 'Sequences / step', kind: 'int',
      tip: 'Fresh training sequences generated per step (1–1024).' },
    { path: 'scans.training.eval_every', label: 'Evaluate every', kind: 'int',
      tip: 'Score the held-out sequences every this many steps (1–10⁶).' },
    { path: 'scans.eval.sequences', label: 'Held-out sequences', kind: 'int',
      tip: 'Held-out sequences, fixed for the run, scored at each evaluation (1–4096).' },
    { path: 'scans.eval.extrapolation', label: 'Test up to × L', kind: 'int',
      tip: 'The final analysis tests at L, 2L, 4L, … up to this factor × L (1–16; 1 = L only).' },
    { path: 'scans.seed', label: 'Seed', kind: 'int',
      tip: 'Seeds the models\' inits and the training and evaluation sequences.' },
  ]]);
  return groups;
}

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

/** A token strip: one cell per token, data tokens coloured, the answer region marked. */
function tokenStrip(tokens, answerStart, task) {
  const strip = el('div', { class: 'gs-tokens' });
  tokens.forEach((t, i) => {
    const data = task === 'selective_copying' ? t >= 2 : t === 0;
    strip.append(el('span', { class: `gs-tok${data ? ' data' : ''}${i >= answerStart ? ' answer' : ''}`, title: `position ${i}: token ${t}` }, String(t)));
  });
  return strip;
}

export default {
  id: 'scans',
  title: 'S4D vs Mamba',
  fields,
  reportText,

  mount(ctx) {
    const { state, send } = ctx;
    const w = ctx.chartWidth;
    let names = [];
    const colorOf = (name) => MODEL_COLORS[Math.max(0, names.indexOf(name)) % MODEL_COLORS.length];

    const tiles = el('div', { class: 'gs-tiles gs-tiles-4', testid: 'model-tiles' });
    let tileValues = {};
    const badge = el('div', { class: 'gs-badge', testid: 'scans-report', 'data-verdict': 'none' }, 'Which model solves it? —');
    const [accBox, lossBox] = [el('div'), el('div')];
    const charts = el('div', { class: 'gs-charts', testid: 'chart-main' },
      panel('Held-out accuracy (per answer token)', accBox, 'chart-accuracy'), panel('Training loss', lossBox, 'chart-loss'));
    let accChart = null;
    let lossChart = null;

    // ---- analysis views ---------------------------------------------------------------------
    const analysisTitle = el('span', { class: 'gs-summary', testid: 'analysis-step' }, '');
    // Laid out at mount with the rows' real element types and classes, so the first analysis
    // during training only replaces them: their first layout (new font faces and sizes) cost a
    // 0.3–0.7 s main-thread task in headless Chromium when it came mid-training.
    const exampleBox = el('div', { testid: 'example-view' },
      el('div', { class: 'gs-ex-row' }, el('b', {}, 'input'), tokenStrip([0, 2, 0, 3, 1, 1], 4, 'selective_copying'),
        el('span', { class: 'gs-summary' }, 'An example appears after the first evaluation.')),
      el('div', { class: 'gs-ex-row' }, el('b', {}, 'target'), el('span', { class: 'gs-answers' }, '2 3'), el('span', { class: 'gs-summary' }, '')),
      el('div', { class: 'gs-ex-row' }, el('b', {}, swatch(MODEL_COLORS[0]), 'model'),
        el('span', { class: 'gs-answers' }, el('span', { class: 'ok' }, '2 '), el('span', { class: 'bad' }, '0 ')), el('span', { class: 'gs-summary' }, '1/2')));
    // "Your sequence": the views on token ids the user types, until they go back to the
    // held-out sequence (a bad one is refused by the worker, which names what is wrong).
    let typed = null;
    const exampleTitle = el('span', {}, 'A held-out sequence and each model\'s answers ');
    const typedInput = el('input', { type: 'text', class: 'gs-seq-input', testid: 'example-input', 'aria-label': 'your sequence (token ids)',
      placeholder: 'token ids, e.g. 0 3 0 0 5 0 1 1' });
    const typedHint = el('span', { class: 'gs-summary', testid: 'example-hint' });
    const typedBack = el('button', { testid: 'example-back', disabled: true, onclick: () => useTyped(null) }, 'Back to the held-out sequence');
    const typedShow = el('button', { testid: 'example-show', onclick: () => {
      const parts = typedInput.value.trim().split(/[\s,]+/).filter(Boolean);
      const tokens = parts.map(Number);
      if (!parts.length || tokens.some((t) => !Number.isInteger(t) || t < 0)) {
        ctx.showError('Your sequence: type token ids (0, 1, 2, …) separated by spaces.');
        return;
      }
      useTyped(tokens);
    } }, 'Show on my sequence');
    typedInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') typedShow.click(); });
    function useTyped(tokens) {
      typed = tokens;
      typedBack.disabled = tokens == null;
      ctx.analyse();
    }
    const typedRow = el('div', { class: 'gs-controls', testid: 'example-typed' }, typedInput, typedShow, typedBack, typedHint);
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
    const views = el('div', { class: 'gs-views', testid: 'analysis' },
      el('div', { class: 'gs-panel gs-wide' }, el('h3', {}, exampleTitle, analysisTitle), exampleBox, typedRow),
      el('div', { class: 'gs-panel', testid: 'kernel-view' }, el('h3', {}, 'S4D kernels K_ℓ (first layer, channel 0)'), kernelBox),
      el('div', { class: 'gs-panel' }, el('h3', {}, 'S4D eigenvalues Ā (first layer, 4 channels) and the unit circle'), eigenCanvas, legendBox),
      el('div', { class: 'gs-panel', testid: 'delta-view' }, el('h3', {}, 'Mamba: Δ_t on the example (first layer, mean over channels; data tokens marked)'), deltaBox),
      el('div', { class: 'gs-panel' }, el('h3', {}, 'Mamba: states |h_t| (time ↓ × state →, first layer)'), stateCanvas, stateReadout),
      el('div', { class: 'gs-panel', testid: 'memory-decay' }, el('h3', {}, 'Memory decay: ‖∂y_T/∂u_t‖ against T − t'), decayBox),
      el('div', { class: 'gs-panel', testid: 'extrapolation' }, el('h3', {}, 'Extrapolation: held-out accuracy at L, 2L, 4L …'), extraBox));

    // ---- live kernel explorer ---------------------------------------------------------------
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
    const explorer = el('div', { class: 'gs-panel', testid: 'kernel-explorer' },
      el('h3', {}, 'S4D kernel explorer: one channel, K_ℓ and Ā as you change Δ, init and discretization'),
      el('div', { class: 'gs-controls' }, kInit, kDisc, kN, el('label', {}, 'log₁₀ Δ ', kDt), kDtText),
      el('div', { class: 'gs-split' }, kBox, kCanvas));

    // ---- scan race ----------------------------------------------------------------------------
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
    const race_ = el('div', { class: 'gs-panel', testid: 'scan-race' },
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
      raceChart.update(race.lengths, race.targets.map((t) => race.lengths.map((l) => ms(t, l))), w());
      const head = el('tr', {}, el('th', {}, race.device || 'target'), ...race.lengths.map((l) => el('th', {}, `L = ${l}`)));
      const rows = race.targets.map((t) => el('tr', {}, el('td', {}, RACE_NAMES[t]), ...race.lengths.map((l) => {
        const e = race.entries.find((x) => x.target === t && x.len === l);
        if (!e) return el('td', {}, '');
        if (e.ms == null) return el('td', { class: 'gs-muted', title: e.note || '' }, /buffer/.test(e.note || '') ? 'too large' : 'capped');
        return el('td', {}, `${e.ms < 10 ? e.ms.toFixed(2) : e.ms.toFixed(0)} ms` + (e.dispatches == null ? '' : ` · ${e.dispatches} disp.`));
      })));
      raceTable.replaceChildren(head, ...rows);
    }

    // ---- charts per model ---------------------------------------------------------------------
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
      const series = names.map((n) => [n, colorOf(n)]);
      for (const c of [kernelChart, deltaChart, decayChart, extraChart]) c.setSeries(series);
      deltaChart.setSeries([...series, ['data token', '#adb5bd', { paths: () => null, points: { show: true, size: 7 } }]]);
      typed = null;
      typedBack.disabled = true;
      typedInput.value = '';
      // Built now, empty, so no chart is constructed mid-training (each is a ~50 ms task).
      const width = w();
      accChart.update([], [], width);
      lossChart.update([], [], width);
      for (const c of [kernelChart, decayChart, extraChart]) c.update([], names.map(() => []), width);
      deltaChart.update([], [...names.map(() => []), []], width);
      legendBox.replaceChildren(...names.map((n) => el('span', {}, el('i', { style: `background: ${colorOf(n)}` }), n)));
    }

    const drawToken = { drawn: 0 };
    function drawAnalysis(a) {
      const models = a.models;
      const byName = (n) => models.find((m) => m.name === n);
      runSplit(drawToken, [
        () => {
          analysisTitle.textContent = `at step ${a.step}`;
          const ex = a.example;
          const mine = typed != null && ex.tokens.length === typed.length && ex.tokens.every((t, i) => t === typed[i]);
          exampleTitle.textContent = mine ? 'Your sequence and each model\'s answers ' : 'A held-out sequence and each model\'s answers ';
          if (!typedInput.value) typedInput.value = ex.tokens.join(' ');
          typedHint.textContent = a.task === 'selective_copying'
            ? 'tokens: 0 noise · 1 answer slot (one per data token, at the end) · 2… data'
            : 'tokens: 0 trigger (again last) · 1… values; the answer follows the earlier trigger';
          const rows = [el('div', { class: 'gs-ex-row' }, el('b', {}, 'input'), tokenStrip(ex.tokens, ex.answer_start, a.task)),
            el('div', { class: 'gs-ex-row' }, el('b', {}, 'target'), el('span', { class: 'gs-answers' }, ex.answers.join(' ')))];
          for (const m of models) {
            const right = m.prediction.filter((p, i) => p === ex.answers[i]).length;
            rows.push(el('div', { class: 'gs-ex-row' }, el('b', {}, swatch(colorOf(m.name)), m.name),
              el('span', { class: 'gs-answers' }, ...m.prediction.map((p, i) => el('span', { class: p === ex.answers[i] ? 'ok' : 'bad' }, `${p} `))),
              el('span', { class: 'gs-summary' }, `${right}/${ex.answers.length}`)));
          }
          exampleBox.replaceChildren(...rows);
        },
        () => {
          const taps = Math.max(0, ...models.map((m) => m.kernels[0]?.length || 0));
          const x = Array.from({ length: taps }, (_, i) => i);
          kernelChart.update(x, names.map((n) => byName(n)?.kernels[0] || x.map(() => null)), w());
          drawComplexPlane(eigenCanvas, models.filter((m) => m.eigenvalues.length).map((m) => ({ color: colorOf(m.name), points: m.eigenvalues })));
        },
        () => {
          const x = Array.from({ length: a.len }, (_, i) => i);
          const deltas = names.map((n) => byName(n)?.delta || x.map(() => null));
          const top = Math.max(1e-9, ...deltas.flat().filter((v) => v != null));
          const isData = (t) => (a.task === 'selective_copying' ? t >= 2 : t === 0);
          const marks = a.example.tokens.map((t, i) => (isData(t) && i < a.example.answer_start ? top : null));
          deltaChart.update(x, [...deltas, marks], w());
          const sel = models.find((m) => m.states);
          if (sel) stateMap.update(sel.states.rows, sel.states.cols, sel.states.values);
        },
        () => {
          const len = Math.max(0, ...models.map((m) => m.memory_decay.length));
          const x = Array.from({ length: len }, (_, i) => i);
          decayChart.update(x, names.map((n) => byName(n)?.memory_decay.map((v) => (v > 0 ? v : null)) || []), w());
          const lens = models[0]?.extrapolation.map(([l]) => l) || [];
          extraChart.update(lens, names.map((n) => byName(n)?.extrapolation.map(([, acc]) => acc) || []), w());
        },
      ]);
    }

    const all = () => [accChart, lossChart, kernelChart, deltaChart, decayChart, extraChart, kChart, raceChart];
    requestKernel();
    return {
      top: [tiles, el('div', { class: 'gs-row' }, badge, ctx.summary)],
      bottom: [charts, views, explorer, race_],
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
      analysis: drawAnalysis,
      analyseOptions: () => (typed ? { example: typed } : {}),
      event(ev) {
        if (ev.type === 'kernel') {
          kernelPending = false;
          const x = ev.kernel.map((_, i) => i);
          kChart.update(x, [ev.kernel], w());
          drawComplexPlane(kCanvas, [{ color: '#5f3dc4', points: ev.eigenvalues }]);
          if (kernelDirty) { kernelDirty = false; requestKernel(); }
        } else if (ev.type === 'race') {
          if (ev.device) race.device = ev.device;
          if (ev.entry) { race.entries.push(ev.entry); drawRace(); }
          if (ev.done) {
            raceRun.disabled = false;
            raceCancel.disabled = true;
            const ok = race.entries.filter((e) => e.ms != null).length;
            raceStatus.textContent = `Race on ${race.device}: ${ok} measurements.`;
            drawRace();
          }
        } else if (ev.type === 'error') {
          kernelPending = false;
          // A refused sequence: back to the held-out one (the input keeps the text to fix).
          if (ev.field === 'example') useTyped(null);
        }
      },
      resize(width) { for (const c of all()) c?.resize(width); },
      destroy() { for (const c of all()) c?.destroy(); },
    };
  },
};
