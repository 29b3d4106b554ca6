// Sweep results as the phase-diagram page reads them: result lines, the values of an axis, what
// a cell of runs shows (a median, or the fraction that reached a threshold).

export const NEVER = 'never';

/** Whether a verdict value means "never reached within the budget": `null` in a step field
 * (`test_step_99`, `<m>.solved_step`; src/train/metrics.rs `is_step_field`), or the string
 * "never" that sweep files of format 1 wrote. */
export function isNever(key, v) {
  if (v === NEVER) return true;
  const last = key.split('.').pop();
  return v === null && (last.endsWith('_step') || last.includes('_step_'));
}

/** The spec as its URL hash (src/spec/url_hash.rs's flattening: dotted keys, form-encoded). */
export function specHash(spec) {
  const pairs = [];
  const walk = (prefix, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else pairs.push([prefix, v === null ? 'null' : String(v)]);
  };
  walk('', spec);
  return new URLSearchParams(pairs).toString();
}

/** Result lines of a results file; a line that does not parse (a killed sweep's last) is skipped. */
export function parseResults(text) {
  const out = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r.format === 'gradscope-sweep') out.push(r); else skipped++;
    } catch { skipped++; }
  }
  return { results: out, skipped };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Display text of an axis value or a metric. */
export function show(v) {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return NEVER;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

export const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The colour choices of a set of results: each verdict field's median, and for fields a run may
 * never reach, the fraction that reached it (steps to grok first). */
export function metricChoices(results) {
  const fields = new Map(); // key → has a "never"
  for (const r of results) {
    for (const [k, v] of Object.entries(r.verdict)) {
      const never = isNever(k, v);
      if (typeof v === 'number' || never) fields.set(k, fields.get(k) || never);
    }
  }
  const out = [];
  for (const [k, reachable] of fields) {
    out.push([`median:${k}`, `${k} (median)`]);
    if (reachable) out.push([`reached:${k}`, `${k} reached (fraction)`]);
  }
  // Steps to grok first, then the fraction that grokked: the phase diagram's usual colours.
  const rank = (v) => (v === 'median:test_step_99' ? 0 : v === 'reached:test_step_99' ? 1 : 2);
  return out.sort((a, b) => rank(a[0]) - rank(b[0]));
}

/** Distinct values of an axis, in the order the sweep gave them (numbers sorted). */
export function axisValues(results, path) {
  if (!path) return [null];
  const vals = [];
  for (const r of results) {
    const v = r.point[path];
    if (!vals.some((x) => sameValue(x, v))) vals.push(v);
  }
  return vals.every((v) => typeof v === 'number') ? vals.sort((a, b) => a - b) : vals;
}

/** What a cell of `runs` shows for `metric` (`median:key` or `reached:key`). */
export function cellValue(runs, metric) {
  const [kind, key] = metric.split(/:(.*)/s);
  const raw = runs.map((r) => r.verdict?.[key]);
  const reached = raw.filter((v) => typeof v === 'number');
  if (kind === 'reached') return { value: reached.length / runs.length, reached: reached.length, n: runs.length, key };
  // "never" counts as +∞: a cell where most runs never got there has no median.
  const xs = raw.map((v) => (isNever(key, v) ? Infinity : typeof v === 'number' ? v : NaN)).filter((v) => !Number.isNaN(v));
  return { value: xs.length ? median(xs) : NaN, reached: reached.length, n: runs.length, key };
}
