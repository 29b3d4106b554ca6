// The spec form's mechanics: the fields of a lab's form, read from the schema the Rust side
// writes (form-schema.js: `gradscope schema --out www/form-schema.js`, from each lab's
// src/labs/<lab>/schema.rs), reading and writing a spec's dotted paths, and the input of each
// field kind. The worker validates every edit; the form only shows what the current spec has.
//
// A field: { path, label, kind, tip, when?(spec), choices? }. Kinds: 'int', 'float', 'text'
// (a text input), 'bool' (a checkbox), 'enum' (a select of `choices`: [[value, text], …]), and
// 'custom': `field.control({ onChange, send, spec })` builds the input and returns
// { root, read() → the spec's value, show(value), event?(workerEvent) } (the schema's
// 'variant' fields, and a lab's own controls such as the grokking lab's operation field, which
// asks the worker for a preview).

import { el } from './dom.js';
import SCHEMA from './form-schema.js';

/** The form's field groups of lab `labId` for `spec`: [[legend, fields]], a group the schema
 * repeats per model (`each`) once per model of `spec`; `controls`: the lab's own controls by
 * the name the schema gives them. */
export function schemaGroups(labId, spec, controls = {}) {
  const lab = SCHEMA.labs.find((l) => l.id === labId);
  if (!lab) throw new Error(`the form schema has no lab "${labId}": regenerate www/form-schema.js`);
  return lab.groups.flatMap((g) => {
    const names = g.each ? Object.keys(getPath(spec, g.each) || {}) : [null];
    return names.map((name) => {
      const sub = (text) => (name == null ? text : text.replaceAll('{name}', name));
      return [sub(g.legend), g.fields.map((f) => formField(f, sub, controls))];
    });
  });
}

/** The `[value, label]` choices of an enum field of the schema (`scans.models.{name}.s4d_init`). */
export function schemaChoices(labId, path) {
  const lab = SCHEMA.labs.find((l) => l.id === labId);
  const field = lab?.groups.flatMap((g) => g.fields).find((f) => f.path === path);
  if (!field?.choices) throw new Error(`the form schema has no choices at ${path}`);
  return field.choices.map((c) => [c.value, c.label]);
}

/** A schema field as the form takes it: the tooltip says the allowed range, the condition is a
 * function of the spec, a variant is a select of its own. */
function formField(f, sub, controls) {
  const field = { path: sub(f.path), label: f.label, kind: f.kind, tip: f.allowed ? `${f.help} Allowed: ${f.allowed}.` : f.help };
  if (f.when) field.when = condition({ ...f.when, path: sub(f.when.path) });
  if (f.kind === 'enum') field.choices = f.choices.map((c) => [c.value, c.label]);
  if (f.kind === 'variant') Object.assign(field, { kind: 'custom', control: () => variantControl(f.choices) });
  if (f.kind === 'custom') {
    field.control = controls[f.control];
    if (!field.control) throw new Error(`${f.path}: the lab has no control "${f.control}"`);
  }
  return field;
}

/** The schema's condition (src/spec/schema.rs `When`): the path exists, or equals / differs
 * from a value, or is one of several. */
function condition(when) {
  if ('equals' in when) return (spec) => getPath(spec, when.path) === when.equals;
  if ('not_equals' in when) return (spec) => getPath(spec, when.path) !== when.not_equals;
  if ('one_of' in when) return (spec) => when.one_of.includes(getPath(spec, when.path));
  return (spec) => getPath(spec, when.path) !== undefined;
}

/** A select over an enum with data: a choice marked `object` is written `{"<value>": {}}`
 * (the worker fills in its defaults), the others as the bare name. */
function variantControl(choices) {
  const select = el('select', {}, ...choices.map((c) => el('option', { value: c.value }, c.label)));
  const object = new Set(choices.filter((c) => c.object).map((c) => c.value));
  return {
    root: select,
    read: () => (object.has(select.value) ? { [select.value]: {} } : select.value),
    show: (v) => { select.value = v && typeof v === 'object' ? Object.keys(v)[0] : (v ?? choices[0].value); },
  };
}

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
