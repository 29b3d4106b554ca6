// The phase diagram: one cell per (x, y) of two axes, coloured by what its runs reached (viridis;
// a log scale for steps and losses spanning more than a decade), a grey cross where none did.

import { viridis } from '../views.js';
import { axisValues, cellValue, sameValue, show } from './results.js';

export const MARGIN = { left: 86, bottom: 44, top: 8, right: 8 };

/** Draws `results` over axes `xPath` × `yPath` (none: one row) coloured by `metric` on `canvas`;
 * `root` gives the theme's colours. Returns the cells drawn and the colour scale. */
export function drawHeatmap(canvas, root, results, { xPath, yPath, metric }) {
  const width = Math.max(240, Math.min(720, canvas.parentElement?.clientWidth || 600));
  const xs = axisValues(results, xPath);
  const ys = axisValues(results, yPath);
  const cellW = Math.max(14, Math.floor((width - MARGIN.left - MARGIN.right) / Math.max(1, xs.length)));
  const cellH = Math.max(14, Math.min(56, cellW));
  canvas.width = MARGIN.left + MARGIN.right + cellW * xs.length;
  canvas.height = MARGIN.top + MARGIN.bottom + cellH * ys.length;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!xPath || !metric || results.length === 0) return null;
  const cells = [];
  for (const [j, y] of ys.entries()) {
    for (const [i, x] of xs.entries()) {
      const runs = results.filter((r) => sameValue(r.point[xPath], x) && (!yPath || sameValue(r.point[yPath], y)));
      if (runs.length === 0) continue;
      // Row 0 at the bottom, like a plot's y axis.
      cells.push({ x, y, i, j, runs, ...cellValue(runs, metric), px: MARGIN.left + i * cellW, py: MARGIN.top + (ys.length - 1 - j) * cellH });
    }
  }
  const finite = cells.map((c) => c.value).filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const logScale = metric.startsWith('median:') && /step|loss/.test(metric) && lo > 0 && hi / lo > 10;
  const t = (v) => (hi === lo ? 0.5 : logScale ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo));
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (const c of cells) drawCell(ctx, c, cellW, cellH, t);
  drawAxes(ctx, canvas, root, { xs, ys, xPath, yPath, cellW, cellH });
  return { cells, lo, hi, logScale, reached: finite.length };
}

/** A cell: its colour and value, or — never reached within the budget — a hatched grey cell
 * with a cross, not a colour. */
function drawCell(ctx, c, cellW, cellH, t) {
  if (Number.isFinite(c.value)) {
    const [r, g, b] = viridis(t(c.value));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(c.px, c.py, cellW - 1, cellH - 1);
    if (cellW >= 34 && cellH >= 16) {
      ctx.fillStyle = t(c.value) > 0.6 ? '#111' : '#fff';
      ctx.fillText(show(c.value), c.px + cellW / 2, c.py + cellH / 2);
    }
    return;
  }
  ctx.fillStyle = '#9a9a9a';
  ctx.fillRect(c.px, c.py, cellW - 1, cellH - 1);
  ctx.strokeStyle = '#f4f4f4';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(c.px + 3, c.py + 3); ctx.lineTo(c.px + cellW - 4, c.py + cellH - 4);
  ctx.moveTo(c.px + cellW - 4, c.py + 3); ctx.lineTo(c.px + 3, c.py + cellH - 4);
  ctx.stroke();
}

/** The values under and beside the cells, and the axis names. */
function drawAxes(ctx, canvas, root, { xs, ys, xPath, yPath, cellW, cellH }) {
  const css = getComputedStyle(root);
  const ink = css.getPropertyValue('--ink').trim() || '#222';
  const muted = css.getPropertyValue('--muted').trim() || '#666';
  ctx.fillStyle = ink;
  xs.forEach((x, i) => ctx.fillText(show(x), MARGIN.left + i * cellW + cellW / 2, MARGIN.top + ys.length * cellH + 10));
  ctx.textAlign = 'right';
  ys.forEach((y, j) => { if (y !== null) ctx.fillText(show(y), MARGIN.left - 6, MARGIN.top + (ys.length - 1 - j) * cellH + cellH / 2); });
  ctx.fillStyle = muted;
  ctx.textAlign = 'center';
  ctx.fillText(xPath.replace(/^[a-z_]+\./, ''), MARGIN.left + (xs.length * cellW) / 2, canvas.height - 10);
  if (yPath) {
    ctx.save();
    ctx.translate(12, MARGIN.top + (ys.length * cellH) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(yPath.replace(/^[a-z_]+\./, ''), 0, 0);
    ctx.restore();
  }
}

/** The cell under a mouse event, if any. */
export function cellAt(canvas, cells, e, xCount, yCount) {
  const box = canvas.getBoundingClientRect();
  const x = ((e.clientX - box.left) * canvas.width) / box.width;
  const y = ((e.clientY - box.top) * canvas.height) / box.height;
  const w = (canvas.width - MARGIN.left - MARGIN.right) / Math.max(1, xCount);
  const h = (canvas.height - MARGIN.top - MARGIN.bottom) / Math.max(1, yCount);
  return cells.find((c) => x >= c.px && x < c.px + w && y >= c.py && y < c.py + h);
}
