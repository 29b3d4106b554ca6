// The spec form: one schema of fields, each editing one dotted path of the spec. The worker
// validates every edit (src/spec); the form only shows what the current spec has.

const has = (path) => (spec) => getPath(spec, path) !== undefined;
const isMlp = has('grokking.model.mlp');
const isTransformer = has('grokking.model.transformer');
const isEmbedding = (spec) => typeof getPath(spec, 'grokking.model.mlp.input') === 'object';

export const FIELDS = [
  ['Task', [
    { path: 'grokking.task.op', label: 'Operation', kind: 'enum', choices: [['add', 'a + b'], ['sub', 'a − b'], ['mul', 'a · b'], ['div', 'a ÷ b'], ['quad', 'a² + ab + b²']] },
    { path: 'grokking.task.p', label: 'Modulus p (prime)', kind: 'int' },
    { path: 'grokking.task.train_frac', label: 'Train fraction', kind: 'float' },
    { path: 'grokking.task.label_noise', label: 'Label noise ξ', kind: 'float' },
    { path: 'grokking.task.pairs', label: 'Pairs', kind: 'enum', choices: [['all', 'all (a, b)'], ['unordered', 'a ≤ b']] },
  ]],
  ['Model', [
    { path: 'grokking.model', label: 'Architecture', kind: 'model' },
    { path: 'grokking.model.mlp.input', label: 'Input', kind: 'mlp-input', when: isMlp },
    { path: 'grokking.model.mlp.input.embedding.dim', label: 'Embedding dim', kind: 'int', when: isEmbedding },
    { path: 'grokking.model.mlp.input.embedding.tied', label: 'Tied a/b table', kind: 'bool', when: isEmbedding },
    { path: 'grokking.model.mlp.input.embedding.shared_input_layer', label: 'Shared first layer', kind: 'bool', when: isEmbedding },
    { path: 'grokking.model.mlp.input.embedding.tied_output', label: 'Read out via Eᵀ', kind: 'bool', when: isEmbedding },
    { path: 'grokking.model.mlp.width', label: 'Width', kind: 'int', when: isMlp },
    { path: 'grokking.model.mlp.depth', label: 'Hidden layers', kind: 'int', when: isMlp },
    { path: 'grokking.model.mlp.activation', label: 'Activation', kind: 'enum', when: isMlp, choices: [['quadratic', 'x²'], ['relu', 'ReLU'], ['gelu', 'GELU']] },
    { path: 'grokking.model.mlp.bias', label: 'Biases', kind: 'bool', when: isMlp },
    { path: 'grokking.model.mlp.init', label: 'Init', kind: 'enum', when: isMlp, choices: [['doshi', 'Doshi N(0, σ²)'], ['torch_default', 'PyTorch default'], ['haiku', 'Haiku (PAIR)']] },
    { path: 'grokking.model.mlp.init_scale', label: 'Init scale', kind: 'float', when: isMlp },
    { path: 'grokking.model.transformer.layers', label: 'Layers', kind: 'int', when: isTransformer },
    { path: 'grokking.model.transformer.d_model', label: 'd_model', kind: 'int', when: isTransformer },
    { path: 'grokking.model.transformer.heads', label: 'Heads', kind: 'int', when: isTransformer },
    { path: 'grokking.model.transformer.d_mlp', label: 'd_mlp', kind: 'int', when: isTransformer },
    { path: 'grokking.model.transformer.layer_norm', label: 'LayerNorm', kind: 'bool', when: isTransformer },
    { path: 'grokking.model.transformer.causal', label: 'Causal', kind: 'bool', when: isTransformer },
    { path: 'grokking.model.transformer.init_scale', label: 'Init scale', kind: 'float', when: isTransformer },
  ]],
  ['Loss', [
    { path: 'grokking.loss.kind', label: 'Loss', kind: 'enum', choices: [['mse', 'MSE (one-hot)'], ['cross_entropy', 'Softmax cross-entropy'], ['stablemax', 'StableMax cross-entropy']] },
    { path: 'grokking.loss.precision', label: 'Precision', kind: 'enum', choices: [['f32', 'float32'], ['f64', 'float64 (CPU only)']] },
    { path: 'grokking.loss.output_scale', label: 'Output scale α', kind: 'float' },
    { path: 'grokking.loss.center', label: 'Center at init', kind: 'bool' },
    { path: 'grokking.loss.class_mean', label: 'CE ÷ p (PAIR)', kind: 'bool', when: (s) => getPath(s, 'grokking.loss.kind') !== 'mse' },
  ]],
  ['Optimizer', [
    { path: 'grokking.optimizer.kind', label: 'Optimizer', kind: 'enum', choices: [['adam_w', 'AdamW'], ['adam', 'Adam'], ['sgd', 'SGD']] },
    { path: 'grokking.optimizer.orthograd', label: '⊥Grad', kind: 'bool' },
    { path: 'grokking.optimizer.lr', label: 'Learning rate', kind: 'float' },
    { path: 'grokking.optimizer.weight_decay', label: 'Weight decay', kind: 'float' },
    { path: 'grokking.optimizer.beta1', label: 'β₁', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd' },
    { path: 'grokking.optimizer.beta2', label: 'β₂', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd' },
    { path: 'grokking.optimizer.eps', label: 'ε', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') !== 'sgd' },
    { path: 'grokking.optimizer.momentum', label: 'Momentum', kind: 'float', when: (s) => getPath(s, 'grokking.optimizer.kind') === 'sgd' },
    { path: 'grokking.optimizer.warmup_steps', label: 'Warm-up steps', kind: 'int' },
    { path: 'grokking.optimizer.grad_clip', label: 'Clip ‖g‖ (0 = off)', kind: 'float' },
  ]],
  ['Training', [
    { path: 'grokking.training.steps', label: 'Steps', kind: 'int' },
    { path: 'grokking.training.batch_size', label: 'Batch (0 = full)', kind: 'int' },
    { path: 'grokking.training.eval_every', label: 'Evaluate every', kind: 'int' },
    { path: 'grokking.seed', label: 'Seed', kind: 'int' },
  ]],
];

export function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

export function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)] = value;
}

/** Reads an input's value as the spec wants it; bad text is passed through so the worker names
 * the field in its error. */
export function inputValue(field, input) {
  if (field.kind === 'bool') return input.checked;
  if (field.kind === 'model') return { [input.value]: {} };
  if (field.kind === 'mlp-input') return input.value === 'one_hot' ? 'one_hot' : { embedding: {} };
  const text = input.value.trim();
  if (field.kind === 'int' || field.kind === 'float') {
    const n = Number(text);
    return text === '' || Number.isNaN(n) ? text : n;
  }
  return text;
}

/** Shows `spec`'s value in `input`. */
export function showValue(field, input, spec) {
  const v = getPath(spec, field.path);
  if (field.kind === 'bool') input.checked = Boolean(v);
  else if (field.kind === 'model') input.value = v ? Object.keys(v)[0] : 'mlp';
  else if (field.kind === 'mlp-input') input.value = typeof v === 'object' ? 'embedding' : 'one_hot';
  else input.value = v == null ? '' : String(v);
}
