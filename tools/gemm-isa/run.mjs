// Times gemm-isa's wasm builds in headless Chromium (the engine the playground runs in): one
// JSON line per variant and shape. The variants are instantiated side by side and timed in
// interleaved rounds (this machine's speed drifts); each figure is the best round's mean over
// REPS products.
//   node run.mjs LABEL=FILE.wasm[:scalar] …      (ROUNDS, default 9; REPS, default 10)
// `:scalar` instantiates the module with gemm's simd128 kernels switched off.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || '../../node_modules/playwright-core');
const ROUNDS = Number(process.env.ROUNDS || 9), REPS = Number(process.env.REPS || 10);
const variants = process.argv.slice(2).map((arg) => {
  const [label, rest] = arg.split('=');
  const [file, mode] = rest.split(':');
  return { label, simd: mode !== 'scalar', bytes: readFileSync(file).toString('base64') };
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', ...(process.env.JS_FLAGS ? [`--js-flags=${process.env.JS_FLAGS}`] : [])] });
try {
  const page = await browser.newPage();
  const rows = await page.evaluate(async ({ variants, ROUNDS, REPS }) => {
    const modules = [];
    for (const v of variants) {
      const bin = Uint8Array.from(atob(v.bytes), (c) => c.charCodeAt(0));
      const { instance } = await WebAssembly.instantiate(bin, {});
      instance.exports.init(v.simd ? 1 : 0);
      // Warm-up; the values are compared with native gemm's (bench-gemm-isa.sh).
      const values = [0, 1, 2].map((i) => instance.exports.run_shape(i, 2));
      modules.push(instance.exports);
      v.values = values;
    }
    const best = variants.map(() => [Infinity, Infinity, Infinity]);
    for (let r = 0; r < ROUNDS; r++) {
      modules.forEach((x, v) => {
        const reps = variants[v].simd ? REPS : Math.max(1, REPS >> 2);
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          x.run_shape(i, reps);
          best[v][i] = Math.min(best[v][i], (performance.now() - t) / reps);
        }
      });
    }
    return best.flatMap((ms, v) => ms.map((m, i) => ({ variant: variants[v].label, shape: i, value: variants[v].values[i], ms: m, gflops: modules[v].shape_flops(i) / (m / 1e3) / 1e9 })));
  }, { variants, ROUNDS, REPS });
  for (const r of rows) console.log(JSON.stringify(r));
} finally {
  await browser.close();
}
