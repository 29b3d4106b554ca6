// The widget's form: the preset picker and the lab's field sets (the form schema's, see
// ../form.js), filled from the loaded spec. An edit sends the spec with that one path changed;
// the worker validates it.

import { el } from '../dom.js';
import { setPath, fieldInput, inputValue, schemaGroups, showValue } from '../form.js';
import { fieldNames, shows } from '../links.js';

/** The lab's field groups for `spec`: [[legend, fields]]. */
export function labFields(w, spec) {
  return schemaGroups(w.state.lab.id, spec, w.state.lab.controls);
}

/** (Re)builds the form's field sets from the lab's fields for `spec`. */
export function buildForm(w, spec) {
  const groups = labFields(w, spec);
  w.fieldRows = [];
  w.ui.form.replaceChildren(w.ui.presetSet);
  for (const [legend, fields] of groups) {
    const fs = el('fieldset', {}, el('legend', {}, legend));
    for (const field of fields) {
      const input = fieldInput(field, { onChange: () => onFieldChange(w, field, input), send: w.send, spec: () => w.state.spec });
      input.dataset.testid = 'field-' + field.path.split('.').slice(1).join('-'); // field-optimizer-lr
      input.addEventListener('change', () => onFieldChange(w, field, input));
      // The tooltip says what the control does and where it comes from; screen readers read
      // it as the input's description.
      if (field.tip) input.title = field.tip;
      const row = el('label', { title: field.tip }, field.label, input);
      w.fieldRows.push({ field, input, row, names: [...fieldNames(field.path), 'form'] });
      fs.append(row);
    }
    w.ui.form.append(fs);
  }
  w.state.fieldSignature = fieldSignature(groups);
}

/** The paths of the fields, in order: the form is rebuilt when they change. */
export function fieldSignature(groups) {
  return groups.flatMap(([, fs]) => fs.map((f) => f.path)).join('|');
}

/** Shows `spec` in the form: each visible field's value, and the preset it is, if any. */
export function fillForm(w, spec) {
  const { ui, state } = w;
  for (const { field, input, row, names } of w.fieldRows) {
    const visible = (!field.when || field.when(spec)) && shows(w.view, names);
    row.hidden = !visible;
    if (visible) showValue(field, input, spec);
    input.removeAttribute('aria-invalid');
  }
  const match = state.presets.find((p) => JSON.stringify(p.spec) === JSON.stringify(spec));
  ui.presetSelect.value = match ? match.name : '';
  ui.presetNote.textContent = match ? `${match.expect} (${match.source})` : 'Custom spec: every field is in the link.';
  state.view?.formFilled?.(spec);
  w.applyView();
}

/** The preset picker holds the shown lab's presets, and "Custom". */
export function fillPresets(w) {
  const mine = w.state.presets.filter((p) => p.lab === w.state.lab?.id);
  w.ui.presetSelect.replaceChildren(...mine.map((p) => el('option', { value: p.name }, p.title)),
    el('option', { value: '' }, 'Custom'));
}

function onFieldChange(w, field, input) {
  const base = structuredClone(w.state.spec || w.state.lastGood || w.state.painted || {});
  setPath(base, field.path, inputValue(field, input));
  w.send({ type: 'load', spec: base });
}
