// Line charts (uPlot): the live run plus pinned runs overlaid
// as dashed lines. uPlot wants one shared x array, so runs are merged on the union of their
// steps (missing values are gaps that uPlot spans).

import uPlot from '../uPlot.esm.js';

// Pinned runs: one colour per run (none of them the live run's orange/blue), and the metrics of a
// run told apart by dash pattern (first metric dashed, second dotted, …).
const PINNED_DASHES = [[7, 4], [2, 3], [10, 3, 2, 3], [1, 5]];
export const PINNED_COLORS = ['#495057', '#009e73', '#cc79a7', '#8c6d31']; // told apart by hue and by dash

/** The charts on screen, for the Export menu (exports.js): `chartsIn(root)`. */
const LIVE = new Set();
export const chartsIn = (root) => [...LIVE].filter((c) => c.plot && root.contains(c.plot.root));

/** Bumped when the OS switches between light and dark, or a widget's theme changes. */
let scheme = 0;
/** Re-reads the colours of every chart on screen and redraws them. */
export function recolorCharts() {
  scheme++;
  for (const c of LIVE) c.plot?.redraw(false, true);
}
globalThis.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', recolorCharts);

/** Axis and grid colours from the page's CSS variables. uPlot takes functions, so a switch to
 * dark mode recolours charts already drawn; the values are cached per scheme, because
 * getComputedStyle at every draw forces a style recalculation (it was the main thread's largest
 * cost with five widgets on a page). */
function axisStyle(target) {
  let seen = -1;
  let muted = '#667';
  let line = '#e3e3e0';
  const read = () => {
    if (seen !== scheme) {
      const css = getComputedStyle(target);
      muted = css.getPropertyValue('--muted').trim() || muted;
      line = css.getPropertyValue('--line').trim() || line;
      seen = scheme;
    }
  };
  const mutedFn = () => { read(); return muted; };
  const lineFn = () => { read(); return line; };
  // One font for tick labels and axis titles: uPlot sets ctx.font only when it changes, and in
  // Chromium every ctx.font assignment forces a style recalculation of the document (with five
  // widgets on a page, the bold-title/regular-tick alternation was most of the main thread's time).
  return { stroke: mutedFn, grid: { stroke: lineFn, width: 1 }, ticks: { stroke: lineFn, width: 1 }, font: AXIS_FONT, labelFont: AXIS_FONT };
}
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';

/** Tick labels a log axis can read: 0.001 rather than a rounded 0. */
const logTicks = (u, splits) => splits.map((v) => (v == null ? '' : v >= 0.01 && v < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(0)));

const fmt = (log) => (u, v) => (v == null ? '–' : log ? v.toExponential(3) : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4));

/**
 * A chart of several metrics over steps (log-scaled step axis).
 * `metrics`: [{ label, stroke, get(record) → number|null }]; `yLog`: log y axis;
 * `yRange`: fixed [min, max] for linear charts.
 */
export class MetricChart {
  constructor(target, { title, metrics, yLog = false, yRange = null, height = 240 }) {
    this.target = target;
    this.title = title;
    this.metrics = metrics;
    this.yLog = yLog;
    this.yRange = yRange;
    this.height = height;
    this.pinnedCount = -1;
    this.plot = null;
  }

  build(width, pinned) {
    this.plot?.destroy();
    const series = [{ label: 'step' }];
    for (const m of this.metrics) {
      series.push({ label: m.label, stroke: m.stroke, width: 2, spanGaps: true, value: fmt(this.yLog) });
    }
    pinned.forEach((run, i) => {
      this.metrics.forEach((m, j) => {
        series.push({
          label: `${run.name}: ${m.label}`, stroke: PINNED_COLORS[i % PINNED_COLORS.length],
          width: 1.5, dash: PINNED_DASHES[j % PINNED_DASHES.length], spanGaps: true, value: fmt(this.yLog),
        });
      });
    });
    const y = this.yLog ? { distr: 3 } : this.yRange ? { range: this.yRange } : { auto: true };
    this.plot = new uPlot({
      width, height: this.height,
      scales: { x: { distr: 3, time: false }, y },
      axes: [{ label: 'step (log)', ...axisStyle(this.target) }, { label: this.title, size: 64, values: this.yLog ? logTicks : undefined, ...axisStyle(this.target) }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series,
    }, [[], ...series.slice(1).map(() => [])], this.target);
    this.target.style.minHeight = ''; // pinned by release()
    this.pinnedCount = pinned.length;
    LIVE.add(this);
  }

  /** Redraws with the live `history` and the `pinned` runs ([{ name, history }]). */
  update(history, pinned, width) {
    if (!this.plot || this.pinnedCount !== pinned.length) this.build(width, pinned);
    const runs = [history, ...pinned.map((p) => p.history)];
    // Log step axis: step 0 has no place on it.
    const steps = new Set();
    for (const h of runs) for (const r of h) if (r.step > 0) steps.add(r.step);
    const x = [...steps].sort((a, b) => a - b);
    const index = new Map(x.map((s, i) => [s, i]));
    const columns = [x];
    for (const h of runs) {
      for (const m of this.metrics) {
        const col = new Array(x.length).fill(null);
        for (const r of h) {
          if (r.step <= 0) continue;
          const v = m.get(r);
          col[index.get(r.step)] = v == null || !Number.isFinite(v) || (this.yLog && v <= 0) ? null : v;
        }
        columns.push(col);
      }
    }
    this.plot.setData(columns);
  }

  resize(width) { this.plot?.setSize({ width, height: this.height }); }
  destroy() { LIVE.delete(this); this.plot?.destroy(); }
  /** Frees the plot (its canvas is most of a chart's memory), keeping its place on the page;
   * the next update builds it again. */
  release() { releasePlot(this); }
}

/** [`MetricChart.release`], for either chart class. */
function releasePlot(chart) {
  if (!chart.plot) return;
  chart.target.style.minHeight = `${chart.target.offsetHeight}px`;
  // Emptied now: a removed canvas keeps its pixels until it is garbage-collected.
  chart.plot.ctx.canvas.width = 0;
  chart.plot.ctx.canvas.height = 0;
  chart.destroy();
  chart.plot = null;
}

/** A plain x/y chart (IPR histogram as bars, pruning curve as lines; `xLog`/`yLog` for the
 * scan race's log–log axes). Changing the number of series rebuilds it. */
export class XYChart {
  constructor(target, { xLabel, yLabel, series, bars = false, height = 200, yRange = null, xLog = false, yLog = false }) {
    this.target = target;
    this.opts = { xLabel, yLabel, series, bars, height, yRange, xLog, yLog };
    this.plot = null;
  }

  /** Replaces the series ([[label, color], …]); the next update rebuilds the chart. */
  setSeries(series) {
    this.opts.series = series;
    this.plot?.destroy();
    this.plot = null;
  }

  update(x, ys, width) {
    if (!this.plot) {
      const { xLabel, yLabel, series, bars, height, yRange, xLog, yLog } = this.opts;
      const paths = bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
      const y = yLog ? { distr: 3 } : yRange ? { range: yRange } : { auto: true };
      this.plot = new uPlot({
        width, height,
        scales: { x: xLog ? { time: false, distr: 3 } : { time: false }, y },
        axes: [{ label: xLabel, values: xLog ? logTicks : undefined, ...axisStyle(this.target) }, { label: yLabel, size: 56, values: yLog ? logTicks : undefined, ...axisStyle(this.target) }],
        legend: { live: true },
        // A series is [label, colour] or [label, colour, uPlot series options] (e.g. points only).
        series: [{ label: xLabel }, ...series.map(([label, stroke, extra = {}]) => ({
          label, stroke, width: bars ? 1 : 2, fill: bars ? stroke + '88' : undefined, paths, spanGaps: true,
          points: { show: xLog || yLog }, ...extra,
          value: (u, v) => (v == null ? '–' : Number.isInteger(v) ? String(v) : Math.abs(v) < 1e-2 && v !== 0 ? v.toExponential(2) : v.toFixed(3)),
        }))],
      }, [x, ...ys], this.target);
      this.target.style.minHeight = ''; // pinned by release()
      this.title = yLabel;
      LIVE.add(this);
    } else {
      this.plot.setData([x, ...ys]);
    }
  }

  resize(width) { this.plot?.setSize({ width, height: this.opts.height }); }
  destroy() { LIVE.delete(this); this.plot?.destroy(); }
  release() { releasePlot(this); }
}
