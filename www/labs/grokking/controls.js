// The grokking lab's own form control: the operation, a built-in or your own expression,
// previewed by the worker as you type. Its other fields come from the form schema
// (src/labs/grokking/schema.rs), which names this control `operation`.

import { getPath } from '../../form.js';
import { opControl } from './op-field.js';

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

export const CONTROLS = { operation: operationControl };
