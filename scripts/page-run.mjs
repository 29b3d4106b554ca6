// Trains spec files to their end in the page, as a user would (the spec loaded, then the Train
// button), on CPU-wasm in headless Chromium, and prints one JSON line per spec: the seconds from
// pressing Train to the end, the most workers alive, and the last evaluation (`record`, as the
// page's history holds it: a scans run's `series` name each model).
// Not a test and not the benchmark (scripts/bench-browser.sh times steps/s): what a reader of a
// preset's text would see at its end. `scripts/reproduce.sh selective-copying-page` builds and
// serves dist/ and calls this.
//
//   node scripts/page-run.mjs --url http://127.0.0.1:8150/ [--backend cpu|webgpu]
//     [--screenshots DIR] SPEC.json [SPEC.json …]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const url = opt('url', 'http://127.0.0.1:8150/');
const backend = opt('backend', 'cpu');
const shots = opt('screenshots', null);
const files = args;
if (files.length === 0 || !['cpu', 'webgpu'].includes(backend)) {
  console.error('usage: node scripts/page-run.mjs --url URL [--backend cpu|webgpu] [--screenshots DIR] SPEC.json …');
  process.exit(2);
}
// SwiftShader's Vulkan behind Chromium's WebGPU, headless (scripts/bench-browser.mjs's flags).
const webgpu = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=vulkan'];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', ...(backend === 'webgpu' ? webgpu : [])],
});
const train = '[data-testid="train-button"]';
for (const file of files) {
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const steps = Object.values(spec)[0].training.steps;
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}?backend=${backend}#${Object.keys(spec)[0]}`);
  await page.waitForFunction((sel) => window.gradscope && !document.querySelector(sel).disabled, train, { timeout: 120000 });
  await page.evaluate((s) => window.gradscope.load(s), spec);
  await page.waitForFunction(([n, sel]) => Object.values(window.gradscope.spec())[0].training.steps === n &&
    !document.querySelector(sel).disabled, [steps, train]);
  const start = Date.now();
  let workers = 0;
  const count = setInterval(() => { workers = Math.max(workers, page.workers().length); }, 200);
  await page.locator(train).click();
  await page.waitForFunction(() => !window.gradscope.running() && window.gradscope.step() > 0, null, { timeout: 0 });
  clearInterval(count);
  const seconds = (Date.now() - start) / 1000;
  const { wall_ms: _, ...record } = await page.evaluate(() => window.gradscope.history().at(-1));
  if (shots) await page.screenshot({ path: `${shots}/${basename(file, '.json')}.png`, fullPage: true });
  console.log(JSON.stringify({ spec: file, backend, steps: record.step, seconds, workers, errors, record }));
  await page.close();
}
await browser.close();
