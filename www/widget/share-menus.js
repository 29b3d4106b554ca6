// The Export menu (metrics as CSV or the CLI's JSON lines, the spec, a checkpoint, each chart as
// PNG or SVG, the command that runs the spec natively) and the Embed menu (an iframe or a
// <gradscope-widget> snippet for this run).

import { el } from '../dom.js';
import { download, fileStem, metricsJsonl, metricsCsv, cliLine, chartSvg, chartPng, chartsOf } from '../exports.js';
import { SITE } from './client.js';
import { PUBLISHED_SITE } from '../site-url.js';
import { joinHash, THEMES, VIEW_PARTS } from '../links.js';

/** A menu that renders its body each time it opens. */
function lazyMenu(menu, summary, title, render) {
  const body = el('div', { class: 'gs-menu-body' });
  menu.replaceChildren(el('summary', { title }, summary), body);
  menu.addEventListener('toggle', () => { if (menu.open) render(body); });
}

export function buildExportMenu(w) {
  lazyMenu(w.ui.exportMenu, 'Export', 'Download the metrics, the spec or the charts; run the spec natively', (body) => renderExport(w, body));
}

export function buildEmbedMenu(w) {
  lazyMenu(w.ui.embedMenu, 'Embed', 'Put this run into your own page: an iframe or a <gradscope-widget>', (body) => renderEmbed(w, body));
}

const button = (label, title, testid, fn) => el('button', { type: 'button', title, testid, onclick: fn }, label);
const blob = (t, type) => new Blob([t], { type });

function renderExport(w, body) {
  const { state, ui } = w;
  const lab = state.lab?.id;
  const stem = fileStem(lab, ui.presetSelect.value || 'custom', state.step);
  const cli = el('input', { type: 'text', readonly: true, value: cliLine(state.specHash), testid: 'cli-line', 'aria-label': 'Command that runs this spec natively', onfocus: (e) => e.target.select() });
  body.replaceChildren(
    el('div', { class: 'gs-menu-row' },
      button('Metrics CSV', 'One row per evaluation, one column per metric', 'export-csv', () => download(`${stem}.csv`, blob(metricsCsv(state.history), 'text/csv'))),
      button('Metrics JSON', 'The CLI\'s --out format (a header line, then one record per line): this page and `gradscope` read it back', 'export-json', () => download(`${stem}.jsonl`, blob(metricsJsonl(lab, state.spec, state.history), 'application/x-ndjson'))),
      button('Spec JSON', 'The spec as `gradscope run spec.json` reads it', 'export-spec', () => download(`${stem.replace(/-step\d+$/, '')}.spec.json`, blob(JSON.stringify(state.spec, null, 2) + '\n', 'application/json')))),
    el('div', { class: 'gs-menu-row' }, el('span', {}, 'Run natively:'), cli,
      button('Copy', 'Copy the command', 'copy-cli', () => copyText(cli))),
    el('div', { class: 'gs-menu-row' },
      button('Checkpoint', state.backendKind === 'cpu'
        ? 'The weights, optimizer state and history as they stand: `gradscope run --resume FILE` continues this run natively'
        : 'Weights are saved from the CPU backend only (switch the backend to CPU)', 'export-checkpoint', () => {
        state.checkpointStem = stem;
        w.send({ type: 'checkpoint' });
      }),
      el('span', { class: 'gs-summary' }, 'continue natively: gradscope run --resume FILE')),
    ...chartsOf(ui.mainCol).map(({ title, plot }, i) => chartRow(stem, title, plot, i)));
}

/** A chart's PNG and SVG downloads. */
function chartRow(stem, title, plot, i) {
  const name = `${stem}-${fileStem('', title, '').slice(1, -5)}`;
  return el('div', { class: 'gs-menu-row' }, el('span', { class: 'gs-chart-name' }, title),
    button('PNG', `${title} as a PNG image`, `export-png-${i}`, async () => download(`${name}.png`, await chartPng(plot, title))),
    button('SVG', `${title} as an SVG vector image`, `export-svg-${i}`, () => download(`${name}.svg`, blob(chartSvg(plot, title), 'image/svg+xml'))));
}

/** The Embed menu: every embed option with its snippets and a live preview. The base URL
 * defaults to where the site is published (site-url.js, written by the published build), not
 * where this page is open: a local copy writes snippets that work in a blog post. */
function renderEmbed(w, body) {
  const { state, view } = w;
  const attr = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const text = (testid, label, value) => el('input', { type: 'text', value, testid, 'aria-label': label });
  const base = text('embed-base', 'Base URL of the gradscope site', PUBLISHED_SITE ?? SITE.href);
  const controls = text('embed-controls', 'Controls the embed shows', view.controls ? [...view.controls].join(',') : 'train,backend');
  // Views: the lab's three parts, or its panels one by one (their data-view ids).
  const parts = Object.keys(VIEW_PARTS);
  const chosen = view.views ?? new Set(parts);
  const box = (id, label, title) => {
    const input = el('input', { type: 'checkbox', value: id, testid: `embed-view-${id}`, checked: chosen.has(id) });
    return el('label', { class: 'gs-check', title }, input, label);
  };
  const panels = [...w.ui.bottom.querySelectorAll('[data-view]')].map((p) => [p.dataset.view, p.querySelector('h3')?.firstChild?.textContent?.trim() || p.dataset.view]);
  const viewBoxes = el('div', { class: 'gs-menu-row', testid: 'embed-views' }, el('span', {}, 'Views:'),
    ...parts.map((id) => box(id, id, VIEW_PARTS[id])),
    el('span', { class: 'gs-muted' }, 'or one by one:'),
    ...panels.map(([id, title]) => box(id, id, title)));
  const autoplay = el('input', { type: 'checkbox', testid: 'embed-autoplay', checked: view.autoplay });
  const height = el('input', { type: 'number', min: 120, max: 4000, step: 10, value: 640, testid: 'embed-height', 'aria-label': 'iframe height in pixels' });
  const fit = el('input', { type: 'checkbox', testid: 'embed-fit', checked: true });
  const theme = el('select', { testid: 'embed-theme', 'aria-label': 'Theme' }, ...THEMES.map((t) => el('option', { value: t, selected: t === (view.theme ?? 'auto') }, t)));
  const iframe = el('textarea', { readonly: true, rows: 5, testid: 'embed-iframe', 'aria-label': 'iframe snippet' });
  const element = el('textarea', { readonly: true, rows: 3, testid: 'embed-element', 'aria-label': '<gradscope-widget> snippet' });
  const previewOn = el('input', { type: 'checkbox', testid: 'embed-preview-on' });
  const preview = el('iframe', { title: 'Preview of the embed', testid: 'embed-preview', hidden: true, class: 'gs-embed-preview' });

  /** The options as chosen: `views` null when all three parts are (the default). */
  const options = () => {
    const picked = [...viewBoxes.querySelectorAll('input:checked')].map((i) => i.value);
    const all = parts.every((p) => picked.includes(p)) && picked.length === parts.length;
    return {
      base: new URL(base.value.trim() || SITE.href, location.href).href.replace(/\/?$/, '/'),
      controls: controls.value.split(/[\s,]+/).filter(Boolean).join(','),
      views: all ? null : picked.join(','),
      autoplay: autoplay.checked,
      theme: theme.value === 'auto' ? null : theme.value,
      height: Math.max(120, Math.min(4000, Math.round(Number(height.value) || 640))),
      fit: fit.checked,
    };
  };
  /** The iframe's hash: the spec and the view options. */
  const frameHash = (o) => joinHash(state.specHash, {
    controls: new Set(o.controls ? o.controls.split(',') : []), hide: new Set(),
    views: o.views == null ? null : new Set(o.views ? o.views.split(',') : []), autoplay: o.autoplay, theme: o.theme,
  });
  // The frame's id, for its resize listener: unique per snippet, so two frames of one lab on a
  // page each find their own.
  const id = `gradscope-${state.lab?.id ?? 'run'}-${Math.random().toString(36).slice(2, 7)}`;
  let previewTimer = null;
  const fill = () => {
    const o = options();
    const title = `gradscope: ${state.lab?.title ?? ''}`;
    const src = `${o.base}embed.html#${frameHash(o)}`;
    iframe.value = `<iframe id="${id}" src="${attr(src)}" title="${attr(title)}" ` +
      `style="width:100%;height:${o.height}px;border:0" loading="lazy"></iframe>` +
      (o.fit ? '\n<script>\n' +
        '// The frame posts its height: size it to its contents.\n' +
        'addEventListener(\'message\', (e) => {\n' +
        `  const frame = document.getElementById('${id}');\n` +
        '  if (e.source === frame.contentWindow && e.data && e.data.type === \'gradscope:height\') frame.style.height = e.data.height + \'px\';\n' +
        '});\n</script>' : '');
    element.value = `<script type="module" src="${attr(`${o.base}gradscope-embed.js`)}"></script>\n` +
      `<gradscope-widget spec="${attr(state.specHash)}" controls="${attr(o.controls)}"` +
      `${o.views != null ? ` views="${attr(o.views)}"` : ''}${o.theme ? ` theme="${o.theme}"` : ''}${o.autoplay ? ' autoplay' : ''}></gradscope-widget>`;
    // The preview runs the frame from this site (the base URL may not serve this build yet).
    preview.hidden = !previewOn.checked;
    preview.style.height = `${o.height}px`;
    clearTimeout(previewTimer);
    if (previewOn.checked) {
      const local = `${SITE.href}embed.html#${frameHash(o)}`;
      previewTimer = setTimeout(() => { if (preview.src !== local) preview.src = local; }, 300);
    } else if (preview.src) {
      preview.removeAttribute('src'); // gives the preview's worker back
    }
  };
  // Closing the menu stops the preview (and gives its worker back).
  w.ui.embedMenu.addEventListener('toggle', () => { previewOn.checked = false; fill(); }, { once: true });
  for (const input of [base, controls, height]) input.addEventListener('input', fill);
  for (const input of [viewBoxes, autoplay, fit, theme, previewOn]) input.addEventListener('change', fill);
  fill();
  const copy = (ta) => el('button', { type: 'button', onclick: () => copyText(ta) }, 'Copy');
  body.replaceChildren(
    el('label', { class: 'gs-menu-row' }, 'Base URL (where gradscope is published)', base),
    el('label', { class: 'gs-menu-row' }, 'Controls shown (names in docs/embedding.md; empty: charts only)', controls),
    viewBoxes,
    el('div', { class: 'gs-menu-row' },
      el('label', { class: 'gs-check' }, autoplay, 'autoplay'),
      el('label', { class: 'gs-check' }, 'theme ', theme),
      el('label', { class: 'gs-check' }, 'iframe height ', height, ' px'),
      el('label', { class: 'gs-check' }, fit, 'fit the iframe to its contents')),
    el('div', { class: 'gs-menu-row' }, el('b', {}, 'iframe'), copy(iframe)), iframe,
    el('div', { class: 'gs-menu-row' }, el('b', {}, 'script + element'), copy(element)), element,
    el('label', { class: 'gs-menu-row' }, previewOn, 'Live preview (starts another worker)'), preview);
}

/** Copies an input's text; where the Clipboard API is missing (plain http) or refused, selects
 * it for the reader to copy. */
function copyText(input) {
  input.select();
  navigator.clipboard?.writeText(input.value).catch(() => {});
}
