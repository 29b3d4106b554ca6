// End-to-end UI tests: Debian's Chromium driven by playwright-core against the trunk build
// (scripts/test.sh serves dist/ on 127.0.0.1 and sets GRADSCOPE_URL). Screenshots go to
// e2e-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const URL = process.env.GRADSCOPE_URL || 'http://127.0.0.1:8080/';
const OUT = 'e2e-artifacts';
mkdirSync(OUT, { recursive: true });

const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=vulkan'];

async function open(args, hash = '') {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  // The files fetched, the worker's included: which worker build the page started.
  const fetched = [];
  page.on('request', (r) => fetched.push(new globalThis.URL(r.url()).pathname.split('/').pop()));
  await page.goto(URL + hash);
  return { browser, page, errors, fetched };
}

/** The worker builds whose wasm the page fetched ('webgpu', 'cpu'). */
const workerBuilds = (fetched) => [...new Set(fetched.flatMap((f) =>
  f === 'gradscope-worker_bg.wasm' ? ['webgpu'] : f === 'gradscope-worker-cpu_bg.wasm' ? ['cpu'] : []))].sort();

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);
const num = async (page, id) => Number(await byId(page, id).textContent());

/** Starts tracing the page's main thread (Chrome's timeline). */
async function watchMainThread(browser, page) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
}

/** Stops the trace and returns the main thread's tasks longer than 20 ms of wall time, as
 * `{ cpu, wall, inside }` in ms. A stall is judged by `cpu`, the time the main thread itself spent
 * in the task (the trace's `tdur`): on a 2-core CI machine the worker's training and Chromium's other
 * processes preempt the main thread, and a task of 9 ms CPU was measured at 72 ms wall, which is
 * the machine's load, not the page's work. `inside` names the task's three costliest pieces (a
 * script function, layout, GC…), so a stall says where it was. */
async function mainThreadTasks(browser) {
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString());
  const mains = new Set(traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  const onMain = traceEvents.filter((e) => e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`));
  const PIECES = new Set(['FunctionCall', 'EvaluateScript', 'v8.compile', 'MajorGC', 'MinorGC', 'Layout', 'UpdateLayoutTree', 'Paint', 'ParseHTML']);
  return onMain.filter((e) => e.name === 'RunTask' && e.dur > 20_000).map((task) => {
    const inside = onMain.filter((e) => PIECES.has(e.name) && e.tid === task.tid && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur)
      .map((e) => ({ what: e.name === 'FunctionCall' ? `${e.args?.data?.functionName || '(anonymous)'}()` : e.name, cpu: (e.tdur ?? e.dur) / 1000 }))
      .sort((a, b) => b.cpu - a.cpu).slice(0, 3).map((p) => `${p.what} ${p.cpu.toFixed(0)} ms`);
    return { cpu: Math.round((task.tdur ?? task.dur) / 1000), wall: Math.round(task.dur / 1000), inside };
  });
}

/** The brief's bound: no main-thread task over ~50 ms of the page's own work. A stall must show
 * twice to fail: a window with a task over the bound is measured again over 4 s of training (resumed
 * if paused, paused again after), because CI once measured one task at 82 ms of CPU (cause unknown)
 * where every run here measures ≤ 15 ms. Work the page does on every step or evaluation stalls
 * both windows, so the check still fails on it; a one-off stall (a first chart's setup) would pass,
 * which is the price of not failing on the machine's hiccups. */
async function assertNoStall(browser, page, tasks) {
  const stalls = (ts) => ts.filter((t) => t.cpu >= 50);
  if (stalls(tasks).length === 0) return;
  console.log(`main thread: a task over 50 ms of CPU, measuring again: ${fmtStalls(stalls(tasks))}`);
  await watchMainThread(browser, page);
  const resumed = !(await byId(page, 'train-button').isDisabled());
  if (resumed) await byId(page, 'train-button').click();
  await page.waitForTimeout(4000);
  if (resumed) {
    await byId(page, 'pause-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pause-button"]').disabled, null, { timeout: 120_000 });
  }
  const again = await mainThreadTasks(browser);
  assert.ok(stalls(again).length === 0, `main thread stalled twice (ms of CPU / wall): ${fmtStalls(stalls(tasks))}; again: ${fmtStalls(stalls(again))}`);
}
const fmtStalls = (tasks) => tasks.slice(0, 5).map((t) => `${t.cpu}/${t.wall} [${t.inside.join(', ')}]`).join('; ') + (tasks.length > 5 ? `; and ${tasks.length - 5} more` : '');
const fmtTasks = (tasks) => tasks.map((t) => `${t.cpu}/${t.wall}`).join(' ') || 'none';

/** Pixels near colour `rgb` in the chart canvas under `[data-testid=id]`: whether the chart drew
 * the series of that colour (a history with rows is not enough: uPlot must have painted them). */
async function seriesPixels(page, id, [r, g, b]) {
  return page.evaluate(({ id, r, g, b }) => {
    const c = document.querySelector(`[data-testid="${id}"] canvas`);
    if (!c || !c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - r) < 30 && Math.abs(d[i + 1] - g) < 30 && Math.abs(d[i + 2] - b) < 30 && d[i + 3] > 200) n++;
    }
    return n;
  }, { id, r, g, b });
}
const TRAIN_RGB = [217, 72, 15]; // www/labs/grokking/index.js TRAIN
const TEST_RGB = [28, 126, 214]; // TEST; the scans lab's first model

// A run small enough for SwiftShader's software WebGPU (real GPUs are far faster).
const SMALL = '#grokking.task.p=23&grokking.model.mlp.width=32&grokking.loss.kind=cross_entropy' +
  '&grokking.optimizer.lr=0.02&grokking.optimizer.weight_decay=0.1&grokking.training.steps=400';

test('WebGPU: trains, the counter and the chart advance, the backend is named', async () => {
  const { browser, page, errors, fetched } = await open([...BASE_ARGS, ...WEBGPU_ARGS], SMALL);
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent.startsWith('WebGPU'), null, { timeout: 120_000 });
    const label = await byId(page, 'backend-label').textContent();
    assert.match(label, /^WebGPU — /);
    assert.deepEqual(workerBuilds(fetched), ['webgpu'], 'a WebGPU browser starts the WebGPU build');
    assert.equal(await byId(page, 'backend-notice').isHidden(), true);
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    assert.equal(await byId(page, 'error-banner').isHidden(), true, 'the link loads as given');
    assert.equal(await byId(page, 'run-notice').isHidden(), true, 'Adam with ε = 1e-8: nothing to warn of');
    assert.match(await page.evaluate(() => location.hash), /grokking\.model\.mlp\.width=32/);
    await watchMainThread(browser, page);
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').textContent) >= 3, null, { timeout: 240_000 });
    // The first step's latency (its kernels compiled on the adapter) is reported.
    assert.match(await byId(page, 'speed').getAttribute('title'), /^First training step: [\d.]+ m?s \(compiling its GPU kernels included\)$/);
    const s1 = await num(page, 'step-count');
    await page.waitForFunction((s) => Number(document.querySelector('[data-testid="step-count"]').textContent) > s + 2, s1, { timeout: 240_000 });
    // The loss chart painted the train curve: count its colour's pixels in the canvas.
    const points = await page.evaluate(() => window.gradscope.history().filter((r) => r.step > 0).length);
    assert.ok(points >= 3, `history has ${points} evaluations`);
    await page.waitForTimeout(300); // one animation frame
    const painted = await seriesPixels(page, 'chart-loss', TRAIN_RGB);
    assert.ok(painted >= 40, `the loss chart painted ${painted} pixels of the train curve`);
    await byId(page, 'pause-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pause-button"]').disabled, null, { timeout: 120_000 });
    const paused = await num(page, 'step-count');
    await page.waitForTimeout(1500);
    assert.equal(await num(page, 'step-count'), paused, 'pause stops training');
    const tasks = await mainThreadTasks(browser);
    console.log(`WebGPU: ${paused} steps; main-thread tasks over 20 ms (ms of CPU / wall): ${fmtTasks(tasks)}`);
    await assertNoStall(browser, page, tasks);
    // WebGPU has no float64: the form says so and offers float32 only.
    assert.equal(await byId(page, 'precision-note').isVisible(), true);
    assert.equal(await page.locator('[data-testid="field-loss-precision"] option[value="f64"]').isDisabled(), true);
    // The analysis views were computed on the GPU too.
    await page.waitForFunction(() => document.querySelector('[data-testid="fourier-heatmap"]').width === 32, null, { timeout: 120_000 });
    // The benchmark button times the spec on this backend.
    await byId(page, 'bench-button').click();
    await page.waitForFunction(() => /steps\/s/.test(document.querySelector('[data-testid="bench-result"]').textContent), null, { timeout: 240_000 });
    console.log(`WebGPU: ${await byId(page, 'bench-result').textContent()}`);
    // GPU launches per step, counted from cubecl's launch log in the worker.
    const dispatches = (await byId(page, 'bench-result').textContent()).match(/([\d.]+) GPU dispatches per training step/);
    assert.ok(dispatches && Number(dispatches[1]) >= 5, `no dispatch count in the benchmark result`);
    // SwiftShader flushes subnormal floats to zero (the worker probes it), so Adam with
    // Prieto et al.'s ε = 1e-25 gets the page's warning; the next spec without it clears it.
    const withEps = (eps) => page.evaluate((e) => { const s = window.gradscope.spec(); s.grokking.optimizer.eps = e; window.gradscope.load(s); }, eps);
    await withEps(1e-25);
    await page.waitForFunction(() => !document.querySelector('[data-testid="run-notice"]').hidden, null, { timeout: 60_000 });
    assert.match(await byId(page, 'run-notice').textContent(), /^optimizer\.eps = 1e-25 on a device that flushes subnormal floats to zero/);
    await page.screenshot({ path: `${OUT}/webgpu.png`, fullPage: true });
    await withEps(1e-8);
    await page.waitForFunction(() => document.querySelector('[data-testid="run-notice"]').hidden, null, { timeout: 60_000 });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('no WebGPU: CPU fallback notice, and the default preset groks to test acc ≥ 0.99', async () => {
  const { browser, page, errors, fetched } = await open(BASE_ARGS, '#grokking');
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent === 'CPU (wasm)', null, { timeout: 120_000 });
    // The page without WebGPU downloads the CPU-only build, not the WebGPU one.
    assert.deepEqual(workerBuilds(fetched), ['cpu']);
    await page.waitForFunction(() => /grokking\.task\./.test(location.hash), null, { timeout: 60_000 });
    const notice = byId(page, 'backend-notice');
    assert.equal(await notice.isVisible(), true);
    assert.match(await notice.textContent(), /WebGPU is not available.*CPU \(wasm\)/);
    assert.match(await page.evaluate(() => location.hash), /grokking\.task\.p=97/);
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await watchMainThread(browser, page);
    const t0 = Date.now();
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="metric-test-acc"]').textContent) >= 0.99, null, { timeout: 600_000, polling: 250 });
    const step = await num(page, 'step-count');
    const history = await page.evaluate(() => window.gradscope.history());
    const at99 = history.find((r) => r.test_acc >= 0.99).step;
    const fit = history.find((r) => r.train_acc >= 1.0)?.step;
    const tasks = await mainThreadTasks(browser);
    console.log(`CPU (wasm): train acc 1.0 at ${fit}, test acc ≥ 0.99 at step ${at99}; ` +
      `${(step / ((Date.now() - t0) / 1000)).toFixed(2)} steps/s; main-thread tasks over 20 ms (ms of CPU / wall): ${fmtTasks(tasks)}`);
    assert.ok(at99 <= 60, `test acc ≥ 0.99 only at step ${at99}`);
    await assertNoStall(browser, page, tasks);
    // The badge calls it, and the views show the periodic solution.
    await page.waitForFunction(() => document.querySelector('[data-testid="grok-badge"]').dataset.verdict === 'grokked', null, { timeout: 60_000 });
    assert.match(await byId(page, 'grok-badge').textContent(), /Grokked.*test acc ≥ 99%: step \d+/);
    await byId(page, 'pause-button').click().catch(() => {});
    await page.waitForFunction(() => /frequencies/.test(document.querySelector('[data-testid="key-frequencies"]').textContent), null, { timeout: 120_000 });
    console.log(`CPU (wasm): ${await byId(page, 'key-frequencies').textContent()}`);
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid="prediction-grid"]').width), 97);
    await page.screenshot({ path: `${OUT}/cpu-fallback-grokked.png`, fullPage: true });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('bad input: a bad link and a bad field are refused by name; the valid run is kept', async () => {
  const { browser, page } = await open(BASE_ARGS, '#grokking.task.p=100');
  try {
    const banner = byId(page, 'error-banner');
    await banner.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await banner.textContent(), /grokking\.task\.p: must be a prime in 3\.\.=257 \(got 100\)/);
    // The page falls back to the default preset and stays usable.
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    assert.equal(await banner.isVisible(), true, 'the message stays until the next good run');
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '1', null, { timeout: 60_000 });

    // The form says each field's range, as the Rust side writes it (www/form-schema.js, from
    // src/labs/grokking/schema.rs and the validation's constants).
    assert.match(await byId(page, 'field-task-p').getAttribute('title'), /Allowed: 3–257\.$/);
    // A bad form value: refused by name, the run (step 1) and its spec are untouched.
    const lr = byId(page, 'field-optimizer-lr');
    assert.match(await lr.getAttribute('title'), /Allowed: \(0, 1000\]\.$/);
    await lr.fill('-0.5');
    await lr.dispatchEvent('change');
    await page.waitForFunction(() => /grokking\.optimizer\.lr/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 30_000 });
    assert.match(await banner.textContent(), /must be in \(0, 1000\] \(got -0\.5\)/);
    assert.equal(await num(page, 'step-count'), 1);
    assert.match(await page.evaluate(() => location.hash), /grokking\.optimizer\.lr=0\.01/);
    await page.screenshot({ path: `${OUT}/bad-input.png`, fullPage: true });

    // A good edit loads a new run and updates the link.
    await lr.fill('0.005');
    await lr.dispatchEvent('change');
    await page.waitForFunction(() => /grokking\.optimizer\.lr=0\.005/.test(location.hash), null, { timeout: 30_000 });
    assert.equal(await banner.isVisible(), false);
    assert.equal(await num(page, 'step-count'), 0);
  } finally {
    await browser.close();
  }
});

test('your own operation: a typo is pointed at, the p × p preview follows the typing, and the run trains on it (CPU)', async () => {
  const { browser, page, errors } = await open(BASE_ARGS, SMALL);
  try {
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await byId(page, 'field-task-op').locator('select').selectOption('expr');
    const expr = byId(page, 'field-task-op-expr');
    const caption = byId(page, 'op-preview-caption');
    // Choosing "your own…" starts from the operation it replaces, as an expression.
    assert.equal(await expr.inputValue(), 'a + b');
    await page.waitForFunction(() => /^529 pairs · commutative$/.test(document.querySelector('[data-testid="op-preview-caption"]').textContent), null, { timeout: 30_000 });
    await expr.fill('a / (b - 1');
    await page.waitForFunction(() => /column 11: expected `\)`, found the end/.test(document.querySelector('[data-testid="op-preview-caption"]').textContent), null, { timeout: 30_000 });
    assert.equal(await expr.getAttribute('aria-invalid'), 'true');
    await expr.fill('a / (b - 1) if a < b else (a*b + 3) mod p');
    // b = 1 divides by zero, but only where a < b: the pair (0, 1) is the one left out.
    await page.waitForFunction(() => /^528 pairs \(1 left out\)$/.test(document.querySelector('[data-testid="op-preview-caption"]').textContent), null, { timeout: 30_000 });
    const preview = await byId(page, 'op-preview').evaluate((c) => [c.width, c.height]);
    assert.deepEqual(preview, [23, 23], 'one pixel per pair');
    await expr.press('Enter');
    await page.waitForFunction(() => /grokking\.task\.op\.expr=a\+%2F\+%28b\+-\+1%29\+if/.test(location.hash), null, { timeout: 30_000 });
    assert.deepEqual(await page.evaluate(() => window.gradscope.spec().grokking.task.op), { expr: 'a / (b - 1) if a < b else (a*b + 3) mod p' });
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').textContent) >= 20, null, { timeout: 120_000 });
    await byId(page, 'pause-button').click();
    const last = await page.evaluate(() => window.gradscope.history().at(-1));
    assert.ok(Number.isFinite(last.train_loss) && last.step >= 20, JSON.stringify(last));
    // The link reopens it exactly.
    const hash = await page.evaluate(() => location.hash);
    await page.evaluate(() => { location.hash = '#grokking'; });
    await page.waitForFunction(() => window.gradscope?.spec()?.grokking?.task?.op === 'add', null, { timeout: 30_000 });
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction(() => window.gradscope?.spec()?.grokking?.task?.op?.expr?.startsWith('a / (b - 1)'), null, { timeout: 30_000 });
    assert.equal(await expr.inputValue(), 'a / (b - 1) if a < b else (a*b + 3) mod p');
    await page.locator('label:has([data-testid="field-task-op"])').screenshot({ path: `${OUT}/own-operation.png` });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('phase diagrams: a sweep file becomes a heatmap (never-grokked cells marked), a tiny sweep fills in live, a cell opens its run (CPU)', async () => {
  const { browser, page, errors } = await open(BASE_ARGS, '');
  try {
    await byId(page, 'lab-sweeps').click();
    await byId(page, 'sweeps').waitFor();
    // The Doshi-style diagram committed with the reproductions: 7 train fractions × 9 noise levels.
    await byId(page, 'sweep-file').setInputFiles('docs/reproductions/sweeps/doshi-noise-phases.jsonl');
    await page.waitForFunction(() => document.querySelector('[data-testid="sweep-heatmap"]').dataset.cells === '63', null, { timeout: 10_000 });
    assert.equal(await byId(page, 'sweep-x').inputValue(), 'grokking.task.train_frac');
    assert.equal(await byId(page, 'sweep-y').inputValue(), 'grokking.task.label_noise');
    assert.equal(await byId(page, 'sweep-metric').inputValue(), 'median:test_step_99');
    const never = Number(await byId(page, 'sweep-heatmap').getAttribute('data-never'));
    assert.ok(never > 0 && never < 63, `some cells never grokked (${never})`);
    assert.match(await byId(page, 'sweep-legend').textContent(), /grey × = never within the budget/);
    // The same runs as format-2 lines, where a step never reached is null: the same diagram.
    const v2 = readFileSync('docs/reproductions/sweeps/doshi-noise-phases.jsonl', 'utf8').split('\n').filter(Boolean).map((line) => {
      const r = JSON.parse(line);
      r.version = 2;
      for (const [k, v] of Object.entries(r.verdict)) if (v === 'never') r.verdict[k] = null;
      return JSON.stringify(r);
    });
    assert.ok(v2.some((l) => l.includes('"test_step_99":null')));
    await byId(page, 'sweep-file').setInputFiles({ name: 'v2.jsonl', mimeType: 'application/json', buffer: Buffer.from(v2.join('\n') + '\n') });
    await page.waitForFunction(() => /^v2\.jsonl: 63 runs/.test(document.querySelector('[data-testid="sweep-status"]').textContent), null, { timeout: 10_000 });
    assert.equal(await byId(page, 'sweep-metric').inputValue(), 'median:test_step_99');
    assert.equal(Number(await byId(page, 'sweep-heatmap').getAttribute('data-never')), never, 'null reads as never');
    const options = await byId(page, 'sweep-metric').evaluate((s) => [...s.options].map((o) => o.value));
    assert.ok(options.includes('reached:test_step_99'), `a null step is a run that never got there: ${options}`);
    // Hover names the point: the bottom-left cell is train_frac 0.2, no label noise.
    const box = await byId(page, 'sweep-heatmap').boundingBox();
    const size = await byId(page, 'sweep-heatmap').evaluate((c) => [c.width, c.height]);
    await page.mouse.move(box.x + (86 + 5) * box.width / size[0], box.y + (size[1] - 44 - 5) * box.height / size[1]);
    assert.match(await byId(page, 'sweep-readout').textContent(), /^task\.train_frac = 0\.2, task\.label_noise = 0: test_step_99 /);
    await byId(page, 'sweep-metric').selectOption('reached:test_step_99');
    await page.screenshot({ path: `${OUT}/phase-diagram.png` });

    // A tiny sweep run here: 2 × 2 points with 2 seeds each; the heatmap fills point by point.
    const tiny = { base: { grokking: { task: { p: 11 }, model: { mlp: { width: 16 } }, training: { steps: 100, eval_every: 20 } } },
      axes: { 'task.train_frac': [0.4, 0.6], 'optimizer.weight_decay': [0.1, 1], seed: { seeds: 2 } } };
    await byId(page, 'sweep-spec').fill(JSON.stringify(tiny));
    await byId(page, 'sweep-run').click();
    await page.waitForFunction(() => /^[1-7] of 8 points/.test(document.querySelector('[data-testid="sweep-status"]').textContent), null, { timeout: 60_000 });
    await page.waitForFunction(() => /^Done: 8 points/.test(document.querySelector('[data-testid="sweep-status"]').textContent), null, { timeout: 120_000 });
    assert.equal(await byId(page, 'sweep-heatmap').getAttribute('data-cells'), '4', 'seeds aggregate into 2 × 2 cells');
    const lines = await page.evaluate(() => window.gradscopeSweeps.results());
    assert.equal(lines.length, 8);
    assert.deepEqual(new Set(lines.map((r) => r.hash)).size, 8);
    assert.ok(lines.every((r) => r.format === 'gradscope-sweep' && r.steps === 100 && 'test_step_99' in r.verdict));
    assert.deepEqual(lines.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7], 'in point order');

    // A bigger sweep is sent to the CLI, by name.
    await byId(page, 'sweep-spec').fill(JSON.stringify({ base: 'pair-tiny-mlp', axes: { seed: { seeds: 30 } } }));
    await byId(page, 'sweep-run').click();
    await page.waitForFunction(() => /30 points; the browser runs at most 25/.test(document.querySelector('[data-testid="sweep-error"]').textContent), null, { timeout: 30_000 });

    // A cell opens its run in the lab.
    const cellBox = await byId(page, 'sweep-heatmap').boundingBox();
    await page.mouse.click(cellBox.x + 100, cellBox.y + 20);
    await page.waitForFunction(() => window.gradscope?.spec()?.grokking?.task?.p === 11, null, { timeout: 60_000 });
    assert.match(await page.evaluate(() => location.hash), /^#grokking\./);
    await page.goto(URL + '#sweeps');
    await byId(page, 'sweeps').waitFor();
    // One worker per core (2 here), each with its share of the points: the same lines as one
    // worker gives (wall times aside), in the same order, sooner.
    const timed = { base: { grokking: { task: { p: 11 }, model: { mlp: { width: 16 } }, training: { steps: 10000, eval_every: 1000 } } },
      axes: { seed: { seeds: 6 } } };
    const runSweep = async (target) => {
      await byId(target, 'sweep-spec').fill(JSON.stringify(timed));
      const t0 = Date.now();
      await byId(target, 'sweep-run').click();
      await target.waitForFunction(() => /^Done: 6 points/.test(document.querySelector('[data-testid="sweep-status"]').textContent), null, { timeout: 300_000 });
      const seconds = (Date.now() - t0) / 1000;
      const results = await target.evaluate(() => window.gradscopeSweeps.results().map(({ wall_s, ...rest }) => rest));
      return { seconds, results };
    };
    const many = await runSweep(page);
    const solo = await browser.newPage();
    await solo.goto(URL + '?workers=1#sweeps');
    await byId(solo, 'sweeps').waitFor();
    const one = await runSweep(solo);
    await solo.close();
    assert.deepEqual(many.results, one.results, 'the same lines as one worker');
    console.log(`sweep of 6 points × 10000 steps in the page: 1 worker ${one.seconds.toFixed(1)} s, ${await page.evaluate(() => navigator.hardwareConcurrency)} workers ${many.seconds.toFixed(1)} s (${(one.seconds / many.seconds).toFixed(2)}×)`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('before the wasm arrives: the presets and the first run\'s form show, Train waits for the trainer', async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BASE_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // The worker's wasm is held back until the form has been read.
    let release;
    const released = new Promise((ok) => { release = ok; });
    await page.route(/_bg\.wasm$/, async (route) => { await released; await route.continue(); });
    const formBeforeWasm = async (hash) => {
      await page.goto(URL + hash);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="spec-form"] fieldset').length > 1, null, { timeout: 30_000 });
      assert.equal(await byId(page, 'train-button').isDisabled(), true, 'Train waits for the worker');
      assert.match(await byId(page, 'speed').textContent(), /loading the trainer/);
      return page.locator('[data-testid="preset-select"] option').evaluateAll((os) => os.map((o) => o.value));
    };
    // A lab key: that lab's presets, its first preset's form.
    const scansPresets = await formBeforeWasm('#scans');
    assert.ok(scansPresets.includes('selective-copying') && scansPresets.includes('scan-race'), scansPresets.join());
    assert.equal(await byId(page, 'preset-select').inputValue(), scansPresets[0]);
    assert.ok(Number(await byId(page, 'field-task-len').inputValue()) > 0);
    // The page names its whole module graph up front (scripts/preload.mjs), so the browser
    // fetches it at once rather than one import level per round trip.
    const unlisted = await page.evaluate(() => {
      const preloaded = new Set([...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href));
      return performance.getEntriesByType('resource').map((r) => r.name)
        .filter((n) => /\.js$/.test(n) && !preloaded.has(n));
    });
    assert.deepEqual(unlisted, [], 'modules fetched without a modulepreload link');
    release();
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    assert.equal(await byId(page, 'preset-select').inputValue(), scansPresets[0], 'the loaded run is the one shown');
    // A spec link: its own values, read from the link before the worker validates them.
    const link = (await page.evaluate(() => location.hash)).replace(/grokking|scans\.task\.len=\d+/, 'scans.task.len=24');
    assert.match(link, /scans\.task\.len=24/);
    const held = new Promise((ok) => { release = ok; });
    await page.unroute(/_bg\.wasm$/);
    await page.route(/_bg\.wasm$/, async (route) => { await held; await route.continue(); });
    await page.goto('about:blank');
    await formBeforeWasm(link);
    assert.equal(await byId(page, 'field-task-len').inputValue(), '24');
    assert.equal(await byId(page, 'preset-select').inputValue(), '', 'a changed spec is Custom');
    release();
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    assert.equal(await byId(page, 'field-task-len').inputValue(), '24');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('presets, compare runs and a CLI metrics file', async () => {
  const { browser, page, errors } = await open(BASE_ARGS, '#grokking');
  try {
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    const names = await page.locator('[data-testid="preset-select"] option').evaluateAll((os) => os.map((o) => o.value));
    for (const name of ['doshi-quick-grok', 'doshi-label-noise', 'prieto-orthograd', 'prieto-softmax-collapse',
      'prieto-stablemax', 'nanda-1l-transformer', 'power-division', 'kumar-rich', 'kumar-lazy', 'pair-tiny-mlp']) {
      assert.ok(names.includes(name), `preset ${name} listed`);
    }
    // One click loads a preset: the form, the note and the link follow.
    await byId(page, 'preset-select').selectOption('prieto-orthograd');
    await page.waitForFunction(() => /optimizer\.orthograd=true/.test(location.hash), null, { timeout: 30_000 });
    assert.equal(await byId(page, 'field-model-mlp-width').inputValue(), '200');
    assert.equal(await byId(page, 'field-optimizer-orthograd').isChecked(), true);
    assert.match(await byId(page, 'preset-note').textContent(), /⊥Grad|orthograd/i);
    await byId(page, 'preset-select').selectOption('nanda-1l-transformer');
    await page.waitForFunction(() => /model\.transformer\.d_model=128/.test(location.hash), null, { timeout: 30_000 });
    assert.equal(await byId(page, 'field-model-transformer-heads').isVisible(), true);
    assert.equal(await byId(page, 'field-model-mlp-width').isVisible(), false);
    // Bad transformer shape: refused by name.
    await byId(page, 'field-model-transformer-heads').fill('5');
    await byId(page, 'field-model-transformer-heads').dispatchEvent('change');
    await page.waitForFunction(() => /heads: must divide d_model = 128/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 30_000 });

    // Pin a short run, then train another: both appear in the loss chart's legend.
    await page.evaluate(() => { location.hash = '#grokking.task.p=23&grokking.model.mlp.width=32&grokking.training.steps=30'; });
    await page.waitForFunction(() => /task\.p=23/.test(location.hash) && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 30_000 });
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '30', null, { timeout: 120_000 });
    await byId(page, 'pin-button').click();
    await page.evaluate(() => { location.hash = '#grokking.task.p=23&grokking.model.mlp.width=32&grokking.training.steps=30&grokking.optimizer.weight_decay=0'; });
    await page.waitForFunction(() => /weight_decay=0\.0(&|$)/.test(location.hash), null, { timeout: 30_000 });
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '30', null, { timeout: 120_000 });
    const legend = await page.locator('[data-testid="chart-main"] .u-legend').first().textContent();
    assert.match(legend, /@30: train/, 'the pinned run is overlaid');

    // A metrics file as the CLI writes it loads as another overlay, with its verdict.
    const lines = [];
    for (let step = 0; step <= 60; step += 5) {
      const train = Math.min(1, step / 28), test = step < 30 ? 0.02 : Math.min(1, (step - 28) / 12);
      lines.push(JSON.stringify({ step, train_loss: 1 - train + 1e-4, train_acc: train, test_loss: 1 - test + 1e-4, test_acc: test, weight_norm: 10, wall_ms: step }));
    }
    await byId(page, 'load-metrics').setInputFiles({ name: 'cli-run.jsonl', mimeType: 'application/json', buffer: Buffer.from(lines.join('\n')) });
    await page.waitForFunction(() => /cli-run\.jsonl.*Grokked/.test(document.querySelector('[data-testid="pinned-list"]').textContent), null, { timeout: 30_000 });
    // That file has no header line (format version 1): the page says what such files may describe.
    const fileNotice = byId(page, 'file-notice');
    assert.match(await fileNotice.textContent(), /causal mask was inverted/);
    assert.equal(await fileNotice.isVisible(), true);
    // A version-2 file starts with a header line; it loads and raises no notice.
    const header = JSON.stringify({ format: 'gradscope-metrics', version: 2, lab: 'grokking', spec: { grokking: {} } });
    await byId(page, 'load-metrics').setInputFiles({ name: 'cli-run-v2.jsonl', mimeType: 'application/json', buffer: Buffer.from([header, ...lines].join('\n')) });
    await page.waitForFunction(() => /cli-run-v2\.jsonl.*Grokked/.test(document.querySelector('[data-testid="pinned-list"]').textContent), null, { timeout: 30_000 });
    assert.equal(await fileNotice.isVisible(), false);
    await page.screenshot({ path: `${OUT}/compare.png`, fullPage: true });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

// A scans run small enough for the CPU backend in a browser: S4D and Mamba on 16-token copying.
const SCANS_SMALL = '#scans.task.len=16&scans.task.data_tokens=2&scans.task.vocab=4&scans.models.s4d.mixer=s4d' +
  '&scans.models.s4d.d_model=8&scans.models.mamba.mixer=mamba&scans.models.mamba.d_model=8' +
  '&scans.training.batch_size=4&scans.training.eval_every=1&scans.training.steps=5000&scans.eval.sequences=8&scans.eval.extrapolation=2';

test('labs: the header and the URL hash switch labs; the scans lab trains, explores kernels and races scans (CPU)', async () => {
  const { browser, page, errors } = await open(BASE_ARGS, '#grokking');
  try {
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.gradscope.lab()), 'grokking');
    // The header's lab link: the scans lab's first preset, its form and its link.
    await byId(page, 'lab-scans').click();
    await page.waitForFunction(() => window.gradscope?.lab() === 'scans' && /^#scans\./.test(location.hash), null, { timeout: 60_000 });
    assert.match(await page.locator('nav a.active').textContent(), /Mamba/);
    const names = await page.locator('[data-testid="preset-select"] option').evaluateAll((os) => os.map((o) => o.value));
    for (const name of ['selective-copying', 's4d-kernels', 'mamba-selectivity', 'scan-race', 'induction-heads', 'memory-decay']) {
      assert.ok(names.includes(name), `preset ${name} listed`);
    }
    assert.ok(!names.includes('doshi-quick-grok'), 'only this lab\'s presets');
    assert.equal(await byId(page, 'field-models-mamba-mixer').inputValue(), 'mamba');
    assert.match(await byId(page, 'preset-note').textContent(), /Mamba/);

    // A hash with a small run: train a few steps, both models' curves and tiles fill in.
    await page.evaluate((h) => { location.hash = h; }, SCANS_SMALL);
    await page.waitForFunction(() => /task\.len=16/.test(location.hash) && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await watchMainThread(browser, page);
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').textContent) >= 6, null, { timeout: 120_000 });
    await byId(page, 'pause-button').click();
    const history = await page.evaluate(() => window.gradscope.history());
    const last = history.at(-1);
    for (const key of ['s4d.test_acc', 'mamba.test_acc', 's4d.train_loss', 'mamba.train_loss']) {
      assert.ok(Number.isFinite(last.series[key]), `${key} in the record`);
    }
    assert.match(await byId(page, 'metric-acc-mamba').textContent(), /^\d\.\d{3}$/);
    await page.waitForTimeout(300);
    assert.ok(await seriesPixels(page, 'chart-accuracy', TEST_RGB) >= 20, 'the accuracy chart painted the first model');
    // The analysis views: an example with both models' answers, Δ_t, memory decay.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="example-view"] .gs-ex-row').length === 4, null, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="state-heatmap"]').width === 16, null, { timeout: 60_000 });
    // Extrapolation: each point with its standard error over the sequences scored.
    await page.waitForFunction(() => /± standard error over the sequences scored · \S+: \d\.\d\d ± \d\.\d\d at 16/.test(document.querySelector('[data-testid="extrapolation-note"]').textContent), null, { timeout: 60_000 });

    // The views on a sequence the user types: its tokens, the models' answers, Δ_t over it; a
    // sequence that breaks the task's layout is refused by name and the held-out one comes back.
    assert.match(await byId(page, 'example-input').inputValue(), /^\d+( \d+){15}$/, 'prefilled with the held-out sequence');
    await byId(page, 'example-input').fill('0 3 0 0 5 0 0 0 4 0 1 1 1');
    await byId(page, 'example-show').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="example-view"] .gs-ex-row:first-child .gs-tok').length === 13 &&
      /Your sequence/.test(document.querySelector('[data-testid="example-view"]').parentElement.textContent), null, { timeout: 60_000 });
    assert.match(await page.locator('[data-testid="example-view"] .gs-ex-row').nth(1).textContent(), /3 5 4/, 'the task\'s answers');
    await byId(page, 'example-input').fill('0 3 1 1');
    await byId(page, 'example-show').click();
    await page.waitForFunction(() => /1 data tokens/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 60_000 });
    assert.equal(await byId(page, 'example-back').isDisabled(), true, 'back on the held-out sequence');
    await page.waitForFunction(() => /held-out sequence/.test(document.querySelector('[data-testid="example-view"]').parentElement.textContent) &&
      document.querySelectorAll('[data-testid="example-view"] .gs-ex-row:first-child .gs-tok').length === 16, null, { timeout: 60_000 });
    assert.equal(await byId(page, 'example-input').inputValue(), '0 3 1 1', 'the refused text stays to be fixed');

    // The kernel explorer answers a change of Δ.
    await byId(page, 'explore-init').selectOption('real');
    await page.waitForFunction(() => document.querySelector('[data-testid="explore-eigen"]').width > 0, null, { timeout: 60_000 });

    // The scan race at two short lengths, every target, on this backend.
    for (const l of [1024, 4096]) await byId(page, `race-len-${l}`).uncheck();
    await byId(page, 'race-cap').fill('5');
    await byId(page, 'race-run').click();
    await page.waitForFunction(() => /measurements/.test(document.querySelector('[data-testid="race-status"]').textContent), null, { timeout: 240_000 });
    const table = await byId(page, 'race-table').textContent();
    console.log(`CPU (wasm) scan race: ${table}`);
    assert.match(table, /CPU \(wasm\)/);
    assert.equal((table.match(/ ms/g) || []).length, 10, 'five targets × two lengths measured');
    const tasks = await mainThreadTasks(browser);
    console.log(`CPU (wasm) scans: main-thread tasks over 20 ms (ms of CPU / wall): ${fmtTasks(tasks)}`);
    await assertNoStall(browser, page, tasks);
    await page.screenshot({ path: `${OUT}/scans-cpu.png`, fullPage: true });

    // A bad scans field is refused by name; the run is kept.
    await page.evaluate(() => { location.hash = '#scans.task.len=99999'; });
    await page.waitForFunction(() => /scans\.task\.len/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 30_000 });
    assert.ok(await num(page, 'step-count') >= 6, 'the run is kept');

    // Back to grokking through the header: its form and views return.
    await byId(page, 'lab-grokking').click();
    await page.waitForFunction(() => window.gradscope?.lab() === 'grokking' && /^#grokking\./.test(location.hash), null, { timeout: 60_000 });
    assert.equal(await byId(page, 'field-task-p').inputValue(), '97');
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('WebGPU: the scan race and a Mamba step on SwiftShader', async () => {
  const { browser, page, errors } = await open([...BASE_ARGS, ...WEBGPU_ARGS], SCANS_SMALL);
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent.startsWith('WebGPU'), null, { timeout: 120_000 });
    await page.waitForFunction(() => window.gradscope?.lab() === 'scans' && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    // L ≤ 256 for the parallel, chunked and fused scans and S4D; the sequential scan at 64 only
    // (one dispatch group per step: ~10⁴ dispatches at 1024 on a software GPU).
    for (const l of [1024, 4096]) await byId(page, `race-len-${l}`).uncheck();
    await byId(page, 'race-target-sequential').uncheck();
    await byId(page, 'race-cap').fill('60');
    await byId(page, 'race-run').click();
    await page.waitForFunction(() => /measurements/.test(document.querySelector('[data-testid="race-status"]').textContent), null, { timeout: 480_000 });
    let table = await byId(page, 'race-table').textContent();
    console.log(`WebGPU scan race: ${table}`);
    assert.match(table, /WebGPU/);
    assert.equal((table.match(/ ms/g) || []).length, 8, 'four targets × two lengths measured');
    assert.match(table, /disp\./, 'GPU dispatches counted');
    await byId(page, 'race-len-256').uncheck();
    await byId(page, 'race-target-sequential').check();
    for (const t of ['parallel', 'chunked', 'fused', 's4d_conv']) await byId(page, `race-target-${t}`).uncheck();
    await byId(page, 'race-run').click();
    await page.waitForFunction(() => /measurements/.test(document.querySelector('[data-testid="race-status"]').textContent) && /sequential/.test(document.querySelector('[data-testid="race-table"]').textContent), null, { timeout: 480_000 });
    table = await byId(page, 'race-table').textContent();
    console.log(`WebGPU sequential scan: ${table}`);
    // One training step of both models on the GPU.
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '1', null, { timeout: 240_000 });
    await page.waitForFunction(() => window.gradscope?.history().some((r) => r.step === 1), null, { timeout: 240_000 });
    const last = await page.evaluate(() => window.gradscope.history().at(-1));
    assert.ok(Number.isFinite(last.series['mamba.train_loss']) && Number.isFinite(last.series['s4d.train_loss']));
    await page.screenshot({ path: `${OUT}/scans-webgpu.png`, fullPage: true });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

// Pre-LN against Post-LN, shrunk for the CPU backend and SwiftShader: depth 6, width 16.
const FLOW_SMALL = '#gradient_flow.models.pre.depth=6&gradient_flow.models.pre.width=16&gradient_flow.models.pre.norm=pre' +
  '&gradient_flow.models.post.depth=6&gradient_flow.models.post.width=16&gradient_flow.models.post.norm=post' +
  '&gradient_flow.task.input_dim=8&gradient_flow.task.output_dim=4&gradient_flow.training.batch_size=16' +
  '&gradient_flow.training.eval_every=1&gradient_flow.training.steps=5000';

// Two small transformers on the copy task, with and without qk-LayerNorm.
const FLOW_ATTENTION = '#gradient_flow.task.kind=copy&gradient_flow.task.vocab=8&gradient_flow.task.copy_length=4' +
  ['qk', 'plain'].map((n) => `&gradient_flow.models.${n}.block=transformer&gradient_flow.models.${n}.depth=2` +
    `&gradient_flow.models.${n}.width=16&gradient_flow.models.${n}.heads=2&gradient_flow.models.${n}.qk_norm=${n === 'qk'}`).join('') +
  '&gradient_flow.training.batch_size=8&gradient_flow.training.eval_every=1&gradient_flow.training.steps=5000';

test('gradient flow: the lab opens from the landing page\'s header and a link, trains Pre- vs Post-LN, and the heatmap reads out (CPU)', async () => {
  const { browser, page, errors } = await open(BASE_ARGS);
  try {
    // No hash: the landing page, one card per lab, each with a live thumbnail that trains.
    await byId(page, 'landing').waitFor({ timeout: 30_000 });
    for (const id of ['grokking', 'scans', 'gradient_flow']) await byId(page, `landing-${id}`).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('gradscope-widget[thumbnail]')].every((w) => w.handle?.history().length > 0), null, { timeout: 120_000 });
    await page.screenshot({ path: `${OUT}/landing.png` });
    await byId(page, 'lab-gradient_flow').click();
    await page.waitForFunction(() => window.gradscope?.lab() === 'gradient_flow' && /^#gradient_flow\./.test(location.hash), null, { timeout: 60_000 });
    const names = await page.locator('[data-testid="preset-select"] option').evaluateAll((os) => os.map((o) => o.value));
    for (const name of ['norm-placement', 'residual-scaling', 'selu-vs-relu', 'deep-linear-orthogonal', 'attention-logit-growth']) {
      assert.ok(names.includes(name), `preset ${name} listed`);
    }
    assert.equal(await byId(page, 'field-models-post-ln-norm').inputValue(), 'post');

    await page.evaluate((h) => { location.hash = h; }, FLOW_SMALL);
    await page.waitForFunction(() => /models\.pre\.depth=6/.test(location.hash) && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await watchMainThread(browser, page);
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').textContent) >= 6, null, { timeout: 120_000 });
    await byId(page, 'pause-button').click();
    // Paused: with a worker per core (2 here, a stack each) that is once they have met at one
    // step and joined into one run.
    await page.waitForFunction(() => !window.gradscope.running(), null, { timeout: 60_000 });
    const last = await page.evaluate(() => window.gradscope.history().at(-1));
    for (const k of ['pre.test_loss', 'post.train_loss', 'pre.grad_norm.01', 'post.grad_norm.06', 'post.act_rms.03', 'pre.update_ratio.06']) {
      assert.ok(Number.isFinite(last.series[k]), `${k} in the record`);
    }
    // The heatmap: one column per evaluation, one row per block; the hover readout names both.
    await page.waitForFunction(() => document.querySelector('[data-testid="flow-heatmap-post"]').width >= 6 &&
      document.querySelector('[data-testid="flow-heatmap-post"]').height === 6, null, { timeout: 30_000 });
    const box = await byId(page, 'flow-heatmap-post').boundingBox();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.1);
    const text = await byId(page, 'flow-readout').textContent();
    assert.match(text, /^post, block 1, step \d+: gradient norm .* = \d\.\d{3}e[-+]\d+$/, text);
    // The drill-down: one matrix of each block.
    await byId(page, 'flow-tensor').selectOption('out');
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.95);
    assert.match(await byId(page, 'flow-readout').textContent(), /^post, block 6, step \d+: gradient norm of MLP W_out .* = \d\.\d{3}e[-+]\d+$/);
    await byId(page, 'flow-metric').selectOption('act_rms');
    assert.ok(await byId(page, 'flow-tensor').isHidden(), 'the drill-down is for gradient norms only');
    const moved = await byId(page, 'flow-heatmap-post').boundingBox(); // the controls' row may have reflowed
    await page.mouse.move(moved.x + moved.width * 0.9, moved.y + moved.height * 0.95);
    assert.match(await byId(page, 'flow-readout').textContent(), /block 6, .*activation RMS .* = \d/);
    await page.waitForFunction(() => document.querySelector('[data-testid="flow-init-rms"] canvas')?.width > 0, null, { timeout: 30_000 });
    const tasks = await mainThreadTasks(browser);
    console.log(`CPU (wasm) gradient flow: main-thread tasks over 20 ms (ms of CPU / wall): ${fmtTasks(tasks)}`);
    await assertNoStall(browser, page, tasks);
    await page.screenshot({ path: `${OUT}/gradient-flow-cpu.png`, fullPage: true });

    // Transformer stacks on the copy task, from a link: the max attention logit per block.
    await page.evaluate((h) => { location.hash = h; }, FLOW_ATTENTION);
    await page.waitForFunction(() => /task\.kind=copy/.test(location.hash) && !document.querySelector('[data-testid="train-button"]').disabled &&
      window.gradscope.history().every((r) => !('pre.test_loss' in r.series)), null, { timeout: 60_000 });
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => window.gradscope?.history().some((r) => r.step >= 3 && 'qk.train_loss' in r.series), null, { timeout: 120_000 });
    await byId(page, 'pause-button').click();
    await page.waitForFunction(() => !window.gradscope.running(), null, { timeout: 60_000 });
    const attn = await page.evaluate(() => window.gradscope.history().at(-1));
    for (const k of ['qk.max_logit.01', 'plain.max_logit.02', 'qk.grad_q.01', 'plain.grad_o.02', 'qk.test_loss']) {
      assert.ok(Number.isFinite(attn.series[k]), `${k} in the record: ${attn.series[k]}`);
    }
    await byId(page, 'flow-metric').selectOption('max_logit');
    const qkBox = await byId(page, 'flow-heatmap-qk').boundingBox();
    await page.mouse.move(qkBox.x + qkBox.width * 0.9, qkBox.y + qkBox.height * 0.25);
    assert.match(await byId(page, 'flow-readout').textContent(), /^qk, block 1, step \d+: max attention logit .* = -?\d\.\d{3}e[-+]\d+$/);
    await page.screenshot({ path: `${OUT}/gradient-flow-attention-cpu.png`, fullPage: true });

    // A bad field is refused by name; the run is kept.
    const steps = await num(page, 'step-count');
    await page.evaluate(() => { location.hash = '#gradient_flow.models.pre.depth=65'; });
    await page.waitForFunction(() => /gradient_flow\.models\.pre\.depth/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 30_000 });
    assert.ok(steps >= 3 && await num(page, 'step-count') === steps, 'the run is kept');
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('gradient flow: a Step of Pre- vs Post-LN, then of two transformers, on WebGPU (SwiftShader)', async () => {
  const { browser, page, errors } = await open([...BASE_ARGS, ...WEBGPU_ARGS], FLOW_SMALL);
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent.startsWith('WebGPU'), null, { timeout: 120_000 });
    await page.waitForFunction(() => window.gradscope?.lab() === 'gradient_flow' && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => window.gradscope?.history().some((r) => r.step === 1), null, { timeout: 240_000 });
    const last = await page.evaluate(() => window.gradscope.history().at(-1));
    for (const k of ['pre.grad_norm.01', 'post.grad_norm.06', 'post.update_ratio.01']) {
      assert.ok(Number.isFinite(last.series[k]) && last.series[k] > 0, `${k} on WebGPU: ${last.series[k]}`);
    }
    // Transformer stacks (attention, qk-LayerNorm) on WebGPU: one step from a link.
    await page.evaluate((h) => { location.hash = h; }, FLOW_ATTENTION);
    await page.waitForFunction(() => /task\.kind=copy/.test(location.hash) && !document.querySelector('[data-testid="step-button"]').disabled &&
      window.gradscope.history().every((r) => !('pre.test_loss' in r.series)), null, { timeout: 240_000 });
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => window.gradscope?.history().some((r) => r.step === 1 && 'qk.train_loss' in r.series), null, { timeout: 240_000 });
    const attn = await page.evaluate(() => window.gradscope.history().at(-1));
    for (const k of ['qk.max_logit.01', 'plain.max_logit.02', 'qk.grad_k.02', 'plain.train_loss']) {
      assert.ok(Number.isFinite(attn.series[k]), `${k} on WebGPU: ${attn.series[k]}`);
    }
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

/** Trains the page's run (its budget set to `steps`) to its end, pausing once at `pauseAt` if
 * given; returns the seconds from Train to the end, the history without wall times, the report,
 * the error shown and the most workers seen alive. */
async function trainToEnd(page, steps, { pauseAt = 0 } = {}) {
  await page.evaluate((steps) => { const s = window.gradscope.spec(); Object.values(s)[0].training.steps = steps; window.gradscope.load(s); }, steps);
  await page.waitForFunction((steps) => Object.values(window.gradscope.spec())[0].training.steps === steps &&
    window.gradscope.step() === 0 && !document.querySelector('[data-testid="train-button"]').disabled, steps, { timeout: 60_000 });
  const t0 = Date.now();
  let workers = 0;
  const count = setInterval(() => { workers = Math.max(workers, page.workers().length); }, 200);
  await byId(page, 'train-button').click();
  if (pauseAt) {
    await page.waitForFunction((n) => window.gradscope.step() >= n, pauseAt, { timeout: 300_000 });
    await byId(page, 'pause-button').click();
    await page.waitForFunction(() => !window.gradscope.running() && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await byId(page, 'train-button').click();
  }
  await page.waitForFunction(() => !window.gradscope.running() && window.gradscope.step() > 0 &&
    document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 600_000 });
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(count);
  return {
    seconds, workers,
    history: await page.evaluate(() => window.gradscope.history().map(({ wall_ms, ...r }) => r)),
    report: await page.evaluate(() => window.gradscope.report()),
    error: await byId(page, 'error-banner').evaluate((e) => (e.hidden ? '' : e.textContent)),
  };
}

test('a run of several models trains in one worker per core, bit for bit as in one worker, paused or not, diverged or not (CPU)', async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BASE_ARGS });
  const errors = [];
  const openPage = async (query, hash) => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(URL + query + hash);
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    return page;
  };
  try {
    // The norm-placement preset (four 24-block stacks): a worker per core (2 here), against one.
    const team = await openPage('?backend=cpu', '#gradient_flow');
    const solo = await openPage('?backend=cpu&workers=1', '#gradient_flow');
    const cores = await team.evaluate(() => navigator.hardwareConcurrency);
    const many = await trainToEnd(team, 100);
    const one = await trainToEnd(solo, 100);
    assert.equal(one.workers, 1);
    assert.equal(many.workers, Math.min(4, cores), 'one worker per core, at most one per stack');
    assert.equal(many.history.length, 6, 'an evaluation every 20 steps');
    assert.deepEqual(many.history, one.history, 'the same evaluations as one worker');
    assert.deepEqual(many.report, one.report, 'the same report');
    console.log(`norm-placement, 100 steps on the CPU (wasm): 1 worker ${one.seconds.toFixed(1)} s, ${many.workers} workers ${many.seconds.toFixed(1)} s (${(one.seconds / many.seconds).toFixed(2)}×)`);
    // Paused mid-way (the workers join into one run) and trained on (split again): the same.
    const paused = await trainToEnd(team, 100, { pauseAt: 40 });
    assert.deepEqual(paused.history, one.history, 'paused and resumed: the same evaluations');
    await team.screenshot({ path: `${OUT}/team-norm-placement.png`, fullPage: true });

    // Two stacks under SGD at lr 1000: the run stops at the evaluation where a stack diverged,
    // with the same history and message as in one worker.
    const diverging = FLOW_SMALL.replace('eval_every=1', 'eval_every=5') + '&gradient_flow.optimizer.kind=sgd&gradient_flow.optimizer.lr=1000';
    for (const page of [team, solo]) {
      await page.evaluate((h) => { location.hash = h; }, diverging);
      await page.waitForFunction(() => /optimizer\.lr=1000/.test(location.hash) && !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    }
    const [d2, d1] = [await trainToEnd(team, 400), await trainToEnd(solo, 400)];
    assert.match(d1.error, /training diverged: .+ became non-finite at step \d+/);
    assert.equal(d2.error, d1.error);
    assert.deepEqual(d2.history, d1.history);
    assert.ok(d1.history.at(-1).step < 400, 'it diverged before the end');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a Step that diverges says so; a backend the run does not fit is refused and the run stays', async () => {
  // SGD at lr 1000 on a scaled-up MLP: the loss is non-finite within a few steps.
  const diverging = '#grokking.task.p=23&grokking.model.mlp.width=32&grokking.model.mlp.init_scale=50' +
    '&grokking.optimizer.kind=sgd&grokking.optimizer.lr=1000&grokking.optimizer.weight_decay=0';
  const { browser, page } = await open([...BASE_ARGS, ...WEBGPU_ARGS].concat([]), '?backend=cpu' + diverging);
  try {
    await page.waitForFunction(() => !document.querySelector('[data-testid="step-button"]').disabled, null, { timeout: 120_000 });
    const banner = byId(page, 'error-banner');
    for (let i = 0; i < 20 && !(await banner.isVisible()); i++) {
      await byId(page, 'step-button').click();
      await page.waitForTimeout(400);
    }
    assert.match(await banner.textContent(), /training diverged: \w+ became non-finite at step \d+/);
    assert.ok(await page.evaluate(() => window.gradscope.history().length) >= 1, 'the history is kept');

    // A float64 loss cannot run on WebGPU: switching is refused, the CPU run stays.
    await page.evaluate(() => { location.hash = '#grokking.task.p=23&grokking.loss.kind=stablemax&grokking.loss.precision=f64'; });
    await page.waitForFunction(() => /precision=f64/.test(location.hash), null, { timeout: 60_000 });
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '1', null, { timeout: 60_000 });
    await byId(page, 'backend-select').selectOption('webgpu');
    await page.waitForFunction(() => /cannot switch to WebGPU/.test(document.querySelector('[data-testid="error-banner"]').textContent), null, { timeout: 120_000 });
    assert.match(await banner.textContent(), /f64 is not available on this backend.*Still on CPU \(wasm\)/s);
    assert.equal(await byId(page, 'backend-label').textContent(), 'CPU (wasm)');
    assert.equal(await num(page, 'step-count'), 1, 'the run on the CPU is kept');
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').textContent === '2', null, { timeout: 60_000 });
  } finally {
    await browser.close();
  }
});
