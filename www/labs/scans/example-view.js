// The scans lab's example view: a held-out sequence (or one you type) with each model's answers.

import { el, swatch } from '../../dom.js';
import { MODEL_COLORS, tokenStrip } from './tokens.js';

/** `ctx`: the lab's mount context; `colorOf(name)`: a model's colour. Returns { root, title,
 * draw(analysis), reset(), analyseOptions(), event(ev) }. */
export function exampleView(ctx, colorOf) {
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

  /** Shows the analysis's example and each model's answers. */
  function draw(a) {
    const models = a.models;
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
  }

  return {
    root: el('div', { class: 'gs-panel gs-wide', 'data-view': 'example' }, el('h3', {}, exampleTitle, analysisTitle), exampleBox, typedRow),
    draw,
    /** A new run: back to the held-out sequence. */
    reset() {
      typed = null;
      typedBack.disabled = true;
      typedInput.value = '';
    },
    analyseOptions: () => (typed ? { example: typed } : {}),
    event(ev) {
      // A refused sequence: back to the held-out one (the input keeps the text to fix).
      if (ev.type === 'error' && ev.field === 'example') useTyped(null);
    },
  };
}
