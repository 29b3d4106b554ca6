// Exports of the run on screen: metrics as CSV and as the CLI's `--out` JSON-lines file (header
// line, then one record per evaluation: src/train/metrics.rs), the spec as the CLI's JSON, each
// line chart as PNG and SVG, and the `gradscope run` line that trains the same spec natively.
// Everything is built here from data the page already has; nothing is sent anywhere.

import { chartsIn } from './charts.js';

/** Mirrors METRICS_FORMAT_VERSION in src/train/metrics.rs. */
export const METRICS_FORMAT_VERSION = 2;

/** Saves `blob` as `name` (an `<a download>` click: no popup, works inside a shadow root). */
export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file-name-safe stem: `grokking-nanda-mlp-step400`. */
export function fileStem(lab, name, step) {
  const clean = String(name || 'run').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return `${lab}-${clean || 'run'}-step${step}`;
}

/** The CLI's metrics file: a header line, then the records. */
export function metricsJsonl(lab, spec, history) {
  const header = { format: 'gradscope-metrics', version: METRICS_FORMAT_VERSION, lab, spec };
  return [header, ...history].map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Flattens a record to dotted columns: `{step, series: {"pre.loss": 1}}` → `series.pre.loss`. */
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

const csvCell = (v) => {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Metrics as CSV: one row per evaluation, one column per metric (union over the history). */
export function metricsCsv(history) {
  const rows = history.map((r) => flatten(r));
  const columns = [];
  const seen = new Set();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  return [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

/** The shell line that trains this spec natively (src/cli: `run` takes a link's hash). */
export function cliLine(specHash) {
  return `gradscope run '#${specHash.replace(/'/g, "'\\''")}' --out metrics.jsonl`;
}

const escapeXml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]));

const seriesColor = (u, i) => {
  const s = u.series[i];
  const stroke = typeof s.stroke === 'function' ? s.stroke(u, i) : s.stroke;
  return typeof stroke === 'string' ? stroke : '#444';
};

/** Tick values for an axis from `min` to `max` (powers of ten on a log axis). */
function ticks(min, max, log) {
  // An empty chart has no scale yet (null); a log axis needs min > 0.
  if (!(Number.isFinite(min) && Number.isFinite(max)) || (log && min <= 0)) return [];
  if (min === max) return [min];
  if (log) {
    const out = [];
    for (let e = Math.ceil(Math.log10(min)); e <= Math.floor(Math.log10(max)); e++) out.push(10 ** e);
    return out.length ? out : [min, max];
  }
  const step = 10 ** Math.floor(Math.log10((max - min) / 4));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= 6) || step * 10;
  const out = [];
  for (let v = Math.ceil(min / nice) * nice; v <= max + 1e-12; v += nice) out.push(+v.toPrecision(6));
  return out;
}
const tickText = (v) => (v === 0 ? '0' : Math.abs(v) >= 1e5 || Math.abs(v) < 1e-2 ? v.toExponential(0) : String(+v.toPrecision(3)));

/** A uPlot chart as a stand-alone SVG: axes, ticks, every shown series, a legend. Vector, so
 * it scales in a paper or a post; drawn from the chart's data, not its pixels. */
export function chartSvg(plot, title) {
  const W = 720, H = 380, L = 72, R = 16, T = 34, B = 48;
  const legendRows = plot.series.slice(1).filter((s) => s.show !== false);
  const height = H + 18 * Math.ceil(legendRows.length / 2);
  const sx = plot.scales.x, sy = plot.scales.y;
  const xLog = sx.distr === 3, yLog = sy.distr === 3;
  const map = (v, min, max, log, a, b) => {
    const t = log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) : (v - min) / (max - min);
    return a + (b - a) * (Number.isFinite(t) ? t : 0.5);
  };
  const X = (v) => map(v, sx.min, sx.max, xLog, L, W - R);
  const Y = (v) => map(v, sy.min, sy.max, yLog, H - B, T);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${L}" y="20" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - B - T}" fill="none" stroke="#ccc"/>`];
  for (const v of ticks(sx.min, sx.max, xLog)) {
    const x = X(v).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x}" y="${H - B + 16}" text-anchor="middle" fill="#555">${tickText(v)}</text>`);
  }
  for (const v of ticks(sy.min, sy.max, yLog)) {
    const y = Y(v).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${L - 6}" y="${y}" dy="4" text-anchor="end" fill="#555">${tickText(v)}</text>`);
  }
  const xLabel = plot.axes[0]?.label ?? plot.series[0]?.label ?? 'x';
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>`);
  parts.push(`<clipPath id="plot"><rect x="${L}" y="${T}" width="${W - L - R}" height="${H - B - T}"/></clipPath><g clip-path="url(#plot)" fill="none">`);
  const xs = plot.data[0];
  for (let i = 1; i < plot.series.length; i++) {
    const s = plot.series[i];
    if (s.show === false) continue;
    const ys = plot.data[i] || [];
    const pts = [];
    for (let j = 0; j < xs.length; j++) {
      const v = ys[j];
      if (v == null || !Number.isFinite(v) || (yLog && v <= 0) || (xLog && xs[j] <= 0)) continue;
      pts.push(`${X(xs[j]).toFixed(1)},${Y(v).toFixed(1)}`);
    }
    if (!pts.length) continue;
    const dash = s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    parts.push(`<polyline points="${pts.join(' ')}" stroke="${escapeXml(seriesColor(plot, i))}" stroke-width="${s.width || 1.5}"${dash}/>`);
  }
  parts.push('</g>');
  legendRows.forEach((s, k) => {
    const i = plot.series.indexOf(s);
    const x = L + (k % 2) * ((W - L) / 2), y = H + 4 + 18 * Math.floor(k / 2);
    const dash = s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    parts.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${escapeXml(seriesColor(plot, i))}" stroke-width="2"${dash}/><text x="${x + 28}" y="${y + 4}" fill="#333">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A chart as PNG: its canvas on a white card with the title above. */
export function chartPng(plot, title) {
  const src = plot.ctx.canvas;
  const pad = 28 * (devicePixelRatio || 1);
  const canvas = document.createElement('canvas');
  canvas.width = src.width;
  canvas.height = src.height + pad;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#1d1f23';
  ctx.font = `600 ${Math.round(pad * 0.5)}px system-ui, sans-serif`;
  ctx.fillText(title, pad * 0.4, pad * 0.7);
  ctx.drawImage(src, 0, pad);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

/** The line charts shown in `root`, in page order, titled as on screen (their panel's heading). */
export function chartsOf(root) {
  return chartsIn(root)
    .filter((c) => c.plot.root.isConnected && c.plot.root.offsetParent !== null)
    .sort((a, b) => (a.plot.root.compareDocumentPosition(b.plot.root) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))
    .map((c, i) => {
      const heading = c.plot.root.closest('.gs-panel')?.querySelector('h3')?.textContent?.trim();
      return { title: heading || c.title || `chart ${i + 1}`, plot: c.plot };
    });
}
