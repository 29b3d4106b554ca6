// The grokking lab's form: its fields, and its own controls (the architecture, the MLP's input,
// the operation with its preview).

import { el } from '../../dom.js';
import { getPath } from '../../form.js';
import { opControl } from './op-field.js';

/** A select whose options map to spec values: `options` [[value, text]], `read(value)` → the
 * spec's value, `shown(specValue)` → the option to select. */
function selectControl(options, read, shown) {
  const select = el('select', {}, ...options.map(([v, t]) => el('option', { value: v }, t)));
  return { root: select, read: () => read(select.value), show: (v) => { select.value = shown(v); } };
}

/** The architecture: `{mlp: {}}` or `{transformer: {}}` (the worker fills the defaults). */
function modelControl() {
  return selectControl([['mlp', 'MLP'], ['transformer', 'Transformer']],
    (v) => ({ [v]: {} }), (v) => (v ? Object.keys(v)[0] : 'mlp'));
}

/** The MLP's input: `"one_hot"` or `{embedding: {}}`. */
function mlpInputControl() {
  return selectControl([['one_hot', 'one-hot a ⊕ b'], ['embedding', 'learned embedding']],
    (v) => (v === 'one_hot' ? 'one_hot' : { embedding: {} }), (v) => (typeof v === 'object' ? 'embedding' : 'one_hot'));
}

/** The operation: a built-in or your own expression, previewed by the worker as you type. */
function operationControl({ onChange, send, spec }) {
  const control = opControl({
    onChange,
    requestPreview: (expr) => send({ type: 'preview_operation', expr, p: Number(getPath(spec(), 'grokking.task.p')) || 97 }),
  });
  return {
    root: control.root,
    read: control.read,
    show: control.show,
    event(ev) { if (ev.type === 'operation_preview') control.preview(ev); },
  };
}

const has = (path) => (spec) => getPath(spec, path) !== undefined;
const isMlp = has('grokking.model.mlp');
const isTransformer = has('grokking.model.transformer');
const isEmbedding = (spec) => typeof getPath(spec, 'grokking.model.mlp.input') === 'object';

export const FIELDS = [
  ['Task', [
    { path: 'grokking.task.op', label: 'Operation', kind: 'custom', control: operationControl,
      tip: 'The binary operation mod p to learn (Power et al. 2022); a ÷ b is a·b⁻¹, so b ≠ 0. "your own…" takes an expression over a, b and p, previewed as a p × p grid of labels.' },
    { path: 'grokking.task.p', label: 'Modulus p (prime)', kind: 'int',
      tip: 'Prime modulus p: operands and answers are residues 0…p−1 (a prime, 3–257).' },
    { path: 'grokking.task.train_frac', label: 'Train fraction', kind: 'float',
      tip: 'Fraction of all (a, b) pairs used for training, in (0, 1); the rest form the test set.' },
    { path: 'grokking.task.label_noise', label: 'Label noise ξ', kind: 'float',
      tip: 'Label corruption ξ in [0, 1): share of training labels made wrong; test stays clean (Doshi et al. 2023).' },
    { path: 'grokking.task.pairs', label: 'Pairs', kind: 'enum', choices: [['all', 'all (a, b)'], ['unordered', 'a ≤ b']],
      tip: 'All (a, b), or only a ≤ b for commutative ops (+, ·, quad), as in the PAIR explorable (Pearce et al. 2023).' },
  ]],
  ['Model', [
    { path: 'grokking.model', label: 'Architecture', kind: 'custom', control: modelControl,
      tip: 'An MLP (Doshi et al. 2023) or a decoder-only transformer on [a, b, =] (Power et al. 2022; Nanda et al. 2023).' },
    { path: 'grokking.model.mlp.input', label: 'Input', kind: 'custom', control: mlpInputControl, when: isMlp,
      tip: 'One-hot(a) ⊕ one-hot(b), 2p wide (Doshi, Prieto), or learned embeddings of a and b (PAIR explorable).' },
    { path: 'grokking.model.mlp.input.embedding.dim', label: 'Embedding dim', kind: 'int', when: isEmbedding,
      tip: 'Width of each learned embedding vector (1–4096).' },
    { path: 'grokking.model.mlp.input.embedding.tied', label: 'Tied a/b table', kind: 'bool', when: isEmbedding,
      tip: 'Use one embedding table for both operands a and b (as the PAIR explorable does).' },
    { path: 'grokking.model.mlp.input.embedding.shared_input_layer', label: 'Shared first layer', kind: 'bool', when: isEmbedding,
      tip: 'One first-layer matrix W for both operands: h = act(E[a]·W + E[b]·W) (PAIR\'s tied hidden layer).' },
    { path: 'grokking.model.mlp.input.embedding.tied_output', label: 'Read out via Eᵀ', kind: 'bool', when: isEmbedding,
      tip: 'Read logits out through the embedding table: (h·W_out)·Eᵀ (PAIR\'s tied unembedding).' },
    { path: 'grokking.model.mlp.width', label: 'Width', kind: 'int', when: isMlp,
      tip: 'Hidden width N of each layer (1–4096); Doshi et al. use 500, Prieto et al. 200.' },
    { path: 'grokking.model.mlp.depth', label: 'Hidden layers', kind: 'int', when: isMlp,
      tip: 'Number of hidden layers (1–4); Doshi et al. use 1, Prieto et al. 2.' },
    { path: 'grokking.model.mlp.activation', label: 'Activation', kind: 'enum', when: isMlp, choices: [['quadratic', 'x²'], ['relu', 'ReLU'], ['gelu', 'GELU']],
      tip: 'Hidden activation; x² makes the modular-addition solution analytic (Gromov 2023; Doshi et al. 2023).' },
    { path: 'grokking.model.mlp.bias', label: 'Biases', kind: 'bool', when: isMlp,
      tip: 'Add biases to every linear layer (the papers\' MLPs have none).' },
    { path: 'grokking.model.mlp.init', label: 'Init', kind: 'enum', when: isMlp, choices: [['doshi', 'Doshi N(0, σ²)'], ['torch_default', 'PyTorch default'], ['haiku', 'Haiku (PAIR)']],
      tip: 'Weight init: Doshi N(0, σ²) with σ = 0.5/(2N)^⅓, PyTorch\'s nn.Linear default (Prieto), or Haiku\'s (PAIR).' },
    { path: 'grokking.model.mlp.init_scale', label: 'Init scale', kind: 'float', when: isMlp,
      tip: 'Multiplies every initial weight, in (0, 100]; large = lazy and slow to grok (Omnigrok, Liu et al. 2023).' },
    { path: 'grokking.model.transformer.layers', label: 'Layers', kind: 'int', when: isTransformer,
      tip: 'Transformer blocks (attention + MLP), 1–4; Nanda et al. 2023 use 1, Power et al. 2022 use 2.' },
    { path: 'grokking.model.transformer.d_model', label: 'd_model', kind: 'int', when: isTransformer,
      tip: 'Residual-stream width (1–1024), divisible by the number of heads; Nanda et al. use 128.' },
    { path: 'grokking.model.transformer.heads', label: 'Heads', kind: 'int', when: isTransformer,
      tip: 'Attention heads; must divide d_model (head size = d_model / heads); Nanda et al. use 4.' },
    { path: 'grokking.model.transformer.d_mlp', label: 'd_mlp', kind: 'int', when: isTransformer,
      tip: 'Hidden width of each block\'s MLP (1–4096); Nanda et al. use 512.' },
    { path: 'grokking.model.transformer.layer_norm', label: 'LayerNorm', kind: 'bool', when: isTransformer,
      tip: 'Pre-LayerNorm before attention, MLP and unembed (Xiong et al. 2020); Nanda\'s model has none.' },
    { path: 'grokking.model.transformer.causal', label: 'Causal', kind: 'bool', when: isTransformer,
      tip: 'Causal attention mask: each position sees only itself and earlier tokens (Power et al. 2022; Nanda et al.).' },
    { path: 'grokking.model.transformer.init_scale', label: 'Init scale', kind: 'float', when: isTransformer,
      tip: 'Multiplies every initial weight, in (0, 100]; larger starts lazier (Omnigrok, Liu et al. 2023).' },
  ]],
  ['Loss', [
    { path: 'grokking.loss.kind', label: 'Loss', kind: 'enum', choices: [['mse', 'MSE (one-hot)'], ['cross_entropy', 'Softmax cross-entropy'], ['stablemax', 'StableMax cross-entropy']],
      tip: 'Loss on the p logits: MSE on one-hot targets (Doshi et al.), softmax CE, or StableMax CE (Prieto et al. 2025).' },
    { path: 'grokking.loss.precision', label: 'Precision', kind: 'enum', choices: [['f32', 'float32'], ['f64', 'float64 (CPU only)']],
      tip: 'Float type of the loss and the softmax-collapse metric; float64 needs the CPU backend (WebGPU has none).' },
    { path: 'grokking.loss.output_scale', label: 'Output scale α', kind: 'float',
      tip: 'Output scale α in (0, 10000]: logits ×α and lr ÷α²; larger = lazier, later grokking (Kumar et al. 2024).' },
    { path: 'grokking.loss.center', label: 'Center at init', kind: 'bool',
      tip: 'Subtract the initial output f_θ₀ so logits start at 0: f = α·(f_θ − f_θ₀) (Kumar et al. 2024).' },
    { path: 'grokking.loss.class_mean', label: 'CE ÷ p (PAIR)', kind: 'bool', when: (s) => getPath(s, 'grokking.loss.kind') !== 'mse',
      tip: 'Divide the cross-entropy by p (a mean over classes too), like the PAIR explorable\'s loss (Pearce et al. 2023).' },
  ]],
  ['Optimizer', [
    { path: 'grokking.optimizer.kind', label: 'Optimizer', kind: 'enum', choices: [['adam_w', 'AdamW'], ['adam', 'Adam'], ['sgd', 'SGD']],
      tip: 'AdamW (decoupled weight decay, Loshchilov & Hutter 2019), Adam with L2 decay, or SGD with momentum.' },
    { path: 'grokking.optimizer.orthograd', label: '⊥Grad', kind: 'bool',
      tip: '⊥Grad: remove the gradient\'s component along the weights, keep its norm, then step (Prieto et al. 2025).' },
    { path: 'grokking.optimizer.lr', label: 'Learning rate', kind: 'float',
      tip: 'Learning rate, in (0, 1000]; the step actually uses lr / α² for output scale α.' },
    { path: 'grokking.optimizer.weight_decay', label: 'Weight decay', kind: 'float',
      tip: 'Weight-decay coefficient in [0, 100]: decoupled for AdamW, an L2 term on the gradient for Adam and SGD.' },
    { path: 'grokking.optimizer.beta1', label: 'β₁', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd',
      tip: 'Adam\'s first-moment decay β₁, in [0, 1); 0.9 in most grokking papers.' },
    { path: 'grokking.optimizer.beta2', label: 'β₂', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd',
      tip: 'Adam\'s second-moment decay β₂, in [0, 1); 0.98 in most grokking papers, 0.99–0.999 in Prieto et al. 2025.' },
    { path: 'grokking.optimizer.eps', label: 'ε', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd',
      tip: 'Adam\'s ε added to the denominator, in [1e-30, 1]; Prieto et al. 2025 use 1e-25.' },
    { path: 'grokking.optimizer.momentum', label: 'Momentum', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') === 'sgd',
      tip: 'SGD momentum, in [0, 1); 0 = plain SGD.' },
    { path: 'grokking.optimizer.warmup_steps', label: 'Warm-up steps', kind: 'int',
      tip: 'Linear learning-rate warm-up over this many steps, 0–10⁶ (0 = none; Nanda et al. use 10).' },
    { path: 'grokking.optimizer.grad_clip', label: 'Clip ‖g‖ (0 = off)', kind: 'float',
      tip: 'Clip the global gradient L2 norm to this value before each step, in [0, 10⁶]; 0 = off.' },
  ]],
  ['Training', [
    { path: 'grokking.training.steps', label: 'Steps', kind: 'int',
      tip: 'Optimizer steps to run, 1–10⁷ (= epochs with a full batch).' },
    { path: 'grokking.training.batch_size', label: 'Batch (0 = full)', kind: 'int',
      tip: 'Training pairs per step, at most the training set; 0 = full batch (every training pair, as the papers do).' },
    { path: 'grokking.training.eval_every', label: 'Evaluate every', kind: 'int',
      tip: 'Measure train/test metrics every this many steps (1–10⁶); larger keeps a GPU busier.' },
    { path: 'grokking.seed', label: 'Seed', kind: 'int',
      tip: 'Seeds the train/test split, label noise, weight init and batch order.' },
  ]],
];
