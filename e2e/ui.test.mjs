// End-to-end UI tests: Debian's Chromium driven by playwright-core against the trunk build
// (scripts/test.sh serves dist/ on 127.0.0.1 and sets GRADSCOPE_URL). Screenshots go to
// e2e-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
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
  await page.goto(URL + hash);
  return { browser, page, errors };
}

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);
const num = async (page, id) => Number(await byId(page, id).textContent());

async function watchLongTasks(page) {
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: false });
  });
}

// A run small enough for SwiftShader's software WebGPU (real GPUs are far faster).
const SMALL = '#grokking.task.p=23&grokking.model.mlp.width=32&grokking.loss.kind=cross_entropy' +
  '&grokking.optimizer.lr=0.02&grokking.optimizer.weight_decay=0.1&grokking.training.steps=400';

test('WebGPU: trains, the counter and the chart advance, the backend is named', async () => {
  const { browser, page, errors } = await open([...BASE_ARGS, ...WEBGPU_ARGS], SMALL);
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent.startsWith('WebGPU'), null, { timeout: 120_000 });
    const label = await byId(page, 'backend-label').textContent();
    assert.match(label, /^WebGPU — /);
    assert.equal(await byId(page, 'backend-notice').isHidden(), true);
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
    assert.equal(await byId(page, 'error-banner').isHidden(), true, 'the link loads as given');
    assert.match(await page.evaluate(() => location.hash), /grokking\.model\.mlp\.width=32/);
    await watchLongTasks(page);
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').textContent) >= 3, null, { timeout: 240_000 });
    const s1 = await num(page, 'step-count');
    await page.waitForFunction((s) => Number(document.querySelector('[data-testid="step-count"]').textContent) > s + 2, s1, { timeout: 240_000 });
    // The chart has drawn points (uPlot renders series paths into its canvas; the legend shows values).
    const points = await page.evaluate(() => window.gradscope.history().filter((r) => r.step > 0).length);
    assert.ok(points >= 3, `chart has ${points} points`);
    await byId(page, 'pause-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pause-button"]').disabled, null, { timeout: 120_000 });
    const paused = await num(page, 'step-count');
    await page.waitForTimeout(1500);
    assert.equal(await num(page, 'step-count'), paused, 'pause stops training');
    const longTasks = await page.evaluate(() => window.__longTasks);
    console.log(`WebGPU: ${paused} steps; main-thread long tasks (ms): ${JSON.stringify(longTasks.map(Math.round))}`);
    assert.ok(longTasks.every((d) => d < 100), `main thread stalled: ${longTasks}`);
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
    await page.screenshot({ path: `${OUT}/webgpu.png`, fullPage: true });
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('no WebGPU: CPU fallback notice, and the default preset groks to test acc ≥ 0.99', async () => {
  const { browser, page, errors } = await open(BASE_ARGS);
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent === 'CPU (wasm)', null, { timeout: 120_000 });
    await page.waitForFunction(() => location.hash.length > 1, null, { timeout: 60_000 });
    const notice = byId(page, 'backend-notice');
    assert.equal(await notice.isVisible(), true);
    assert.match(await notice.textContent(), /WebGPU is not available.*CPU \(wasm\)/);
    assert.match(await page.evaluate(() => location.hash), /grokking\.task\.p=97/);
    await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 60_000 });
    await watchLongTasks(page);
    const t0 = Date.now();
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="metric-test-acc"]').textContent) >= 0.99, null, { timeout: 600_000, polling: 250 });
    const step = await num(page, 'step-count');
    const history = await page.evaluate(() => window.gradscope.history());
    const at99 = history.find((r) => r.test_acc >= 0.99).step;
    const fit = history.find((r) => r.train_acc >= 1.0)?.step;
    const longTasks = await page.evaluate(() => window.__longTasks);
    console.log(`CPU (wasm): train acc 1.0 at ${fit}, test acc ≥ 0.99 at step ${at99}; ` +
      `${(step / ((Date.now() - t0) / 1000)).toFixed(2)} steps/s; long tasks (ms): ${JSON.stringify(longTasks.map(Math.round))}`);
    assert.ok(at99 <= 60, `test acc ≥ 0.99 only at step ${at99}`);
    assert.ok(longTasks.every((d) => d < 100), `main thread stalled: ${longTasks}`);
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

    // A bad form value: refused by name, the run (step 1) and its spec are untouched.
    const lr = byId(page, 'field-optimizer-lr');
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

test('presets, compare runs and a CLI metrics file', async () => {
  const { browser, page, errors } = await open(BASE_ARGS);
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
