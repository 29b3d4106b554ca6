// What the scans lab's views share: the models' colours and the token strip.

import { el } from '../../dom.js';

// Okabe–Ito colours (distinct under the common colour-vision deficiencies), led by the shell's blue and orange.
export const MODEL_COLORS = ['#1c7ed6', '#d9480f', '#009e73', '#cc79a7'];

/** A token strip: one cell per token, data tokens coloured, the answer region marked. */
export function tokenStrip(tokens, answerStart, task) {
  const strip = el('div', { class: 'gs-tokens' });
  tokens.forEach((t, i) => {
    const data = task === 'selective_copying' ? t >= 2 : t === 0;
    strip.append(el('span', { class: `gs-tok${data ? ' data' : ''}${i >= answerStart ? ' answer' : ''}`, title: `position ${i}: token ${t}` }, String(t)));
  });
  return strip;
}
