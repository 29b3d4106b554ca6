// Small DOM and formatting helpers shared by the shell and the lab modules.

/** `el('div', { class, testid, onclick, … }, ...children)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'class') node.className = v;
    // Through CSSOM, not a style attribute: a strict Content-Security-Policy (style-src 'self')
    // blocks inline style attributes but not style properties set from script.
    else if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c);
  return node;
}

export const fmtAcc = (v) => (v == null ? '–' : v.toFixed(3));
export const fmtLoss = (v) => (v == null ? '–' : v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4));
export const fmtFrac = (v) => (v == null ? '–' : v.toFixed(3));
export const stepText = (s) => (s == null ? 'never' : `step ${s}`);

/** A titled panel of a lab's charts or views; `view` is its id for `views=` (links.js). */
export const panel = (title, body, testid, view) => el('div', { class: 'gs-panel', testid, 'data-view': view }, el('h3', {}, title), body);

/** A metric tile: [tile, value element]. */
export function tile(key, testid, title) {
  const v = el('div', { class: 'v', testid }, '–');
  return [el('div', { class: 'gs-tile', title }, el('div', { class: 'k' }, key), v), v];
}

/** Runs `steps` one per macrotask (each stays a short main-thread task); a newer call with
 * the same `token` object cancels the rest. */
export function runSplit(token, steps) {
  const generation = ++token.drawn;
  const next = (i) => {
    if (i >= steps.length || generation !== token.drawn) return;
    steps[i]();
    setTimeout(() => next(i + 1), 0);
  };
  next(0);
}

/** A colour key before a name. Names stay in the ink colour: coloured text on white fails
 * WCAG contrast for light series colours (axe-core's color-contrast rule). */
export const swatch = (color) => el('i', { class: 'gs-swatch', style: `background: ${color}`, 'aria-hidden': 'true' });
