// The scans lab's form: the task, one field set per model of the spec, optimizer, budget.

import { getPath } from '../../form.js';

const MIXERS = [['s4d', 'S4D (LTI)'], ['gated_s4d', 'S4D in a gated block (LTI)'], ['mamba', 'Mamba (selective)']];
export const INITS = [['lin', 'S4D-Lin'], ['inv', 'S4D-Inv'], ['real', 'S4D-Real']];
export const DISCS = [['zoh', 'ZOH'], ['bilinear', 'bilinear']];
const SCANS = [['fused', 'fused (one kernel: CPU or GPU)'], ['parallel', 'parallel'], ['chunked', 'chunked'], ['sequential', 'sequential']];

export const modelNames = (spec) => Object.keys(getPath(spec, 'scans.models') || {});

/** The form: task, one field set per model of the spec, optimizer, budget. */
export function fields(spec) {
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
      { path: `${p}.discretization`, label: 'Discretization', kind: 'enum', choices: DISCS, when: (s) => mixer(s) !== 'mamba',
        tip: 'How continuous A, B become Ā, B̄ for step Δ: zero-order hold or bilinear (Gu et al. 2022). Also for S4D in a gated block, which before 2026-12-03 used ZOH whatever this said.' },
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
