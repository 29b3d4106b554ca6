// The grokking lab's operation control: a built-in operation, or your own expression over a, b
// and p (src/labs/grokking/expr.rs), with a p × p preview of its labels as you type. The worker parses
// and labels (Command::PreviewOperation), so the preview and the dataset share one evaluator.

import { el } from '../../dom.js';
import { viridis } from '../../views.js';

const BUILTIN = [['add', 'a + b'], ['sub', 'a − b'], ['mul', 'a · b'], ['div', 'a ÷ b'], ['quad', 'a² + ab + b²']];
/** The built-ins as expressions of the language (ModOp::expression): a starting point to edit. */
const AS_EXPRESSION = { add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b', quad: 'a^2 + a*b + b^2' };
const EXPR_TIP = 'Your own operation over a, b (0…p−1) and p: + − * ^, / (times the modular inverse; pairs whose divisor is 0 mod p are left out), mod, comparisons, and "x if condition else y". Exact integers, reduced mod p at the end.';
const PREVIEW_DELAY_MS = 150;

/**
 * `onChange()`: the value changed (load it). `requestPreview(expr)`: ask the worker for the
 * labels of `expr` at the current p. Returns the control: `root` (the form's input),
 * `read()` → the spec's `op` value, `show(op)`, and `preview(event)` for the worker's answer.
 */
export function opControl({ onChange, requestPreview }) {
  const select = el('select', { 'aria-label': 'Operation' },
    ...BUILTIN.map(([v, t]) => el('option', { value: v }, t)),
    el('option', { value: 'expr' }, 'your own…'));
  const text = el('input', { type: 'text', spellcheck: 'false', autocomplete: 'off', testid: 'field-task-op-expr',
    'aria-label': 'Your operation', placeholder: '(a*b + 3) mod p', title: EXPR_TIP });
  const canvas = el('canvas', { class: 'gs-op-preview', testid: 'op-preview', width: 1, height: 1, role: 'img', 'aria-label': 'Labels of the operation over a (rows) and b (columns)' });
  const caption = el('span', { class: 'gs-op-caption', testid: 'op-preview-caption', 'aria-live': 'polite' });
  const custom = el('span', { class: 'gs-op-custom' }, text, canvas, caption);
  const root = el('span', { class: 'gs-op' }, select, custom);
  let timer = null;
  let asked = '';

  function showCustom(on) {
    custom.hidden = !on;
  }
  function ask() {
    clearTimeout(timer);
    timer = setTimeout(() => { asked = text.value; requestPreview(text.value); }, PREVIEW_DELAY_MS);
  }
  select.addEventListener('change', (e) => {
    e.stopPropagation();
    if (select.value === 'expr') {
      const was = BUILTIN.find(([v]) => v === select.dataset.previous)?.[0];
      if (!text.value) text.value = AS_EXPRESSION[was] ?? 'a + b';
      showCustom(true);
      ask();
      text.focus();
    }
    onChange();
  });
  text.addEventListener('input', ask);
  text.addEventListener('change', (e) => { e.stopPropagation(); onChange(); });

  return {
    root,
    read() {
      return select.value === 'expr' ? { expr: text.value } : select.value;
    },
    show(op) {
      const isExpr = op && typeof op === 'object';
      select.value = isExpr ? 'expr' : (op ?? 'add');
      select.dataset.previous = select.value;
      if (isExpr && document.activeElement !== text) text.value = op.expr;
      showCustom(isExpr);
      if (isExpr && asked !== text.value) ask();
    },
    /** The worker's Event::OperationPreview. */
    preview(ev) {
      if (ev.expr !== text.value) return; // an answer to an older keystroke
      if (ev.error) {
        caption.textContent = ev.error;
        caption.classList.add('gs-op-error');
        text.setAttribute('aria-invalid', 'true');
        return;
      }
      caption.classList.remove('gs-op-error');
      text.removeAttribute('aria-invalid');
      const p = ev.p;
      canvas.width = p;
      canvas.height = p;
      const ctx = canvas.getContext('2d');
      const img = ctx.createImageData(p, p);
      ev.labels.forEach((y, i) => {
        const [r, g, b] = y == null ? [128, 128, 128] : viridis(y / Math.max(1, p - 1));
        img.data.set([r, g, b, y == null ? 60 : 255], i * 4);
      });
      ctx.putImageData(img, 0, 0);
      const left = p * p - ev.pairs;
      caption.textContent = `${ev.pairs} pairs${left ? ` (${left} left out)` : ''}${ev.commutative ? ' · commutative' : ''}`;
    },
  };
}
