// Links and control visibility. A gradscope URL hash carries the spec (`grokking.task.p=97&…`,
// decoded and validated by the worker: src/spec/url_hash.rs) and, beside it, view options that
// are not part of the spec and never reach the worker:
//   `controls=train,lr`     an allow-list: only these controls show (wins over hide flags);
//   `<control>_hide=true`   TF Playground's convention: hide one control (`lr_hide=true`);
//   `autoplay=true`         start training once loaded (embeds);
//   `views=summary,charts`  which of the lab's outputs show (VIEW_PARTS; default all), to keep
//                           an embed in a blog post compact; a chart or view by its id
//                           (`views=loss`, `views=summary,fourier`: each lab panel's
//                           data-view attribute, which the Embed menu lists);
//   `theme=dark`            light, dark, or auto (the default: the reader's OS setting);
//   `metrics=URL`           show a recorded run (a metrics file, relative to the page) at
//                           once, with "Train it yourself" to train its spec live (replay.js).
// A control is named by a UI part (CONTROL_PARTS) or by a spec field: its path after the lab
// (`optimizer.lr`) or that path's last part (`lr`). `form` names all fields at once.

/** The named parts of a widget besides the spec fields. */
export const CONTROL_PARTS = {
  preset: 'the preset menu and its source note',
  train: 'Train, Pause, Step and Reset, and the progress line',
  backend: 'the backend menu (Auto / WebGPU / CPU)',
  bench: 'the Benchmark button',
  compare: 'Pin run, loading a metrics file, and the pinned runs',
  export: 'the Export menu (CSV, JSON, PNG, SVG, spec, CLI line)',
  runs: 'the saved-runs list',
  embed: 'the Embed button (iframe and <gradscope-widget> snippets)',
  form: 'every spec field',
};

/** The lab's outputs, for `views=`. */
export const VIEW_PARTS = {
  summary: 'the metric tiles, the verdict and the run\'s facts',
  charts: 'the lab\'s main charts (or, in the gradient-flow lab, its heatmaps)',
  analysis: 'the lab\'s other views (spectra, examples, kernels, profiles, the scan race)',
};

/** Percent-decoding that never throws: a stray `%` (`train_frac=50%`) is left as it is, for
 * the worker to refuse by field instead of the page failing to start. */
function decode(text) {
  try { return decodeURIComponent(text); } catch { return text; }
}

/** Splits a hash (with or without `#`) into the spec part and the view options. */
export function splitHash(hash) {
  const body = String(hash || '').replace(/^#/, '');
  const spec = [];
  const view = { controls: null, hide: new Set(), autoplay: false, views: null, theme: null, metrics: null };
  for (const part of body.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = () => decode(eq < 0 ? '' : part.slice(eq + 1).replace(/\+/g, ' '));
    // View options first: `optimizer.lr_hide` starts like a spec key but is not one.
    if (key === 'controls') {
      view.controls = parseControls(value());
    } else if (key === 'views') {
      view.views = parseControls(value());
    } else if (key === 'metrics') {
      view.metrics = value() || null;
    } else if (key === 'theme') {
      view.theme = parseTheme(value());
    } else if (key === 'autoplay') {
      view.autoplay = value() !== 'false';
    } else if (key.endsWith('_hide')) {
      if (value() !== 'false') view.hide.add(key.slice(0, -'_hide'.length));
    } else {
      spec.push(part); // a spec pair, or a lab key alone (`#scans`); the worker judges it
    }
  }
  return { spec: spec.join('&'), view };
}

/** The spec a hash body holds, read as the worker reads it (src/spec/url_hash.rs: dotted keys
 * nest, `true`/`false`/`null` and decimal numbers are parsed, the rest stays text), but not
 * validated: the page shows it in the form while the worker loads, and the worker's answer
 * (the validated spec, or an error) replaces it. Null if it is not a spec. */
export function specOfHash(body) {
  const root = {};
  for (const part of String(body).split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const path = decode(part.slice(0, eq)).split('.');
    const raw = decode(part.slice(eq + 1).replace(/\+/g, ' '));
    let node = root;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key];
    }
    node[path.at(-1)] = LEAVES[raw] !== undefined ? LEAVES[raw]
      : /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/.test(raw) && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return root;
}

const LEAVES = { true: true, false: false, null: null };

/** The themes a widget takes (`theme=`): `auto` follows the reader's OS. */
export const THEMES = ['auto', 'light', 'dark'];

/** A theme option's value: 'light' or 'dark', or null for auto (anything else is auto). */
export function parseTheme(text) {
  const t = String(text ?? '').trim().toLowerCase();
  return t === 'light' || t === 'dark' ? t : null;
}

/** `"train, lr"` → Set {train, lr}; an empty list shows no controls at all (charts only). */
export function parseControls(text) {
  return new Set(String(text).split(/[\s,]+/).filter(Boolean));
}

/** The view options as hash pairs, to append to a spec hash (empty string if none). */
export function viewHash(view) {
  const parts = [];
  if (view.controls) parts.push(`controls=${[...view.controls].join(',')}`);
  for (const name of view.hide) parts.push(`${name}_hide=true`);
  if (view.views) parts.push(`views=${[...view.views].join(',')}`);
  if (view.autoplay) parts.push('autoplay=true');
  if (view.theme) parts.push(`theme=${view.theme}`);
  if (view.metrics) parts.push(`metrics=${encodeURIComponent(view.metrics)}`);
  return parts.join('&');
}

/** Spec hash + view options. */
export function joinHash(specHash, view) {
  const extra = viewHash(view);
  return extra ? `${specHash}&${extra}` : specHash;
}

/** The names a field answers to: `optimizer.lr` and `lr` for `grokking.optimizer.lr`. */
export function fieldNames(path) {
  const rest = path.split('.').slice(1);
  return [rest.join('.'), rest.at(-1)];
}

/** Whether the lab's output `part` (VIEW_PARTS) shows whole under `view`; a part not shown
 * whole may still show some of its panels by id (layout.js's applyView). */
export const showsOutput = (view, part) => !view.views || view.views.has(part);

/** Whether a control shows under `view`. `names` are the control's names (a part, or a field's
 * names plus `form`). */
export function shows(view, names) {
  if (view.controls) return names.some((n) => view.controls.has(n));
  return !names.some((n) => view.hide.has(n));
}

/** The lab key of a spec object (its top-level key) or of a URL hash (its first segment). */
export function labOf(specOrHash) {
  if (typeof specOrHash === 'string') {
    const body = specOrHash.replace(/^#/, '');
    return body.split(/[.=&]/)[0];
  }
  return specOrHash ? Object.keys(specOrHash)[0] : null;
}
