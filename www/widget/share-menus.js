// The Export menu (metrics as CSV or the CLI's JSON lines, the spec, a checkpoint, each chart as
// PNG or SVG, the command that runs the spec natively) and the Embed menu (an iframe or a
// <gradscope-widget> snippet for this run).

import { el } from '../dom.js';
import { download, fileStem, metricsJsonl, metricsCsv, cliLine, chartSvg, chartPng, chartsOf } from '../exports.js';
import { SITE } from './client.js';

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

function renderEmbed(w, body) {
  const { state, view } = w;
  const controls = el('input', { type: 'text', value: view.controls ? [...view.controls].join(',') : 'train,backend', testid: 'embed-controls', 'aria-label': 'Controls the embed shows' });
  const iframe = el('textarea', { readonly: true, rows: 3, testid: 'embed-iframe', 'aria-label': 'iframe snippet' });
  const element = el('textarea', { readonly: true, rows: 3, testid: 'embed-element', 'aria-label': '<gradscope-widget> snippet' });
  const attr = (v) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const fill = () => {
    const c = controls.value.split(/[\s,]+/).filter(Boolean).join(',');
    const title = `gradscope: ${state.lab?.title ?? ''}`;
    const views = view.views ? [...view.views].join(',') : null;
    iframe.value = `<iframe src="${attr(`${SITE.href}embed.html#${state.specHash}&controls=${c}${views ? `&views=${views}` : ''}`)}" title="${attr(title)}" ` +
      'style="width:100%;height:640px;border:0" loading="lazy"></iframe>';
    element.value = `<script type="module" src="${attr(`${SITE.href}gradscope-embed.js`)}"></script>\n` +
      `<gradscope-widget spec="${attr(state.specHash)}" controls="${attr(c)}"${views ? ` views="${attr(views)}"` : ''}></gradscope-widget>`;
  };
  controls.addEventListener('input', fill);
  fill();
  const copy = (ta) => el('button', { type: 'button', onclick: () => copyText(ta) }, 'Copy');
  body.replaceChildren(
    el('label', { class: 'gs-menu-row' }, 'Controls shown (names in docs/embedding.md; empty: charts only)', controls),
    el('div', { class: 'gs-menu-row' }, el('b', {}, 'iframe'), copy(iframe)), iframe,
    el('div', { class: 'gs-menu-row' }, el('b', {}, 'script + element'), copy(element)), element);
}

/** Copies an input's text; where the Clipboard API is missing (plain http) or refused, selects
 * it for the reader to copy. */
function copyText(input) {
  input.select();
  navigator.clipboard?.writeText(input.value).catch(() => {});
}
