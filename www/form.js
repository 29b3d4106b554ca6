// The spec form's mechanics: reading and writing a spec's dotted paths, and the input of each
// field kind. The fields themselves are each lab's (www/labs/<lab>/); the worker validates every
// edit, the form only shows what the current spec has.
//
// A field: { path, label, kind, tip, when?(spec), choices? }. Kinds: 'int', 'float', 'text'
// (a text input), 'bool' (a checkbox), 'enum' (a select of `choices`: [[value, text], …]), and
// 'custom': `field.control({ onChange, send, spec })` builds the input and returns
// { root, read() → the spec's value, show(value), event?(workerEvent) } (a lab's own control,
// such as the grokking lab's operation field, which asks the worker for a preview).

import { el } from './dom.js';

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

/** The input of `field`; `ctx`: { onChange(), send(cmd), spec() } for a custom control. */
export function fieldInput(field, ctx) {
  if (field.kind === 'custom') {
    const control = field.control(ctx);
    control.root.control = control;
    return control.root;
  }
  if (field.kind === 'enum') return el('select', {}, ...field.choices.map(([v, t]) => el('option', { value: v }, t)));
  if (field.kind === 'bool') return el('input', { type: 'checkbox' });
  return el('input', { type: 'text', inputmode: 'decimal', spellcheck: 'false' });
}

/** Reads an input's value as the spec wants it; bad text is passed through so the worker names
 * the field in its error. */
export function inputValue(field, input) {
  if (field.kind === 'bool') return input.checked;
  if (field.kind === 'custom') return input.control.read();
  const text = input.value.trim();
  if (field.kind === 'int' || field.kind === 'float') {
    const n = Number(text);
    // Integers past 2^53 (a seed) would be rounded as a Number: pass the digits as a string,
    // which the spec reads exactly (src/spec/seed.rs).
    if (field.kind === 'int' && /^\d+$/.test(text) && !Number.isSafeInteger(n)) return text;
    return text === '' || Number.isNaN(n) ? text : n;
  }
  return text;
}

/** Shows `spec`'s value in `input`. */
export function showValue(field, input, spec) {
  const v = getPath(spec, field.path);
  if (field.kind === 'bool') input.checked = Boolean(v);
  else if (field.kind === 'custom') input.control.show(v);
  else input.value = v == null ? '' : String(v);
}
