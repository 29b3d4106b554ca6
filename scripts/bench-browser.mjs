// The browser's speed next to the native CLI's, measured in one run (scripts/bench-browser.sh
// builds and serves dist/ and calls this). Prints one markdown table per measurement:
// - training steps/s of each spec: native Flex on one thread and on all, CPU-wasm in headless
//   Chromium, native wgpu and WebGPU (SwiftShader here), with GPU dispatches per step and the
//   first step's latency;
// - first load on the CPU path and the WebGPU path, on the loopback and at 20 Mbit/s with 40 ms
//   RTT: when the form shows and when the page is interactive (Train enabled, the loss chart
//   drawn), cold and warm cache, and the worker wasm's bytes on the wire;
// - a post of 10 widgets scrolled top to bottom: Chromium's PSS (peak, summed over its
//   processes), the workers alive, each widget's steps/s while on screen;
// - the worker's wasm size, raw, gzip -9 and brotli (quality 11, as scripts/precompress.mjs
//   writes the site's copies);
// - with --to-grok, the wall time until test accuracy ≥ 0.99, browser and native.
// Not a test: nothing here asserts a speed (the machines are noisy); ratios come from one run.
//
//   node scripts/bench-browser.mjs --url http://127.0.0.1:8150/ --gs target/release/gradscope \
//     [--specs doshi-quick-grok,nanda-1l-transformer] [--steps 20] [--backends cpu,webgpu]
//     [--to-grok] [--grok-timeout 600] [--torch PYTHON] [--native-timeout 600] [--json out.json]
//     [--loopback-only] [--no-post] [--post-dwell MS] [--only speed,load,post,team]
// --only runs those tables alone (a memory or first-load change is measured without the
// training benchmarks' minutes); the wasm sizes are always printed.
// A spec is a preset name or a spec file (anything `gradscope spec` takes). --torch: a Python
// with torch, for the PyTorch CPU reference of doshi-quick-grok (scripts/reference/doshi_torch.py)
// on one thread and on all.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const flag = (name) => args.includes(`--${name}`);
const URL = opt('url', 'http://127.0.0.1:8150/');
const GS = opt('gs', 'gradscope');
const DIST = opt('dist', 'dist');
const SPECS = opt('specs', 'doshi-quick-grok').split(',').filter(Boolean);
const STEPS = Number(opt('steps', '20'));
const BACKENDS = opt('backends', process.env.BACKENDS || 'cpu,webgpu').split(',').filter(Boolean);
const TO_GROK = flag('to-grok');
const GROK_TIMEOUT_S = Number(opt('grok-timeout', '600'));
const TORCH = opt('torch', null);
const ONLY = new Set(opt('only', 'speed,load,post,team').split(',').filter(Boolean));
const NATIVE_TIMEOUT_MS = Number(opt('native-timeout', '600')) * 1000;
const SPEC_TIMEOUT_MS = Number(opt('spec-timeout', process.env.SPEC_TIMEOUT || '900')) * 1000;

const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// SwiftShader's Vulkan behind Chromium's WebGPU, headless (the same flags as webdriver.json).
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=vulkan'];

const log = (...a) => console.error('[bench-browser]', ...a);

/** `gradscope spec NAME` as an object: the exact spec both sides train. */
function specOf(name) {
  return JSON.parse(execFileSync(GS, ['spec', name], { encoding: 'utf8' }));
}

/** `gradscope bench --json` lines, one per backend; `env` adds to the environment. */
function nativeBench(name, backend, env = {}, extra = []) {
  try {
    const out = execFileSync(GS, ['bench', name, '--json', '--steps', String(STEPS), '--backend', backend, ...extra], {
      encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
      // Native wgpu autotunes every matmul shape first; on Mesa's lavapipe that took over ten
      // minutes for the Nanda transformer, so a measurement may be cut short (reported as —).
      timeout: NATIVE_TIMEOUT_MS,
    });
    return out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))[0] ?? null;
  } catch (e) {
    log(`native ${backend} on ${name} failed: ${String(e.stderr || e).trim().split('\n').pop()}`);
    return null;
  }
}

/** The PyTorch CPU reference of doshi-quick-grok (the preset it reimplements), or null. */
function torchBench(threads) {
  if (!TORCH) return null;
  try {
    return JSON.parse(execFileSync(TORCH, ['scripts/reference/doshi_torch.py', '--steps', String(STEPS), '--threads', String(threads)], { encoding: 'utf8' }));
  } catch (e) {
    log(`PyTorch reference failed: ${String(e).split('\n')[0]}`);
    return null;
  }
}

async function launch(backend) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: backend === 'webgpu' ? [...BASE_ARGS, ...WEBGPU_ARGS] : BASE_ARGS,
  });
}

/** Waits until the page is interactive: Train enabled and the loss chart drawn (uPlot's
 * canvas laid out with its axes; the curves start with the first evaluation, at step 0 of
 * training). Returns ms since navigation; `painted`, when the form first showed its fields (the
 * page draws it from the build-written schema before the wasm arrives). */
async function interactive(page, timeout = 120_000) {
  await page.waitForFunction(() => {
    const train = document.querySelector('[data-testid="train-button"]');
    const canvas = document.querySelector('[data-testid="chart-loss"] canvas');
    return train && !train.disabled && canvas && canvas.width > 0;
  }, null, { timeout, polling: 10 });
  return page.evaluate(() => ({ ready: performance.now(), painted: window.__painted }));
}

/** Runs in the page before its own scripts (`addInitScript`): records in `__painted` the first
 * animation frame after the form has its fields, i.e. when the browser paints it. (Polling for
 * the fields from the test's side ran late: Playwright's first evaluation waits for the page's
 * long first task and then costs ~45 ms itself.) */
function paintProbe() {
  const formDrawn = () => document.querySelectorAll('[data-testid="spec-form"] fieldset').length > 1;
  new MutationObserver((_, observer) => {
    if (!formDrawn()) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.__painted ??= performance.now(); });
  }).observe(document, { childList: true, subtree: true });
}

/** The network profiles of the first-load table: the loopback as it is, and a slow connection
 * (Chromium's network emulation, which the page's worker fetches go through too). */
const NETWORKS = [
  { name: 'loopback', conditions: null },
  { name: '20 Mbit/s, 40 ms RTT', conditions: { offline: false, latency: 40, downloadThroughput: 20e6 / 8, uploadThroughput: 20e6 / 8 } },
].slice(0, flag('loopback-only') ? 1 : 2);

/** First load of `#grokking` on each path ('cpu': a browser without WebGPU, so the page takes
 * the CPU-only build; 'webgpu': SwiftShader's adapter, so the WebGPU build) and network profile:
 * a fresh context (cold cache), then, on the loopback, reloads in it (warm: HTTP cache and V8's
 * compiled-wasm cache). Each row: when the form showed and when Train was enabled, the worker
 * build fetched, its wasm's bytes on the wire and their encoding. */
async function firstLoad(path) {
  const browser = await launch(path);
  const rows = [];
  try {
    for (const { name, conditions } of NETWORKS) {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      await context.addInitScript(paintProbe);
      const page = await context.newPage();
      const wasm = [];
      page.on('requestfinished', async (request) => {
        if (!/_bg\.wasm$/.test(request.url())) return;
        const response = await request.response();
        wasm.push({
          file: request.url().split('/').pop(),
          bytes: (await request.sizes()).responseBodySize,
          encoding: (await response.allHeaders())['content-encoding'] || 'none',
        });
      });
      if (conditions) {
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', conditions);
      }
      await page.goto(URL + '#grokking');
      const cold = await interactive(page);
      let warm = null;
      if (!conditions) {
        // The warm figure is the second of two reloads: the first may still be filling V8's cache.
        await page.reload();
        await interactive(page);
        await page.reload();
        warm = await interactive(page);
      }
      rows.push({ path, network: name, cold, warm, wasm: wasm.slice(0, 1) });
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return rows;
}

/** The 10-widget post: three labs' small specs, CPU backend, autoplay, a screen of text between
 * widgets (the blog example's page with its article replaced). */
const POST_SPECS = [
  'grokking.task.p=23&grokking.model.mlp.width=32&grokking.loss.kind=cross_entropy&grokking.optimizer.lr=0.02&grokking.optimizer.weight_decay=0.1&grokking.training.steps=100000',
  'gradient_flow.models.pre.depth=6&gradient_flow.models.pre.width=16&gradient_flow.models.pre.norm=pre&gradient_flow.models.post.depth=6&gradient_flow.models.post.width=16&gradient_flow.models.post.norm=post&gradient_flow.task.input_dim=8&gradient_flow.task.output_dim=4&gradient_flow.training.batch_size=16&gradient_flow.training.eval_every=5&gradient_flow.training.steps=100000',
  'scans.task.len=16&scans.task.data_tokens=2&scans.task.vocab=4&scans.models.s4d.mixer=s4d&scans.models.s4d.d_model=8&scans.models.mamba.mixer=mamba&scans.models.mamba.d_model=8&scans.training.batch_size=4&scans.training.eval_every=5&scans.training.steps=100000&scans.eval.sequences=8&scans.eval.extrapolation=2',
];
const POST_WIDGETS = 10;
/** How long each widget trains while it is on screen. */
const POST_DWELL_MS = Number(opt('post-dwell', '4000'));

/** Chromium's memory: the proportional set size summed over the browser's processes (shared
 * pages split between the processes that map them), from /proc/PID/smaps_rollup, in MB. */
function chromiumPss(rootPid) {
  const children = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(pid);
    } catch { /* the process ended */ }
  }
  let kb = 0;
  const queue = [String(rootPid)];
  while (queue.length) {
    const pid = queue.shift();
    try { kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]); } catch { /* ended */ }
    queue.push(...(children.get(pid) || []));
  }
  return kb / 1024;
}

/** Scrolls a post of 10 widgets top to bottom, each training while it is on screen for
 * POST_DWELL_MS, then back to the first; samples Chromium's PSS every 200 ms. Returns the
 * empty page's PSS, the peak and the last, the widgets' steps/s while visible, the workers
 * alive at the end, and whether the first widget continued from where it was. */
async function widgetPost() {
  // A flag Chromium ignores marks this browser's main process among the machine's.
  const marker = `--gradscope-bench=${process.pid}-${Date.now()}`;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: [...BASE_ARGS, marker] });
  const pid = readdirSync('/proc').find((d) => /^\d+$/.test(d) && (() => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(marker); } catch { return false; }
  })());
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto('about:blank');
    await page.waitForTimeout(1000);
    const empty = chromiumPss(pid);
    const workers = new Set();
    page.on('worker', (worker) => { workers.add(worker); worker.on('close', () => workers.delete(worker)); });
    let peak = 0;
    let peakWorkers = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, chromiumPss(pid));
      peakWorkers = Math.max(peakWorkers, workers.size);
    }, 200);
    await page.goto(URL + 'examples/blog-post.html');
    await page.evaluate(([specs, n]) => {
      const article = document.querySelector('article');
      const text = 'A paragraph of the post between two widgets. '.repeat(60);
      article.replaceChildren(...Array.from({ length: n }, (_, i) => {
        const w = document.createElement('gradscope-widget');
        w.id = `w${i}`;
        w.setAttribute('spec', `${specs[i % specs.length]}&${specs[i % specs.length].split('.')[0]}.seed=${i}`);
        w.setAttribute('autoplay', '');
        w.setAttribute('controls', 'train');
        w.setAttribute('views', 'summary,charts');
        const p = document.createElement('p');
        p.textContent = text;
        p.style.minHeight = '1000px';
        return [w, p];
      }).flat());
    }, [POST_SPECS, POST_WIDGETS]);
    const speeds = [];
    const atEach = [];
    const stepOf = (i) => page.evaluate((i) => document.getElementById(`w${i}`).handle?.step() ?? 0, i);
    for (let i = 0; i < POST_WIDGETS; i++) {
      await page.locator(`#w${i}`).scrollIntoViewIfNeeded();
      await page.waitForFunction((i) => document.getElementById(`w${i}`).handle?.running(), i, { timeout: 120_000 });
      const s0 = await stepOf(i);
      await page.waitForTimeout(POST_DWELL_MS);
      speeds.push(((await stepOf(i)) - s0) / (POST_DWELL_MS / 1000));
      atEach.push(chromiumPss(pid));
    }
    const first = await stepOf(0);
    await page.locator('#w0').scrollIntoViewIfNeeded();
    await page.waitForFunction(([s]) => document.getElementById('w0').handle.running() && document.getElementById('w0').handle.step() > s, [first], { timeout: 120_000 });
    const continued = (await page.evaluate(() => document.getElementById('w0').handle.history()[0]?.step)) === 0;
    await page.waitForTimeout(1000);
    clearInterval(sampler);
    const last = chromiumPss(pid);
    const workersAtEnd = workers.size;
    // What the page keeps once every widget is gone (their workers ended): memory the renderer
    // holds on to, which no widget's own cleanup can give back.
    await page.evaluate(() => { for (const w of document.querySelectorAll('gradscope-widget')) w.remove(); });
    await page.waitForTimeout(3000);
    const removed = chromiumPss(pid);
    return { empty, peak: Math.max(peak, last), last, removed, atEach, speeds, peakWorkers, workersAtEnd, firstStep: first, continued };
  } finally {
    await browser.close();
  }
}

/** The labs that train several models side by side: a preset trained to the end of a budget of
 * TEAM_STEPS in one worker, then in one worker per core (widget/team.js), CPU backend, each in a
 * fresh page; steps/s from Train to the end (the workers' split and join included), and
 * whether the two histories are the same (they must be, bit for bit). */
const TEAM_PRESETS = opt('team-presets', 'norm-placement,selective-copying').split(',').filter(Boolean);
const TEAM_STEPS = Number(opt('team-steps', '300'));
async function teamRuns() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: BASE_ARGS });
  const run = async (preset, workers) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const lab = preset === 'norm-placement' ? 'gradient_flow' : 'scans';
      await page.goto(`${URL}?backend=cpu&workers=${workers}#${lab}`);
      await page.waitForFunction(() => !document.querySelector('[data-testid="train-button"]').disabled, null, { timeout: 120_000 });
      await page.selectOption('[data-testid="preset-select"]', preset);
      await page.waitForFunction((p) => document.querySelector('[data-testid="preset-select"]').value === p &&
        !document.querySelector('[data-testid="train-button"]').disabled, preset, { timeout: 120_000 });
      await page.evaluate((steps) => { const s = window.gradscope.spec(); Object.values(s)[0].training.steps = steps; window.gradscope.load(s); }, TEAM_STEPS);
      await page.waitForFunction((steps) => Object.values(window.gradscope.spec())[0].training.steps === steps &&
        !document.querySelector('[data-testid="train-button"]').disabled, TEAM_STEPS, { timeout: 120_000 });
      let alive = 0;
      const count = setInterval(() => { alive = Math.max(alive, page.workers().length); }, 200);
      const t0 = Date.now();
      await page.click('[data-testid="train-button"]');
      await page.waitForFunction((steps) => window.gradscope.step() === steps && !window.gradscope.running(), TEAM_STEPS, { timeout: SPEC_TIMEOUT_MS });
      const seconds = (Date.now() - t0) / 1000;
      clearInterval(count);
      const history = await page.evaluate(() => JSON.stringify(window.gradscope.history().map(({ wall_ms, ...r }) => r)));
      return { seconds, sps: TEAM_STEPS / seconds, workers: alive, history };
    } finally {
      await page.close();
    }
  };
  const out = {};
  try {
    for (const preset of TEAM_PRESETS) {
      const one = await run(preset, 1);
      const many = await run(preset, cpus().length);
      out[preset] = { one: { ...one, history: undefined }, many: { ...many, history: undefined }, same: one.history === many.history };
      log(`team: ${preset}: ${JSON.stringify(out[preset])}`);
    }
  } finally {
    await browser.close();
  }
  return out;
}

/** One backend in one browser: every spec's Speed (and time to grok). */
async function browserRuns(backend, specs) {
  const browser = await launch(backend);
  const results = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(URL + '#grokking');
    await interactive(page, 180_000);
    const label = await page.locator('[data-testid="backend-label"]').textContent();
    if (backend === 'webgpu' && !label.startsWith('WebGPU')) throw new Error(`no WebGPU in this browser: ${label}`);
    for (const { name, spec } of specs) {
      log(`${backend}: ${name}`);
      const t0 = Date.now();
      try {
        await page.evaluate((spec) => window.gradscope.load(spec), spec);
        await loaded(page, spec);
        const { speed } = await withTimeout(page.evaluate((steps) => window.gradscope.bench(steps), STEPS), SPEC_TIMEOUT_MS, 'the benchmark');
        results[name] = { label, speed };
        if (TO_GROK) results[name].grok = await grokInPage(page, spec);
      } catch (e) {
        results[name] = { label, error: String(e.message || e).split('\n')[0] };
      }
      log(`${backend}: ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(results[name])}`);
    }
    if (errors.length) log(`${backend}: page errors: ${errors.join(' | ')}`);
  } finally {
    await browser.close();
  }
  return results;
}

/** `promise`, or an error after `ms` (page.evaluate itself never times out). */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until the page runs `spec` at step 0 with Train enabled (key order aside: the worker
 * sends its specs back with sorted keys). */
async function loaded(page, spec) {
  await page.waitForFunction((want) => {
    const canon = (v) => (Array.isArray(v) ? v.map(canon) : v && typeof v === 'object'
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v);
    const train = document.querySelector('[data-testid="train-button"]');
    return train && !train.disabled && window.gradscope.step() === 0 &&
      JSON.stringify(canon(window.gradscope.spec())) === JSON.stringify(canon(want));
  }, spec, { timeout: SPEC_TIMEOUT_MS, polling: 50 });
}

/** Trains the loaded spec from step 0 until test accuracy ≥ 0.99, the budget, or the timeout. */
async function grokInPage(page, spec) {
  await page.evaluate((spec) => window.gradscope.load(spec), spec);
  await loaded(page, spec);
  const t0 = Date.now();
  await page.evaluate(() => window.gradscope.start());
  try {
    await page.waitForFunction(() => window.gradscope.history().some((r) => r.test_acc >= 0.99) ||
      (!window.gradscope.running() && window.gradscope.step() > 0 && document.querySelector('[data-testid="train-button"]').disabled),
    null, { timeout: GROK_TIMEOUT_S * 1000, polling: 100 });
  } catch { /* timed out: reported as not reached */ }
  const seconds = (Date.now() - t0) / 1000;
  const hit = await page.evaluate(() => window.gradscope.history().find((r) => r.test_acc >= 0.99)?.step ?? null);
  const steps = await page.evaluate(() => window.gradscope.step());
  await page.evaluate(() => window.gradscope.pause());
  return { step: hit, steps, seconds };
}

const f = (x, d = 2) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

/** The training-speed table (and PyTorch's figure, and steps/s with an evaluation per step). */
function speedTables(out, specs, report) {
  out.push(`## Training speed (${STEPS} timed steps; ${report.cpus} CPUs; ratios within this run)`);
  out.push('');
  out.push('| spec | native Flex, 1 thread | native Flex, all threads | CPU-wasm (Chromium) | native 1 thread ÷ wasm | native wgpu | WebGPU (Chromium) | dispatches/step native · browser | browser ÷ native dispatches | first step: native wgpu · WebGPU |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { name } of specs) {
    const s = report.specs[name];
    const sps = (r) => r?.speed?.train_steps_per_sec;
    const err = (r) => (r?.error ? `error: ${r.error}` : null);
    const dn = s.wgpu?.speed?.gpu_dispatches_per_step;
    const db = s.webgpu?.speed?.gpu_dispatches_per_step;
    out.push(`| ${name} | ${f(sps(s.flex1))} | ${f(sps(s.flexN))} | ${err(s.cpu) ?? f(sps(s.cpu))} | ${ratio(sps(s.flex1), sps(s.cpu))} | ` +
      `${f(sps(s.wgpu))} | ${err(s.webgpu) ?? f(sps(s.webgpu))} | ${f(dn, 1)} · ${f(db, 1)} | ${ratio(db, dn)} | ` +
      `${f(s.wgpu?.speed?.first_step_ms, 0)} ms · ${f(s.webgpu?.speed?.first_step_ms, 0)} ms |`);
  }
  for (const { name } of specs) {
    const t = report.specs[name].torch1;
    if (t) out.push(`\nPyTorch ${t.torch} CPU, 1 thread, ${name}: ${f(t.train_steps_per_sec)} steps/s (native Flex 1 thread ÷ PyTorch: ${ratio(report.specs[name].flex1?.speed?.train_steps_per_sec, t.train_steps_per_sec)}).`);
  }
  out.push('');
  out.push('Steps/s with an evaluation (one readback) after every step: ' + specs.map(({ name }) => {
    const s = report.specs[name];
    const e = (r) => f(r?.speed?.eval_steps_per_sec);
    return `${name}: native 1 thread ${e(s.flex1)}, CPU-wasm ${e(s.cpu)}, native wgpu ${e(s.wgpu)}, WebGPU ${e(s.webgpu)}`;
  }).join('; ') + '.');
}

/** The browser's goals in one table, each with what this run measured (rows for what it did
 * not measure are left out): a first load that fits the visitor, a page of widgets that stays
 * small, every core. The tables after it give the details. */
function goalsTable(out, report) {
  const rows = [];
  const row = (goal, target, measured, met) => rows.push(`| ${goal} | ${target} | ${measured} | ${met == null ? '—' : met ? 'met' : 'missed'} |`);
  const slow = (path) => report.load.find((r) => r.path === path && r.network.startsWith('20 Mbit/s'));
  const cpuLoad = slow('cpu');
  if (cpuLoad) {
    row('CPU path, 20 Mbit/s, cold: form shown', '≤ 500 ms', `${f(cpuLoad.cold.painted, 0)} ms`, cpuLoad.cold.painted <= 500);
    row('CPU path, 20 Mbit/s, cold: Train enabled', '≤ 2000 ms', `${f(cpuLoad.cold.ready, 0)} ms`, cpuLoad.cold.ready <= 2000);
  }
  const gpuLoad = slow('webgpu');
  if (gpuLoad) row('WebGPU path, 20 Mbit/s, cold: form shown', '≤ 500 ms', `${f(gpuLoad.cold.painted, 0)} ms`, gpuLoad.cold.painted <= 500);
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
  for (const [build, limit] of [['cpu', 2e6], ['webgpu', 4e6]]) {
    const w = report.wasm[build];
    // The goal is the published site's (dist.sh --optimize: wasm-opt, brotli quality 11 copies);
    // a build without those copies is measured but not judged.
    const published = w?.brotliQuality === 11;
    if (w) row(`${build === 'cpu' ? 'CPU-only' : 'WebGPU'} worker wasm, brotli (gzip)${published ? '' : ', a build not optimized for publishing'}`, `≤ ${mb(limit)}`, `${mb(w.brotli)} (${mb(w.gzip)})`, published ? w.brotli <= limit : null);
  }
  if (report.post) {
    const p = report.post;
    // The goal is measured at the default 4 s on each widget; a shorter dwell (CI's quick run)
    // shows the figure without judging it.
    const measured = POST_DWELL_MS >= 4000;
    row(`${POST_WIDGETS}-widget post: Chromium PSS at every moment${measured ? '' : `, ${POST_DWELL_MS / 1000} s a widget (the goal's run: 4 s)`}`, '≤ 600 MB', `peak ${f(p.peak, 0)} MB`, measured ? p.peak <= 600 : null);
    row(`${POST_WIDGETS}-widget post: a widget scrolled back to continues`, 'same step, same curves', `step ${p.firstStep}, ${p.continued ? 'curves kept' : 'curves lost'}`, p.continued);
  }
  for (const [preset, t] of Object.entries(report.team || {})) {
    const speedup = t.many.sps / t.one.sps;
    // Splitting and joining the team is a fixed cost, so the speed-up is judged over the goal's
    // run of ≥ 300 steps only; a shorter one (CI's quick run) still fails on differing histories.
    const judged = preset === 'norm-placement' && TEAM_STEPS >= 300;
    const target = preset === 'norm-placement' ? `≥ 1.70×${judged ? '' : ` over ≥ 300 steps (this run: ${TEAM_STEPS})`}` : 'report it';
    row(`${preset}: ${t.many.workers} workers ÷ 1, results ${t.same ? 'identical' : 'DIFFER'}`, target, ratio(t.many.sps, t.one.sps), t.same ? (judged ? speedup >= 1.7 : null) : false);
  }
  if (!rows.length) return;
  out.push(`## Goals (${report.cpus} CPUs; one run)`);
  out.push('');
  out.push('| goal | target | measured | |');
  out.push('| --- | --- | --- | --- |');
  out.push(...rows);
  out.push('');
}

async function main() {
  const specs = SPECS.map((name) => ({ name, spec: specOf(name) }));
  const report = { when: new Date().toISOString(), cpus: cpus().length, steps: STEPS, specs: {} };

  // Native first, while the browser is not running.
  for (const { name } of ONLY.has('speed') ? specs : []) {
    const extra = TO_GROK ? ['--to-grok'] : [];
    report.specs[name] = {
      flex1: nativeBench(name, 'cpu', { RAYON_NUM_THREADS: '1' }, extra),
      flexN: nativeBench(name, 'cpu'),
      wgpu: BACKENDS.includes('webgpu') ? nativeBench(name, 'wgpu') : null,
      torch1: name === 'doshi-quick-grok' ? torchBench(1) : null,
    };
    log(`native: ${name}: ${JSON.stringify(report.specs[name])}`);
  }
  report.load = [];
  if (ONLY.has('load')) for (const path of BACKENDS) report.load.push(...await firstLoad(path));
  if (ONLY.has('post') && BACKENDS.includes('cpu') && !flag('no-post')) report.post = await widgetPost();
  if (ONLY.has('team') && BACKENDS.includes('cpu') && TEAM_PRESETS.length) report.team = await teamRuns();
  for (const backend of ONLY.has('speed') ? BACKENDS : []) {
    const runs = await browserRuns(backend, specs);
    for (const [name, r] of Object.entries(runs)) report.specs[name][backend] = r;
  }
  // The worker's two builds (Cargo.toml's `webgpu` feature): the page starts the CPU-only one
  // where it will train on the CPU.
  report.wasm = {};
  for (const [build, file] of [['webgpu', 'gradscope-worker_bg.wasm'], ['cpu', 'gradscope-worker-cpu_bg.wasm']]) {
    const wasm = readFileSync(`${DIST}/${file}`);
    report.wasm[build] = {
      bytes: wasm.length,
      gzip: gzipSync(wasm, { level: 9 }).length,
      brotli: existsSync(`${DIST}/${file}.br`) ? statSync(`${DIST}/${file}.br`).size
        : brotliCompressSync(wasm, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } }).length,
      brotliQuality: existsSync(`${DIST}/${file}.br`) ? 11 : 9,
      modified: statSync(`${DIST}/${file}`).mtime.toISOString(),
    };
  }

  const out = [];
  goalsTable(out, report);
  if (ONLY.has('speed')) speedTables(out, specs, report);
  if (report.load.length) {
    out.push('');
    out.push('## First load (`#grokking`, headless Chromium, cold cache unless said; the form drawn, then Train enabled)');
    out.push('');
    out.push('| path | network | form shown | Train enabled | warm cache: Train enabled | worker wasm on the wire |');
    out.push('| --- | --- | --- | --- | --- | --- |');
    const kb = (w) => (w ? `${w.file}: ${(w.bytes / 1e6).toFixed(2)} MB, ${w.encoding}` : '—');
    for (const r of report.load) {
      out.push(`| ${r.path === 'cpu' ? 'CPU (no WebGPU)' : 'WebGPU'} | ${r.network} | ${f(r.cold.painted, 0)} ms | ` +
        `${f(r.cold.ready, 0)} ms | ${r.warm ? `${f(r.warm.ready, 0)} ms` : '—'} | ${kb(r.wasm[0])} |`);
    }
  }
  if (report.post) {
    const p = report.post;
    out.push('');
    out.push(`## A post of ${POST_WIDGETS} widgets (three labs, CPU backend, autoplay), scrolled top to bottom, ${POST_DWELL_MS / 1000} s on each, then back to the first`);
    out.push('');
    out.push('| Chromium PSS, empty page | peak | at the end | the widgets removed, 3 s later | workers alive: peak · at the end | steps/s of each widget while on screen |');
    out.push('| --- | --- | --- | --- | --- | --- |');
    out.push(`| ${f(p.empty, 0)} MB | ${f(p.peak, 0)} MB | ${f(p.last, 0)} MB | ${f(p.removed, 0)} MB | ${p.peakWorkers} · ${p.workersAtEnd} | ${p.speeds.map((x) => f(x, 0)).join(', ')} |`);
    out.push(`\nPSS after each widget's time on screen: ${p.atEach.map((x) => f(x, 0)).join(', ')} MB.`);
    out.push(`\nThe first widget, scrolled back to, went on from step ${p.firstStep}${p.continued ? ' with its curves from step 0' : ' but lost its curves'}.`);
  }
  if (report.team) {
    out.push('');
    out.push(`## A run of several models in one worker, then in one worker per core (CPU-wasm, ${TEAM_STEPS} steps from Train to the end, split and join included)`);
    out.push('');
    out.push('| preset | 1 worker | many workers | speed-up | histories |');
    out.push('| --- | --- | --- | --- | --- |');
    for (const [preset, t] of Object.entries(report.team)) {
      out.push(`| ${preset} | ${f(t.one.sps, 1)} steps/s | ${t.many.workers} workers: ${f(t.many.sps, 1)} steps/s | ${ratio(t.many.sps, t.one.sps)} | ${t.same ? 'identical' : 'DIFFER'} |`);
    }
  }
  out.push('');
  out.push('## Worker wasm (the page starts the CPU-only build where it trains on the CPU)');
  out.push('');
  out.push('| build | bytes | gzip -9 | brotli |');
  out.push('| --- | --- | --- | --- |');
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
  for (const [build, w] of Object.entries(report.wasm)) {
    out.push(`| ${build === 'cpu' ? 'CPU only' : 'WebGPU (and CPU)'} | ${mb(w.bytes)} | ${mb(w.gzip)} | ${mb(w.brotli)} (quality ${w.brotliQuality}) |`);
  }
  const { cpu, webgpu } = report.wasm;
  out.push(`\nCPU-only ÷ WebGPU build: ${ratio(cpu.bytes, webgpu.bytes)} raw, ${ratio(cpu.brotli, webgpu.brotli)} brotli.`);
  if (TO_GROK && ONLY.has('speed')) {
    out.push('');
    out.push('## Time to grok (test accuracy ≥ 0.99, from step 0, evaluations as the spec sets them)');
    out.push('');
    out.push('| spec | native Flex, 1 thread | PyTorch CPU, 1 thread | CPU-wasm (Chromium) | WebGPU (Chromium) |');
    out.push('| --- | --- | --- | --- | --- |');
    const g = (x) => (!x ? '—' : x.step == null ? `not by step ${x.steps} (${f(x.seconds, 1)} s)` : `${f(x.seconds, 1)} s (step ${x.step})`);
    for (const { name } of specs) {
      const s = report.specs[name];
      const torch = s.torch1 && { step: s.torch1.grok_step, steps: 100, seconds: s.torch1.grok_seconds };
      out.push(`| ${name} | ${g(s.flex1?.grok)} | ${g(torch)} | ${g(s.cpu?.grok)} | ${g(s.webgpu?.grok)} |`);
    }
  }
  console.log(out.join('\n'));
  const json = opt('json', null);
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
  // The script's own failures (a page that never became interactive, a spec the browser could
  // not bench) fail it, so CI's tiny run notices a broken benchmark.
  const failed = Object.entries(report.specs).flatMap(([name, s]) => BACKENDS.filter((b) => !s[b] || s[b].error).map((b) => `${name} on ${b}`))
    .concat(Object.entries(report.team || {}).filter(([, t]) => !t.same).map(([name]) => `${name}: a run in several workers differs from one worker's`));
  if (failed.length) {
    log(`failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  log(String(e.stack || e));
  process.exit(1);
});
