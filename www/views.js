// Pixel views of an analysis snapshot (src/labs/<lab>/analysis): the Fourier heatmap (frequency × unit)
// and the p × p prediction grid. Both are images — one cell per pixel block on a canvas — with
// a hover readout; the line/bar charts live in charts.js (uPlot).

/** Perceptually ordered colour ramp (viridis, 5 stops, linearly interpolated) for v in [0, 1],
 * tabulated once at 256 levels: the heatmap paints ~25k cells per snapshot on the main thread,
 * and computing each colour afresh made that one 40–90 ms task (measured with the CDP profiler). */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const VIRIDIS_LUT = Array.from({ length: 256 }, (_, n) => {
  const t = (n / 255) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  return VIRIDIS[i].map((c, j) => Math.round(c + f * (VIRIDIS[i + 1][j] - c)));
});

/** viridis at v in [0, 1], as [r, g, b]. */
export function viridis(v) {
  return VIRIDIS_LUT[Math.max(0, Math.min(255, Math.round(v * 255)))];
}

export const CELL_COLORS = {
  absent: [241, 243, 245],
  train_correct: [47, 158, 68],
  train_wrong: [224, 49, 49],
  test_correct: [165, 216, 255],
  test_wrong: [255, 146, 43],
  noisy_memorized: [156, 54, 181],
  noisy_generalized: [12, 166, 120],
  noisy_other: [134, 142, 150],
};

export const CELL_LABELS = {
  train_correct: 'train, correct',
  train_wrong: 'train, wrong',
  test_correct: 'test, correct',
  test_wrong: 'test, wrong',
  noisy_memorized: 'corrupted label, memorized',
  noisy_generalized: 'corrupted label, true class predicted',
  noisy_other: 'corrupted label, other class',
  absent: 'not in the dataset',
};

/** Paints a cols × rows image, one pixel per cell, from `colorOf(r, c)` → [r, g, b]. */
function paint(canvas, cols, rows, colorOf) {
  const px = new Uint8ClampedArray(4 * cols * rows);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, o += 4) {
      const rgb = colorOf(r, c);
      px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255;
    }
  }
  putPixels(canvas, cols, rows, px);
}

function putPixels(canvas, cols, rows, px) {
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  canvas.getContext('2d').putImageData(new ImageData(px, cols, rows), 0, 0);
}

function cellAt(canvas, event, cols, rows) {
  const box = canvas.getBoundingClientRect();
  const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
  const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
  return c >= 0 && c < cols && r >= 0 && r < rows ? [r, c] : null;
}

/** Frequency (rows, 0 at the top) × unit heatmap of normalized |DFT| magnitudes. Units are
 * ordered by their dominant frequency, so a grokked model shows a few bright bands. */
export class FourierHeatmap {
  constructor(canvas, readout) {
    this.canvas = canvas;
    this.readout = readout;
    this.data = null;
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => { this.readout.textContent = ''; });
  }

  update(spectrum) {
    const { n_freq: rows, units, magnitude } = spectrum;
    // Each unit's dominant frequency (k ≥ 1), then units sorted by it.
    const dominant = new Uint16Array(units).fill(1);
    for (let k = 2; k < rows; k++) {
      for (let u = 0; u < units; u++) {
        if (magnitude[k * units + u] > magnitude[dominant[u] * units + u]) dominant[u] = k;
      }
    }
    const order = Array.from({ length: units }, (_, u) => u).sort((x, y) => dominant[x] - dominant[y] || x - y);
    let max = 0;
    for (let i = 0; i < magnitude.length; i++) if (magnitude[i] > max) max = magnitude[i];
    this.data = { rows, units, magnitude, order, max: max || 1 };
    // One flat loop over the cells (no per-cell calls): the first snapshot runs this code cold.
    const scale = 255 / this.data.max;
    const px = new Uint8ClampedArray(4 * units * rows);
    let o = 0;
    for (let k = 0; k < rows; k++) {
      const row = k * units;
      for (let c = 0; c < units; c++, o += 4) {
        const i = Math.round(magnitude[row + order[c]] * scale);
        const rgb = VIRIDIS_LUT[i >= 0 ? Math.min(i, 255) : 0]; // NaN → 0
        px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255;
      }
    }
    putPixels(this.canvas, units, rows, px);
  }

  hover(e) {
    if (!this.data) return;
    const hit = cellAt(this.canvas, e, this.data.units, this.data.rows);
    if (!hit) return;
    const [k, c] = hit;
    const u = this.data.order[c];
    this.readout.textContent = `frequency ${k}, unit ${u}: |ĉ|/‖ĉ‖ = ${this.data.magnitude[k * this.data.units + u].toFixed(3)}`;
  }
}

/** The p × p grid of (a, b): what the model predicts for each pair, by split. */
export class PredictionGrid {
  constructor(canvas, readout) {
    this.canvas = canvas;
    this.readout = readout;
    this.data = null;
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => { this.readout.textContent = ''; });
  }

  update(grid, p) {
    this.data = { grid, p };
    paint(this.canvas, p, p, (a, b) => CELL_COLORS[grid[a * p + b]] || CELL_COLORS.absent);
  }

  hover(e) {
    if (!this.data) return;
    const hit = cellAt(this.canvas, e, this.data.p, this.data.p);
    if (!hit) return;
    const [a, b] = hit;
    this.readout.textContent = `a = ${a}, b = ${b}: ${CELL_LABELS[this.data.grid[a * this.data.p + b]]}`;
  }
}

/** Counts of `values` in `bins` equal bins over [0, 1]: [centers, counts]. */
export function histogram(values, bins = 20) {
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  return [counts.map((_, i) => (i + 0.5) / bins), counts];
}

/** A rows × cols grid of values as a viridis image (min → dark, max → bright), with a hover
 * readout naming the cell by `label(r, c, v)`. */
export class ValueHeatmap {
  constructor(canvas, readout, label) {
    this.canvas = canvas;
    this.readout = readout;
    this.label = label;
    this.data = null;
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => { this.readout.textContent = ''; });
  }

  update(rows, cols, values) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    this.data = { rows, cols, values };
    const px = new Uint8ClampedArray(4 * rows * cols);
    for (let i = 0, o = 0; i < rows * cols; i++, o += 4) {
      const rgb = VIRIDIS_LUT[Math.min(255, Math.max(0, Math.round((values[i] - lo) * scale))) || 0];
      px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255;
    }
    putPixels(this.canvas, cols, rows, px);
  }

  hover(e) {
    if (!this.data || !this.data.cols) return;
    const hit = cellAt(this.canvas, e, this.data.cols, this.data.rows);
    if (!hit) return;
    const [r, c] = hit;
    this.readout.textContent = this.label(r, c, this.data.values[r * this.data.cols + c]);
  }
}

/** Points on the complex plane with the unit circle: S4D's Ā (|Ā| < 1 is a stable, decaying
 * mode). `groups`: [{ color, points: [[re, im], …] }]. The view spans [−1.1, 1.1]². */
export function drawComplexPlane(canvas, groups) {
  const size = 240;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== size * dpr) { canvas.width = size * dpr; canvas.height = size * dpr; }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, size, size);
  const s = size / 2.3;
  const at = (re, im) => [size / 2 + re * s, size / 2 - im * s];
  g.strokeStyle = '#ccc';
  g.beginPath(); g.moveTo(0, size / 2); g.lineTo(size, size / 2); g.moveTo(size / 2, 0); g.lineTo(size / 2, size); g.stroke();
  g.strokeStyle = '#888';
  g.beginPath(); g.arc(size / 2, size / 2, s, 0, 2 * Math.PI); g.stroke();
  for (const { color, points } of groups) {
    g.fillStyle = color;
    for (const [re, im] of points) {
      const [x, y] = at(re, im);
      g.beginPath(); g.arc(x, y, 2.5, 0, 2 * Math.PI); g.fill();
    }
  }
}

/** A rows × cols heatmap on a log colour scale shared by several maps (`range` = [lo, hi] of
 * the positive values), with an exact 0 in its own colour (white: e.g. SkipInit's branches at
 * init get no gradient at all) and a missing value (NaN, null) in grey. The gradient-flow
 * lab's layer × step view. */
export class LogHeatmap extends ValueHeatmap {
  update(rows, cols, values, [lo, hi]) {
    this.data = { rows, cols, values };
    const [a, b] = [Math.log10(lo), Math.log10(hi)];
    const scale = b > a ? 255 / (b - a) : 0;
    const px = new Uint8ClampedArray(4 * rows * cols);
    for (let i = 0, o = 0; i < rows * cols; i++, o += 4) {
      const v = values[i];
      const rgb = v == null || Number.isNaN(v) ? [206, 212, 218]
        : v === 0 ? [255, 255, 255]
          : VIRIDIS_LUT[Math.min(255, Math.max(0, Math.round((Math.log10(v) - a) * scale))) || 0];
      px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255;
    }
    // Nothing recorded yet: one grey pixel.
    if (!px.length) putPixels(this.canvas, 1, 1, new Uint8ClampedArray([206, 212, 218, 255]));
    else putPixels(this.canvas, cols, rows, px);
  }
}
